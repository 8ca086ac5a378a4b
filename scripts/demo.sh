#!/usr/bin/env bash
# The main job end to end on 2 CPU cores, with whatever data sncse finds (about 9 CPU-minutes on the
# embedded sample, 18 on the full sets):
#   negate the Wikipedia sentences -> score all-MiniLM-L6-v2 as it is -> train it with SNCSE (BML, its own
#   mean pooler, SimCSE's MLP head in training only) -> score the trained model -> both side by side: STS,
#   the negation triplets drawn from SICK (accuracy: is a sentence closer to one it entails than to a
#   contradicting one that adds a negation?) and the cosine of sentence and negation before and after ->
#   error analysis -> sentence-transformers export.
# Data: --data-root / $SNCSE_DATA / ./data (`sncse data download`) / the sample embedded in the package,
# the first that exists (sncse/data/root.py). On the sample the score is STS-B test; on full data the
# 7 STS tasks. Run through `make demo` (which sets up .venv), or directly with sncse on PATH.
# DEMO_* variables shrink it (the test suite runs it with tiny-bert and a few steps). Outputs go to
# $DEMO_OUT (default demo-out/ in the current folder).
set -euo pipefail
HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
OUT=${DEMO_OUT:-demo-out}
ENCODER=${DEMO_ENCODER:-minilm}
STEPS=${DEMO_STEPS:-24}
BATCH=${DEMO_BATCH:-64}
LR=${DEMO_LR:-5e-5}  # chosen on STS-B dev of the sample: bench/results/demo_recipe.json
EVAL_STEPS=${DEMO_EVAL_STEPS:-8}
NEG_N=${DEMO_NEG_N:-1000}
LINES=${DEMO_LINES:-}
PY=${PYTHON:-python}
EVAL_LIMIT=()
[[ -n "${DEMO_EVAL_LIMIT:-}" ]] && EVAL_LIMIT=(--limit "$DEMO_EVAL_LIMIT")
mkdir -p "$OUT"
step() { printf '\n\033[1m== %s\033[0m\n' "$*"; }
STARTED=$(date +%s)
LOAD_START=$("$PY" -c 'import os; print(" ".join(f"{x:.2f}" for x in os.getloadavg()))')

step "1/7 data"
# the data root sncse resolves, and the corpus in it (the sample's when the root holds none)
read -r SOURCE ROOT CORPUS < <("$PY" - <<'EOF'
from sncse.data.root import SAMPLE_CORPUS, resolve_data_root, sample_root
src = resolve_data_root()
corpus = src.root / SAMPLE_CORPUS
print(src.kind, src.root, corpus if corpus.is_file() else sample_root() / SAMPLE_CORPUS)
EOF
)
if [[ $SOURCE == sample ]]; then
  TASKS=stsb; TOP_TASK=stsb
  echo "data: the sample embedded in the package ($ROOT): STS-B dev/test and 2,000 Wikipedia lines."
  echo "      For the 7 STS tasks set SNCSE_DATA to a full data root, or run \`sncse data download\`."
else
  TASKS=sts; TOP_TASK=sickr
  echo "data: $ROOT ($SOURCE); corpus $CORPUS"
  sncse data check --sts-only
fi

if [[ -n $LINES ]]; then
  head -n "$LINES" "$CORPUS" > "$OUT/corpus.txt"
  CORPUS=$OUT/corpus.txt
fi

step "2/7 negate the corpus (faithful SNCSE rules, spaCy)"
sncse negate "$CORPUS" -o "$OUT/corpus.negations.jsonl" --workers 2 --resume

step "3/7 score the starting encoder ($ENCODER, mean pooler) on $TASKS and the negation triplets"
sncse eval "$ENCODER" --pooler mean --tasks "$TASKS,negation" ${EVAL_LIMIT[@]+"${EVAL_LIMIT[@]}"} \
  --json "$OUT/eval_start.json"

step "4/7 train SNCSE on $ENCODER: $STEPS steps of $BATCH sentences, lr $LR, mean pooler (CPU)"
sncse train -c "$HERE/configs/minilm.yaml" --encoder "$ENCODER" --pooler mean --data "$OUT/corpus.negations.jsonl" \
  -o "$OUT/run" --overwrite --set train.device=cpu --set train.max_steps="$STEPS" --set optim.lr="$LR" \
  --set train.batch_size="$BATCH" --set train.eval_steps="$EVAL_STEPS" --set train.log_steps=5 \
  --set train.save_steps=-1

step "5/7 score the trained model (its best STS-B dev checkpoint) on $TASKS and the negation triplets"
sncse eval "$OUT/run" --tasks "$TASKS,negation" ${EVAL_LIMIT[@]+"${EVAL_LIMIT[@]}"} --json "$OUT/eval_trained.json"

step "6/7 how close a sentence stays to its negation (SNCSE's soft negatives), before and after"
sncse analyze "$ENCODER" "$OUT/run" --pooler mean --negation --n "$NEG_N" --out "$OUT/analysis" \
  --json "$OUT/analysis/negation.json"

step "7/7 the 5 worst-ranked $TOP_TASK pairs, and a sentence-transformers export"
sncse analyze "$OUT/run" --top 5 "$TOP_TASK" --json "$OUT/analysis/top5_$TOP_TASK.json"
sncse export "$OUT/run" -o "$OUT/exported" --overwrite

step "before and after training"
"$PY" "$HERE/scripts/demo_summary.py" "$OUT/eval_start.json" "$OUT/eval_trained.json" "$OUT/analysis/negation.json" \
  --json "$OUT/summary.json" --started "$STARTED" --load-start "$LOAD_START" --data "$SOURCE $ROOT" \
  --settings "encoder=$ENCODER steps=$STEPS batch=$BATCH lr=$LR eval_steps=$EVAL_STEPS lines=${LINES:-all}"
printf '\nIn %s/: summary.json, eval_start.json, eval_trained.json, run/, analysis/, exported/\n' "$OUT"
