"""The typed configuration schema. Every key a run reads lives here, with the papers' defaults.

Defaults follow SNCSE (Wang et al., 2022) for BERT-base: batch 256, lr 1e-5, 1 epoch, max length 32,
seed 42, STS-B dev evaluation every 125 steps, prompt pooler, the BML loss (whose own defaults are
alpha 0.1 / beta 0.3 / lambda 1e-3: each loss class owns its parameters).

Enum keys are ``Literal`` types: the loader (:mod:`sncse.config.loader`) checks them once, with the
one-line error naming the key and its source; nothing else keeps a copy of the allowed values.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Annotated, Any, Literal, get_args, get_origin

# SNCSE's templates (Section 4.1): the original sentence and its positive/soft negative use
# different templates so that the template itself is not a shortcut. "[MASK]" is replaced by the
# tokenizer's own mask token (RoBERTa: "<mask>").
ORIGINAL_TEMPLATE = 'This sentence : "{sentence}" means [MASK] .'
VIEW_TEMPLATE = 'This sentence of "{sentence}" means [MASK] .'


@dataclass(frozen=True)
class YamlBooleans:
    """How an enum key reads a YAML boolean. YAML 1.1 (PyYAML, and so every ``--set`` value) reads
    ``off``/``no``/``false`` as False and ``on``/``yes``/``true`` as True, so ``train.amp: off`` arrives
    as False; this maps it back to the documented spelling. ``None``: that boolean is not accepted."""

    true: str | None = None
    false: str | None = None


# The enum keys: the loader accepts exactly these values (and the mapped YAML booleans); code that
# checks a value again derives the allowed set from these types with :func:`choices`.
MlpMode = Literal["train", "always", "none"]
DataFormat = Literal["auto", "text", "negations", "nli"]
Batching = Literal["shuffle", "bucket"]
AmpMode = Annotated[Literal["auto", "bf16", "fp16", "off"], YamlBooleans(false="off")]
FusedMode = Annotated[Literal["auto", "true", "false"], YamlBooleans(true="true", false="false")]
EvalMode = Literal["test", "dev"]


def choices(tp: Any) -> tuple[str, ...]:
    """The values of a ``Literal`` enum type (through ``Annotated``): ``choices(AmpMode)`` -> auto, bf16, ..."""
    if get_origin(tp) is Annotated:
        tp = get_args(tp)[0]
    if get_origin(tp) is not Literal:
        raise TypeError(f"{tp!r} is not a Literal enum")
    return tuple(get_args(tp))


@dataclass
class ModelConfig:
    encoder: str = "bert-base-uncased"  # registered encoder name, hub name or local directory
    pooler: str = "prompt"  # a registered pooler (plugins add more)
    mlp: MlpMode = "train"  # Linear+Tanh head: "train" (SimCSE mlp_only_train, SNCSE Eq. 2), "always" or "none"
    max_length: int = 32
    template: str = ORIGINAL_TEMPLATE  # prompt pooler: template of the original sentence
    view_template: str = VIEW_TEMPLATE  # prompt pooler: template of the positive and soft negative
    dropout: float | None = None  # None keeps the encoder's own hidden/attention dropout (0.1)
    attn_implementation: str = "sdpa"


@dataclass
class LossConfig:
    """``loss.name`` picks the objective; every loss owns its parameters.

    In YAML a loss's parameters sit under its (unversioned) name, beside ``name``::

        loss:
          name: bml
          temperature: 0.05
          bml: {alpha: 0.1, beta: 0.3, bml_weight: 1.0e-3}

    The loader checks each such section against that loss class's parameters
    (:meth:`sncse.losses.base.ContrastiveLoss.parameters`, its ``__init__`` signature by default) and
    fills the chosen loss's section with its defaults, so ``RUN/config.yaml`` records every value.
    Sections of other losses may stay (switching ``loss.name`` needs no edit) and are checked too.
    """

    name: str = "bml"  # a registered loss; "bml" is the latest bml.vN
    temperature: float = 0.05  # tau, a parameter of every contrastive loss
    params: dict[str, dict[str, Any]] = field(default_factory=dict, metadata={"sections": "losses"})

    def params_of(self, loss: str) -> dict[str, Any]:
        """The parameters set for ``loss`` (a registered name, with or without its version)."""
        from ..registry import base_name

        return dict(self.params.get(base_name(loss), {}))


@dataclass
class DataConfig:
    train_file: str = "wiki1m_head.negations.jsonl"  # relative paths are tried as given, then under the data root
    format: DataFormat = "auto"  # auto | text | negations | nli
    limit: int | None = None  # use only the first N examples
    cache_dir: str | None = None  # tokenized cache; default: <output_dir>/../.sncse_cache
    batching: Batching = "shuffle"  # shuffle (the papers) | bucket (length-bucketed batches, less padding)
    end_with_period: bool = False  # SNCSE's preprocessing: append " ." to sentences not ending in punctuation
    dedup_batches: bool = False  # no two identical anchors (same token ids) in one batch: a duplicate is a false negative


@dataclass
class OptimConfig:
    lr: float = 1e-5
    weight_decay: float = 0.0
    warmup_steps: int = 0
    betas: tuple[float, float] = (0.9, 0.999)
    eps: float = 1e-8
    max_grad_norm: float | None = None
    fused: FusedMode = "auto"  # fused AdamW kernel: auto (on CUDA) | true | false


@dataclass
class TrainConfig:
    output_dir: str = "runs/sncse"
    batch_size: int = 256
    mini_batch_size: int = 0  # > 0: gradient cache, forward passes of at most this many rows (all views); 0: plain step
    epochs: int = 1
    max_steps: int = -1  # > 0 stops after this many optimizer steps
    eval_steps: int = 125  # dev evaluation (STS-B dev or dev_file) every N steps; 0 disables
    eval_limit: int | None = None  # evaluate on the first N dev pairs only (smoke runs)
    dev_file: str | None = None  # own scored pairs (TSV/CSV/JSONL) for checkpoint selection instead of STS-B dev
    dev_columns: str | None = None  # dev_file's sentence, sentence and score columns ("A,B,SCORE"), if not standard
    log_steps: int = 10
    save_steps: int = 0  # resumable last/ checkpoint every N steps (0: at eval steps; -1: only at the end)
    seed: int = 42
    amp: AmpMode = "auto"  # auto (bf16 on CUDA with native bf16, else fp16) | bf16 | fp16 | off (the dev evaluation: eval.amp)
    device: str = "auto"  # auto | cpu | cuda | cuda:N
    dist_timeout: int | None = None  # multi-process: seconds a collective waits for the others (None: torch's default)
    compile: bool = False
    num_workers: int = 0
    tensorboard: bool = False


@dataclass
class EvalConfig:
    tasks: str = "sts"
    mode: EvalMode = "test"  # test | dev
    batch_size: int = 128
    amp: AmpMode = "off"  # precision of sncse eval and of training's dev evaluation: off (fp32, the papers') | auto | bf16 | fp16
    pooler: str | None = None  # None: the pooler the model was trained with
    kfold: int = 10  # transfer tasks: SentEval's cross-validation folds (test mode; dev mode uses 5)


@dataclass
class Config:
    model: ModelConfig = field(default_factory=ModelConfig)
    loss: LossConfig = field(default_factory=LossConfig)
    data: DataConfig = field(default_factory=DataConfig)
    optim: OptimConfig = field(default_factory=OptimConfig)
    train: TrainConfig = field(default_factory=TrainConfig)
    eval: EvalConfig = field(default_factory=EvalConfig)
