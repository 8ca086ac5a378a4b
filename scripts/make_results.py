#!/usr/bin/env python3
"""Aggregate the runs of ``scripts/reproduce.sh`` into ``docs/results.md``.

    scripts/make_results.py RUN_DIR [RUN_DIR ...] [--docs docs]     collect, then render the page
    scripts/make_results.py --render-only [--docs docs]             re-render from docs/results_<grid>.json

For each RUN_DIR (written by reproduce.sh: ``grid.json``, ``zeroshot/<pooler>/eval_*.json``,
``runs/<method>-<pooler>-s<seed>/{results.json,eval_test.json}``, ``analysis/<pooler>/negation.json``) this
writes ``docs/results_<grid>.json`` (every per-run number and the aggregates; small, meant to be committed)
and copies the soft-negative figure to ``docs/results_<grid>_negation_<pooler>.png``. The page is then
rendered from every ``docs/results_{gpu,cpu}.json`` present, so a GPU run adds its section beside the CPU one.
Aggregates: mean and sample standard deviation (n - 1) over seeds, per method and pooler. Every file is
written atomically.
"""

from __future__ import annotations

import argparse
import json
import math
import re
import shutil
import sys
from pathlib import Path
from typing import Any

from sncse.analyze.runs import read_run
from sncse.data.tasks import STS_TASKS, STS_TEST_PAIRS, display_name, expected_pairs
from sncse.eval.results import eval_result_path
from sncse.io import atomic_write, read_json

REPO = Path(__file__).resolve().parent.parent
METHODS: dict[str, str] = {
    "zeroshot": "zero-shot (no training)",
    "infonce": "SimCSE unsup. (`infonce`)",
    "pl": "PL: negation as positive (`pl`)",
    "nl": "NL: negation as negative (`nl`)",
    "bml": "SNCSE (`bml`)",
    "mixcse": "MixCSE (`mixcse`)",
    "sup": "SimCSE sup. (`sup`, SNLI dev/test triplets)",
}
GRID_ORDER = ("gpu", "cpu")
GRID_TITLES = {"gpu": "GPU grid (the full protocol)", "cpu": "CPU grid (reduced)"}
RUN_NAME = re.compile(r"^(?P<method>[a-z]+)-(?P<pooler>[a-z_]+)-s(?P<seed>\d+)$")

# SNCSE (Wang et al., 2022, arXiv:2201.05979) Table 3: the loss used for the soft negatives, BERT-base,
# average of the 7 STS tasks. Only 78.97 (SNCSE) could be checked against the paper's text (its abstract);
# the other three are secondary quotes of the table, which every text rendering of the paper shows as an image.
UNVERIFIED = "a secondary quote of the paper's Table 3, not checked against its text"
TABLE3: list[tuple[str, str, float, bool]] = [
    ("bml", "SNCSE (BML)", 78.97, True),
    ("infonce", "InfoNCE only (SimCSE)", 78.21, False),
    ("pl", "PL", 77.11, False),
    ("nl", "NL", 74.37, False),
]

SHORT = {"bml": "SNCSE", "infonce": "InfoNCE", "pl": "PL", "nl": "NL"}

MINILM_NOTE = ("**all-MiniLM-L6-v2 is already sentence-tuned with supervision** (sentence-transformers trained it "
               "contrastively on large sets of sentence pairs): its zero-shot row is a supervised sentence encoder, "
               "not an un-tuned BERT, so these numbers say how each loss *moves an already tuned encoder* and are not "
               "comparable with the papers' BERT/RoBERTa numbers.")


# ------------------------------------------------------------------------------------------ io
def _optional_json(path: Path) -> Any | None:
    """``sncse.io.read_json`` (a malformed file names its line), None when the file is absent."""
    return read_json(path) if path.is_file() else None


def _atomic_text(path: Path, text: str) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with atomic_write(path) as fh:
        fh.write(text)


def _atomic_copy(src: Path, dst: Path) -> None:
    dst.parent.mkdir(parents=True, exist_ok=True)
    with atomic_write(dst, mode="wb", encoding=None) as fh, open(src, "rb") as fin:
        shutil.copyfileobj(fin, fh)


