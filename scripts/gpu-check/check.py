"""adapterc's GPU check: loads the artifacts prepared by prepare.ts with whatever ONNX Runtime this
machine has, on its CUDA execution provider where there is one, and compares with what the runtimes
on the compiling machine computed.

    python3 scripts/gpu-check/check.py gpu-check-cases REPORT_FOLDER

Per case and execution provider (CUDA if this onnxruntime has it, and CPU):
  eval       eval_model.onnx as compiled: loss and logits against onnxruntime-node's
  gradients  gradients.onnx (the training model without its accumulators): loss and every gradient
  training   `steps` steps of gradients.onnx plus an AdamW step in NumPy at the optimizer model's
             learning rates, on one batch: the loss curve against ONNX Runtime's training runtime's
  placement  (CUDA) which provider ran each node, from ONNX Runtime's profile
  step model step_model.onnx run `steps` times as `adapterc train` runs it (parameters, moments and
             step fed, updated ones taken back): the loss curve and the final parameters against
             onnxruntime-node's, and (CUDA) its placement
  step model in torch  (with torch and onnx, when onnxruntime has no CUDA) the same steps with the
             step model interpreted by PyTorch in float32 on the GPU
  autograd   (with torch and onnx) the eval model interpreted in PyTorch, float64, on the GPU when
             torch sees one, differentiated by torch.autograd: adapterc's gradients against it
With a training build of onnxruntime (onnxruntime.training.api), the four artifacts themselves are
also trained through its Module and Optimizer, on CUDA where available.

Writes report.json and report.txt to REPORT_FOLDER; exits 1 when a comparison fails.
Needs numpy and onnxruntime (any build); torch and onnx for the autograd check.
"""
import glob
import json
import os
import platform
import statistics
import subprocess
import sys
import time
import traceback

import numpy as np

try:
    import onnxruntime as ort
except Exception as error:  # reported, not fatal: the environment report is still useful
    ort = None
    ORT_IMPORT_ERROR = repr(error)
else:
    ORT_IMPORT_ERROR = None

# float32 on two runtimes (and CUDA's reduction orders): a few ulps per op, compounding over a graph.
RTOL, ATOL = 1e-3, 1e-4
# The step model's parameters after `steps` steps against onnxruntime-node's: ||difference|| / ||p||.
STEP_PARAMETER_TOL = 1e-4
# The loss curve compounds rounding over steps of AdamW, whose first steps move every parameter by
# about the learning rate whatever the gradient's size: compare with a looser tolerance.
CURVE_TOL = 2e-3

lines = []


def say(text=""):
    print(text, flush=True)
    lines.append(text)


def command_output(argv):
    try:
        return subprocess.run(argv, capture_output=True, text=True, timeout=60).stdout.strip()
    except Exception as error:
        return f"({argv[0]}: {error})"


def environment():
    env = {
        "python": sys.version.split()[0],
        "platform": platform.platform(),
        "nvidia_smi": command_output(["nvidia-smi", "--query-gpu=name,driver_version,memory.total", "--format=csv,noheader"]),
        "onnxruntime": None if ort is None else ort.__version__,
        "onnxruntime_import_error": ORT_IMPORT_ERROR,
        "providers": [] if ort is None else ort.get_available_providers(),
        "onnxruntime_device": None if ort is None else ort.get_device(),
        "onnxruntime_location": None if ort is None else os.path.dirname(ort.__file__),
    }
    try:
        from onnxruntime.training import api as training_api  # noqa: F401

        env["training_api"] = True
    except Exception as error:
        env["training_api"] = False
        env["training_api_error"] = repr(error)
    if ort is not None:
        env["provider_libraries"] = sorted(os.path.basename(p) for p in glob.glob(os.path.join(os.path.dirname(ort.__file__), "capi", "libonnxruntime_providers_*")))
    try:
        import torch

        env["torch"] = torch.__version__
        env["torch_cuda"] = torch.cuda.is_available()
        if env["torch_cuda"]:
            env["torch_device"] = torch.cuda.get_device_name(0)
        import onnx

        env["onnx"] = onnx.__version__
        env["torch_onnx"] = True
    except Exception as error:
        env["torch_or_onnx_error"] = repr(error)
    return env


