#!/usr/bin/env bash
# The interop tier: the real pretrained all-MiniLM-L6-v2, today's exporters, ONNX Runtime's own
# gradient builder and AdapterHub, beside adapterc. Makes the Python environment (interop/setup.sh,
# pinned, pip-cached), exports the model in every style (kept in interop/work/models between runs),
# builds adapterc and runs the tier's tests. Needs ../shared (SST-2 and the vocabulary).
set -euo pipefail
cd "$(dirname "$0")/.."
if [ ! -d ../shared/data/sst2 ]; then echo "interop: ../shared/data/sst2 is missing" >&2; exit 1; fi
bash interop/setup.sh
work="${ADAPTERC_INTEROP_WORK:-interop/work}"
HF_HUB_OFFLINE=1 interop/.venv/bin/python interop/export.py "$work/models"
[ -f dist/adapterc.cjs ] || npm run build
npx vitest run --config interop/vitest.config.ts "$@"