def _rel(path: str | None) -> str | None:
    """A path inside the repository (or a virtual environment's site-packages) without the machine's prefix."""
    if not path:
        return path
    p = Path(path).resolve()
    try:
        return str(p.relative_to(REPO))
    except ValueError:
        parts = p.parts
        return str(Path(*parts[parts.index("site-packages") + 1:])) if "site-packages" in parts else str(p)


def _split(value: Any) -> list[str]:
    if value is None:
        return []
    if isinstance(value, list):
        return [str(v) for v in value]
    return [v for v in re.split(r"[,\s]+", str(value)) if v]


# ------------------------------------------------------------------------------------ statistics
def mean_std(values: list[float]) -> dict[str, Any]:
    """Mean and sample standard deviation (ddof 1; None for a single value) of ``values``."""
    n = len(values)
    if n == 0:
        return {"mean": None, "std": None, "n": 0}
    mean = sum(values) / n
    std = math.sqrt(sum((v - mean) ** 2 for v in values) / (n - 1)) if n > 1 else None
    return {"mean": mean, "std": std, "n": n}


def _scores(eval_json: dict[str, Any]) -> dict[str, float]:
    return {t: float(eval_json["tasks"][t]["spearman"]) for t in STS_TASKS if t in eval_json.get("tasks", {})}


def _pairs(eval_json: dict[str, Any]) -> dict[str, int | None]:
    tasks = eval_json.get("tasks", {})
    return {t: tasks[t].get("pairs") for t in STS_TASKS if t in tasks}


# --------------------------------------------------------------------------------------- collect
def load_run(run_dir: Path) -> dict[str, Any] | None:
    """One training run (``sncse.analyze.runs.read_run``): identity, selection on dev, test scores.
    None if the folder is not named like a grid run or has no test evaluation."""
    m = RUN_NAME.match(run_dir.name)
    if m is None:
        return None
    run = read_run(run_dir)
    ev, results = run.eval_test, run.results or {}
    if ev is None:
        return None
    return {
        "name": run_dir.name,
        "method": results.get("loss") or m["method"],
        "pooler": results.get("pooler") or m["pooler"],
        "seed": int(m["seed"]),
        "best_step": results.get("best_step"),
        "best_dev_stsb": results.get("best_dev_stsb"),
        "steps": results.get("steps"),
        "examples": results.get("examples"),
        "train_seconds": results.get("train_seconds"),
        "wall_seconds": results.get("wall_seconds"),
        "device": results.get("device"),
        "tasks": _scores(ev),
        "avg": ev.get("avg"),
        "test_limit": (ev.get("meta") or {}).get("limit"),
        "test_pairs": _pairs(ev),
    }


def _cell(runs: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "n": len(runs),
        "seeds": sorted(r["seed"] for r in runs),
        "avg": mean_std([r["avg"] for r in runs if r["avg"] is not None]),
        "tasks": {t: mean_std([r["tasks"][t] for r in runs if t in r["tasks"]]) for t in STS_TASKS},
        "dev": mean_std([r["best_dev_stsb"] for r in runs if r["best_dev_stsb"] is not None]),
        "best_steps": [r["best_step"] for r in sorted(runs, key=lambda r: r["seed"])],
    }