def load_case(folder):
    with open(os.path.join(folder, "case.json")) as f:
        case = json.load(f)
    arrays = {name: np.load(os.path.join(folder, "npy", file)) for name, file in case["npy"].items()}
    case["feeds"] = {name[len("feed:"):]: a for name, a in arrays.items() if name.startswith("feed:")}
    case["expected_eval"] = {name: arrays[f"eval:{name}"] for name in case["expected"]["eval"]}
    case["expected_gradients"] = {name: arrays[f"gradients:{name}"] for name in case["expected"]["gradients"]}
    case["expected_step"] = {name: arrays[f"step:{name}"] for name in case["expected"].get("step", {})}
    case["folder"] = folder
    return case


def compare(actual, expected, rtol=RTOL, atol=ATOL):
    """Largest |a - e| - rtol·|e| over the elements (<= atol passes), and the largest |a - e|."""
    actual = np.asarray(actual, dtype=np.float64)
    expected = np.asarray(expected, dtype=np.float64)
    if actual.shape != expected.shape:
        return {"ok": False, "why": f"shape {list(actual.shape)} != expected {list(expected.shape)}"}
    diff = np.abs(actual - expected)
    excess = float(np.max(diff - rtol * np.abs(expected))) if diff.size else 0.0
    return {"ok": excess <= atol, "max_abs_diff": float(np.max(diff)) if diff.size else 0.0}


def provider_list(name):
    if name == "CUDAExecutionProvider":
        # TF32 matrix products would differ from the CPU by ~1e-3 relative: compare in full float32.
        return [("CUDAExecutionProvider", {"use_tf32": 0}), "CPUExecutionProvider"]
    return ["CPUExecutionProvider"]


def session(path, provider, profile=False):
    options = ort.SessionOptions()
    if profile:
        options.enable_profiling = True
        options.profile_file_prefix = os.path.join(REPORT, "profile")
    return ort.InferenceSession(path, options, providers=provider_list(provider))


def run(sess, feeds):
    names = [i.name for i in sess.get_inputs()]
    outputs = [o.name for o in sess.get_outputs()]
    return dict(zip(outputs, sess.run(outputs, {n: feeds[n] for n in names})))


def placement(sess, feeds):
    """Runs once more with the profile on; returns node counts per provider and the CPU nodes."""
    run(sess, feeds)
    file = sess.end_profiling()
    with open(file) as f:
        events = json.load(f)
    os.remove(file)
    # One "<node>_kernel_time" event per node run (node names can be empty, so not keyed by name).
    seen = [(e["args"]["provider"], e["args"].get("op_name", "?"), e["args"].get("input_type_shape", []))
            for e in events if e.get("cat") == "Node" and "provider" in e.get("args", {}) and e.get("name", "").endswith("_kernel_time")]
    per_provider = {}
    cpu = []
    for provider, op, inputs in seen:
        per_provider[provider] = per_provider.get(provider, 0) + 1
        if provider != "CUDAExecutionProvider":
            cpu.append({"op": op, "inputs": inputs})
    # ORT keeps small integer shape arithmetic (Shape -> Gather -> Concat ...) on the CPU on purpose;
    # a float tensor of more than a few elements computed there is a real fallback.
    def heavy(entry):
        for item in entry["inputs"]:
            for dtype, shape in item.items():
                if dtype in ("float", "float16", "double") and int(np.prod(shape or [1])) > 16:
                    return True
        return False

    return {
        "nodes_per_provider": per_provider,
        "cpu_float_nodes": [c for c in cpu if heavy(c)],
        "cpu_shape_nodes": sorted({c["op"] for c in cpu if not heavy(c)}),
        "memcpy_nodes": sum(1 for _, op, _ in seen if op.startswith("Memcpy")),
    }


