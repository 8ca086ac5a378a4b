"""How the trainer tests compare fp32 gradients with a float64 truth.

Two computations that are equal in exact arithmetic (one process or two, one forward or several
chunks) differ in fp32 only by the order and grouping of the same sums. The error bound of a sum
(gamma_n * sum |terms|) does not depend on the order, so the error of the rearranged fp32 computation
against the float64 truth must be of the size of the reference fp32 error, measured per tensor, not
larger. The floor of a tensor is that reference error, and at least one unit roundoff of the largest
gradient (the size of the terms a cancelling sum adds up: some true gradients are exactly 0, as the
attention key bias, which cancels in the softmax). A factor 8 leaves room for two orders landing on
opposite sides of the bound, far below a real mismatch (~ the largest gradient).
"""

from __future__ import annotations

import torch

#: fp32 unit roundoff (2^-24)
U32 = 2.0**-24
#: how far beyond the reference's fp32 error a rearranged fp32 computation may land
FP32_FACTOR = 8


def largest(grads: dict[str, torch.Tensor]) -> float:
    """The largest absolute gradient: the scale of absolute tolerances."""
    return max(g.abs().max().item() for g in grads.values())


def assert_float64_equal(got: dict[str, torch.Tensor], truth: dict[str, torch.Tensor], what: str = "") -> None:
    """float64 gradients equal to 1e-9 relative, 1e-12 of the largest gradient absolute: where
    rounding (~1e-16) cannot decide the comparison and a real mismatch (~1) cannot hide."""
    assert got.keys() == truth.keys(), what
    scale = largest(truth)
    for n, g in truth.items():
        assert got[n].dtype == torch.float64, f"{what}: {n}"
        torch.testing.assert_close(got[n], g, rtol=1e-9, atol=1e-12 * scale, msg=f"{what}: {n}")


def assert_fp32_within_floor(got32: dict[str, torch.Tensor], ref32: dict[str, torch.Tensor],
                             truth: dict[str, torch.Tensor], what: str = "") -> None:
    """``got32`` is no further from the float64 ``truth`` than ``FP32_FACTOR`` x the fp32 floor of
    each tensor (``ref32``: the reference computation in fp32; see the module docstring)."""
    scale = largest(truth)
    for n, g in truth.items():
        floor = max((ref32[n].double() - g).abs().max().item(), U32 * scale)
        err = (got32[n].double() - g).abs().max().item()
        assert err <= FP32_FACTOR * floor, \
            f"{what}: {n}: error {err:.2e} vs fp32 floor {floor:.2e} (scale {scale:.2e})"


def assert_within(got: dict[str, torch.Tensor], truth: dict[str, torch.Tensor], rel: float, what: str = "") -> None:
    """Every tensor within ``rel`` x the largest of ``truth``, element by element."""
    assert got.keys() == truth.keys(), what
    scale = largest(truth)
    for n, g in truth.items():
        torch.testing.assert_close(got[n], g, rtol=0, atol=rel * scale, msg=f"{what}: {n}")
