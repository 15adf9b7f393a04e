#!/usr/bin/env bash
# adapterc's GPU check, as run on a lent GPU machine (which has Python, maybe an onnxruntime with
# CUDA, but no Node): prepare here, then run this there from the repository root with the prepared
# cases carried along.
#   here:   npx tsx scripts/gpu-check/prepare.ts          (writes gpu-check-cases/, git-ignored)
#   there:  bash scripts/gpu-check/run.sh                  (reports to $OUT, else /tmp/adapterc-gpu-check)
set -uo pipefail
out=${OUT:-/tmp/adapterc-gpu-check}
mkdir -p "$out"
export PYTHONUNBUFFERED=1
{
  echo "## nvidia-smi"; nvidia-smi 2>&1 | head -15
  echo "## python"; command -v python3; python3 --version
  echo "## packages"; python3 -m pip list 2>/dev/null | grep -i -E '^(onnx|onnxruntime|torch|numpy|cupy)[-_a-z]* '
  echo "## onnxruntime libraries anywhere on this machine"; timeout 120 find / -xdev \( -name 'libonnxruntime*.so*' -o -name 'onnxruntime_pybind11_state*.so' -o -name 'onnxruntime*.whl' \) 2>/dev/null | head -20
  echo "## node"; command -v node || echo "none"
} > "$out/environment.txt" 2>&1
cat "$out/environment.txt"
python3 scripts/gpu-check/check.py gpu-check-cases "$out"
