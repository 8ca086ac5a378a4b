#!/usr/bin/env bash
# The GPU benchmarks in one command, from the project root. Each part runs under its own time limit
# (all of them inside BUDGET_S: the limits add up to at most the budget less SETUP_S and REPORT_S, which
# every mode checks first) and writes its JSON under $OUT as soon as it ends, so a run cut off still
# returns what it measured.
#
#   bench/gpu_suite.sh --prepare      on this machine, before a GPU run: builds .device/ (MiniLM fp16, the
#                                     data, the corpus's negations) and .whl/ (this package as a wheel)
#   bench/gpu_suite.sh                on the GPU machine, with .device/ and .whl/ carried
#   bench/gpu_suite.sh --dry-run      every part on the CPU with tiny sizes (what CI runs); checks the GPU
#                                     run's part limits against its budget too
#   bench/gpu_suite.sh --report DIR   the target table of a finished run's files
#
# Parts, in the order they run (bench/README.md says what each measures), with their limits in s (GPU / dry):
#   g  pytest -m gpu        the CUDA tests (tests marked gpu: gradient-cache replay, resume, encode)  60 / 60
#   a  train_throughput.py  MiniLM and BERT-base x SNCSE (bml, prompt) and SimCSE (infonce, cls), batch 256,
#                           max length 32, sentence-transformers' MNRL baseline in the same process  120 / 90
#   e  memory.py            peak memory against batch size with and without the gradient cache      70 / 45
#   b  eval_speed.py        the 7 STS tasks on MiniLM and on BERT-base size                         40 / 45
#   d  sncse train          a short SNCSE run on MiniLM (prompt pooler, bf16): metrics.jsonl,
#                           results.json                                                              50 / 60
#   c  export_check.py      sentence-transformers reproduces sncse's scores, on the GPU               35 / 60
#   f  profile              torch.profiler tables of a few steps, when a target is missed             30 / 45
# suite.log holds one "== versions {...}" line before the parts: torch, transformers, sentence-transformers,
# CUDA, the driver and the GPU, and the versions requirements.lock pins where they differ; and part g's report.
# $OUT gets at most 8 files: suite.log, train_throughput_TAG.json, eval_speed_TAG.json, export_check_TAG.json,
# train_sncse_minilm/{metrics.jsonl,results.json}, memory_TAG.json, profile_TAG.txt.
#
# Environment: OUT (output folder; the device tool sets it), PYTHON (default python3), BUDGET_S (whole
# suite, default GPU_BUDGET_S, 450 s, also in a dry run), PROFILE (auto: when a target is missed | always | never),
# TAG (file-name tag; default from the GPU's name, e.g. h200; cpu-dry in a dry run), LIMIT_SCALE (integer
# factor on every part's limit, default 1), PARTS (the parts to run, default gaebdcf: PARTS=a reruns part a
# alone), SKIP_INSTALL=1 (use the installed package).
set -uo pipefail

mode=gpu
case "${1:-}" in
  --dry-run) mode=dry ;;
  --prepare) mode=prepare ;;
  --report) mode=report ;;
  ""|--gpu) ;;
  -h|--help) awk 'NR > 1 && /^#/ { sub(/^# ?/, ""); print; next } NR > 1 { exit }' "$0"; exit 0 ;;
  *) echo "error: unknown option $1 (--dry-run, --prepare, --report DIR, --help)" >&2; exit 2 ;;
esac
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root" || exit 2
PY=${PYTHON:-python3}
NEG=.device/wiki1m_head.negations.jsonl.gz

# ------------------------------------------------------------------------------------------ --report
if [ "$mode" = report ]; then
  exec "$PY" bench/suite_report.py "${2:?usage: bench/gpu_suite.sh --report DIR}"
fi