def collect(out: Path) -> dict[str, Any]:
    """Everything the page needs from one reproduce.sh output folder."""
    grid = _optional_json(out / "grid.json")
    if grid is None:
        raise SystemExit(f"error: {out}/grid.json: not a reproduce.sh output folder (no grid.json)")
    settings = grid.get("settings", {})
    methods = _split(settings.get("methods"))
    poolers = _split(settings.get("poolers"))
    seeds = [int(s) for s in _split(settings.get("seeds"))]

    zeroshot: dict[str, Any] = {}
    for d in sorted((out / "zeroshot").glob("*/")):
        ev = _optional_json(eval_result_path(d, "test"))
        if ev is None:
            continue
        dev = _optional_json(eval_result_path(d, "dev"))
        zeroshot[d.name] = {"tasks": _scores(ev), "avg": ev.get("avg"),
                            "test_limit": (ev.get("meta") or {}).get("limit"),
                            "test_pairs": _pairs(ev),
                            "dev_stsb": (dev or {}).get("tasks", {}).get("stsb", {}).get("spearman"),
                            "dev_pairs": (dev or {}).get("tasks", {}).get("stsb", {}).get("pairs")}

    runs = [r for d in sorted((out / "runs").glob("*/")) if (r := load_run(d)) is not None]
    done = {r["name"] for r in runs}
    expected = [f"{m}-{p}-s{s}" for s in seeds for p in poolers for m in methods if m != "zeroshot"]
    missing = [name for name in expected if name not in done]

    cells: dict[str, dict[str, Any]] = {}
    for r in runs:
        cells.setdefault(r["method"], {}).setdefault(r["pooler"], []).append(r)
    agg = {m: {p: _cell(rs) for p, rs in by_pooler.items()} for m, by_pooler in cells.items()}

    analysis: dict[str, Any] = {}
    for d in sorted((out / "analysis").glob("*/")):
        res = _optional_json(d / "negation.json")
        if res is None:
            continue
        analysis[d.name] = {"pairs": res.get("pairs"), "requested": res.get("requested"),
                            "negator": res.get("negator"), "models": res.get("models", []),
                            "examples": res.get("examples", [])[:3],
                            "png_source": str(d / "negation_similarity.png")}

    grid = {**grid, "encoder": _rel(grid.get("encoder"))}
    corpus = _optional_json(out / "prepared" / "corpus.stats.json")
    negate = _optional_json(out / "prepared" / "corpus.negations.stats.json")
    return {"schema": 1, "grid": grid.get("grid", "cpu"), "source": _rel(str(out)), "run": grid, "corpus": corpus,
            "negate": negate, "zeroshot": zeroshot, "runs": runs, "aggregate": agg, "expected": expected,
            "missing": missing, "analysis": analysis}


def write_summary(summary: dict[str, Any], docs: Path) -> Path:
    """docs/results_<grid>.json, and the figures copied beside it (paths made relative to docs/)."""
    grid = summary["grid"]
    for pooler, a in summary["analysis"].items():
        src = Path(a.pop("png_source"))
        if src.exists():
            dst = docs / f"results_{grid}_negation_{pooler}.png"
            _atomic_copy(src, dst)
            a["png"] = dst.name
    path = docs / f"results_{grid}.json"
    _atomic_text(path, json.dumps(summary, indent=1, sort_keys=False, default=str) + "\n")
    return path


# ---------------------------------------------------------------------------------------- render
def fmt(stat: dict[str, Any] | float | None, digits: int = 2) -> str:
    if stat is None:
        return "-"
    if isinstance(stat, (int, float)):
        return f"{stat:.{digits}f}"
    if stat.get("mean") is None:
        return "-"
    if stat.get("std") is None:
        return f"{stat['mean']:.{digits}f}"
    return f"{stat['mean']:.{digits}f} ± {stat['std']:.{digits}f}"


def _poolers(s: dict[str, Any]) -> list[str]:
    listed = _split(s["run"].get("settings", {}).get("poolers"))
    seen = set(listed)
    extra = sorted(({p for cells in s["aggregate"].values() for p in cells} | set(s["zeroshot"])) - seen)
    return listed + extra


def sts_table(s: dict[str, Any], pooler: str) -> list[str]:
    lines = ["| method | " + " | ".join(display_name(t) for t in STS_TASKS)
             + " | **Avg.** | STS-B dev (selection) | best step | seeds |",
             "|---" * (len(STS_TASKS) + 5) + "|"]
    zs = s["zeroshot"].get(pooler)
    if zs:
        cells = [fmt(zs["tasks"].get(t)) for t in STS_TASKS]
        lines.append(f"| {METHODS['zeroshot']} | " + " | ".join(cells) + f" | **{fmt(zs['avg'])}** | "
                     f"{fmt(zs.get('dev_stsb'))} | 0 | - |")
    for method, label in METHODS.items():
        cell = s["aggregate"].get(method, {}).get(pooler)
        if method == "zeroshot" or not cell:
            continue
        cells = [fmt(cell["tasks"][t]) for t in STS_TASKS]
        steps = ", ".join(str(x) for x in cell["best_steps"])
        lines.append(f"| {label} | " + " | ".join(cells) + f" | **{fmt(cell['avg'])}** | {fmt(cell['dev'])} | "
                     f"{steps} | {len(cell['seeds'])} ({', '.join(str(x) for x in cell['seeds'])}) |")
    return lines


