"""The loss interface shared by every contrastive objective (see ``docs/losses.md``).

Layout conventions (fixed, the trainer relies on them):

* ``anchor``   (B, H): this process's anchors ``h_i``.
* ``positive`` (N, H): the candidates ``h+_j``; N = B in one process, N = world * B when the trainer
  all-gathered them (with gradients). The positive of anchor i is ``positive[label_offset + i]``.
* ``hard_negative`` (N, H): same layout as ``positive`` (supervised SimCSE).
* ``negation`` (B, H): local, the soft negative ``h#_i`` of anchor i (SNCSE), never gathered.

Similarities are cosines computed in fp32 (bf16/fp16 inputs are cast with ``.float()`` and autocast is
disabled around the product; float64 inputs stay float64 so that ``gradcheck`` works) and divided by
the temperature tau.
"""

from __future__ import annotations

import inspect
import logging
import typing
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, ClassVar

import torch
import torch.nn.functional as F
from torch import nn

from .. import registry
from ..errors import RegistryError, SncseError

if TYPE_CHECKING:
    from ..config.schema import LossConfig

log = logging.getLogger(__name__)

SIMCSE_CITATION = """@inproceedings{gao2021simcse,
  title     = {{SimCSE}: Simple Contrastive Learning of Sentence Embeddings},
  author    = {Gao, Tianyu and Yao, Xingcheng and Chen, Danqi},
  booktitle = {Proceedings of the 2021 Conference on Empirical Methods in Natural Language Processing (EMNLP)},
  pages     = {6894--6910},
  year      = {2021}
}"""

SNCSE_CITATION = """@article{wang2022sncse,
  title   = {{SNCSE}: Contrastive Learning for Unsupervised Sentence Embedding with Soft Negative Samples},
  author  = {Wang, Hao and Li, Yangguang and Huang, Zhen and Dou, Yong and Kong, Lingpeng and Shao, Jing},
  journal = {arXiv preprint arXiv:2201.05979},
  year    = {2022}
}"""

MIXCSE_CITATION = """@inproceedings{zhang2022mixcse,
  title     = {Unsupervised Sentence Representation via Contrastive Learning with Mixing Negatives},
  author    = {Zhang, Yanzhao and Zhang, Richong and Mensah, Samuel and Liu, Xudong and Mao, Yongyi},
  booktitle = {Proceedings of the AAAI Conference on Artificial Intelligence},
  volume    = {36},
  number    = {10},
  pages     = {11730--11738},
  year      = {2022},
  doi       = {10.1609/aaai.v36i10.21428}
}"""


@dataclass
class LossOutput:
    """What every loss returns: the scalar to back-propagate and detached parts for logging."""

    loss: torch.Tensor  # scalar, fp32, with grad
    parts: dict[str, torch.Tensor] = field(default_factory=dict)  # detached fp32 scalars


def to_fp32(x: torch.Tensor) -> torch.Tensor:
    """Upcast half/bfloat16 (or any narrower float) to fp32; float64 stays float64 (for gradcheck)."""
    return x if x.dtype == torch.float64 else x.float()


