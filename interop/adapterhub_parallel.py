"""The parallel adapter against AdapterHub's ParBnConfig on the same pretrained model: adapterc's initial adapter
and head weights are loaded into AdapterHub's, then the logits of a batch and the first step's gradients of every
trainable parameter are compared (adapterc's in ORT 1.19.2's training API, AdapterHub's by torch.autograd).

Usage: python interop/adapterhub_parallel.py ARTIFACTS MODEL_DIR TRAIN_TSV OUT_JSON
"""

import json
import os
import pathlib
import sys

os.environ.setdefault("HF_HUB_OFFLINE", "1")

import numpy as np  # noqa: E402
import onnxruntime  # noqa: E402
import torch  # noqa: E402
from adapters import AutoAdapterModel, ParBnConfig  # noqa: E402

from common import Runner, batches, parity  # noqa: E402

NAME = "par"


def torch_name(name: str):
    parts = name.split(".")
    if parts[0] == "head":
        return f"heads.{NAME}.1.{parts[-1]}", parts[-1] == "weight"
    _, _, layer, site, which, kind = parts
    where = "attention.output" if site == "attention" else "output"
    module = "adapter_down.0" if which == "down" else "adapter_up"
    return f"bert.encoder.layer.{layer}.{where}.adapters.{NAME}.{module}.{kind}", kind == "weight"


def main() -> None:
    artifacts, model_dir, train_tsv, out = sys.argv[1:5]
    torch.manual_seed(0)
    ours = Runner(pathlib.Path(artifacts), 1e-3)
    start = ours.parameters()
    hidden, size = start["adapters.layer.0.ffn.down.weight"].shape
    summary = json.loads((pathlib.Path(artifacts) / "summary.json").read_text())
    scaling = summary["adapters"][0]["parallel"]
    theirs = AutoAdapterModel.from_pretrained(model_dir, local_files_only=True)
    theirs.add_adapter(NAME, config=ParBnConfig(mh_adapter=True, output_adapter=True, reduction_factor=hidden // size, non_linearity="relu", scaling=float(scaling)))
    theirs.add_classification_head(NAME, num_labels=2, layers=1)
    theirs.train_adapter(NAME)
    theirs.set_active_adapters(NAME)
    params = dict(theirs.named_parameters())
    with torch.no_grad():
        for name, value in start.items():
            target, transpose = torch_name(name)
            params[target].copy_(torch.from_numpy(np.ascontiguousarray(value.T if transpose else value)))
    theirs.eval()  # dropout off, as in adapterc's graphs

    batch = batches(model_dir, train_tsv, 1, 16, 64)[0]
    inputs = {k: torch.from_numpy(v) for k, v in batch.items() if k != "labels"}
    logits_theirs = theirs(**inputs).logits
    loss_theirs = torch.nn.functional.cross_entropy(logits_theirs, torch.from_numpy(batch["labels"]))
    loss_theirs.backward()
    grads_theirs = {}
    for name in start:
        target, transpose = torch_name(name)
        g = params[target].grad.numpy()
        grads_theirs[name] = g.T if transpose else g
    logits_ours = ours.logits(batch)
    loss_ours, grads_ours = ours.loss_and_gradients(batch)
    trainable = sum(p.numel() for p in theirs.parameters() if p.requires_grad)
    result = {
        "config": f"ParBnConfig(mh_adapter=True, output_adapter=True, reduction_factor={hidden // size}, non_linearity='relu', scaling={scaling})",
        **parity("adapterhub", start, logits_ours, logits_theirs.detach().numpy(), loss_ours, float(loss_theirs), grads_ours, grads_theirs, trainable),
    }
    pathlib.Path(out).write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    onnxruntime.set_default_logger_severity(3)
    main()
