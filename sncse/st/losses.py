"""SNCSE's losses as sentence-transformers losses, for ``SentenceTransformerTrainer``.

Every loss of the ``sncse.losses`` registry (the built-ins and any plugin's) trains a
``SentenceTransformer`` through one adapter, :class:`RegisteredLoss`; :class:`SNCSELoss` (BML) and the
other named classes are that adapter with the loss fixed. The adapter computes nothing itself: it embeds
the dataset's columns with the model, applies SimCSE's training-only MLP head it holds, and hands the
embeddings to the project's loss through the same function ``sncse train``'s step uses
(:func:`sncse.train.step.loss_on_views`), so a batch gives the same loss and gradients either way
(tests/st/test_losses.py checks every registered loss to 1e-10 in float64).

Columns, in this order (sentence-transformers passes a dataset's columns positionally): ``anchor``,
``positive``, then ``soft_negative`` for the SNCSE losses (bml, pl, nl) or ``hard_negative`` for
supervised SimCSE (sup); infonce and mixcse take the first two. :func:`sncse.st.negation_dataset` and
``sncse negate --format records|parquet`` give the three columns of the SNCSE losses.

What the trainer sees:

- ``forward`` returns a dict of the loss's terms (``{"infonce": ..., "bml": ...}`` for BML), which
  ``SentenceTransformerTrainer`` adds up to the loss and logs one by one. Each term is a part of the
  project's ``LossOutput`` times its weight (``ContrastiveLoss.part_weights``): ``bml`` is logged as it
  enters the loss, ``bml_weight * BML``. The gradient flows through the first term, which is the loss
  minus the others, so the sum is the loss exactly.
- ``citation`` and ``get_config_dict()`` put the method, its paper and its parameters in the model card.
- The MLP head is a submodule of the loss: the trainer's optimizer updates it (sentence-transformers
  optimizes the loss's parameters, the model's included) and ``model.save`` never sees it.

Large batches, ``mini_batch_size``: sentence-transformers' own gradient cache
(``sentence_transformers.base.losses.gradcache.CachedLossMixin``, the mechanism of its
``CachedMultipleNegativesRankingLoss``), not :mod:`sncse.train.gradcache`. Both are the same
three steps (embed in chunks without autograd remembering the random state, loss and its gradient on
the embeddings, each chunk again with autograd and the cached gradient), but inside
``SentenceTransformerTrainer`` the backward pass is the trainer's, not the loss's: the cached
gradients must reach the model when the trainer calls ``backward`` on the returned loss, scaled by what
the trainer hands back (the fp16 loss scale, the division for gradient accumulation), with DDP's
synchronisation deferred to the last chunk. The mixin does exactly that through a hook on the returned
loss; ``sncse.train.gradcache.CachedTrainStep`` runs the backward pass itself and steps its own
optimizer, which the trainer owns here. The head runs inside each chunk's forward (step 1 and 3), so
its gradients come through the same hook.
"""

from __future__ import annotations

import inspect
import logging
from collections.abc import Iterable
from typing import Any, ClassVar

import torch
from sentence_transformers.base.losses.gradcache import CachedLossMixin, RandContext
from sentence_transformers.base.losses.merged_forward import embed_columns
from torch import Tensor, nn

from .. import losses as sncse_losses
from .. import registry
from ..data.tokenized import VIEW_ORDER
from ..encoders.poolers import MLPHead
from ..errors import SncseError
from ..losses.base import ContrastiveLoss, LossOutput
from ..negation.formats import RECORD_COLUMNS
from ..train.distributed import DistContext
from ..train.gradcache import GRADCACHE_CITATION
from ..train.step import loss_on_views

log = logging.getLogger(__name__)

#: the dataset column that holds each view of a loss (``ContrastiveLoss.views``)
COLUMN_OF_VIEW: dict[str, str] = {
    **dict(zip(("anchor", "positive", "negation"), RECORD_COLUMNS, strict=True)),
    "hard_negative": "hard_negative",
}


def _world() -> DistContext:
    """This process's place in an initialised ``torch.distributed`` group (one process without one)."""
    import torch.distributed as dist

    if dist.is_available() and dist.is_initialized():
        return DistContext(rank=dist.get_rank(), world_size=dist.get_world_size())
    return DistContext()


