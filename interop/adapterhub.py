"""Oracle 2: AdapterHub (`adapters`) beside adapterc, on the same pretrained weights.

AdapterHub's Houlsby configuration (DoubleSeqBnConfig: an adapter after the attention output and one after
the FFN output, each before the residual Add + LayerNorm, h + up(f(down(h)))) with adapterc's bottleneck
size and activation, and a one-layer classification head on the first token. adapterc's initial adapter
and head weights are loaded into it, so both start from the same point. Both then train on the same
batches with AdamW (torch.optim.AdamW in AdapterHub; adapterc's optimizer model in ONNX Runtime 1.19.2's
Python training API) at a constant rate, dropout off in both (adapterc's graphs have none):
  - the logits of the first batch before training;
  - the loss of every one of STEPS steps;
  - dev accuracy on DEV after TRAIN_STEPS steps.

Usage: python interop/adapterhub.py ARTIFACTS MODEL_DIR TRAIN_TSV DEV_TSV OUT_JSON
         [--steps 50] [--train-steps 300] [--batch 16] [--lr 1e-3]
"""

import argparse
import json
import os
import pathlib
import time

os.environ.setdefault("HF_HUB_OFFLINE", "1")

import numpy as np  # noqa: E402
import onnxruntime  # noqa: E402
import torch  # noqa: E402
from adapters import AutoAdapterModel, DoubleSeqBnConfig  # noqa: E402

from common import Runner, batches  # noqa: E402

NAME = "houlsby"


def adapterhub_model(model_dir: str, hidden: int, size: int):
    model = AutoAdapterModel.from_pretrained(model_dir, local_files_only=True)
    model.add_adapter(NAME, config=DoubleSeqBnConfig(reduction_factor=hidden // size, non_linearity="gelu"))
    model.add_classification_head(NAME, num_labels=2, layers=1)
    model.train_adapter(NAME)
    model.set_active_adapters(NAME)
    return model


def torch_name(name: str) -> tuple[str, bool]:
    """adapterc's parameter name -> AdapterHub's, and whether the matrix is transposed (MatMul [in, out]
    against torch.nn.Linear [out, in])."""
    parts = name.split(".")
    if parts[0] == "head":
        return f"heads.{NAME}.1.{parts[-1]}", parts[-1] == "weight"
    _, _, layer, site, which, kind = parts  # adapters.layer.{i}.{attention|ffn}.{down|up}.{weight|bias}
    where = "attention.output" if site == "attention" else "output"
    module = "adapter_down.0" if which == "down" else "adapter_up"
    return f"bert.encoder.layer.{layer}.{where}.adapters.{NAME}.{module}.{kind}", kind == "weight"


def load_adapterc_weights(model, values: dict) -> None:
    params = dict(model.named_parameters())
    trainable = {n for n, p in params.items() if p.requires_grad}
    loaded = set()
    with torch.no_grad():
        for name, value in values.items():
            target, transpose = torch_name(name)
            array = value.T if transpose else value
            if tuple(params[target].shape) != array.shape:
                raise SystemExit(f"{name} {array.shape} does not fit {target} {tuple(params[target].shape)}")
            params[target].copy_(torch.from_numpy(np.ascontiguousarray(array)))
            loaded.add(target)
    if loaded != trainable:
        raise SystemExit(f"trainable in AdapterHub but not loaded: {sorted(trainable - loaded)}; loaded but frozen: {sorted(loaded - trainable)}")


def torch_batch(batch):
    return {k: torch.from_numpy(v) for k, v in batch.items() if k != "labels"}, torch.from_numpy(batch["labels"])


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("artifacts")
    ap.add_argument("model_dir")
    ap.add_argument("train")
    ap.add_argument("dev")
    ap.add_argument("out")
    ap.add_argument("--steps", type=int, default=50)
    ap.add_argument("--train-steps", type=int, default=300)
    ap.add_argument("--batch", type=int, default=16)
    ap.add_argument("--lr", type=float, default=1e-3)
    args = ap.parse_args()
    torch.manual_seed(0)
    torch.set_num_threads(max(1, os.cpu_count() or 1))

    ours = Runner(pathlib.Path(args.artifacts), args.lr)
    start = ours.parameters()
    hidden, size = start["adapters.layer.0.attention.down.weight"].shape
    theirs = adapterhub_model(args.model_dir, hidden, size)
    load_adapterc_weights(theirs, start)
    theirs.eval()  # dropout off, as in adapterc's graphs; gradients still flow
    optimizer = torch.optim.AdamW([p for p in theirs.parameters() if p.requires_grad], lr=args.lr, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.01)
    loss_fn = torch.nn.CrossEntropyLoss()

    data = batches(args.model_dir, args.train, args.train_steps, args.batch, 64)
    inputs, _ = torch_batch(data[0])
    with torch.no_grad():
        initial_theirs = theirs(**inputs).logits.numpy()
    initial_ours = ours.logits(data[0])

    losses, seconds = {"adapterc": [], "adapterhub": []}, {"adapterc": 0.0, "adapterhub": 0.0}
    for step, batch in enumerate(data):
        loss, took = ours.step(batch)
        seconds["adapterc"] += took
        inputs, labels = torch_batch(batch)
        began = time.perf_counter()
        optimizer.zero_grad()
        their_loss = loss_fn(theirs(**inputs).logits, labels)
        their_loss.backward()
        optimizer.step()
        seconds["adapterhub"] += time.perf_counter() - began
        if step < args.steps:
            losses["adapterc"].append(loss)
            losses["adapterhub"].append(float(their_loss))

    dev = batches(args.model_dir, args.dev, None, 64, 128)
    correct = {"adapterc": 0, "adapterhub": 0}
    total = 0
    for batch in dev:
        inputs, labels = torch_batch(batch)
        with torch.no_grad():
            correct["adapterhub"] += int((theirs(**inputs).logits.argmax(-1) == labels).sum())
        correct["adapterc"] += int((ours.logits(batch).argmax(-1) == batch["labels"]).sum())
        total += len(batch["labels"])

    a, b = np.array(losses["adapterc"]), np.array(losses["adapterhub"])
    result = {
        "config": {"adapterhub": f"DoubleSeqBnConfig(reduction_factor={hidden // size}, non_linearity='gelu'), classification head layers=1", "steps_compared": args.steps, "train_steps": args.train_steps, "batch": args.batch, "lr": args.lr},
        "initial_logits_max_abs_diff": float(np.abs(initial_ours - initial_theirs).max()),
        "step_loss_max_rel_diff": float((np.abs(a - b) / np.abs(b)).max()),
        "step_losses": losses,
        "dev_accuracy": {k: v / total for k, v in correct.items()},
        "dev_examples": total,
        "training_seconds": seconds,
    }
    pathlib.Path(args.out).write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps({k: v for k, v in result.items() if k != "step_losses"}, indent=2))


if __name__ == "__main__":
    onnxruntime.set_default_logger_severity(3)
    main()
