"""The typed configuration schema. Every key a run reads lives here, with the papers' defaults.

Defaults follow SNCSE (Wang et al., 2022) for BERT-base: batch 256, lr 1e-5, 1 epoch, max length 32,
seed 42, STS-B dev evaluation every 125 steps, prompt pooler, BML alpha 0.1 / beta 0.3 / lambda 1e-3.
"""

from __future__ import annotations

from dataclasses import dataclass, field

# SNCSE's templates (Section 4.1): the original sentence and its positive/soft negative use
# different templates so that the template itself is not a shortcut. "[MASK]" is replaced by the
# tokenizer's own mask token (RoBERTa: "<mask>").
ORIGINAL_TEMPLATE = 'This sentence : "{sentence}" means [MASK] .'
VIEW_TEMPLATE = 'This sentence of "{sentence}" means [MASK] .'


@dataclass
class ModelConfig:
    encoder: str = "bert-base-uncased"  # registered encoder name, hub name or local directory
    pooler: str = "prompt"
    mlp: str = "train"  # Linear+Tanh head: "train" (SimCSE mlp_only_train, SNCSE Eq. 2), "always" or "none"
    max_length: int = 32
    template: str = ORIGINAL_TEMPLATE  # prompt pooler: template of the original sentence
    view_template: str = VIEW_TEMPLATE  # prompt pooler: template of the positive and soft negative
    dropout: float | None = None  # None keeps the encoder's own hidden/attention dropout (0.1)
    attn_implementation: str = "sdpa"


@dataclass
class LossConfig:
    name: str = "bml"
    temperature: float = 0.05
    alpha: float = 0.1  # BML lower margin
    beta: float = 0.3  # BML upper margin
    bml_weight: float = 1e-3  # lambda: 1e-3 for BERT, 5e-4 for RoBERTa
    mix_lambda: float = 0.2  # MixCSE mixing weight
    mix_mask: str = "zero"  # "zero" (the original: logit multiplied by 0) or "remove" (-inf)
    hard_negative_weight: float = 0.0  # supervised SimCSE: log-weight added to hard-negative logits


@dataclass
class DataConfig:
    train_file: str = "wiki1m_head.negations.jsonl"  # relative paths are tried as given, then under the data root
    format: str = "auto"  # auto | text | negations | nli
    limit: int | None = None  # use only the first N examples
    cache_dir: str | None = None  # tokenized cache; default: <output_dir>/../.sncse_cache
    batching: str = "shuffle"  # shuffle (the papers) | bucket (length-bucketed batches, less padding)
    end_with_period: bool = False  # SNCSE's preprocessing: append " ." to sentences not ending in punctuation


@dataclass
class OptimConfig:
    lr: float = 1e-5
    weight_decay: float = 0.0
    warmup_steps: int = 0
    betas: tuple[float, float] = (0.9, 0.999)
    eps: float = 1e-8
    max_grad_norm: float | None = None
    fused: str = "auto"  # auto | true | false


@dataclass
class TrainConfig:
    output_dir: str = "runs/sncse"
    batch_size: int = 256
    epochs: int = 1
    max_steps: int = -1  # > 0 stops after this many optimizer steps
    eval_steps: int = 125  # STS-B dev every N steps; 0 disables
    eval_limit: int | None = None  # evaluate on the first N dev pairs only (smoke runs)
    log_steps: int = 10
    save_steps: int = 0  # resumable last/ checkpoint every N steps (0: at eval steps; -1: only at the end)
    seed: int = 42
    amp: str = "auto"  # auto (bf16 on CUDA where supported, else fp16) | bf16 | fp16 | off
    device: str = "auto"  # auto | cpu | cuda | cuda:N
    compile: bool = False
    num_workers: int = 0
    tensorboard: bool = False


@dataclass
class EvalConfig:
    tasks: str = "sts"
    mode: str = "test"  # test | dev
    batch_size: int = 128
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