def adamw_step(case, params, moments, grads, step):
    """ORT's AdamWOptimizer on one parameter set, in float32 like its kernel."""
    o = case["optimizer"]
    lr = np.float32(case["learningRates"][step - 1])
    if o.get("sgd"):
        for name, g in grads.items():
            params[name] = params[name] - lr * g
        return
    b1, b2, eps, wd = (np.float32(o.get(k, d)) for k, d in (("alpha", 0.9), ("beta", 0.999), ("epsilon", 1e-8), ("weight_decay", 0.01)))
    mode, correct = int(o.get("adam_mode", 0)), int(o.get("correct_bias", 1))
    c1 = np.float32(1 - b1**step) if correct else np.float32(1)
    c2 = np.float32(1 - b2**step) if correct else np.float32(1)
    for name, g in grads.items():
        p = params[name]
        m, v = moments[name]
        m = b1 * m + (1 - b1) * g
        v = b2 * v + (1 - b2) * g * g
        if mode == 0:  # PyTorch AdamW: decay first, then the bias-corrected update
            p = p - lr * wd * p
            p = p - (lr / c1) * m / (np.sqrt(v) / np.sqrt(c2) + eps)
        else:  # Hugging Face AdamW: epsilon on the uncorrected root, decay after
            p = p - (lr * np.sqrt(c2) / c1) * m / (np.sqrt(v) + eps)
            p = p - lr * wd * p
        params[name] = p.astype(np.float32)
        moments[name] = (m.astype(np.float32), v.astype(np.float32))


def train_curve(case, sess):
    feeds = dict(case["feeds"])
    trainable = [g["parameter"] for g in case["gradients"]]
    params = {n: feeds[n].copy() for n in trainable}
    moments = {n: (np.zeros_like(params[n]), np.zeros_like(params[n])) for n in trainable}
    losses = []
    for step in range(1, case["steps"] + 1):
        outputs = run(sess, {**feeds, **params})
        losses.append(float(outputs[case["loss"]]))
        adamw_step(case, params, moments, {g["parameter"]: outputs[g["gradient"]] for g in case["gradients"]}, step)
    return losses


def step_time(sess, feeds, repeats=20):
    run(sess, feeds)
    times = []
    for _ in range(repeats):
        started = time.perf_counter()
        run(sess, feeds)
        times.append(time.perf_counter() - started)
    return statistics.median(times)


def check_with_inference_build(case, provider):
    result = {}
    art = os.path.join(case["folder"], "artifacts")
    ev = session(os.path.join(art, "eval_model.onnx"), provider)
    result["eval_providers"] = ev.get_providers()
    got = run(ev, case["feeds"])
    result["eval"] = {n: compare(got[n], e) for n, e in case["expected_eval"].items()}
    gr = session(os.path.join(case["folder"], "gradients.onnx"), provider)
    got = run(gr, case["feeds"])
    result["gradients"] = {n: compare(got[n], e) for n, e in case["expected_gradients"].items()}
    curve = train_curve(case, gr)
    result["training"] = {"losses": curve, **compare(curve, case["trainingRuntimeCurve"], rtol=0, atol=CURVE_TOL)}
    result["step_seconds"] = step_time(gr, case["feeds"])
    if provider == "CUDAExecutionProvider":
        result["placement"] = {
            "eval_model.onnx": placement(session(os.path.join(art, "eval_model.onnx"), provider, profile=True), case["feeds"]),
            "gradients.onnx": placement(session(os.path.join(case["folder"], "gradients.onnx"), provider, profile=True), case["feeds"]),
        }
    return result


def run_step_model(case, sess):
    """`steps` step-model runs from the checkpoint's parameters and zero moments, fed as `adapterc
    train` feeds them; returns the losses, the parameters after the last step and the median step time."""
    step = case["step"]
    feeds = {n: case["feeds"][n] for n in step["batch"]}
    state = {}
    for p in step["parameters"]:
        state[p["name"]] = case["feeds"][p["name"]].copy()
        for s in p["state"]:
            state[s] = np.zeros_like(state[p["name"]])
    losses, times = [], []
    for k in range(1, case["steps"] + 1):
        fed = {**feeds, **state, step["step"]: np.array([k], dtype=np.int64)}
        if step.get("totalSteps"):
            fed[step["totalSteps"]] = np.array([case["steps"]], dtype=np.int64)
        started = time.perf_counter()
        out = sess.run(fed)
        times.append(time.perf_counter() - started)
        losses.append(float(np.asarray(out[step["loss"]]).reshape(-1)[0]))
        for p in step["parameters"]:
            state[p["name"]] = out[p["updated"]]
            for s, updated in zip(p["state"], p["stateUpdated"]):
                state[s] = out[updated]
    return losses, {p["name"]: state[p["name"]] for p in step["parameters"]}, statistics.median(times[1:] or times)