class RegisteredLoss(CachedLossMixin, nn.Module):
    """Any loss of the ``sncse.losses`` registry, as a sentence-transformers loss.

    ``RegisteredLoss(model, "pl", form="joint")`` trains with SNCSE's PL ablation; ``loss`` is a
    registered name (``bml``, ``bml.v1``, a plugin's), a :class:`~sncse.losses.base.ContrastiveLoss`
    subclass, or an instance of one (then without ``params``). ``params`` are the loss's own
    (``temperature`` and those of its ``__init__``); the rest belong to the adapter:

    - ``mlp_head``: SimCSE's Linear + Tanh head over the pooled embeddings of every column, in training
      only (SimCSE's ``mlp_only_train``, SNCSE Eq. 2). The loss holds it, the trainer trains it, and the
      saved model does not contain it.
    - ``gather_across_devices``: in a multi-process run, every process's positives (and hard negatives)
      are candidates for every anchor, all-gathered with gradients, as sentence-transformers' in-batch
      losses do; soft negatives stay with their own anchor.
    - ``mini_batch_size``: the gradient cache (see the module docstring): forward passes of at most this
      many sentences per column, the plain loss's result (equal to it with dropout off; with dropout,
      each chunk draws its own masks and replays them for its gradient).
    """

    #: the loss class of a named subclass (``SNCSELoss``: BML); None for the generic adapter
    objective_class: ClassVar[type[ContrastiveLoss] | None] = None

    def __init__(
        self,
        model: nn.Module,
        loss: str | type[ContrastiveLoss] | ContrastiveLoss = "bml",
        *,
        mlp_head: bool = True,
        gather_across_devices: bool = False,
        mini_batch_size: int | None = None,
        show_progress_bar: bool = False,
        **params: Any,
    ) -> None:
        nn.Module.__init__(self)
        self.model = model
        self.objective, self.loss_name, self.loss_params = _build_objective(loss, params)
        #: the dataset's columns, in the order the loss takes them
        self.views = ("anchor",) + tuple(v for v in VIEW_ORDER[1:] if v in self.objective.views)
        self.columns = tuple(COLUMN_OF_VIEW[v] for v in self.views)
        dim = model.get_embedding_dimension() if hasattr(model, "get_embedding_dimension") else None
        if mlp_head and not dim:
            raise SncseError("the MLP head needs the model's embedding dimension, which the model does not report; "
                             "pass mlp_head=False", setting="mlp_head")
        self.head = MLPHead(int(dim)).to(next(model.parameters()).device) if mlp_head else None
        self.gather_across_devices = gather_across_devices
        if mini_batch_size is not None and mini_batch_size < 1:
            raise SncseError(f"mini_batch_size must be at least 1, got {mini_batch_size}", setting="mini_batch_size")
        self.mini_batch_size = mini_batch_size  # type: ignore[assignment]
        self.uses_gradient_cache = mini_batch_size is not None
        self.show_progress_bar = show_progress_bar
        self._parts: dict[str, Tensor] = {}

    def __init_subclass__(cls, **kwargs: Any) -> None:
        """A named subclass (``objective_class`` set) takes its loss's parameters as keywords: its
        signature is built from the loss class's ``__init__``, where the parameters and their defaults
        are stated (``inspect.signature(SNCSELoss)``)."""
        super().__init_subclass__(**kwargs)
        objective = cls.__dict__.get("objective_class")
        if objective is None:
            return

        def __init__(self, model: nn.Module, **options: Any) -> None:
            RegisteredLoss.__init__(self, model, objective, **options)

        adapter = inspect.signature(RegisteredLoss.__init__).parameters
        own = [p.replace(kind=p.KEYWORD_ONLY) for n, p in inspect.signature(objective.__init__).parameters.items()
               if n != "self" and p.kind not in (p.VAR_POSITIONAL, p.VAR_KEYWORD)]
        options = [p for p in adapter.values() if p.kind is p.KEYWORD_ONLY]
        __init__.__signature__ = inspect.Signature([adapter["self"], adapter["model"], *own, *options])  # type: ignore[attr-defined]
        __init__.__doc__ = cls.__doc__
        cls.__init__ = __init__  # type: ignore[method-assign]

    # ------------------------------------------------------------------------------------------ loss
    def forward(self, sentence_features: Iterable[dict[str, Tensor]], labels: Tensor | None = None) -> dict[str, Tensor]:
        features = list(sentence_features)
        if len(features) != len(self.columns):
            raise SncseError(
                f"loss '{self.loss_name}' takes {len(self.columns)} columns, in this order: {', '.join(self.columns)}; "
                f"the dataset has {len(features)}; give it exactly these (dataset.select_columns({list(self.columns)!r}) "
                "keeps them, in this order)")
        if self.uses_gradient_cache:
            loss = self.forward_cached(features, labels)
            return self.terms(LossOutput(loss, self._parts))
        embeddings = [self._head(e) for e in embed_columns(self.model, features)]
        return self.terms(self.compute_loss_from_embeddings(embeddings))

    def compute_loss_from_embeddings(self, embeddings: list[Tensor], labels: Tensor | None = None) -> LossOutput:
        """The project's loss on one embedding tensor per column (after the head): candidates gathered
        across processes first when ``gather_across_devices`` is set, exactly as in ``sncse train``."""
        views = dict(zip(self.views, embeddings, strict=True))
        return loss_on_views(self.objective, views, embeddings[0].shape[0],
                             _world() if self.gather_across_devices else None)

    def terms(self, out: LossOutput) -> dict[str, Tensor]:
        """The loss as the terms the trainer adds up and logs: ``weight * part`` for each part, the first
        term being the loss minus the others (the one the gradient flows through)."""
        if not out.parts:
            return {self.objective.name: out.loss}
        weights = self.objective.part_weights()
        first, *others = out.parts
        rest = {k: weights.get(k, 1.0) * out.parts[k].detach() for k in others}
        return {first: out.loss - sum(rest.values()) if rest else out.loss, **rest}

    def _head(self, embeddings: Tensor) -> Tensor:
        return self.head(embeddings) if self.head is not None else embeddings

    # ------------------------------------------------------------------------------------------ gradient cache
    def calculate_loss(self, reps: list[list[Tensor]], labels: Tensor | None = None, *,
                       with_backward: bool = False) -> Tensor:
        """The whole batch's loss from the chunks' embeddings (``CachedLossMixin``'s step 2); keeps its parts
        for :meth:`terms`."""
        out = self.compute_loss_from_embeddings([torch.cat(column) for column in reps])
        self._parts = out.parts
        if with_backward:
            out.loss.backward()
            return out.loss.detach()
        return out.loss

    def embed_minibatch(self, sentence_feature: dict[str, Tensor], begin: int, end: int, with_grad: bool,
                        copy_random_state: bool, random_state: RandContext | None = None) -> tuple[Tensor, RandContext | None]:
        """One chunk's embeddings through the model and the head (steps 1 and 3 of the cache)."""
        reps, state = super().embed_minibatch(sentence_feature, begin, end, with_grad, copy_random_state, random_state)
        with torch.set_grad_enabled(with_grad):
            return self._head(reps), state

    # ------------------------------------------------------------------------------------------ model card
    @property
    def citation(self) -> str:
        """The loss's paper(s); the gradient cache's as well when ``mini_batch_size`` is set."""
        return self.objective.citation + ("\n\n" + GRADCACHE_CITATION if self.uses_gradient_cache else "")

    def get_config_dict(self) -> dict[str, Any]:
        return {"loss": self.loss_name, **self.loss_params, "mlp_head": self.head is not None,
                "gather_across_devices": self.gather_across_devices, "mini_batch_size": self.mini_batch_size,
                "columns": list(self.columns)}


