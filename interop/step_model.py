"""adapterc's step model in plain onnxruntime (an InferenceSession: what onnxruntime and onnxruntime-gpu
1.20+ still run), beside adapterc's training artifacts in ONNX Runtime 1.19.2's training API, on the same
real-model batches: the loss of every step and the trainable parameters after the last.

The step-model loop below is the README's Python example ("Train on any ONNX Runtime"), run as written;
only the batches and the comparison are added. Both run on this package's CPU build (onnxruntime-training
1.19.2, which has the inference API too); pass --provider CUDAExecutionProvider on an onnxruntime-gpu
install for the step model's part.

Usage: python interop/step_model.py ARTIFACTS TOKENIZER_DIR SST2_TSV OUT_JSON [--steps 50] [--provider P]
Writes OUT_JSON: per-step losses of both, and how far the parameters are apart after the last step.
"""

import argparse
import json
import pathlib

import numpy as np

from common import Runner, batches


def train_step_model(folder: str, batches: list, providers: list) -> tuple[list, dict]:
    # --- the README's example, from here ---
    import onnx
    import onnxruntime as ort
    from onnx import numpy_helper

    io = json.load(open(f"{folder}/summary.json"))["step"]  # the step model's inputs and outputs
    adapted = onnx.load(f"{folder}/model.adapted.onnx")  # holds the parameters' initial values
    initial = {t.name: numpy_helper.to_array(t) for t in adapted.graph.initializer}
    state = {p["name"]: initial[p["name"]] for p in io["parameters"]}
    state |= {s: np.zeros(p["dims"], np.float32) for p in io["parameters"] for s in p["state"]}
    session = ort.InferenceSession(f"{folder}/step_model.onnx", providers=providers)
    names = [o.name for o in session.get_outputs()]
    losses = []
    for step, batch in enumerate(batches, start=1):  # input_ids, attention_mask, token_type_ids, labels
        feeds = batch | state | {io["step"]: np.array([step], np.int64)}
        if "totalSteps" in io:
            feeds[io["totalSteps"]] = np.array([len(batches)], np.int64)
        out = dict(zip(names, session.run(None, feeds)))
        for p in io["parameters"]:
            state[p["name"]] = out[p["updated"]]
            for s, updated in zip(p["state"], p["stateUpdated"]):
                state[s] = out[updated]
        losses.append(float(out[io["loss"]]))
    # --- to here ---
    return losses, {p["name"]: state[p["name"]] for p in io["parameters"]}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("artifacts")
    ap.add_argument("tokenizer")
    ap.add_argument("tsv")
    ap.add_argument("out")
    ap.add_argument("--steps", type=int, default=50)
    ap.add_argument("--provider", default="CPUExecutionProvider")
    args = ap.parse_args()
    folder = pathlib.Path(args.artifacts)
    summary = json.loads((folder / "summary.json").read_text())
    data = batches(args.tokenizer, args.tsv, args.steps, 8, 64)

    losses, stepped = train_step_model(str(folder), data, [args.provider])
    # The training artifacts in ORT's training API at the spec's (constant) rate.
    runner = Runner(folder, summary["learningRate"]["spec"])
    ort_losses = [runner.step(batch)[0] for batch in data]
    trained = runner.parameters()
    difference = np.sqrt(sum(float(np.sum((stepped[n] - trained[n]) ** 2)) for n in trained))
    norm = np.sqrt(sum(float(np.sum(trained[n] ** 2)) for n in trained))
    worst = max(trained, key=lambda n: float(np.linalg.norm(stepped[n] - trained[n]) / max(np.linalg.norm(trained[n]), 1e-30)))
    json.dump({
        "steps": args.steps,
        "losses": {"step_model": losses, "training_api": ort_losses},
        "max_loss_rel": max(abs(a - b) / abs(b) for a, b in zip(losses, ort_losses)),
        "parameters_rel": difference / norm,
        "worst_tensor": {"name": worst, "rel": float(np.linalg.norm(stepped[worst] - trained[worst]) / np.linalg.norm(trained[worst]))},
        "trainable_parameters": int(sum(v.size for v in trained.values())),
    }, open(args.out, "w"), indent=1)


if __name__ == "__main__":
    main()