def compare_step(case, losses, parameters, seconds):
    """The step model's curve and final parameters against onnxruntime-node's on the compiling machine:
    the loss at every step, and the parameters as ||difference|| / ||parameters|| over all of them
    (elementwise, AdamW's first steps amplify summation-order differences of near-zero gradients)."""
    difference = sum(float(np.sum((parameters[n].astype(np.float64) - e) ** 2)) for n, e in case["expected_step"].items())
    norm = sum(float(np.sum(e.astype(np.float64) ** 2)) for e in case["expected_step"].values())
    worst = max(float(np.max(np.abs(parameters[n].astype(np.float64) - e)) / max(float(np.max(np.abs(e))), 1e-12)) for n, e in case["expected_step"].items())
    relative = (difference / norm) ** 0.5 if norm else difference ** 0.5
    return {
        "losses": losses,
        "curve": compare(losses, case["stepModelCurve"], rtol=0, atol=CURVE_TOL),
        "parameters": {"ok": relative <= STEP_PARAMETER_TOL, "relative_norm_diff": relative, "worst_tensor_relative_diff": worst, "tensors": len(parameters)},
        "step_seconds": seconds,
    }


class StepSession:
    """An onnxruntime session over the step model, with run(feeds) -> {output name: array}."""

    def __init__(self, path, provider, profile=False):
        self.sess = session(path, provider, profile)

    def run(self, feeds):
        return run(self.sess, feeds)


def check_step_model(case, provider):
    """The step model, as `adapterc train` runs it, in this onnxruntime on `provider`."""
    path = os.path.join(case["folder"], "artifacts", case["step"]["files"]["step"])
    sess = StepSession(path, provider)
    result = {"providers": sess.sess.get_providers(), **compare_step(case, *run_step_model(case, sess))}
    if provider == "CUDAExecutionProvider":
        fed = {n: case["feeds"][n] for n in case["step"]["batch"]}
        fed.update({p["name"]: case["feeds"][p["name"]] for p in case["step"]["parameters"]})
        fed.update({s: np.zeros_like(case["feeds"][p["name"]]) for p in case["step"]["parameters"] for s in p["state"]})
        fed[case["step"]["step"]] = np.array([1], dtype=np.int64)
        if case["step"].get("totalSteps"):
            fed[case["step"]["totalSteps"]] = np.array([case["steps"]], dtype=np.int64)
        result["placement"] = placement(session(path, provider, profile=True), fed)
    return result


def check_step_model_in_torch(case, device):
    """The step model interpreted by PyTorch in float32 (TF32 off) on `device`: the whole training step,
    adapterc's backward graph and update included, computed by another engine on the GPU."""
    import torch
    from torch_autograd import Interpreted

    torch.backends.cuda.matmul.allow_tf32 = False
    torch.backends.cudnn.allow_tf32 = False
    sess = Interpreted(os.path.join(case["folder"], "artifacts", case["step"]["files"]["step"]), device)
    return {"device": device, **compare_step(case, *run_step_model(case, sess))}


def check_with_training_build(case, device):
    """The four artifacts through onnxruntime.training.api, as a user of a training build runs them."""
    from onnxruntime.training import api

    art = os.path.join(case["folder"], "artifacts")
    state = api.CheckpointState.load_checkpoint(os.path.join(art, "checkpoint"))
    module = api.Module(os.path.join(art, "training_model.onnx"), state, os.path.join(art, "eval_model.onnx"), device=device)
    optimizer = api.Optimizer(os.path.join(art, "optimizer_model.onnx"), module)
    inputs = [case["feeds"][n] for n in case["userInputs"]]
    losses = []
    module.train()
    for _ in range(case["steps"]):
        loss = module(*inputs)
        losses.append(float(np.asarray(loss[0] if isinstance(loss, (list, tuple)) else loss)))
        optimizer.step()
        module.lazy_reset_grad()
    return {"losses": losses, **compare(losses, case["trainingRuntimeCurve"], rtol=0, atol=CURVE_TOL)}