def table3(s: dict[str, Any], pooler: str) -> list[str]:
    lines = ["| loss for the soft negative | published: BERT-base, SNCSE Table 3 (avg. of 7 STS) | "
             f"ours: all-MiniLM-L6-v2, pooler `{pooler}` (avg., mean ± std) | our rank |",
             "|---|---|---|---|"]
    ours = {m: s["aggregate"].get(m, {}).get(pooler, {}).get("avg", {}).get("mean") for m, *_ in TABLE3}
    ranked = sorted((v, m) for m, v in ours.items() if v is not None)[::-1]
    rank = {m: i + 1 for i, (_, m) in enumerate(ranked)}
    for method, label, published, verified in TABLE3:
        pub = f"{published:.2f}" + ("" if verified else f" ({UNVERIFIED})")
        cell = s["aggregate"].get(method, {}).get(pooler)
        lines.append(f"| {label} | {pub} | {fmt(cell['avg']) if cell else 'not run'} | {rank.get(method, '-')} |")
    pub_order = " > ".join(SHORT[m] for m, *_ in TABLE3)
    our_order = " > ".join(SHORT[m] for _, m in ranked)
    lines.append("")
    lines.append(f"Published order: {pub_order}. Our order (pooler `{pooler}`, mean over seeds): "
                 f"{our_order or 'no runs'}.")
    if len(ranked) == len(TABLE3):
        same = [m for _, m in ranked] == [m for m, *_ in TABLE3]
        gaps = [ranked[i][0] - ranked[i + 1][0] for i in range(len(ranked) - 1)]
        stds = [s["aggregate"][m][pooler]["avg"]["std"] or 0.0 for _, m in ranked]
        within = min(gaps) < max(stds) if gaps else False
        lines.append("")
        lines.append(("The ordering **matches** the paper's." if same else "The ordering **differs** from the paper's.")
                     + (" Some adjacent gaps are smaller than the seed standard deviation, so the order between "
                        "those methods is not established by these runs." if within else ""))
    return lines


def analysis_table(a: dict[str, Any]) -> list[str]:
    lines = ["| model | soft negative: peak | soft negative: mean | random negative: peak | random negative: mean "
             "| gap of the means |", "|---|---|---|---|---|---|"]
    for m in a["models"]:
        sn, ng = m["soft_negative"], m["negative"]
        lines.append(f"| {m['model']} | {sn['peak']:.3f} | {sn['mean']:.3f} | {ng['peak']:.3f} | {ng['mean']:.3f} | "
                     f"{sn['mean'] - ng['mean']:+.3f} |")
    return lines


def analysis_reading(a: dict[str, Any]) -> list[str]:
    """One sentence comparing the models' soft-negative similarity (what SNCSE's Figure 4 is about)."""
    by = {m["model"]: m for m in a["models"]}
    names = [n for n in ("zero-shot", "SNCSE-bml", "SimCSE-infonce") if n in by]
    if len(names) < 2:
        return []
    parts = [f"{n} {by[n]['soft_negative']['mean']:.3f}" for n in names]
    text = "Mean similarity of a sentence and its negation: " + ", ".join(parts) + "."
    if "SNCSE-bml" in by and "SimCSE-infonce" in by:
        d = by["SNCSE-bml"]["soft_negative"]["mean"] - by["SimCSE-infonce"]["soft_negative"]["mean"]
        verdict = (f"within 0.001 of SimCSE's ({d:+.4f})" if abs(d) < 1e-3 else
                   f"{'lower' if d < 0 else 'higher'} than SimCSE's by {abs(d):.3f}")
        text += f" SNCSE's is {verdict} (SNCSE's aim is to push negations apart, i.e. lower)."
    return [text, ""]