def _build_objective(loss: str | type[ContrastiveLoss] | ContrastiveLoss,
                     params: dict[str, Any]) -> tuple[ContrastiveLoss, str, dict[str, Any]]:
    """(the loss module, its name, every parameter with its value) from a name, class or instance."""
    if isinstance(loss, ContrastiveLoss):
        if params:
            raise SncseError(f"loss parameters {sorted(params)} were given with a built loss; set them on the loss")
        return loss, loss.name, {}
    if isinstance(loss, str):
        name = registry.resolve_name("losses", loss)
        cls = registry.get_class("losses", loss)
    else:  # a class: its registered (versioned) name where it is registered
        cls = loss
        value = f"{cls.__module__}:{cls.__qualname__}"
        name = next((e.name for e in registry.entries("losses") if e.value == value), cls.name)
    signature = inspect.signature(cls.__init__).parameters
    accepted = {n: p for n, p in signature.items() if n != "self" and p.kind not in (p.VAR_POSITIONAL, p.VAR_KEYWORD)}
    unknown = sorted(set(params) - set(accepted))
    if unknown:
        raise SncseError(f"loss '{name}' has no parameter {', '.join(unknown)}; its parameters: "
                         f"{', '.join(accepted) or 'none'}")
    values = {n: params.get(n, p.default) for n, p in accepted.items()}
    missing = [n for n, v in values.items() if v is inspect.Parameter.empty]
    if missing:
        raise SncseError(f"loss '{name}' needs {', '.join(missing)}")
    return cls(**values), name, values


