#!/usr/bin/env bash
# The GPU check on a lent GPU machine (Python with PyTorch cu130, no Node, no package index, at most
# 64 MiB per transfer), in three calls that follow one another while the machine stays warm; each
# stage writes its report to $OUT.
#   here:  bash scripts/gpu-check/wheel.sh && bash scripts/gpu-check/pack.sh && npx tsx scripts/gpu-check/prepare.ts
#   there: bash scripts/gpu-check/device.sh provider   carry .whl/cuda-provider.so.xz
#          bash scripts/gpu-check/device.sh node       carry .whl/onnxruntime.tar.xz and .gpu
#          bash scripts/gpu-check/device.sh python     carry gpu-check-cases
# provider: unpacks the CUDA provider library into /tmp/adapterc-gpu (it outlives the call while the
#           machine is held).
# node:     installs onnxruntime-gpu into /tmp/adapterc-gpu/site, puts its GPU libonnxruntime and the
#           CUDA provider beside onnxruntime-node's binding, and runs node-cuda.mjs (the step model on
#           CUDA against the CPU, placement, speed, and `adapterc train --execution-provider cuda`).
# python:   runs scripts/gpu-check/run.sh (check.py) with onnxruntime-gpu first on the path.
set -uo pipefail
stage=${1:?stage: provider, node or python}
out=${OUT:-/tmp/adapterc-gpu-check}
gpu=/tmp/adapterc-gpu
mkdir -p "$out" "$gpu"
export PYTHONUNBUFFERED=1
# CUDA 13's libraries as the machine's PyTorch installed them (nvidia-cublas, -cuda-runtime, -curand, ...).
libs=$(python3 -c 'import glob, os, site; print(":".join(sorted({os.path.dirname(p) for d in site.getsitepackages() for p in glob.glob(os.path.join(d, "nvidia", "**", "lib*.so*"), recursive=True)})))')
export LD_LIBRARY_PATH=$libs${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}
export PYTHONPATH=$gpu/site
case $stage in
  provider)
    xz -d -c .whl/cuda-provider.so.xz > "$gpu/libonnxruntime_providers_cuda.so" || exit 1
    ls -la "$gpu"
    nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader
    echo "CUDA libraries: $LD_LIBRARY_PATH" | tr ':' '\n' | head -30
    ;;
  node)
    [ -f "$gpu/libonnxruntime_providers_cuda.so" ] || { echo "run the provider stage first (the machine was given back?)"; exit 1; }
    mkdir -p "$gpu/site" && xz -d -c .whl/onnxruntime.tar.xz | tar -C "$gpu/site" -xf - || exit 1
    capi=$gpu/site/onnxruntime/capi
    cp "$gpu/libonnxruntime_providers_cuda.so" "$capi/"
    python3 -c 'import onnxruntime as o; print("python onnxruntime", o.__version__, o.get_available_providers(), o.__file__)'
    bin=.gpu/node_modules/onnxruntime-node/bin/napi-v6/linux/x64
    cp "$capi/libonnxruntime.so.1.30.0" "$bin/libonnxruntime.so.1"
    cp "$capi/libonnxruntime_providers_shared.so" "$capi/libonnxruntime_providers_cuda.so" "$bin/"
    xz -d -c .gpu/node.xz > "$gpu/node" && chmod +x "$gpu/node" && "$gpu/node" --version
    # Float32 throughout (TF32 off), so the CPU and CUDA figures compare at check.py's bounds; then
    # ONNX Runtime's default (TF32 on) for the speed users get, with bounds that TF32's rounding fits.
    NVIDIA_TF32_OVERRIDE=0 "$gpu/node" .gpu/node-cuda.mjs --out "$out/fp32" --data .gpu/data/train.tsv --dev .gpu/data/dev.tsv --vocab .gpu/data/vocab.txt
    status=$?
    "$gpu/node" .gpu/node-cuda.mjs --out "$out/tf32" --shapes base --loss-tol 2e-2 --parameter-tol 2e-2 || status=1
    exit $status
    ;;
  python)
    python3 -c 'import onnxruntime as o; print("python onnxruntime", o.__version__, o.get_available_providers(), o.__file__)'
    bash scripts/gpu-check/run.sh
    ;;
  *) echo "unknown stage '$stage' (provider, node or python)"; exit 2 ;;
esac
