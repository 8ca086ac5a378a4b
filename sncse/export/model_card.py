"""The README.md model card of an exported model: what it is, how it was trained, how it scores, what to cite.

Everything in the card comes from the model and its run directory (``config.yaml``, ``results.json``,
``eval_test.json``, ``metrics.jsonl``); nothing is filled in from the papers. A section whose source
is missing says so instead of guessing.
"""

from __future__ import annotations

import datetime as _dt
from typing import Any

from ..data.tasks import STS_TASKS, display_name
from ..encoders.model import SentenceEncoder
from ..encoders.st_modules import ST_CHAT_TEMPLATE_VERSION
from ..losses.base import SIMCSE_CITATION, ContrastiveLoss, registered_loss
from ..registry import base_name
from ..rundir.reader import RunRecord, test_scores
from ..version import __version__

# the papers a card cites besides its loss's own (sncse.losses: ContrastiveLoss.citations)
PROMPTBERT_CITATION = """@inproceedings{jiang2022promptbert,
  title     = {{PromptBERT}: Improving {BERT} Sentence Embeddings with Prompts},
  author    = {Jiang, Ting and Jiao, Jian and Huang, Shaohan and Zhang, Zihan and Wang, Deqing and Zhuang, Fuzhen and Wei, Furu and Huang, Haizhen and Deng, Denvy and Zhang, Qi},
  booktitle = {Proceedings of the 2022 Conference on Empirical Methods in Natural Language Processing (EMNLP)},
  year      = {2022}
}"""
SBERT_CITATION = """@inproceedings{reimers2019sbert,
  title     = {Sentence-{BERT}: Sentence Embeddings using Siamese {BERT}-Networks},
  author    = {Reimers, Nils and Gurevych, Iryna},
  booktitle = {Proceedings of the 2019 Conference on Empirical Methods in Natural Language Processing (EMNLP)},
  year      = {2019}
}"""


def _fmt(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:g}"
    if value is None:
        return "-"
    return str(value)


def _front_matter(model: SentenceEncoder, fmt: str, base: str | None) -> str:
    lines = ["---", "language: en"]
    if fmt == "sentence-transformers":
        lines += ["library_name: sentence-transformers", "pipeline_tag: sentence-similarity",
                  "tags:", "- sentence-transformers", "- sentence-similarity", "- feature-extraction", "- sncse"]
    elif fmt == "onnx":
        lines += ["library_name: onnx", "pipeline_tag: sentence-similarity", "tags:", "- onnx", "- sncse",
                  "- sentence-similarity"]
    else:
        lines += ["library_name: transformers", "pipeline_tag: feature-extraction", "tags:", "- sncse",
                  "- sentence-similarity"]
    if base and "/" in base and not base.startswith(("/", ".", "~")):
        lines.append(f"base_model: {base}")
    lines.append("---")
    return "\n".join(lines)


def _results_section(run: RunRecord | None) -> list[str]:
    out = ["## Evaluation", ""]
    if run is None:
        return out + ["No run directory was exported with this model, so no scores are recorded here. Evaluate with",
                      "`sncse eval MODEL_DIR` (SimCSE/SentEval protocol: cosine similarity, Spearman x100).", ""]
    scores = test_scores(run.eval_test)
    if scores:
        order = [t for t in STS_TASKS if t in scores] + [t for t in scores if t not in STS_TASKS]
        header = "| " + " | ".join(display_name(t) for t in order) + " | Avg. |"
        avg = run.test_avg
        out += ["STS test sets (Spearman correlation x100 of cosine similarity and gold score, no regressor;",
                "STS12-16 over the subsets concatenated, from `eval_test.json` of the run):", "", header,
                "|" + "---|" * (len(order) + 1),
                "| " + " | ".join(f"{scores[t]:.2f}" for t in order) + f" | {f'{avg:.2f}' if avg is not None else '-'} |",
                ""]
        ev = run.eval_test or {}
        limit = ev.get("limit") or (ev.get("meta") or {}).get("limit")
        if limit:
            out += [f"These scores use only the first {limit} pairs of each subset (a smoke evaluation), not the "
                    "full test sets.", ""]
    else:
        out += ["The run has no `eval_test.json` (it was not evaluated on the STS test sets); run",
                f"`sncse eval {run.path}` before exporting to get the table.", ""]
    if run.best_dev is not None:
        step = run.results.get("best_step") if run.results else None
        subset = run.get("train.eval_limit")
        notes = ([f"step {step}"] if step is not None else []) + ([f"first {subset} dev pairs only"] if subset else [])
        out += [f"Best STS-B development score during training: {run.best_dev:.2f}"
                + (f" ({', '.join(notes)})." if notes else "."), ""]
    return out


