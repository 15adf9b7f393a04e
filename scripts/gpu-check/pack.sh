#!/usr/bin/env bash
# Packs what the Node half of the GPU check needs into .gpu/ (git-ignored), for a GPU machine that
# has no Node and no package index: node-cuda.mjs (scripts/gpu-check/node-cuda.ts bundled with
# everything but onnxruntime-node), onnxruntime-node's JavaScript and binding without its CPU
# libonnxruntime (the GPU build's, from the onnxruntime-gpu wheel, goes in its place there), this
# machine's node binary (xz), and SST-2 sentences with the vocabulary for `adapterc train`.
#   bash scripts/gpu-check/pack.sh
# The GPU machine then runs, from the repository root, with .gpu carried along and the onnxruntime-gpu
# wheel unpacked (scripts/gpu-check/device.sh does both halves):
#   .gpu/node .gpu/node-cuda.mjs --out $OUT --data .gpu/data/train.tsv --dev .gpu/data/dev.tsv --vocab .gpu/data/vocab.txt
set -euo pipefail
cd "$(dirname "$0")/../.."
rm -rf .gpu && mkdir -p .gpu/data .gpu/node_modules/onnxruntime-node/bin/napi-v6/linux/x64
npx esbuild scripts/gpu-check/node-cuda.ts --bundle --platform=node --format=esm \
  --external:onnxruntime-node --external:onnxruntime-web --outfile=.gpu/node-cuda.mjs --log-level=warning \
  --banner:js="import { createRequire as __createRequire } from 'node:module'; const require = __createRequire(import.meta.url);"
cp -r node_modules/onnxruntime-node/package.json node_modules/onnxruntime-node/dist .gpu/node_modules/onnxruntime-node/
cp node_modules/onnxruntime-node/bin/napi-v6/linux/x64/onnxruntime_binding.node .gpu/node_modules/onnxruntime-node/bin/napi-v6/linux/x64/
cp -r node_modules/onnxruntime-common .gpu/node_modules/
# src/parse/chevrotain.ts imports chevrotain's own one-file ES bundle at run time.
cp -r node_modules/chevrotain .gpu/node_modules/
shared=../shared/data
head -3001 "$shared/sst2/train.tsv" > .gpu/data/train.tsv
head -501 "$shared/sst2/dev.tsv" > .gpu/data/dev.tsv
cp "$shared/vocab/bert-base-uncased.txt" .gpu/data/vocab.txt
xz -T0 -9 -c "$(command -v node)" > .gpu/node.xz
du -sh .gpu