def _settings_rows(s: dict[str, Any]) -> list[str]:
    run, st = s["run"], s["run"].get("settings", {})
    stages = run.get("stages", {})
    test_limit = st.get("test_limit")
    zs = next(iter(s["zeroshot"].values()), None) or (s["runs"][0] if s["runs"] else None)
    pairs = sum((zs or {}).get("test_pairs", {}).values()) if zs else None
    if test_limit in (None, "none", ""):
        test = f"full test sets ({pairs:,} pairs)" if pairs else "full test sets"
    else:
        test = (f"first {test_limit} pairs of every subset of every task ({pairs:,} pairs of the {STS_TEST_PAIRS:,}); "
                "**not comparable with full-test numbers**" if pairs else f"first {test_limit} pairs per subset")
    dev_limit = st.get("dev_limit")
    dev = (f"STS-B dev, all {expected_pairs('stsb', 'dev'):,} pairs" if dev_limit in (None, "none", "")
           else f"STS-B dev, first {dev_limit} pairs")
    corpus = s.get("corpus") or {}
    sets = ", ".join(f"{k.upper()} {v['kept']:,}" for k, v in corpus.get("sets", {}).items())
    rows = [
        ("command(s)", "; then ".join(f"`{c}`" for c in _commands(run))),
        ("machine", f"{run.get('machine', '?')}, device `{run.get('device', '?')}`, {run.get('threads', '?')} "
                    f"thread(s) per process, {run.get('jobs', '?')} run(s) at a time; load average at start "
                    f"{run.get('load_at_start', '?')}, at end {run.get('load_at_end', '?')}"),
        ("started / wall time", f"{run.get('started', '?')} / {run.get('wall_seconds', '?')} s in "
                                f"{run.get('calls', 1)} call(s) of the script ("
                                + ", ".join(f"{k} {v.get('seconds', '?')} s" for k, v in stages.items()) + ")"),
        ("encoder", "all-MiniLM-L6-v2 (6 layers, hidden 384; **already sentence-tuned with supervision**)"),
        ("methods", ", ".join(f"`{m}`" for m in _split(st.get("methods")))),
        ("poolers", ", ".join(f"`{p}`" for p in _split(st.get("poolers")))),
        ("seeds", ", ".join(_split(st.get("seeds")))),
        ("steps / batch / lr", f"{st.get('steps')} steps of {st.get('batch')} examples, lr {st.get('lr')} "
                               "(AdamW, linear decay, no warm-up), the same for every method"),
        ("selection", f"{dev}, every {st.get('eval_steps')} steps and at the last step; the best checkpoint is "
                      "evaluated on the test sets"),
        ("STS test", test),
        ("corpus", f"{corpus.get('lines', '?'):,} lines: the wiki1m prefix ({corpus.get('wiki_lines', '?'):,}) + "
                   f"transfer-set sentences not already present ({sets}); negated by `sncse negate` (faithful)"
                   + _dropped(corpus) if corpus else "see the prepare stage"),
        ("soft-negative analysis", f"{st.get('analysis_n')} STS sentences (seed {st.get('analysis_seed')})"),
    ]
    return ["| | |", "|---|---|"] + [f"| {k} | {v} |" for k, v in rows]


def _commands(run: dict[str, Any]) -> list[str]:
    """Every call of reproduce.sh that wrote into the folder, in order (``command``: older single field)."""
    return ([run["command"]] if run.get("command") else []) + list(run.get("commands", [])) or ["?"]


def _dropped(corpus: dict[str, Any]) -> str:
    packed = corpus.get("training_pairs") or {}
    if not packed.get("dropped_empty"):
        return ""
    return (f"; {packed['pairs']:,} training pairs after dropping {packed['dropped_empty']} whose faithful negation "
            "is empty (the line `not` becomes an empty string)")


def source_marker(grid: str) -> str:
    """The line naming the JSON that the numbers below it (up to the next heading) come from."""
    return f"<!-- source: docs/results_{grid}.json -->"