def _training_section(model: SentenceEncoder, run: RunRecord | None) -> tuple[list[str], tuple[str, ...]]:
    """The training section and the BibTeX entries it calls for: the loss's own papers (its class's
    ``citations``; SimCSE's, as for any loss, for one not installed here), PromptBERT's for the prompt pooler."""
    out = ["## Training", ""]
    if run is None or not run.config:
        return out + ["No training configuration was found next to the exported model.", ""], (SIMCSE_CITATION,)
    name = str(run.get("loss.name", "?"))
    loss = registered_loss(name) or ContrastiveLoss  # a loss not installed here: what every loss has
    cites = loss.citations
    desc = loss.description or f"loss `{base_name(name)}`"
    rows: list[tuple[str, Any]] = [("loss", f"`{run.get('loss.name')}`: {desc}")]
    rows += [(loss.parameter_titles.get(k, k), run.loss_param(k)) for k in ("temperature", *loss.parameters())]
    rows += [
        ("pooler", run.get("model.pooler")), ("MLP head", run.get("model.mlp")),
        ("max length (training)", run.get("model.max_length")),
        ("batch size", run.get("train.batch_size")), ("learning rate", run.get("optim.lr")),
        ("epochs", run.get("train.epochs")), ("max steps", run.get("train.max_steps")),
        ("warmup steps", run.get("optim.warmup_steps")), ("weight decay", run.get("optim.weight_decay")),
        ("dropout", run.get("model.dropout") if run.get("model.dropout") is not None else "encoder default"),
        ("seed", run.get("train.seed")), ("mixed precision", run.get("train.amp")),
    ]
    if run.get("model.pooler") == "prompt":
        rows += [("template (original)", f"`{run.get('model.template')}`"),
                 ("template (positive / soft negative)", f"`{run.get('model.view_template')}`")]
    if run.steps is not None:
        rows.append(("optimizer steps", run.steps))
    if run.results and run.results.get("train_seconds") is not None:
        rows.append(("training time", f"{float(run.results['train_seconds']) / 60:.1f} min"))
    out += ["| setting | value |", "|---|---|"] + [f"| {k} | {_fmt(v)} |" for k, v in rows if v is not None]
    data = run.get("data.train_file")
    limit = run.get("data.limit")
    if data:
        extent = f", first {limit} examples" if limit else ""
        out += ["", f"Training data: `{data}` (format `{run.get('data.format', 'auto')}`{extent})."]
    out.append("")
    if model.pooler_name == "prompt":
        cites = (*cites, PROMPTBERT_CITATION)
    return out, cites


def model_card(model: SentenceEncoder, fmt: str, source: str, run: RunRecord | None = None,
               verification: dict[str, Any] | None = None, onnx: dict[str, Any] | None = None) -> str:
    """Markdown model card for ``model`` exported from ``source`` in format ``fmt``."""
    base = model.base_encoder
    head = "kept (the model uses it at inference, `mlp: always`)" if model.mlp == "always" else \
        "dropped (training-only, as in SimCSE/SNCSE evaluation)"
    title = run.name if run is not None else (source.rstrip("/").split("/")[-1] or "model")
    parts: list[str] = [_front_matter(model, fmt, base), "", f"# {title}", "",
                        "A sentence embedding model trained with sncse "
                        f"(toolkit version {__version__}). Sentences map to {model.hidden_size}-dimensional "
                        "vectors; compare them with cosine similarity.", "",
                        "## Model", "",
                        f"- base encoder: `{base}`",
                        f"- pooler: `{model.pooler_name}`" + (
                            f" (hidden state at the mask token of the template `{model.template}`)"
                            if model.pooler_name == "prompt" else ""),
                        f"- MLP head: {head}",
                        f"- maximum input length at inference: {model.inference_max_length} tokens",
                        f"- exported from: `{source}`",
                        f"- exported on: {_dt.date.today().isoformat()}", ""]
    parts += ["## Usage", ""]
    if fmt == "sentence-transformers":
        parts += ["```python", "from sentence_transformers import SentenceTransformer", "",
                  'model = SentenceTransformer("PATH_TO_THIS_FOLDER")',
                  'emb = model.encode(["A man is playing a guitar.", "A man is not playing a guitar."])',
                  "print(model.similarity(emb[:1], emb[1:]))", "```", ""]
        if model.pooler_name == "prompt":
            parts += ["The prompt template lives in `chat_template.jinja`; it needs sentence-transformers >= "
                      f"{ST_CHAT_TEMPLATE_VERSION} (older versions ignore chat templates and would return zero "
                      "vectors). No `trust_remote_code` is needed.", ""]
    if fmt == "onnx":
        parts += ["`model.onnx` maps `input_ids` and `attention_mask` (int64, batch x sequence) to "
                  "`sentence_embedding`: the pooling is inside the graph. `sncse.load` runs it with onnxruntime "
                  "and tokenizes as the model was trained"
                  + (" (the prompt template is applied to the text before tokenization)."
                     if model.pooler_name == "prompt" else "."), ""]
        quant, sts = (onnx or {}).get("quantization"), (onnx or {}).get("sts_check") or {}
        if quant:
            parts += [f"The graph is quantized ({quant['mode']}: {quant['method']})."
                      + (f" 7-task STS test average at export: fp32 {sts['fp32_avg']:.2f}, {quant['mode']} "
                         f"{sts['int8_avg']:.2f}." if "fp32_avg" in sts else ""), ""]
    parts += ["```python", "import sncse", "", 'model = sncse.load("PATH_TO_THIS_FOLDER")',
              'emb = model.encode(["A man is playing a guitar."], normalize=True)',
              'print(model.similarity(["A man is playing a guitar."], ["A man is not playing a guitar."]))',
              "```", ""]
    if verification:
        other = "onnxruntime (fp32 graph)" if fmt == "onnx" else "sentence-transformers"
        parts += [f"Export check: {other} and sncse embeddings of {verification.get('sentences')} "
                  f"probe sentences differ by at most {verification['max_abs_diff']:.2e} (absolute"
                  + (", unit-length vectors)." if fmt == "onnx" else ")."), ""]
    training, cites = _training_section(model, run)
    parts += training
    parts += _results_section(run)
    cited = list(dict.fromkeys((*cites, *((SBERT_CITATION,) if fmt == "sentence-transformers" else ()))))
    trained = (run.run_info or {}).get("versions", {}).get("sncse") if run is not None else None
    made = f"Trained with sncse {trained}, exported with sncse {__version__}." if trained else \
        f"Exported with sncse {__version__}."
    parts += ["## Citation", "", "```bibtex", "\n\n".join(cited), "```", "", made, ""]
    return "\n".join(parts)
