"""ONNX export: one graph from token ids to the sentence embedding, with the pooling inside.

sentence-transformers' ONNX graphs stop at the token embeddings and leave pooling to Python, which is
where CLS-versus-mean and prompt-mask mistakes happen. Here the traced function is
``SentenceEncoder.forward`` itself, so the graph pools exactly as the model was trained to:

- ``cls`` / ``cls_before_pooler``: the first token's last hidden state;
- ``mean``: the mean over non-padding tokens (the attention mask is a graph input);
- ``avg_first_last``: the mean of ``(h_1 + h_L) / 2`` over non-padding tokens;
- ``prompt``: the hidden state at the mask token, whose position is found inside the graph
  (``argmax(input_ids == mask_id)``); the template itself is applied on the text side by
  ``SentenceEncoder.tokenize``, which ``OnnxEncoder`` shares.

SimCSE's MLP head is in the graph only for ``model.mlp: always`` (inference uses it); the training-only
head is dropped, as in the other formats. With ``normalize`` the graph ends in an L2 normalisation.
Inputs ``input_ids`` and ``attention_mask`` (int64, dynamic batch and sequence axes), output
``sentence_embedding`` (float32, batch x hidden).

The export traces with PyTorch's TorchScript-based exporter (``dynamo=False``): one self-contained
file with named dynamic axes and no extra dependency; the torch.export-based exporter needs onnxscript
and writes the weights to a separate file.

``quantize="int8"`` applies onnxruntime's dynamic quantization: int8 weights, one scale per output
channel, for every MatMul with a constant weight matrix; activations quantized per batch at run time
(no calibration data). Per-channel scales keep the STS scores closer to the fp32 graph than one
scale per matrix (``docs/benchmarks.md``); the embedding table (Gather) stays fp32.
"""

from __future__ import annotations

import logging
import os
import warnings
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn

from ..encoders.files import META_FILE
from ..encoders.model import SentenceEncoder
from ..encoders.onnx_runtime import (
    EXTRA_HINT,
    INPUT_NAMES,
    ONNX_FILE,
    OUTPUT_NAME,
    OnnxEncoder,
    import_onnxruntime,
)
from ..errors import SncseError
from ..io import write_json
from .hf import export_metadata, keeps_head
from .sentence_transformers import PROBES

log = logging.getLogger(__name__)

OPSET = 17  # LayerNormalization is a single op from 17 on
QUANTIZE_MODES = ("int8",)
QUANT_METHOD = ("onnxruntime.quantization.quantize_dynamic: MatMul weights int8 per output channel, activations "
                "uint8 per batch at run time")
# The check the export must pass: normalised embeddings from onnxruntime and torch agree to 1e-4
# (max abs), raw ones to 1e-3 relative to the largest component.
VERIFY_ATOL = 1e-4
VERIFY_RTOL = 1e-3


def require_onnx() -> None:
    """``onnx`` and ``onnxruntime`` are importable, or a one-line error naming the extra."""
    try:
        import onnx  # noqa: F401
    except ImportError:
        raise SncseError(f"ONNX export needs the onnx package, which is not installed: {EXTRA_HINT}") from None
    import_onnxruntime()


class PooledGraph(nn.Module):
    """What the ONNX graph computes: ``SentenceEncoder.forward`` (+ L2 normalisation).

    The head runs only when inference uses it (``mlp: always``).
    """

    def __init__(self, model: SentenceEncoder, normalize: bool = False):
        super().__init__()
        self.model = model
        self.normalize = normalize
        self.use_head = keeps_head(model)

    def forward(self, input_ids: torch.Tensor, attention_mask: torch.Tensor) -> torch.Tensor:
        emb = self.model(input_ids, attention_mask, use_head=self.use_head)
        return nn.functional.normalize(emb, dim=-1) if self.normalize else emb


def export_graph(model: SentenceEncoder, path: str | Path, normalize: bool = False, opset: int = OPSET) -> Path:
    """Trace ``model`` (CPU, eval mode) into ``path`` with dynamic batch and sequence axes."""
    path = Path(path)
    was_training = model.training
    model.eval()
    device = model.device
    model.cpu()
    # Two sentences of different lengths: the example batch has padding, so nothing traced can
    # assume a full attention mask.
    example = model.collate(model.tokenize(list(PROBES[:2]) + ["Hi"], max_length=model.inference_max_length))
    axes = {name: {0: "batch", 1: "sequence"} for name in INPUT_NAMES}
    axes[OUTPUT_NAME] = {0: "batch"}
    try:
        with warnings.catch_warnings(), torch.no_grad():
            # Tracer notes on shape arithmetic in transformers' mask code and the exporter's deprecation
            # notice; the export check below is what decides whether the graph is right.
            warnings.simplefilter("ignore")
            torch.onnx.export(PooledGraph(model, normalize).eval(),
                              (example["input_ids"], example["attention_mask"]), str(path),
                              dynamo=False, input_names=list(INPUT_NAMES), output_names=[OUTPUT_NAME],
                              dynamic_axes=axes, opset_version=opset, do_constant_folding=True)
    finally:
        model.to(device)
        model.train(was_training)
    return path


