"""Oracle 1: ONNX Runtime's own gradient builder beside adapterc.

Gives onnxruntime.training.artifacts.generate_artifacts adapterc's adapted model (`compile --inference`)
with the same loss (cross-entropy, mean), the same trainable parameters and AdamW with adapterc's
hyper-parameters, then runs both artifact sets in ONNX Runtime 1.19.2's Python training API (the native
runtime) on the same batches:
  - the loss and every trainable gradient of one batch;
  - STEPS AdamW steps (constant learning rate) and the trainable parameters after them;
  - node counts of both training graphs and the median time of a training step (forward, backward,
    optimizer) of each, measured in the same process.

Usage: python interop/ort_oracle.py ARTIFACTS ADAPTED_MODEL TOKENIZER_DIR SST2_TSV OUT_JSON [--steps 20] [--lr 1e-3]
"""

import argparse
import json
import os
import pathlib
import statistics
import tempfile

import onnx
import onnxruntime
from onnxruntime.training import artifacts as ort_artifacts
from onnxruntime.training import onnxblock

from common import Runner, batches, compare


def generate(model, trainable, ort_dir: pathlib.Path) -> None:
    """ORT's artifacts for the same trainable parameters, loss and AdamW."""
    ort_artifacts.generate_artifacts(
        model,
        requires_grad=trainable,
        frozen_params=[t.name for t in model.graph.initializer if t.name not in set(trainable)],
        loss=ort_artifacts.LossType.CrossEntropyLoss,
        # adapterc's AdamW: betas (0.9, 0.999), eps 1e-8, weight decay 0.01 on every parameter, bias correction.
        optimizer=onnxblock.optim.AdamW(bias_correction=True, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.01),
        artifact_directory=ort_dir,
    )
    # onnxblock's AdamW is Hugging Face's variant (adam_mode 1: weight decay after the update);
    # adapterc's is torch.optim.AdamW's (adam_mode 0: decay first), as AdapterHub trains. The
    # optimizer node is set to mode 0 so that both apply the same update rule; the training graphs
    # (what this oracle is about) are ORT's own.
    optimizer_file = ort_dir / "optimizer_model.onnx"
    optimizer_model = onnx.load(str(optimizer_file))
    for node in optimizer_model.graph.node:
        for a in node.attribute:
            if node.op_type == "AdamWOptimizer" and a.name == "adam_mode":
                a.i = 0
    onnx.save(optimizer_model, str(optimizer_file))


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("artifacts")
    ap.add_argument("adapted")
    ap.add_argument("tokenizer")
    ap.add_argument("tsv")
    ap.add_argument("out")
    ap.add_argument("--steps", type=int, default=20)
    ap.add_argument("--lr", type=float, default=1e-3)
    args = ap.parse_args()

    ours = Runner(pathlib.Path(args.artifacts), args.lr)
    with tempfile.TemporaryDirectory() as tmp:
        ort_dir = pathlib.Path(tmp)
        model = onnx.load(args.adapted)
        try:
            generate(model, ours.trainable, ort_dir)
        except RuntimeError as error:
            # ORT's gradient builder has no gradient for some ops exporters write (CastLike, SkipLayerNormalization).
            reason = str(error).strip().split("was false. ")[-1].strip() or str(error).strip()
            pathlib.Path(args.out).write_text(json.dumps({"ort_refused": reason}, indent=2) + "\n")
            print(f"generate_artifacts refused the model: {reason}")
            return
        theirs = Runner(ort_dir, args.lr)
        assert theirs.trainable == ours.trainable, "the two checkpoints train different parameters"
        data = batches(args.tokenizer, args.tsv, args.steps + 1, 8, 32)

        loss_a, grads_a = ours.loss_and_gradients(data[0])
        loss_b, grads_b = theirs.loss_and_gradients(data[0])
        initial = compare(ours.parameters(), theirs.parameters())
        times_a, times_b = [], []
        for batch in data[1:]:
            times_a.append(ours.step(batch)[1])
            times_b.append(theirs.step(batch)[1])
        result = {
            "trainable_tensors": len(ours.trainable),
            "trainable_parameters": int(sum(v.size for v in ours.parameters().values())),
            "initial_parameters": initial,
            "loss": {"adapterc": loss_a, "ort": loss_b, "rel": abs(loss_a - loss_b) / abs(loss_b)},
            "gradients": compare(grads_a, grads_b),
            "steps": args.steps,
            "lr": args.lr,
            "parameters_after_steps": compare(ours.parameters(), theirs.parameters()),
            "training_graph_nodes": {"adapterc": ours.nodes, "ort": theirs.nodes},
            "median_step_seconds": {"adapterc": statistics.median(times_a), "ort": statistics.median(times_b)},
        }
    pathlib.Path(args.out).write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    onnxruntime.set_default_logger_severity(3)
    main()