def cosine_matrix(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """(n, H) x (m, H) -> (n, m) cosine similarities in fp32 over L2-normalised rows.

    Autocast is switched off around the product, so the matrix is fp32 even inside a bf16/fp16
    autocast region of the trainer (autocast would otherwise run the matmul in low precision).
    """
    with torch.autocast(device_type=a.device.type, enabled=False):
        a = F.normalize(to_fp32(a), dim=-1, eps=1e-8)  # (n, H)
        b = F.normalize(to_fp32(b), dim=-1, eps=1e-8)  # (m, H)
        return a @ b.transpose(0, 1)  # (n, m)


def cosine_rows(a: torch.Tensor, b: torch.Tensor) -> torch.Tensor:
    """(n, H) x (n, H) -> (n,) row-wise cosine similarities in fp32."""
    with torch.autocast(device_type=a.device.type, enabled=False):
        a = F.normalize(to_fp32(a), dim=-1, eps=1e-8)
        b = F.normalize(to_fp32(b), dim=-1, eps=1e-8)
        return (a * b).sum(dim=-1)  # (n,)


class ContrastiveLoss(nn.Module):
    """Base class: one small subclass per objective, registered in the ``sncse.losses`` group.

    Subclasses set ``name``, ``views`` and ``citations`` (and, for tables and model cards, ``title``,
    ``short_title``, ``description`` and ``parameter_titles``) and implement :meth:`forward`. Their
    ``__init__`` keyword arguments, with type hints and defaults, are the loss's parameters: the config
    sets them under the loss's name (``loss.bml.alpha``), checked against :meth:`parameters`, and
    ``temperature`` comes from ``loss.temperature``.
    """

    name: ClassVar[str] = "base"
    #: inputs needed besides the anchor: "positive" always; "negation" (SNCSE); "hard_negative" (sup)
    views: ClassVar[tuple[str, ...]] = ("positive",)
    #: BibTeX of the papers to cite for the loss, its own first
    citations: ClassVar[tuple[str, ...]] = (SIMCSE_CITATION,)
    #: the method as a table row names it ("PL: negation as positive"); None: the registered name
    title: ClassVar[str | None] = None
    #: the method in a comparison ("SNCSE - InfoNCE"); None: the title
    short_title: ClassVar[str | None] = None
    #: one line for a model card: what the loss trains (None: the card names the loss only)
    description: ClassVar[str | None] = None
    #: how a model card labels a parameter (``loss.<name>.<parameter>``); absent: its name
    parameter_titles: ClassVar[dict[str, str]] = {}
    #: whether the loss has SNCSE's bidirectional margin term, whose alpha, beta and bml_weight (lambda)
    #: parameters ``sncse analyze --sweep`` plots
    has_bml: ClassVar[bool] = False

    def __init__(self, temperature: float = 0.05) -> None:
        super().__init__()
        if not temperature > 0:
            raise SncseError(f"loss '{self.name}': temperature must be > 0, got {temperature}")
        self.temperature = float(temperature)

    @property
    def citation(self) -> str:
        """BibTeX of the paper(s) that define this loss."""
        return "\n\n".join(self.citations)

    @classmethod
    def parameters(cls) -> dict[str, inspect.Parameter]:
        """The parameters the config may set for this loss (``loss.<name>.*``), each with its resolved
        type hint as ``annotation`` (``inspect.Parameter.empty`` default: required).

        By default the keyword arguments of ``__init__`` except ``temperature`` (set by
        ``loss.temperature``); override to declare others (then also override :meth:`from_config`).
        """
        hints = typing.get_type_hints(cls.__init__, include_extras=True)
        out = {}
        for name, p in inspect.signature(cls.__init__).parameters.items():
            if name in ("self", "temperature") or p.kind in (p.VAR_POSITIONAL, p.VAR_KEYWORD):
                continue
            out[name] = p.replace(annotation=hints.get(name, Any))
        return out

    @classmethod
    def from_config(cls, cfg: LossConfig) -> ContrastiveLoss:
        """Build from the ``loss`` section: ``loss.temperature`` and the parameters set under the chosen
        loss's name (``cfg.params_of(cfg.name)``), which the config loader checked against :meth:`parameters`."""
        kwargs = cfg.params_of(cfg.name)
        if "temperature" in inspect.signature(cls.__init__).parameters:
            kwargs["temperature"] = cfg.temperature
        return cls(**kwargs)

    def extra_repr(self) -> str:
        return f"temperature={self.temperature}"

    def part_weights(self) -> dict[str, float]:
        """How the ``parts`` of :class:`LossOutput` add up to the loss: ``loss = sum(w[k] * parts[k])``.

        A part missing from the mapping has weight 1, so by default the parts are the terms of the sum
        (or a single part is the loss itself); a loss whose parts enter with other weights overrides
        this (BML: ``{"infonce": 1, "bml": bml_weight}``). Trainers that log the terms of a sum
        (sentence-transformers' ``SentenceTransformerTrainer``) read it.
        """
        return {}

    # ----------------------------------------------------------------------------------------------
    # helpers for subclasses
    def _check(
        self,
        anchor: torch.Tensor,
        positive: torch.Tensor,
        negation: torch.Tensor | None,
        hard_negative: torch.Tensor | None,
        label_offset: int,
    ) -> None:
        """Validate the inputs against ``views`` and the layout (raises SncseError / ValueError)."""
        if "negation" in self.views and negation is None:
            raise SncseError(
                f"loss '{self.name}' needs soft negatives (negated sentences) but the batch has none; "
                "train on the JSONL produced by `sncse negate`, or pick a loss without negations "
                "(infonce, mixcse)"
            )
        if "hard_negative" in self.views and hard_negative is None:
            raise SncseError(
                f"loss '{self.name}' needs hard negatives but the batch has none; train on NLI triplets "
                "(sent0,sent1,hard_neg CSV or the SNLI files), or pick another loss"
            )
        if anchor.dim() != 2 or positive.dim() != 2:
            raise ValueError(
                f"loss '{self.name}': anchor and positive must be 2-D (batch, hidden), "
                f"got {tuple(anchor.shape)} and {tuple(positive.shape)}"
            )
        b, n = anchor.shape[0], positive.shape[0]
        if label_offset < 0 or label_offset + b > n:
            raise ValueError(
                f"loss '{self.name}': label_offset {label_offset} + batch {b} exceeds {n} positives"
            )
        if negation is not None and "negation" in self.views and negation.shape != anchor.shape:
            raise ValueError(
                f"loss '{self.name}': negation shape {tuple(negation.shape)} != anchor shape {tuple(anchor.shape)}"
            )
        if hard_negative is not None and "hard_negative" in self.views and hard_negative.shape != positive.shape:
            raise ValueError(
                f"loss '{self.name}': hard_negative shape {tuple(hard_negative.shape)} != positive shape "
                f"{tuple(positive.shape)}"
            )

    @staticmethod
    def _labels(batch: int, label_offset: int, device: torch.device) -> torch.Tensor:
        """(B,) targets: anchor i's positive sits in column ``label_offset + i``."""
        return torch.arange(batch, device=device) + label_offset


def registered_loss(name: str) -> type[ContrastiveLoss] | None:
    """The class registered as loss ``name`` (``bml`` -> the latest ``bml.vN``), to read its attributes
    without building it; None where no such loss is installed (a plugin's run read on another machine)."""
    try:
        cls = registry.get_class("losses", name)
    except RegistryError:
        return None
    return cls if issubclass(cls, ContrastiveLoss) else None