def check_quantize(mode: str) -> None:
    if mode not in QUANTIZE_MODES:
        raise SncseError(f"unknown quantization {mode!r}; choose {' or '.join(QUANTIZE_MODES)}")


def quantize_graph(src: str | Path, dst: str | Path, mode: str = "int8", per_channel: bool = True) -> Path:
    """Dynamic int8 quantization (onnxruntime.quantization) of the graph ``src`` into ``dst``.

    ``per_channel=False`` (one scale per weight matrix) is kept for comparison in ``bench/onnx_speed.py``.
    """
    check_quantize(mode)
    from onnxruntime.quantization import QuantType, quantize_dynamic

    quant_log = logging.getLogger()  # quantize_dynamic warns on the root logger about pre-processing
    level = quant_log.level
    quant_log.setLevel(logging.ERROR)
    try:
        quantize_dynamic(str(src), str(dst), weight_type=QuantType.QInt8, op_types_to_quantize=["MatMul"],
                         per_channel=per_channel, reduce_range=False)
    finally:
        quant_log.setLevel(level)
    return Path(dst)


def compare(ours: np.ndarray, theirs: np.ndarray) -> dict[str, float]:
    """Largest difference of normalised embeddings, of raw ones (relative), and the smallest cosine."""
    def unit(x: np.ndarray) -> np.ndarray:
        return x / np.maximum(np.linalg.norm(x, axis=1, keepdims=True), 1e-12)

    if not ours.size:
        return {"max_abs_diff": 0.0, "max_rel_diff": 0.0, "min_cosine": 1.0}
    a, b = unit(ours.astype(np.float64)), unit(theirs.astype(np.float64))
    scale = max(float(np.abs(ours).max()), 1e-12)
    return {"max_abs_diff": float(np.abs(a - b).max()), "max_rel_diff": float(np.abs(ours - theirs).max()) / scale,
            "min_cosine": float((a * b).sum(1).min())}


def probe_sentences(model: SentenceEncoder) -> list[str]:
    """The sentence-transformers export's probes, a one-word one and one longer than any limit."""
    return [*PROBES, "Hi", " ".join(["people"] * (model.inference_max_length + 8))]


def verify_onnx(model: SentenceEncoder, directory: str | Path, normalize: bool = False,
                sentences: Sequence[str] | None = None, threads: int | None = None) -> dict[str, Any]:
    """Run ``directory`` with onnxruntime (``OnnxEncoder``) and compare with ``model.encode``.

    Returns ``compare()``'s figures, ``sentences`` and ``token_ids_match`` (both sides tokenize alike).
    """
    probes = list(sentences) if sentences is not None else probe_sentences(model)
    onnx_model = OnnxEncoder.load(directory, device="cpu", threads=threads)
    ours = model.encode(probes, batch_size=4, normalize=normalize, amp="off", show_progress=False)
    theirs = onnx_model.encode(probes, batch_size=4, show_progress=False)
    report: dict[str, Any] = {**compare(ours, theirs), "sentences": len(probes)}
    limit = model.inference_max_length
    report["token_ids_match"] = onnx_model.tokenize(probes, max_length=limit) == model.tokenize(probes, max_length=limit)
    return report


def check_verification(report: dict[str, Any]) -> None:
    """Raise unless the exported graph reproduces the model (``VERIFY_ATOL`` / ``VERIFY_RTOL``)."""
    if not report["token_ids_match"] or report["max_abs_diff"] > VERIFY_ATOL or report["max_rel_diff"] > VERIFY_RTOL:
        raise RuntimeError(
            f"the ONNX graph does not reproduce the model: max |diff| of normalised embeddings "
            f"{report['max_abs_diff']:.3g} (limit {VERIFY_ATOL:g}), relative {report['max_rel_diff']:.3g} "
            f"(limit {VERIFY_RTOL:g}), token ids {'match' if report['token_ids_match'] else 'differ'}")


