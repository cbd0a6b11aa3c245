#!/usr/bin/env bash
# The prepared device check: one run on one GPU (under 8 minutes on an H200), or a dry run on the CPU.
#
#   bash benchmarks/gpu_check.sh                 # --device cuda, full sizes
#   bash benchmarks/gpu_check.sh --device cpu    # the same steps on the CPU, sizes reduced (--quick implied)
#   PYTHON=/path/to/python3.12 OUT=/some/dir bash benchmarks/gpu_check.sh ...
#   device tool: carry [".whl"], timeout_s 540, command: set -o pipefail; OUT=$OUT bash benchmarks/gpu_check.sh
#   (the CUDA step limits sum to 425 s, printed at the start; the CPU dry run gets 8x: LIMIT_SCALE_CPU)
#
# Runs with the machine's own Python (no registry there): first unpacks from the git-ignored .whl/ the wheels
# of what it lacks (benchmarks/fetch_wheels.sh fetched them here), then, each step timed and bounded:
#   import, pytest collection + the cuda-marked tests (+ the sync-free/optimiser/compile tests), the augmentation
#   benchmark at 32 and 224 px (against kornia), a ResNet-18 CIFAR-size SimCLR epoch with LARS (eager, then
#   compiled), the sync count (dispatch counts; on CUDA torch.cuda.set_sync_debug_mode), two identical cells with
#   training.deterministic (bit-identity), studies/quick.yaml with 1 and then 2 workers (same numbers).
# Everything printed also goes to one log file: $OUT/gpu_check.log when OUT is set, else ./gpu_check.log.
# Exit status: 0 when every step passed; otherwise 1 (the summary at the end names the failed steps).
set -uo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
DEVICE=cuda
QUICK=
while [[ $# -gt 0 ]]; do
  case "$1" in
    --device) DEVICE=${2:?--device needs cpu or cuda}; shift 2 ;;
    --device=*) DEVICE=${1#--device=}; shift ;;
    --quick) QUICK=1; shift ;;
    -h|--help) sed -n 2,17p "$0"; exit 0 ;;
    *) echo "gpu_check.sh: unknown argument '$1' (use --device cpu|cuda, --quick)"; exit 2 ;;
  esac
done
case "$DEVICE" in cpu|cuda) ;; *) echo "gpu_check.sh: --device '$DEVICE' is not valid; use cpu or cuda"; exit 2 ;; esac
[[ "$DEVICE" == cpu ]] && QUICK=1
LIMIT_SCALE=${LIMIT_SCALE:-1}
[[ "$DEVICE" == cpu ]] && LIMIT_SCALE=${LIMIT_SCALE_CPU:-8}  # a shared 2-core machine is far slower than the GPU host
PY=${PYTHON:-python3}
LOG=${OUT:+$OUT/}gpu_check.log
mkdir -p "$(dirname "$LOG")"
exec > >(tee "$LOG") 2>&1
WORK=$(mktemp -d "${TMPDIR:-/tmp}/gpu_check.XXXXXX")
export PYTHONPATH="$ROOT:$WORK/site${PYTHONPATH:+:$PYTHONPATH}"  # the wheels unpack afresh into $WORK/site each run
export PYTHONUNBUFFERED=1 AUGSTUDY_CACHE="$WORK/cache" MPLBACKEND=Agg
START=$(date +%s)
declare -a SUMMARY=()
FAILED=0

step() {  # step NAME SECONDS command... (the limit is for the GPU; the CPU dry run gets LIMIT_SCALE times it)
  local name=$1 limit=$(( $2 * LIMIT_SCALE )); shift 2
  echo; echo "=== [$name] $* (limit ${limit} s)"
  local t0=$(date +%s.%N)
  timeout --kill-after=5 "$limit" "$@"
  local rc=$?
  local dt=$(awk "BEGIN{printf \"%.1f\", $(date +%s.%N) - $t0}")
  local status=ok
  if [[ $rc -eq 124 || $rc -eq 137 ]]; then status="TIMEOUT"; FAILED=1
  elif [[ $rc -ne 0 ]]; then status="FAILED (exit $rc)"; FAILED=1; fi
  local load; load=$(cut -d' ' -f1-3 /proc/loadavg)
  echo "=== [$name] $status in ${dt} s (limit ${limit} s; load average $load)"
  SUMMARY+=("| $name | $status | $dt | $limit | $load |")
}

if [[ -n $QUICK ]]; then  # the dry run: every step, small sizes
  AUG=(--rounds 1 --scale 0.05); EPOCH=(--images 64 --batch-size 32); DET=(--images 256 --epochs 1 --batch-size 64 --encoder resnet-tiny)
  SYNC=(--batch 64); QUICK_SET="n_train=128 n_test=64 epochs=1 batch_size=64 threads=1"
else
  AUG=(--rounds 3); EPOCH=(--images 50000 --batch-size 512); DET=(--images 4096 --epochs 2 --batch-size 512 --encoder resnet18)
  SYNC=(--batch 512); QUICK_SET="epochs=4 threads=4"  # 9 cells x 4 epochs of 1,024 images: inside the 45 s / 35 s limits
fi

