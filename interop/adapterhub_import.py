"""In from AdapterHub: an adapter trained in PyTorch with `adapters`, saved as safetensors, for adapterc to start
a spec from (`init adapterhub(folder ...)`, a classifier's `adapterhub "..."`).

  train MODEL_DIR TRAIN_TSV DEV_TSV FOLDER   DoubleSeqBnConfig(reduction_factor=6, non_linearity='gelu') and a
                                             one-layer head on the first token, STEPS AdamW steps, then
                                             save_adapter(FOLDER, 'sst2', use_safetensors=True), and PyTorch's
                                             logits on 128 dev sentences as FOLDER.logits.npy
  compare MODEL_DIR DEV_TSV FOLDER ONNX OUT  the ONNX model's logits on the same sentences against them
"""

import json
import os
import pathlib
import sys

os.environ.setdefault("HF_HUB_OFFLINE", "1")

import numpy as np  # noqa: E402
import onnxruntime  # noqa: E402
import torch  # noqa: E402
from adapters import AutoAdapterModel, DoubleSeqBnConfig  # noqa: E402

from common import batches  # noqa: E402

STEPS = 30
SENTENCES = 128


def dev_batches(model_dir, dev):
    return batches(model_dir, dev, SENTENCES // 16, 16, 128)


def train(model_dir, train_tsv, dev, folder):
    torch.manual_seed(0)
    model = AutoAdapterModel.from_pretrained(model_dir, local_files_only=True)
    model.add_adapter("sst2", config=DoubleSeqBnConfig(reduction_factor=6, non_linearity="gelu"))
    model.add_classification_head("sst2", num_labels=2, layers=1)
    model.train_adapter("sst2")
    model.set_active_adapters("sst2")
    optimizer = torch.optim.AdamW([p for p in model.parameters() if p.requires_grad], lr=3e-3)
    model.train()
    for batch in batches(model_dir, train_tsv, STEPS, 16, 64):
        optimizer.zero_grad()
        logits = model(**{k: torch.from_numpy(v) for k, v in batch.items() if k != "labels"}).logits
        torch.nn.functional.cross_entropy(logits, torch.from_numpy(batch["labels"])).backward()
        optimizer.step()
    model.eval()
    os.makedirs(folder, exist_ok=True)
    model.save_adapter(folder, "sst2", use_safetensors=True)
    with torch.no_grad():
        logits = [model(**{k: torch.from_numpy(v) for k, v in b.items() if k != "labels"}).logits.numpy() for b in dev_batches(model_dir, dev)]
    np.save(folder + ".logits.npy", np.concatenate(logits))


def compare(model_dir, dev, folder, onnx, out):
    theirs = np.load(folder + ".logits.npy")
    session = onnxruntime.InferenceSession(onnx, providers=["CPUExecutionProvider"])
    names = [i.name for i in session.get_inputs()]
    ours = np.concatenate([session.run(None, {n: b[n] for n in names})[0] for b in dev_batches(model_dir, dev)])
    result = {
        "sentences": int(len(ours)),
        "logits_max_abs_diff": float(np.abs(ours - theirs).max()),
        "logits_max_abs": float(np.abs(theirs).max()),
        "same_predictions": int((ours.argmax(-1) == theirs.argmax(-1)).sum()),
        "files": sorted(os.listdir(folder)),
    }
    pathlib.Path(out).write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    onnxruntime.set_default_logger_severity(3)
    if sys.argv[1] == "train":
        train(*sys.argv[2:6])
    else:
        compare(*sys.argv[2:7])