def render_grid(s: dict[str, Any]) -> list[str]:
    grid = s["grid"]
    source = source_marker(grid)
    out = [f"## {GRID_TITLES.get(grid, grid)}", ""]
    out += [f"> {MINILM_NOTE}", ""]
    if grid == "cpu":
        out += ["This is the **reduced** grid that fits 2 CPU cores in under 30 minutes: a few steps of a small batch, "
                "so every trained model stays close to the zero-shot encoder, and a subset of the STS test pairs. "
                "It shows that the whole pipeline runs and how the losses move the encoder in their first steps; it "
                "does not establish how the methods compare (that is what the GPU grid is for).", ""]
    out += ["### What was run", "", source] + _settings_rows(s) + [""]
    out += ["Common to all methods: `configs/minilm.yaml` (max length 32, temperature 0.05, BML alpha 0.1, "
            "beta 0.3, lambda 1e-3, MixCSE lambda 0.2, sentences end with a period), the MLP head in training only "
            "(`model.mlp=train`; the supervised SimCSE recipe keeps it at evaluation, but on an already tuned "
            "encoder a freshly initialised head would be evaluated barely trained), unsupervised methods on the "
            "negated corpus (InfoNCE and MixCSE ignore the negations), `sup` on the SNLI dev+test triplets "
            "(premise, entailment, contradiction) built by the trainer's SNLI reader. The zero-shot row is the "
            "encoder before training (step 0), with the same pooler.", ""]
    if s["missing"]:
        out += [f"**Missing runs** ({len(s['missing'])} of {len(s['expected'])}): "
                + ", ".join(f"`{m}`" for m in s["missing"]) + ".", ""]
    for pooler in _poolers(s):
        out += [f"### STS test, Spearman x100, pooler `{pooler}` (mean ± std over seeds)", ""]
        if not any(pooler in cells for cells in s["aggregate"].values()):
            out += [f"Zero-shot only: this grid trains no model with the `{pooler}` pooler"
                    + (" (all-MiniLM-L6-v2's own pooler, the one its supervised tuning used)." if pooler == "mean"
                       else "."), ""]
        out += [source] + sts_table(s, pooler) + [""]
    out += ["### SNCSE's Table 3 beside ours", "", source]
    for pooler in _poolers(s):
        if any(s["aggregate"].get(m, {}).get(pooler) for m, *_ in TABLE3):
            out += table3(s, pooler) + [""]
    out += ["### Soft-negative similarity (`sncse analyze --negation`, SNCSE Figure 4)", "", source]
    if not s["analysis"]:
        out += ["Not run.", ""]
    for pooler, a in s["analysis"].items():
        out += [f"Pooler `{pooler}`: cosine similarity of {a['pairs']} STS sentences with their negation (soft "
                f"negative, negator {a['negator']}) and with a random other sentence; peak = mode of a Gaussian "
                "KDE. Zero-shot is the encoder before training; SNCSE and SimCSE are the first seed's best "
                "checkpoints.", ""]
        out += analysis_table(a) + [""]
        out += analysis_reading(a)
        if a.get("png"):
            out += [f"![soft-negative similarity, pooler {pooler}]({a['png']})", ""]
    out += ["### Every run", "", source, "| run | best step | STS-B dev | STS avg. | train s |", "|---|---|---|---|---|"]
    for r in sorted(s["runs"], key=lambda r: (r["pooler"], list(METHODS).index(r["method"])
                                              if r["method"] in METHODS else 99, r["seed"])):
        out.append(f"| `{r['name']}` | {r['best_step']} | {fmt(r['best_dev_stsb'])} | {fmt(r['avg'])} | "
                   f"{fmt(r['train_seconds'], 0)} |")
    out.append("")
    return out