LIMITS=$(grep -oE '^ *step "[^"]+" [0-9]+' "$ROOT/benchmarks/gpu_check.sh" | awk -v k="$LIMIT_SCALE" '{s += $NF * k} END {print s}')
echo "gpu_check: device=$DEVICE quick=${QUICK:-0} python=$PY log=$LOG started $(date -u +%FT%TZ); step limits sum to ${LIMITS} s"
step "environment" 15 bash -c "\"$PY\" -c 'import sys, torch; print(sys.version.split()[0], \"torch\", torch.__version__, \"cuda\", torch.version.cuda, \"available\", torch.cuda.is_available(), torch.cuda.get_device_name() if torch.cuda.is_available() else \"\")'; command -v nvidia-smi >/dev/null && nvidia-smi -L || true"
if [[ "$DEVICE" == cuda ]]; then
  step "cuda present" 10 "$PY" -c "import torch, sys; sys.exit(0 if torch.cuda.is_available() else 'no CUDA device visible')"
fi
step "wheels (.whl -> a fresh site)" 15 "$PY" benchmarks/install_wheels.py --wheels "$ROOT/.whl" --site "$WORK/site"
step "import augstudy" 25 "$PY" -c "import augstudy, augstudy.ops, augstudy.train, augstudy.study.runner, augstudy.cli, augstudy.report; print('augstudy from', augstudy.__file__)"
step "pytest collection (all tests)" 25 bash -o pipefail -c "\"$PY\" -m pytest --collect-only -q -p no:cacheprovider tests | tail -3"
step "pytest: the cuda-marked tests" 25 "$PY" -m pytest -q -p no:cacheprovider -rs -m cuda tests
step "pytest: sync-free, optimiser, compile, cell ids" 30 "$PY" -m pytest -q -p no:cacheprovider -rs \
  tests/test_sync_free.py tests/test_train_optim.py tests/test_train_compile.py tests/test_cell_device_id.py
step "augmentation throughput, 32 + 224 px" 30 "$PY" benchmarks/aug_throughput.py --devices "$DEVICE" --sizes 32 224 "${AUG[@]}"
step "ResNet-18 SimCLR epoch, LARS, eager" 30 "$PY" benchmarks/train_throughput.py --gpu-epoch --device "$DEVICE" --optimizer lars "${EPOCH[@]}"
step "ResNet-18 SimCLR epoch, LARS, compile" 75 "$PY" benchmarks/train_throughput.py --gpu-epoch --device "$DEVICE" --optimizer lars --compile "${EPOCH[@]}"
step "sync count" 20 "$PY" benchmarks/sync_check.py --device "$DEVICE" "${SYNC[@]}"
step "two identical cells, deterministic" 35 "$PY" benchmarks/determinism_check.py --device "$DEVICE" "${DET[@]}"

# studies/quick.yaml on this device, with 1 and then 2 workers (2 cells at once on one GPU): the same numbers.
# training.threads is fixed, so both runs use the same CPU threads a cell (1 worker would otherwise get all the
# cores, 2 workers half each: CPU reductions then add up in another order and the numbers differ in the last bits)
SPEC="$WORK/quick_$DEVICE.yaml"
"$PY" - "$SPEC" "$DEVICE" $QUICK_SET <<'PYEOF'
import sys, yaml
out, device, *sets = sys.argv[1:]
spec = yaml.safe_load(open("studies/quick.yaml"))
spec["name"] = f"quick_{device}"
spec["training"]["device"] = device
for kv in sets:
    k, v = kv.split("=")
    (spec["dataset"]["params"] if k.startswith("n_") else spec["training"])[k] = int(v)
yaml.safe_dump(spec, open(out, "w"), sort_keys=False)
PYEOF
step "studies/quick.yaml, 1 worker" 45 "$PY" -m augstudy.cli run "$SPEC" --out "$WORK/q1" --workers 1
step "studies/quick.yaml, 2 workers" 35 "$PY" -m augstudy.cli run "$SPEC" --out "$WORK/q2" --workers 2
step "quick.yaml: 1 and 2 workers agree" 10 "$PY" - "$WORK/q1/quick_$DEVICE/results.csv" "$WORK/q2/quick_$DEVICE/results.csv" <<'PYEOF'
import sys
import pandas as pd
a, b = (pd.read_csv(p).sort_values("cell_id").reset_index(drop=True) for p in sys.argv[1:])
cols = ["cell_id", "linear_top1", "knn_top1", "final_loss", "status"]
print(a[cols + ["train_seconds", "device"]].to_string())
if a.empty or len(a) != len(b) or not (a["status"] == "done").all() or not (b["status"] == "done").all():
    sys.exit(f"1 vs 2 workers: not comparable: {len(a)} and {len(b)} rows, statuses {sorted(set(a.status) | set(b.status))}")
same = a[cols].equals(b[cols])
print("1 vs 2 workers:", "the same numbers" if same else "DIFFERENT numbers")
if not same:
    print(b[cols].to_string())
sys.exit(0 if same else 1)
PYEOF

echo; echo "=== gpu_check summary: device=$DEVICE quick=${QUICK:-0}, $(( $(date +%s) - START )) s in all"
echo "| step | status | seconds | limit (s) | load average after (1, 5, 15 min) |"; echo "|---|---|---:|---:|---|"
printf '%s\n' "${SUMMARY[@]}"
rm -rf "$WORK"
[[ $FAILED -eq 0 ]] && echo "gpu_check: all steps passed" || echo "gpu_check: some steps FAILED"
exit $FAILED