def check_with_torch_autograd(case, device):
    """adapterc's gradients (gradients.onnx in onnxruntime) against torch.autograd of the eval model."""
    from torch_autograd import autograd_gradients

    trainable = [g["parameter"] for g in case["gradients"]]
    started = time.perf_counter()
    loss, grads = autograd_gradients(os.path.join(case["folder"], "artifacts", "eval_model.onnx"), case["feeds"], trainable, device)
    result = {"device": device, "seconds": time.perf_counter() - started, "loss": compare(loss, case["expected_gradients"][case["loss"]])}
    # Per parameter, relative to the gradient's own scale, so that small gradients must match as
    # closely as large ones; but a gradient that is zero in exact arithmetic (the key bias: softmax
    # ignores a constant added to every score of a row) is float32 rounding noise in adapterc's
    # result, so the scale is at least 1e-4 of the largest gradient of the model.
    floor = 1e-4 * max(float(np.max(np.abs(g))) for g in grads.values())
    worst = 0.0
    for g in case["gradients"]:
        expected = case["expected_gradients"][g["gradient"]].astype(np.float64)
        scale = max(float(np.max(np.abs(grads[g["parameter"]]))), floor)
        error = float(np.max(np.abs(expected - grads[g["parameter"]]))) / scale
        worst = max(worst, error)
        if error > RTOL:
            result.setdefault("mismatched", []).append({"parameter": g["parameter"], "relative_error": error})
    result["gradients"] = {"ok": "mismatched" not in result, "worst_relative_error": worst, "parameters": len(trainable)}
    return result


def failures(result, prefix=""):
    """Paths of every comparison in `result` that did not pass."""
    found = []
    if isinstance(result, dict):
        if result.get("ok") is False:
            found.append(prefix.rstrip("."))
        if "error" in result:
            found.append(f"{prefix}error")
        for k, v in result.items():
            if isinstance(v, dict):
                found += failures(v, f"{prefix}{k}.")
    return found