def recipes_section(source: str) -> list[str]:
    from sncse.eval.published import PUBLISHED_STS

    pub = {r.name: r for r in PUBLISHED_STS}

    def row(config: str, model: str, name: str | None, note: str) -> str:
        r = pub.get(name) if name else None
        if r is None:
            return f"| `{config}` | {model} | not quoted | {note} |"
        return f"| `{config}` | {model} | **{r.avg:.2f}** | {r.source}, {r.where}. {note}".rstrip() + " |"

    return [
        "## What the paper recipes in `configs/` are expected to give", "",
        "These are the **published** averages of the 7 STS tasks (Spearman x100, test sets, SentEval's "
        "preprocessed files, no regressor): what the recipes should reproduce with the original "
        "checkpoints (`bert-base-uncased`, `roberta-base`, ...) and the full 1M-sentence `wiki1m_for_simcse.txt` "
        "(or `nli_for_simcse.csv`), none of which are reachable from the machines this page was made on. "
        "Nothing in this table was measured here. A number is quoted only where it could be checked against "
        "the paper's text.", "",
        source, "| recipe | encoder | published avg. | source |", "|---|---|---|---|",
        row("configs/sncse-bert-base.yaml", "bert-base-uncased", "SNCSE-BERT-base", ""),
        row("configs/sncse-roberta-base.yaml", "roberta-base", "SNCSE-RoBERTa-base", ""),
        row("configs/sncse-bert-large.yaml", "bert-large-uncased", None,
            "SNCSE reports large models in a table that is an image in every source reachable here; not verified."),
        row("configs/sncse-roberta-large.yaml", "roberta-large", None, "As for BERT-large."),
        row("configs/simcse-unsup-bert-base.yaml", "bert-base-uncased", "SimCSE-BERT-base (unsup.)", ""),
        row("configs/simcse-sup-bert-base.yaml", "bert-base-uncased", "SimCSE-BERT-base (sup.)",
            "Trained on SimCSE's NLI triplets (SNLI + MNLI train); the SNLI dev/test triplets available offline "
            "are far fewer."),
        row("configs/mixcse-bert-base.yaml", "bert-base-uncased", None,
            "MixCSE's own table could not be checked here."),
        "",
    ]


def render(summaries: list[dict[str, Any]]) -> str:
    by_grid = {s["grid"]: s for s in summaries}
    lines = ["# Results: the papers' comparisons on one encoder, under one protocol", "",
             "<!-- generated by scripts/make_results.py from docs/results_<grid>.json; do not edit by hand -->", "",
             f"> {MINILM_NOTE}", ""]
    status = []
    if "gpu" in by_grid:
        s = by_grid["gpu"]
        status.append(f"- **GPU grid**: run {s['run'].get('started', '?')}, {len(s['runs'])} of "
                      f"{len(s['expected'])} runs" + (" — **incomplete**" if s["missing"] else "") + ".")
    else:
        status.append("- **GPU grid** (the full protocol): **not run yet; it needs a GPU machine.** "
                      "The script is ready; see *Regenerating this page*.")
    if "cpu" in by_grid:
        s = by_grid["cpu"]
        status.append(f"- **CPU grid** (reduced, see below): run {s['run'].get('started', '?')}, "
                      f"{len(s['runs'])} of {len(s['expected'])} runs"
                      + (" — **incomplete**" if s["missing"] else "") + ".")
    lines += ["## Status", ""] + status + [""]
    lines += ["## Regenerating this page", "",
              "```bash",
              "scripts/reproduce.sh --grid cpu            # reduced grid, 2 CPU cores, < 30 min -> runs/repro-cpu",
              "scripts/reproduce.sh --grid gpu            # full grid on a GPU machine with spaCy -> runs/repro-gpu",
              "scripts/make_results.py runs/repro-cpu     # re-aggregate existing runs (also --render-only)",
              "```", "",
              "On a GPU machine without spaCy, or one whose commands have a time limit:",
              "",
              "1. on a CPU machine with spaCy: `scripts/reproduce.sh --grid gpu --stages prepare` (the corpus and the "
              "analysis sentences negated by `sncse negate`, in `runs/repro-gpu/prepared/`), and all-MiniLM-L6-v2 in "
              "`.device/minilm` with the data as `.device/data.tar.xz` if the GPU machine has neither;",
              "2. on the GPU, carrying `.device` and `runs/repro-gpu/prepared`: "
              "`scripts/reproduce.sh --grid gpu --time-budget 360 --export \"$OUT\"` (runs not started within 360 s "
              "are left for the next call; the soft-negative analysis reads the prepared negations, "
              "`sncse analyze --negation --pairs`);",
              "3. back on the CPU: `tar xzf results-gpu.tar.gz` in the repository root (the runs' small files and the "
              "page);",
              "4. if runs were left: again step 2, carrying `.device`, `runs/repro-gpu/prepared`, `runs/repro-gpu/runs`, "
              "`runs/repro-gpu/zeroshot`, `runs/repro-gpu/analysis` and `runs/repro-gpu/grid.json` (finished runs "
              "are skipped), then step 3.",
              "",
              "`scripts/reproduce.sh --help` lists every option.", ""]
    for grid in GRID_ORDER:
        if grid in by_grid:
            lines += render_grid(by_grid[grid])
    for grid, s in by_grid.items():
        if grid not in GRID_ORDER:
            lines += render_grid(s)
    lines += recipes_section(source_marker(summaries[0]["grid"]))
    return "\n".join(lines).rstrip() + "\n"


