"""Work out what a model path names: a run directory, a saved sncse model, a sentence-transformers
folder, a registered encoder, or a Hugging Face model."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .. import registry
from ..errors import SncseError
from ..outputs import PathPlan
from ..rundir.files import CHECKPOINTS, CONFIG_FILE
from .files import HEAD_FILE, META_FILE, ONNX_FILE

# sentence-transformers pooling modes -> our poolers
_ST_POOLING = {
    "pooling_mode_cls_token": "cls_before_pooler",
    "pooling_mode_mean_tokens": "mean",
}


_ST_POOLING_MODE = {"cls": "cls_before_pooler", "mean": "mean"}


@dataclass
class ModelSpec:
    builder: str  # registered encoder name that builds the backbone
    source: str  # what the builder loads
    meta: dict[str, Any] = field(default_factory=dict)
    head_file: Path | None = None
    kind: str = "hf"  # run | sncse | onnx | sentence-transformers | registered | hf


def _st_meta(directory: Path) -> dict[str, Any]:
    modules = json.loads((directory / "modules.json").read_text(encoding="utf-8"))
    meta: dict[str, Any] = {"mlp": "none"}
    for module in modules:
        if module.get("type", "").endswith("Pooling"):
            cfg_path = directory / module.get("path", "") / "config.json"
            if cfg_path.exists():
                pooling = json.loads(cfg_path.read_text(encoding="utf-8"))
                mode = pooling.get("pooling_mode")  # sentence-transformers >= 5 writes one key
                if isinstance(mode, str) and mode in _ST_POOLING_MODE:
                    meta["pooler"] = _ST_POOLING_MODE[mode]
                for key, name in _ST_POOLING.items():
                    if pooling.get(key):
                        meta["pooler"] = name
                        break
    bert_cfg = directory / "sentence_bert_config.json"
    if bert_cfg.exists():
        meta["inference_max_length"] = json.loads(bert_cfg.read_text(encoding="utf-8")).get("max_seq_length")
    return meta


def resolve_model_path(path: str) -> ModelSpec:
    p = Path(path).expanduser()
    if p.is_dir():
        for sub in CHECKPOINTS:  # a run directory of `sncse train`
            if (p / sub / META_FILE).exists():
                inner = resolve_model_path(str(p / sub))
                inner.kind = "run"
                return inner
        if (p / META_FILE).exists() and (p / ONNX_FILE).exists():
            meta = json.loads((p / META_FILE).read_text(encoding="utf-8"))
            return ModelSpec("onnx", str(p), meta, kind="onnx")
        if (p / META_FILE).exists():
            meta = json.loads((p / META_FILE).read_text(encoding="utf-8"))
            head = p / HEAD_FILE
            return ModelSpec("hf", str(p), meta, head if head.exists() else None, kind="sncse")
        if (p / "modules.json").exists():
            return ModelSpec("hf", str(p), _st_meta(p), kind="sentence-transformers")
        if (p / "config.json").exists():
            return ModelSpec("hf", str(p), {"pooler": "cls_before_pooler", "mlp": "none"}, kind="hf")
        raise SncseError(f"{p}: not a model directory (no {META_FILE}, modules.json or config.json)")
    if registry.is_registered("encoders", path) and registry.base_name(path) != "hf":
        meta: dict[str, Any] = {"pooler": "cls_before_pooler", "mlp": "none", "base_encoder": path}
        if registry.base_name(path) == "minilm":
            from .builders import local_minilm_path

            meta.update(_st_meta(local_minilm_path()))
        return ModelSpec(path, path, meta, kind="registered")
    if p.suffix or path.startswith((".", "/", "~")):
        raise SncseError(f"model not found: {path}")
    return ModelSpec("hf", path, {"pooler": "cls_before_pooler", "mlp": "none"}, kind="hf")


def is_run_dir(path: str | Path) -> bool:
    """A ``sncse train`` output: its config, or a ``best/`` or ``last/`` checkpoint."""
    p = Path(path)
    return p.is_dir() and ((p / CONFIG_FILE).is_file() or any((p / c / META_FILE).is_file() for c in CHECKPOINTS))


def read_model(plan: PathPlan, model: Any, role: str = "the model") -> PathPlan:
    """Declare in ``plan`` the folder ``model`` loads from (a run directory's ``best/`` or ``last/``, a
    saved or exported model); a registered or hub name, or a model object, reads no folder of the user's."""
    if isinstance(model, str | Path) and Path(model).expanduser().is_dir():
        plan.read(resolve_model_path(str(model)).source, role, folder=True)
    return plan