def main():
    global REPORT
    cases_folder, REPORT = sys.argv[1], sys.argv[2]
    os.makedirs(REPORT, exist_ok=True)
    report = {"environment": environment(), "cases": {}}
    env = report["environment"]
    say("environment:")
    for k, v in env.items():
        say(f"  {k}: {v}")
    with open(os.path.join(cases_folder, "cases.json")) as f:
        listing = json.load(f)
    providers = [] if ort is None else [p for p in ("CUDAExecutionProvider", "CPUExecutionProvider") if p in env["providers"]]
    if "CUDAExecutionProvider" not in providers:
        say("no CUDA execution provider in this onnxruntime: the checks run on the CPU only")
    for name in listing["cases"]:
        case = load_case(os.path.join(cases_folder, name))
        entry = report["cases"][name] = {"layout": case["layout"], "spec": case["spec"], "model": case["model"], "adapterc_coverage": case["adaptercCoverage"]}
        for provider in providers:
            try:
                entry[provider] = check_with_inference_build(case, provider)
            except Exception:
                entry[provider] = {"error": traceback.format_exc()}
            if case.get("step"):
                try:
                    entry[f"step_model_{provider}"] = check_step_model(case, provider)
                except Exception:
                    entry[f"step_model_{provider}"] = {"error": traceback.format_exc()}
        if case.get("step") and env.get("torch_onnx"):
            try:
                entry["step_model_torch"] = check_step_model_in_torch(case, "cuda" if env.get("torch_cuda") else "cpu")
            except Exception:
                entry["step_model_torch"] = {"error": traceback.format_exc()}
        if env.get("training_api"):
            for device in (["cuda"] if "CUDAExecutionProvider" in providers else []) + ["cpu"]:
                try:
                    entry[f"training_api_{device}"] = check_with_training_build(case, device)
                except Exception:
                    entry[f"training_api_{device}"] = {"error": traceback.format_exc()}
        if env.get("torch_onnx"):
            try:
                entry["torch_autograd"] = check_with_torch_autograd(case, "cuda" if env.get("torch_cuda") else "cpu")
            except Exception:
                entry["torch_autograd"] = {"error": traceback.format_exc()}
        failed = failures(entry)
        say(f"{name} ({case['layout']}): {'ok' if not failed else 'FAILED: ' + ', '.join(failed)}")
        for provider in providers:
            r = entry[provider]
            if "error" in r:
                say(f"  {provider}: {r['error'].strip().splitlines()[-1]}")
                continue
            worst = max([c.get("max_abs_diff", float("inf")) for c in list(r["eval"].values()) + list(r["gradients"].values())])
            say(f"  {provider}: ran on {r['eval_providers'][0]}; eval+gradients max |diff| {worst:.2e}; "
                f"curve {' '.join(f'{x:.4f}' for x in r['training']['losses'])} (max |diff| {r['training'].get('max_abs_diff', float('nan')):.1e}); "
                f"step {r['step_seconds'] * 1e3:.2f} ms")
            for model, p in r.get("placement", {}).items():
                say(f"    {model}: nodes per provider {p['nodes_per_provider']}; float nodes on CPU: {len(p['cpu_float_nodes'])}"
                    f"{' ' + str([c['op'] for c in p['cpu_float_nodes']]) if p['cpu_float_nodes'] else ''}; "
                    f"shape ops on CPU: {p['cpu_shape_nodes']}; memcpy nodes: {p['memcpy_nodes']}")
        for key in [k for k in entry if k.startswith("step_model_")]:
            r = entry[key]
            if "error" in r:
                say(f"  {key}: {r['error'].strip().splitlines()[-1]}")
                continue
            where = r["providers"][0] if "providers" in r else f"torch float32 on {r['device']}"
            say(f"  {key}: ran on {where}; curve {' '.join(f'{x:.4f}' for x in r['losses'])} "
                f"(max |diff| from onnxruntime-node {r['curve'].get('max_abs_diff', float('nan')):.1e}); parameters after {case['steps']} steps: "
                f"||diff||/||p|| {r['parameters']['relative_norm_diff']:.1e}, worst tensor {r['parameters']['worst_tensor_relative_diff']:.1e}; "
                f"step {r['step_seconds'] * 1e3:.2f} ms")
            p = r.get("placement")
            if p:
                say(f"    step model: nodes per provider {p['nodes_per_provider']}; float nodes on CPU: {len(p['cpu_float_nodes'])}"
                    f"{' ' + str([c['op'] for c in p['cpu_float_nodes']]) if p['cpu_float_nodes'] else ''}; "
                    f"shape ops on CPU: {p['cpu_shape_nodes']}; memcpy nodes: {p['memcpy_nodes']}")
        if "torch_autograd" in entry:
            r = entry["torch_autograd"]
            say("  torch.autograd (float64, " + (r["error"].strip().splitlines()[-1] if "error" in r else
                f"{r['device']}): {r['gradients']['parameters']} parameter gradients, worst relative difference {r['gradients']['worst_relative_error']:.1e}, "
                f"loss |diff| {r['loss']['max_abs_diff']:.1e}, {r['seconds']:.2f} s"))
        for key in [k for k in entry if k.startswith("training_api_")]:
            r = entry[key]
            say(f"  {key}: " + (r["error"].strip().splitlines()[-1] if "error" in r else f"curve {' '.join(f'{x:.4f}' for x in r['losses'])}"))
    report["failed"] = {n: failures(e) for n, e in report["cases"].items() if failures(e)}
    with open(os.path.join(REPORT, "report.json"), "w") as f:
        json.dump(report, f, indent=1)
    say(f"{len(report['cases']) - len(report['failed'])} of {len(report['cases'])} cases passed"
        f" (skipped when prepared: {', '.join(listing.get('skipped', {})) or 'none'})")
    with open(os.path.join(REPORT, "report.txt"), "w") as f:
        f.write("\n".join(lines) + "\n")
    return 1 if report["failed"] or ort is None else 0


if __name__ == "__main__":
    sys.exit(main())