def page_figures(s: dict[str, Any]) -> dict[str, Any]:
    """The figures the page prints that are not a run's own output: the recipe's settings, the papers'
    published numbers it compares with, and the differences and ranks it derives. They are kept in
    the summary JSON so that every number of the page has a source (tests/docs/test_doc_numbers.py)."""
    import yaml

    from sncse.eval.published import PUBLISHED_STS

    recipe = yaml.safe_load((REPO / "configs" / "minilm.yaml").read_text(encoding="utf-8"))
    analysis: dict[str, Any] = {}
    for pooler, a in s["analysis"].items():
        by = {m["model"]: m for m in a["models"]}
        analysis[pooler] = {name: {"gap_of_means": m["soft_negative"]["mean"] - m["negative"]["mean"]}
                            for name, m in by.items()}
        if "SNCSE-bml" in by and "SimCSE-infonce" in by:
            analysis[pooler]["sncse_minus_simcse"] = (by["SNCSE-bml"]["soft_negative"]["mean"]
                                                      - by["SimCSE-infonce"]["soft_negative"]["mean"])
    ranks = {}
    for pooler in _poolers(s):
        ours = {m: s["aggregate"].get(m, {}).get(pooler, {}).get("avg", {}).get("mean") for m, *_ in TABLE3}
        ranked = sorted((v, m) for m, v in ours.items() if v is not None)[::-1]
        ranks[pooler] = {m: i + 1 for i, (_, m) in enumerate(ranked)}
    zs = next(iter(s["zeroshot"].values()), None) or (s["runs"][0] if s["runs"] else None)
    return {
        "test_pairs_used": sum((zs or {}).get("test_pairs", {}).values()),
        "all_test_pairs": STS_TEST_PAIRS,
        "recipe": {"file": "configs/minilm.yaml", "model": recipe.get("model"), "loss": recipe.get("loss")},
        "published_table3": [{"method": m, "label": label, "avg": v, "verified": ok} for m, label, v, ok in TABLE3],
        "published_recipes": [{"name": r.name, "avg": r.avg, "source": r.source, "where": r.where}
                              for r in PUBLISHED_STS],
        "table3_ranks": ranks,
        "analysis": analysis,
        "cpu_grid_target_minutes": 30,
    }


def render_docs(docs: Path) -> Path:
    summaries = []
    for g in GRID_ORDER:
        p = docs / f"results_{g}.json"
        if p.exists():
            s = json.loads(p.read_text(encoding="utf-8"))
            page = page_figures(s)
            if s.get("page") != page:
                s["page"] = page
                _atomic_text(p, json.dumps(s, indent=1, sort_keys=False, default=str) + "\n")
            summaries.append(s)
    if not summaries:
        raise SystemExit(f"error: no {docs}/results_{{gpu,cpu}}.json to render; pass a run folder")
    path = docs / "results.md"
    _atomic_text(path, render(summaries))
    return path


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("runs", nargs="*", type=Path, help="reproduce.sh output folders (runs/repro-cpu, ...)")
    parser.add_argument("--docs", type=Path, default=REPO / "docs")
    parser.add_argument("--render-only", action="store_true", help="only re-render docs/results.md")
    args = parser.parse_args(argv)
    if not args.runs and not args.render_only:
        parser.error("pass at least one run folder, or --render-only")
    from sncse.errors import SncseError

    try:
        for out in args.runs:
            path = write_summary(collect(out), args.docs)
            print(f"wrote {path}", file=sys.stderr)
        print(f"wrote {render_docs(args.docs)}", file=sys.stderr)
    except SncseError as exc:  # a malformed input file: one line naming it
        print(f"error: {exc}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
