#!/usr/bin/env bash
# The main job end to end on the shared data, on 2 CPU cores in under 10 minutes:
#   negate the Wikipedia prefix -> train SNCSE (BML, prompt pooler) on all-MiniLM-L6-v2 for a few steps
#   -> evaluate on the 7 STS tasks -> error analysis and soft-negative plot -> export for sentence-transformers.
# all-MiniLM-L6-v2 is already sentence-tuned; a few CPU steps show the pipeline, not the paper's gains.
# Run through `make demo` (which sets up .venv and SNCSE_DATA), or directly with sncse on PATH.
set -euo pipefail
OUT=${DEMO_OUT:-demo-out}
: "${SNCSE_DATA:?set SNCSE_DATA to the folder holding senteval/ and corpus/ (make demo does)}"
STEPS=${DEMO_STEPS:-12}
mkdir -p "$OUT"
step() { printf '\n\033[1m== %s\033[0m\n' "$*"; }

step "1/6 data check"
sncse data check

step "2/6 negate the corpus (faithful SNCSE rules, spaCy)"
sncse negate "$SNCSE_DATA/corpus/wiki1m_head.txt" -o "$OUT/wiki1m_head.negations.jsonl" --workers 2 --resume

step "3/6 train SNCSE on MiniLM for $STEPS steps (CPU)"
sncse train -c configs/minilm.yaml --data "$OUT/wiki1m_head.negations.jsonl" -o "$OUT/run" --overwrite \
  --set train.device=cpu --set train.max_steps="$STEPS" --set train.batch_size=32 \
  --set train.eval_steps=6 --set train.eval_limit=500 --set train.log_steps=2

step "4/6 evaluate on STS12-16, STS-B, SICK-R (SentEval protocol)"
sncse eval "$OUT/run" --tasks sts --json "$OUT/eval_test.json"

step "5/6 analyze: the 5 worst-ranked SICK-R pairs, and how the model separates X from not-X"
sncse analyze "$OUT/run" --top 5 sickr --json "$OUT/top5_sickr.json"
sncse analyze minilm "$OUT/run" --negation --n 400 --out "$OUT/analysis"

step "6/6 export as a sentence-transformers folder with a model card"
sncse export "$OUT/run" -o "$OUT/exported" --overwrite

printf '\nDone. Results in %s/: eval_test.json, top5_sickr.json, analysis/*.png, exported/\n' "$OUT"
