"""A stand-in for Python's onnxruntime, for rehearsing scripts/gpu-check/check.py on a machine
without it (the compiling machine has Node and NumPy): sessions run in onnxruntime-node, on the CPU,
through `local/server.ts`. Only what check.py calls is here.

    PYTHONPATH=scripts/gpu-check/local python3 scripts/gpu-check/check.py gpu-check-cases report
"""
import atexit
import json
import os
import subprocess
import tempfile

import numpy as np

__version__ = "onnxruntime-node via scripts/gpu-check/local (stand-in)"
_here = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
_root = os.path.dirname(os.path.dirname(os.path.dirname(_here)))
_server = None
_scratch = tempfile.mkdtemp(prefix="ort-stand-in-")
_ids = iter(range(1, 1 << 30))


def _ask(request):
    global _server
    if _server is None:
        _server = subprocess.Popen(["npx", "tsx", os.path.join(_here, "server.ts")], cwd=_root, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        atexit.register(_server.kill)
    _server.stdin.write(json.dumps(request) + "\n")
    _server.stdin.flush()
    reply = json.loads(_server.stdout.readline())
    if "error" in reply:
        raise RuntimeError(reply["error"])
    return reply


def get_available_providers():
    return ["CPUExecutionProvider"]


def get_device():
    return "CPU"


class SessionOptions:
    enable_profiling = False
    profile_file_prefix = "onnxruntime_profile_"


class _Arg:
    def __init__(self, name):
        self.name = name


class InferenceSession:
    def __init__(self, path, options=None, providers=None):
        self._id = next(_ids)
        profile = options.profile_file_prefix if options is not None and options.enable_profiling else None
        reply = _ask({"open": os.path.abspath(path), "id": self._id, **({"profile": profile} if profile else {})})
        self._inputs, self._outputs = reply["inputs"], reply["outputs"]

    def get_inputs(self):
        return [_Arg(n) for n in self._inputs]

    def get_outputs(self):
        return [_Arg(n) for n in self._outputs]

    def get_providers(self):
        return ["CPUExecutionProvider"]

    def run(self, names, feeds):
        files = {}
        for name, array in feeds.items():
            files[name] = os.path.join(_scratch, f"in-{len(files)}.npy")
            np.save(files[name], np.ascontiguousarray(array))
        outputs = _ask({"run": self._id, "feeds": files, "dir": _scratch})["outputs"]
        return [np.load(outputs[n]) for n in (names or self._outputs)]

    def end_profiling(self):
        return _ask({"endProfiling": self._id})["file"]