def sts_averages(encoders: dict[str, Any], root: str | Path | None = None, batch_size: int = 128,
                 show_progress: bool = True) -> tuple[dict[str, float] | None, str | None]:
    """7-task STS test average of each encoder on the local data (tasks loaded once), or (None, why)
    when the data is missing."""
    from ..data.tasks import parse_tasks
    from ..eval.runner import check_data
    from ..eval.sts import embed_tasks, encoder_embedder, load_tasks, score_task

    plan = parse_tasks("sts")
    try:
        check_data(plan, root=root)
    except SncseError as err:
        return None, str(err)
    tasks = load_tasks(plan.sts, root=root)
    averages = {}
    for name, encoder in encoders.items():
        lookup = embed_tasks(tasks, encoder_embedder(encoder, batch_size=batch_size, show_progress=show_progress))
        averages[name] = float(np.mean([score_task(t, lookup)["spearman"] for t in tasks]))
    return averages, None


def export_onnx(model: SentenceEncoder, directory: str | Path, normalize: bool = False,
                quantize: str | None = None, verify: bool = True, check: bool = True,
                root: str | Path | None = None, show_progress: bool = True) -> dict[str, Any]:
    """Write ``model.onnx``, the tokenizer and ``sncse_model.json`` into ``directory``.

    ``verify``: the fp32 graph must reproduce ``model.encode`` (else RuntimeError, nothing kept).
    ``quantize="int8"``: the folder's graph is the verified fp32 graph, quantized; its agreement with
    the fp32 graph is reported, and with ``check`` the 7-task STS test average of both graphs.
    Returns ``{"verification", "quantization", "sts_check", "graph"}``.
    """
    require_onnx()
    if quantize is not None:
        check_quantize(quantize)
    directory = Path(directory)
    directory.mkdir(parents=True, exist_ok=True)
    model.tokenizer.save_pretrained(directory)
    meta = export_metadata(model)
    meta["onnx"] = {"file": ONNX_FILE, "inputs": list(INPUT_NAMES), "output": OUTPUT_NAME, "opset": OPSET,
                    "normalize": bool(normalize), "head": "kept" if keeps_head(model) else "none",
                    "quantize": None}
    write_json(directory / META_FILE, meta)
    graph = export_graph(model, directory / ONNX_FILE, normalize=normalize)
    out: dict[str, Any] = {"verification": None, "quantization": None, "sts_check": None}
    if verify:
        out["verification"] = verify_onnx(model, directory, normalize=normalize)
        check_verification(out["verification"])
        log.info("verified: onnxruntime reproduces the model within %.2e", out["verification"]["max_abs_diff"])
    if quantize is None:
        out["graph"] = graph_summary(graph)
        return out

    fp32 = directory / "model_fp32.onnx"
    os.replace(graph, fp32)
    try:
        quantize_graph(fp32, graph, quantize)
        fp32_model = OnnxEncoder.load(directory, device="cpu", graph=fp32.name)
        meta["onnx"]["quantize"] = quantize
        write_json(directory / META_FILE, meta)
        int8_model = OnnxEncoder.load(directory, device="cpu")
        probes = probe_sentences(model)
        agreement = compare(fp32_model.encode(probes, show_progress=False), int8_model.encode(probes, show_progress=False))
        out["quantization"] = {"mode": quantize, "method": QUANT_METHOD, "min_cosine_to_fp32": agreement["min_cosine"],
                               "sentences": len(probes), "fp32_bytes": fp32.stat().st_size,
                               "int8_bytes": graph.stat().st_size}
        if check:
            averages, why = sts_averages({"fp32": fp32_model, quantize: int8_model}, root=root,
                                         show_progress=show_progress)
            if averages is None:
                log.warning("STS check skipped: %s", why)
                out["sts_check"] = {"skipped": why}
            else:
                out["sts_check"] = {"fp32_avg": averages["fp32"], "int8_avg": averages[quantize],
                                    "change": averages[quantize] - averages["fp32"]}
    finally:
        fp32.unlink(missing_ok=True)
    out["graph"] = graph_summary(graph)
    return out


def graph_summary(path: str | Path) -> dict[str, Any]:
    """Opset, node count and the quantized ops of the graph at ``path``."""
    import onnx

    proto = onnx.load(str(path), load_external_data=False)
    ops = [n.op_type for n in proto.graph.node]
    opset = next((o.version for o in proto.opset_import if o.domain in ("", "ai.onnx")), None)
    return {"opset": opset, "nodes": len(ops), "integer_matmuls": sum(op in ("MatMulInteger", "DynamicQuantizeMatMul")
                                                                      for op in ops),
            "bytes": Path(path).stat().st_size}