# ------------------------------------------------------------------------------------------ --prepare
if [ "$mode" = prepare ]; then
  set -e
  PY=${PYTHON:-.venv/bin/python}
  bundle=${DEVICE_BUNDLE:-$root/../shared/tools/device_bundle.sh}
  if [ ! -f .device/minilm/model.safetensors ] || [ ! -f .device/data.tar.xz ]; then
    if [ -d .git ]; then
      bash "$bundle" "$PY"
    else  # a git worktree (.git is a file): the bundle tool writes .git/info/exclude, so build it beside
      tmp=$(mktemp -d); git -C "$tmp" init -q
      abs_py=$PY; case $PY in /*) ;; */*) abs_py=$root/$PY ;; esac
      (cd "$tmp" && bash "$bundle" "$abs_py")
      mkdir -p .device && cp -r "$tmp/.device/." .device/ && rm -rf "$tmp"
    fi
  fi
  if [ ! -s "$NEG" ]; then  # the soft negatives for part d: spaCy runs here, not on the GPU machine
    tmp=$(mktemp -d)
    SNCSE_DATA=${SNCSE_DATA:-$root/../shared/data} "$PY" -m sncse_cli.main -q negate \
      "${SNCSE_DATA:-$root/../shared/data}/corpus/wiki1m_head.txt" -o "$tmp/negations.jsonl"
    gzip -c "$tmp/negations.jsonl" > "$NEG.tmp" && mv "$NEG.tmp" "$NEG" && rm -rf "$tmp"
  fi
  mkdir -p .whl; rm -f .whl/sncse-*.whl  # the fallback install if the GPU machine's setuptools cannot install -e
  "$PY" -m pip wheel -q --no-deps --no-build-isolation -w .whl . >"$root/.whl/build.log" 2>&1 \
    || { cat .whl/build.log; exit 1; }
  rm -rf build sncse.egg-info .whl/build.log
  tracked=$(git ls-files -z --cached --others --exclude-standard | du -cb --files0-from=- 2>/dev/null | tail -1 | cut -f1)
  carried=$(du -sb .device .whl | awk '{s += $1} END {print s}')
  total=$((tracked + carried))
  awk -v t="$tracked" -v c="$carried" 'BEGIN { m = 1048576
    printf "travels: tree %.1f MiB + .device and .whl %.1f MiB = %.1f MiB (limit 64 MiB)\n", t / m, c / m, (t + c) / m }'
  [ "$total" -lt $((64 * 1048576)) ] || { echo "error: more than 64 MiB would travel" >&2; exit 1; }
  echo 'device run: carry [".device", ".whl"], command: bash bench/gpu_suite.sh'
  exit 0
fi

# ------------------------------------------------------------------------------------------ set-up
GPU_BUDGET_S=${GPU_BUDGET_S:-450} SETUP_S=30 REPORT_S=15
export PYTHONUNBUFFERED=1 TOKENIZERS_PARALLELISM=false HF_HUB_OFFLINE=1 TRANSFORMERS_OFFLINE=1
# no download progress bars or weight-load reports in the log (random models have no pooler weights)
export HF_HUB_DISABLE_PROGRESS_BARS=1 TRANSFORMERS_VERBOSITY=error
if [ "$mode" = dry ]; then
  OUT=${OUT:-$(mktemp -d /tmp/gpu_suite_dry.XXXXXX)}
  BUDGET_S=${BUDGET_S:-$GPU_BUDGET_S}; TAG=${TAG:-cpu-dry}; MIN_PART_S=10
  export SNCSE_DATA=${SNCSE_DATA:-$root/../shared/data}
else
  : "${OUT:?set OUT to the output folder (the device tool sets it)}"
  BUDGET_S=${BUDGET_S:-$GPU_BUDGET_S}; MIN_PART_S=25
fi
PARTS=${PARTS:-gaebdcf}

