#!/usr/bin/env bash
# Prepares onnxruntime-gpu for a GPU machine that cannot reach PyPI and takes at most 64 MiB per
# transfer (the device tool's limit): downloads the pinned wheel (cached in ~/.cache/adapterc), and
# writes into .whl/ (git-ignored):
#   cuda-provider.so.xz  libonnxruntime_providers_cuda.so with only sm_90 kernels kept (keep-arch.py;
#                        H100/H200), 50 MB: the first transfer
#   onnxruntime.tar.xz   the rest of the package (Python bindings, libonnxruntime.so.1.30.0, the
#                        provider bridge), 13 MB: travels with .gpu/ in the second
#   bash scripts/gpu-check/wheel.sh
# onnxruntime-gpu 1.30.0 is the CUDA 13 build, matching onnxruntime-node 1.30.0's C API; it needs
# libcublas/libcublasLt 13, libcudart 13 and libcurand 10, which the GPU machine's PyTorch (cu130)
# brings (scripts/gpu-check/device.sh puts them on LD_LIBRARY_PATH).
set -euo pipefail
cd "$(dirname "$0")/../.."
version=1.30.0
cache=${XDG_CACHE_HOME:-$HOME/.cache}/adapterc/onnxruntime-gpu
mkdir -p "$cache" .whl
wheel=$cache/onnxruntime_gpu-$version-cp312-cp312-manylinux_2_28_x86_64.whl
[ -f "$wheel" ] || python3 -m pip download -q --no-deps --only-binary=:all: --python-version 3.12 --implementation cp \
  --platform manylinux_2_28_x86_64 -d "$cache" "onnxruntime-gpu==$version"
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
unzip -q "$wheel" 'onnxruntime/*' -d "$work"
capi=$work/onnxruntime/capi
python3 scripts/gpu-check/keep-arch.py "$capi/libonnxruntime_providers_cuda.so" "$work/cuda.so" 90
xz -T0 -9e -c "$work/cuda.so" > .whl/cuda-provider.so.xz
rm "$capi/libonnxruntime_providers_cuda.so" "$capi/libonnxruntime_providers_tensorrt.so" "$work/cuda.so"
tar -C "$work" -cf - onnxruntime | xz -T0 -9 > .whl/onnxruntime.tar.xz
ls -la .whl/cuda-provider.so.xz .whl/onnxruntime.tar.xz
