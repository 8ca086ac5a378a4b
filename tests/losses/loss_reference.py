"""Independent loop implementations of every loss, in float64 over 0-dim torch scalars.

Written from the formulas in docs/losses.md with explicit Python loops; nothing here calls
sncse.losses. Scalars are torch tensors so the references are differentiable and gradients can be
compared with the vectorised implementations.
"""

from __future__ import annotations

import math

import torch

Vec = torch.Tensor  # 1-D float64


def dot(u: Vec, v: Vec) -> torch.Tensor:
    s = torch.zeros((), dtype=torch.float64)
    for k in range(u.shape[0]):
        s = s + u[k] * v[k]
    return s


def cos(u: Vec, v: Vec) -> torch.Tensor:
    return dot(u, v) / (torch.sqrt(dot(u, u)) * torch.sqrt(dot(v, v)))


def neg_log_softmax(target: torch.Tensor, others: list[torch.Tensor]) -> torch.Tensor:
    """-log e^target / sum e^others (``others`` includes the target's own term)."""
    denom = torch.zeros((), dtype=torch.float64)
    for x in others:
        denom = denom + torch.exp(x)
    return -(target - torch.log(denom))


def infonce(a, p, tau, off=0):
    b, n = a.shape[0], p.shape[0]
    total = torch.zeros((), dtype=torch.float64)
    for i in range(b):
        row = [cos(a[i], p[j]) / tau for j in range(n)]
        total = total + neg_log_softmax(row[off + i], row)
    return total / b


def nl(a, p, g, tau, off=0):
    b, n = a.shape[0], p.shape[0]
    total = torch.zeros((), dtype=torch.float64)
    for i in range(b):
        row = [cos(a[i], p[j]) / tau for j in range(n)] + [cos(a[i], g[i]) / tau]
        total = total + neg_log_softmax(row[off + i], row)
    return total / b


def pl_code(a, p, g, tau, off=0):
    b = a.shape[0]
    second = torch.zeros((), dtype=torch.float64)
    for i in range(b):
        row = [cos(a[i], g[k]) / tau for k in range(b)]
        second = second + neg_log_softmax(row[i], row)
    return infonce(a, p, tau, off) + second / b


def pl_joint(a, p, g, tau, off=0):
    b, n = a.shape[0], p.shape[0]
    total = torch.zeros((), dtype=torch.float64)
    for i in range(b):
        s_pos = cos(a[i], p[off + i]) / tau
        s_neg = cos(a[i], g[i]) / tau
        denom = torch.exp(s_neg)
        for j in range(n):
            denom = denom + torch.exp(cos(a[i], p[j]) / tau)
        total = total - torch.log((torch.exp(s_pos) + torch.exp(s_neg)) / denom)
    return total / b


def bml_part(a, p, g, alpha, beta, off=0):
    b = a.shape[0]
    total = torch.zeros((), dtype=torch.float64)
    for i in range(b):
        delta = cos(a[i], g[i]) - cos(a[i], p[off + i])
        total = total + torch.clamp(delta + alpha, min=0) + torch.clamp(-delta - beta, min=0)
    return total / b


def bml(a, p, g, tau, alpha, beta, weight, off=0):
    return infonce(a, p, tau, off) + weight * bml_part(a, p, g, alpha, beta, off)


def sup(a, p, hn, tau, w=0.0, off=0):
    b, n = a.shape[0], p.shape[0]
    total = torch.zeros((), dtype=torch.float64)
    for i in range(b):
        row = [cos(a[i], p[j]) / tau for j in range(n)]
        row += [cos(a[i], hn[j]) / tau + (w if j == off + i else 0.0) for j in range(n)]
        total = total + neg_log_softmax(row[off + i], row)
    return total / b


def mixcse(a, p, tau, lam, mask, off=0):
    """mask: "zero" -> masked logit is 0 (contributes e^0); "remove" -> masked logit left out."""
    b, n = a.shape[0], p.shape[0]
    ad, pd = a.detach(), p.detach()
    mix_pos = [lam * pd[j] + (1 - lam) * pd[(j + 1) % n] for j in range(n)]
    mix_anc = [lam * ad[i] + (1 - lam) * ad[(i + 1) % b] for i in range(b)]
    zero = torch.zeros((), dtype=torch.float64)
    total = torch.zeros((), dtype=torch.float64)
    for i in range(b):
        row = [cos(a[i], p[j]) / tau for j in range(n)]
        for j in range(n):
            if j == (off + i - 1) % n:  # m_j is mostly the anchor's own positive
                if mask == "zero":
                    row.append(zero)
            else:
                row.append(cos(a[i], mix_pos[j]) / tau)
        for j in range(n):
            if j == off + (i + 1) % b:  # m'_i is mostly z_{i+1}, whose positive is column off+(i+1)
                if mask == "zero":
                    row.append(zero)
            else:
                row.append(cos(mix_anc[i], p[j]) / tau)
        total = total + neg_log_softmax(row[off + i], row)
    return total / b


assert math.isclose(float(cos(torch.tensor([1.0, 0.0], dtype=torch.float64),
                              torch.tensor([1.0, 1.0], dtype=torch.float64))), 2 ** -0.5)