# ------------------------------------------------------------------------------------------ part limits
# Seconds per part, in the order the parts run; the GPU run's must fit GPU_BUDGET_S (one device call of
# at most 10 minutes, the machine's start and the transfers outside it) with SETUP_S for the install and
# the import check before the first part and REPORT_S for the report after the last.
gpu_limits=(g=60 a=120 e=70 b=40 d=50 c=35 f=30)
dry_limits=(g=60 a=90 e=45 b=45 d=60 c=60 f=45)
if [ "$mode" = dry ]; then limits=("${dry_limits[@]}"); else limits=("${gpu_limits[@]}"); fi
# LIMIT_SCALE stretches every part's limit (a dry run on a machine busy with other jobs)
limit() { local kv; for kv in "${limits[@]}"; do [ "${kv%%=*}" = "$1" ] && echo $(( ${kv#*=} * ${LIMIT_SCALE:-1} )); done; }
# fits NAME BUDGET SCALE SELECTED LIMITS...: whether the selected parts' limits, scaled, fit the budget
fits() {
  local name=$1 budget=$2 scale=$3 selected=$4 sum=0 kv parts=""
  shift 4
  for kv in "$@"; do
    [[ $selected == *${kv%%=*}* ]] || continue
    sum=$((sum + ${kv#*=} * scale)); parts+=" ${kv%%=*}=$((${kv#*=} * scale))"
  done
  local need=$((sum + SETUP_S + REPORT_S))
  echo "== part limits, $name:$parts = ${sum}s, + ${SETUP_S}s set-up + ${REPORT_S}s report = ${need}s of ${budget}s"
  [ "$need" -le "$budget" ] || { echo "error: the $name part limits exceed its budget by $((need - budget))s" >&2; return 1; }
}
mkdir -p "$OUT"
start=$(date +%s)
deadline=$((start + BUDGET_S))
work=$(mktemp -d /tmp/gpu_suite_work.XXXXXX)
exec > >(tee -a "$OUT/suite.log") 2>&1
tee_pid=$!
# on every exit: drop the scratch folder, and let tee finish suite.log before the command returns
trap 'rm -rf "$work"; exec >&- 2>&-; wait "$tee_pid" 2>/dev/null' EXIT
summary=()

echo "== gpu_suite ($mode) in $root, budget ${BUDGET_S}s, output $OUT"
fits "GPU run" "$GPU_BUDGET_S" 1 gaebdcf "${gpu_limits[@]}" || exit 2
if [ "$mode" = dry ]; then
  fits "this dry run (PARTS=$PARTS, LIMIT_SCALE=${LIMIT_SCALE:-1})" "$BUDGET_S" "${LIMIT_SCALE:-1}" "$PARTS" \
    "${dry_limits[@]}" || exit 2
elif [ "$BUDGET_S" != "$GPU_BUDGET_S" ] || [ "$PARTS" != gaebdcf ] || [ "${LIMIT_SCALE:-1}" != 1 ]; then
  fits "this run (PARTS=$PARTS, LIMIT_SCALE=${LIMIT_SCALE:-1})" "$BUDGET_S" "${LIMIT_SCALE:-1}" "$PARTS" \
    "${gpu_limits[@]}" || echo "warning: the selected parts may not all fit BUDGET_S=$BUDGET_S; the last are skipped"
fi
if [ "$mode" = gpu ]; then
  nvidia-smi --query-gpu=name,memory.total,driver_version,clocks.sm,clocks.max.sm,temperature.gpu,power.draw \
    --format=csv || echo "warning: nvidia-smi failed"
  gpu_name=$(nvidia-smi --query-gpu=name --format=csv,noheader 2>/dev/null | head -1)
  export GPU_DRIVER=$(nvidia-smi --query-gpu=driver_version --format=csv,noheader 2>/dev/null | head -1)
  TAG=${TAG:-$(echo "$gpu_name" | grep -oE '[A-Z][0-9]{2,4}' | head -1 | tr 'A-Z' 'a-z')}
  TAG=${TAG:-gpu}
  machine="1x ${gpu_name:-GPU}, $(nproc) CPU cores (device tool)"
  # the data travels compressed; the package is installed offline, without its dependencies (the image has
  # torch, transformers and sentence-transformers; spaCy is not needed by anything this suite runs)
  [ -d .device/data ] || tar xJf .device/data.tar.xz -C .device || { echo "error: no .device/data.tar.xz (carry .device)"; exit 2; }
  export SNCSE_DATA=$root/.device/data
  if [ "${SKIP_INSTALL:-0}" != 1 ]; then
    extra=$(ls .whl/*.whl 2>/dev/null | grep -v '/sncse-' || true)
    if [ -n "$extra" ]; then  # other carried wheels (e.g. another sentence-transformers) go first on the path
      # shellcheck disable=SC2086
      "$PY" -m pip install -q --no-index --no-deps --no-compile --no-cache-dir --upgrade --target /tmp/site $extra \
        && export PYTHONPATH=/tmp/site${PYTHONPATH:+:$PYTHONPATH}
    fi
    if ! "$PY" -m pip install -q --no-index --no-deps --no-build-isolation -e . >"$work/pip.log" 2>&1; then
      tail -n 20 "$work/pip.log"
      echo "editable install failed; installing .whl/sncse-*.whl (code read from the tree)"
      "$PY" -m pip install -q --no-index --no-deps --no-compile --target /tmp/sncse .whl/sncse-*.whl \
        || { echo "error: cannot install the package"; exit 2; }
      export PYTHONPATH=$root:/tmp/sncse${PYTHONPATH:+:$PYTHONPATH}
    fi
  fi
else
  machine="$(nproc)-core CPU (dry run)"
fi
# What this suite imports must work without spaCy or Stanza (the GPU machine has neither), and the built-in
# losses, poolers and encoders must resolve through the installed entry points.
"$PY" - <<'PY' || { echo "error: the package does not import (see above)"; exit 2; }
import json, os, re, sys, platform
import torch, transformers, sentence_transformers
import sncse, sncse_cli.main, sncse.train, sncse.eval.sts, sncse.export
from sncse import registry
for group, name in (("losses", "bml"), ("losses", "infonce"), ("poolers", "prompt"), ("poolers", "cls"),
                    ("poolers", "mean"), ("encoders", "hf")):
    registry.get(group, name)
bad = [m for m in ("spacy", "stanza") if m in sys.modules]
assert not bad, f"imported {bad}: the GPU machine has neither"
cuda = torch.cuda.is_available()
print(f"python {platform.python_version()}, torch {torch.__version__} (CUDA {torch.version.cuda}), transformers "
      f"{transformers.__version__}, sentence-transformers {sentence_transformers.__version__}, sncse {sncse.__version__}")
print("device:", torch.cuda.get_device_name(0) if cuda else f"cpu ({platform.processor() or platform.machine()})",
      f"({torch.cuda.get_device_properties(0).total_memory / 2**30:.0f} GiB)" if cuda else "")
versions = {"torch": torch.__version__, "transformers": transformers.__version__,
            "sentence-transformers": sentence_transformers.__version__, "cuda": torch.version.cuda,
            "driver": os.environ.get("GPU_DRIVER") or None, "gpu": torch.cuda.get_device_name(0) if cuda else None,
            "python": platform.python_version(), "sncse": sncse.__version__}
pins = dict(re.findall(r"^([A-Za-z0-9_.-]+)==([^\s;#]+)", open("requirements.lock", encoding="utf-8").read(), re.M))
versions["lock_differs"] = {k: pins[k] for k in ("torch", "transformers", "sentence-transformers")
                            if k in pins and versions[k].split("+")[0] != pins[k].split("+")[0]}
print("== versions", json.dumps(versions))
PY
if [ "$mode" = gpu ]; then
  "$PY" -c 'import torch, sys; sys.exit(0 if torch.cuda.is_available() else 1)' \
    || { echo "error: torch sees no CUDA device"; exit 2; }
fi

# part NAME LIMIT_S COMMAND...: run COMMAND under min(LIMIT_S, time left), log how it ended
part() {
  local name=$1 limit=$2 left t t0 rc status
  shift 2
  if [[ $PARTS != *$name* ]]; then
    echo "== part $name: not selected (PARTS=$PARTS)"; summary+=("$name: not selected"); return 1
  fi
  left=$((deadline - $(date +%s) - REPORT_S))  # kept for the report at the end
  t=$((limit < left ? limit : left))
  if [ "$t" -lt "$MIN_PART_S" ]; then
    echo "== part $name: skipped, ${left}s left"; summary+=("$name: skipped (time)"); return 1
  fi
  echo "== part $name (limit ${t}s): $*"
  t0=$(date +%s)
  local TIMEFORMAT="   (part $name: %Rs wall, %Us user + %Ss system CPU)"
  time timeout -k 10 "$t" "$@"
  rc=$?
  case $rc in
    0) status=ok ;;
    124|137) status="cut off at its ${t}s limit" ;;
    *) status="failed (exit $rc)" ;;
  esac
  echo "== part $name: $status after $(($(date +%s) - t0))s"
  summary+=("$name: $status, $(($(date +%s) - t0))s")
  return $rc
}

# ------------------------------------------------------------------------------------------ sizes
if [ "$mode" = dry ]; then
  a_args=(--device cpu --models tiny-bert --batch-size 8 --steps 2 --warmup 1 --eval-limit 16 --eval-repeats 1
          --threads 1 --matmul-size 256)
  b_args=(--device cpu --model tiny-bert,minilm --limit 5 --repeats 1 --threads 1)
  c_args=(--device cpu --model tiny-bert --poolers prompt --limit 10)
  d_args=(--encoder tiny-bert --set train.device=cpu --set train.max_steps=6 --set train.batch_size=16
          --set train.eval_steps=3 --set train.log_steps=1 --set train.eval_limit=64 --set data.limit=256
          --set optim.lr=1e-4)
  e_args=(--device cpu --models tiny-bert --batch-sizes 8,16 --mini-batch-size 4)
  f_args=(--device cpu --models tiny-bert --methods sncse --batch-size 8 --steps 1 --warmup 1 --eval-limit 16
          --threads 1 --matmul-size 256)
else
  a_args=(--device cuda --models minilm,bert-base --methods sncse,simcse --batch-size 256 --max-length 32
          --steps 100 --warmup 20)
  b_args=(--device cuda --model minilm,bert-base --repeats 2)
  c_args=(--device cuda --model minilm)
  d_args=(--encoder .device/minilm --set train.device=cuda --set train.amp=bf16 --set train.epochs=2)
  e_args=(--device cuda --models minilm,bert-base --batch-sizes 64,256,1024,4096 --mini-batch-size 64)
  f_args=(--device cuda --models minilm,bert-base --methods sncse,simcse --steps 5 --warmup 5 --eval-limit 100)
fi

# ------------------------------------------------------------------------------------------ parts
# g: the CUDA tests, first and short (on the CPU of a dry run they skip); their report goes to suite.log
mapfile -t gpu_tests < <(grep -rlE '^@pytest\.mark\.gpu' tests --include='test_*.py' | sort)
part g "$(limit g)" "$PY" -m pytest -q -m gpu -p no:cacheprovider -rs "${gpu_tests[@]}"

# a: training throughput against sentence-transformers (the JSON is rewritten after every row)
part a "$(limit a)" "$PY" bench/train_throughput.py "${a_args[@]}" --machine "$machine" \
  --work-dir "$work/a" --out "$OUT/train_throughput_$TAG.json"

# e: peak memory against batch size, with and without the gradient cache (the JSON is rewritten
# after every row)
if [ -f bench/memory.py ]; then
  part e "$(limit e)" "$PY" bench/memory.py "${e_args[@]}" --out "$OUT/memory_$TAG.json"
else
  echo "== part e: skipped, bench/memory.py does not exist"; summary+=("e: skipped (no bench/memory.py)")
fi

# b: STS evaluation speed, MiniLM and BERT-base size (the JSON is rewritten after every model)
part b "$(limit b)" "$PY" bench/eval_speed.py "${b_args[@]}" --out "$OUT/eval_speed_$TAG.json"

# d: a short SNCSE run through the CLI, on the corpus's negations (stand-ins where none were prepared)
neg=$NEG
if [[ $PARTS == *d* ]] && [ ! -s "$neg" ]; then
  neg=$work/stand-in.negations.jsonl
  echo "no $NEG (bench/gpu_suite.sh --prepare makes it): training on stand-in negations"
  "$PY" - "$SNCSE_DATA/corpus/wiki1m_head.txt" "$neg" <<'PY'
import json, sys
sys.path.insert(0, "bench")
from common import synthetic_negation
lines = [" ".join(s.split()) for s in open(sys.argv[1], encoding="utf-8")]
with open(sys.argv[2], "w", encoding="utf-8") as fh:
    fh.writelines(json.dumps([s, synthetic_negation(s)]) + "\n" for s in lines if s)
PY
fi
run_dir=$work/train-sncse-minilm
part d "$(limit d)" "$PY" -m sncse_cli.main -q train -c configs/minilm.yaml --data "$neg" -o "$run_dir" \
  --overwrite "${d_args[@]}"
mkdir -p "$OUT/train_sncse_minilm"
for f in metrics.jsonl results.json; do  # what exists, also after a cut-off
  [ -f "$run_dir/$f" ] && cp "$run_dir/$f" "$OUT/train_sncse_minilm/"
done
[ -f "$run_dir/metrics.jsonl" ] && tail -n 4 "$run_dir/metrics.jsonl"

# c: the exported folder reproduces sncse's scores in sentence-transformers, on this device
part c "$(limit c)" "$PY" bench/export_check.py "${c_args[@]}" --out "$OUT/export_check_$TAG.json" \
  --md "$work/export_check.md"

# f: where the time goes, when a target is missed (always in a dry run, to keep the path tested)
"$PY" bench/suite_report.py "$OUT" --exit-code >/dev/null
missed=$?
profile=${PROFILE:-auto}
[ "$mode" = dry ] && [ "$profile" = auto ] && profile=always
if [ "$profile" = always ] || { [ "$profile" = auto ] && [ "$missed" = 3 ]; }; then
  part f "$(limit f)" "$PY" bench/train_throughput.py "${f_args[@]}" --no-baseline --no-checkpoint --eval-repeats 1 \
    --profile-steps 3 --profile-out "$OUT/profile_$TAG.txt" --work-dir "$work/a" --out "$work/profile_rows.json" --quiet
else
  echo "== part f: not run (PROFILE=$profile, no target missed)"; summary+=("f: not run")
fi

# ------------------------------------------------------------------------------------------ report
echo "== parts"
printf '  %s\n' "${summary[@]}"
echo "== targets (bench/suite_report.py $OUT)"
"$PY" bench/suite_report.py "$OUT"
n=$(find "$OUT" -type f | wc -l)
echo "== $n files under $OUT ($(( $(date +%s) - start ))s):"
find "$OUT" -type f | sed "s|^$OUT/|  |" | sort
[ "$n" -le 8 ] || echo "warning: more than 8 files under OUT: the device tool returns at most 8"
exit 0