class SNCSELoss(RegisteredLoss):
    """SNCSE (Wang et al., 2022): InfoNCE over the in-batch positives plus the bidirectional margin loss on
    each sentence's soft negative, its negation (:class:`~sncse.losses.BidirectionalMarginLoss`)::

        Delta_i = cos(h_i, h#_i) - cos(h_i, h+_i)
        L = InfoNCE(h, h+) + bml_weight * mean_i [ReLU(Delta_i + alpha) + ReLU(-Delta_i - beta)]

    Columns ``anchor``, ``positive``, ``soft_negative``. For unsupervised training (SimCSE's recipe) the
    positive is the anchor text again, and dropout makes it a second view::

        train = Dataset.from_dict({"anchor": s, "positive": s, "soft_negative": negations})  # or negation_dataset(s)
        loss = SNCSELoss(model)  # tau 0.05, alpha 0.1, beta 0.3, bml_weight 1e-3, MLP head in training

    Logs ``infonce`` and ``bml`` (the latter as ``bml_weight * BML``). Keywords: the loss's parameters
    (``temperature``, ``alpha``, ``beta``, ``bml_weight``) and the adapter's (:class:`RegisteredLoss`).
    """

    objective_class = sncse_losses.BidirectionalMarginLoss


class PositiveNegationLoss(RegisteredLoss):
    """SNCSE's PL ablation: the soft negative taken as a second positive
    (:class:`~sncse.losses.PositiveNegationLoss`; ``form="code"`` as the authors' code, or ``"joint"``).
    Columns ``anchor``, ``positive``, ``soft_negative``; logs ``infonce`` and ``pl`` (``code``) or ``pl``."""

    objective_class = sncse_losses.PositiveNegationLoss


class NegativeNegationLoss(RegisteredLoss):
    """SNCSE's NL ablation: the soft negative as one more negative of its own sentence only
    (:class:`~sncse.losses.NegativeNegationLoss`). Columns ``anchor``, ``positive``, ``soft_negative``;
    logs ``nl``."""

    objective_class = sncse_losses.NegativeNegationLoss


class MixCSELoss(RegisteredLoss):
    """MixCSE (Zhang et al., 2022): InfoNCE with extra negatives mixed from the detached positives and
    anchors (:class:`~sncse.losses.MixCSELoss`; ``mix_lambda``, ``mix_mask``). Columns ``anchor``,
    ``positive``; logs ``mixcse``."""

    objective_class = sncse_losses.MixCSELoss


class InfoNCELoss(RegisteredLoss):
    """Unsupervised SimCSE (Gao et al., 2021): in-batch InfoNCE, the positive being the anchor text again
    under another dropout mask (:class:`~sncse.losses.InfoNCELoss`). Columns ``anchor``, ``positive``;
    logs ``infonce``. With ``mlp_head=False`` it is sentence-transformers' ``MultipleNegativesRankingLoss``
    with ``scale = 1 / temperature``."""

    objective_class = sncse_losses.InfoNCELoss


class SupervisedSimCSELoss(RegisteredLoss):
    """Supervised SimCSE (Gao et al., 2021) on NLI triplets, the contradiction as a hard negative
    (:class:`~sncse.losses.SupervisedSimCSELoss`; ``hard_negative_weight``). Columns ``anchor``,
    ``positive``, ``hard_negative``; logs ``sup``."""

    objective_class = sncse_losses.SupervisedSimCSELoss


#: the named classes, by the registered name of their loss
NAMED_LOSSES: dict[str, type[RegisteredLoss]] = {
    c.objective_class.name: c for c in (SNCSELoss, PositiveNegationLoss, NegativeNegationLoss, MixCSELoss,
                                        InfoNCELoss, SupervisedSimCSELoss) if c.objective_class is not None
}
