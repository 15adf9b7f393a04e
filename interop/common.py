"""What the interop tier's Python oracles share: SST-2 batches tokenized with the model's own tokenizer,
adapterc's (or any) training artifacts run in ONNX Runtime 1.19.2's Python training API, and comparisons."""

import json
import pathlib
import time

import numpy as np
import onnx
from onnxruntime.training.api import CheckpointState, Module, Optimizer
from transformers import BertTokenizerFast


def batches(tokenizer_dir: str, tsv: str, count, size: int, max_length: int, start: int = 0):
    """`count` batches (None: all) of `size` SST-2 sentences from line `start` on, tokenized with the model's own tokenizer."""
    tokenizer = BertTokenizerFast.from_pretrained(tokenizer_dir, local_files_only=True)
    lines = [line.rstrip("\n").split("\t", 1) for line in open(tsv, encoding="utf-8")][1 + start:]
    out = []
    if count is None:
        count = (len(lines) + size - 1) // size
    for b in range(count):
        rows = lines[b * size:(b + 1) * size]
        enc = tokenizer([r[1] for r in rows], padding="longest", truncation=True, max_length=max_length, return_tensors="np")
        out.append({
            "input_ids": enc["input_ids"].astype(np.int64),
            "attention_mask": enc["attention_mask"].astype(np.int64),
            "token_type_ids": enc["token_type_ids"].astype(np.int64),
            "labels": np.array([int(r[0]) for r in rows], dtype=np.int64),
        })
    return out


class Runner:
    """One artifact set in ORT's training API."""

    def __init__(self, folder: pathlib.Path, lr: float):
        self.state = CheckpointState.load_checkpoint(str(folder / "checkpoint"))
        self.module = Module(str(folder / "training_model.onnx"), self.state, str(folder / "eval_model.onnx"))
        self.optimizer = Optimizer(str(folder / "optimizer_model.onnx"), self.module)
        # adapterc's optimizer graph scales the rate it is fed (so that ORT's default, 1e-3, runs at the
        # spec's rate where the rate cannot be set): feed lr / scale for an effective lr.
        summary = folder / "summary.json"
        scale = json.loads(summary.read_text())["learningRate"]["scaleInOptimizerGraph"] if summary.exists() else None
        self.optimizer.set_learning_rate(lr / scale if scale else lr)
        self.names = self.module.input_names()
        self.trainable = sorted(name for name, p in self.state.parameters if p.requires_grad)
        self.nodes = len(onnx.load(str(folder / "training_model.onnx"), load_external_data=False).graph.node)

    def feeds(self, batch):
        # adapterc names its labels input 'labels'; ORT's CrossEntropyLoss block adds its own name.
        return [batch[n] if n in batch else batch["labels"] for n in self.names]

    def loss_and_gradients(self, batch):
        self.module.train()
        self.module.lazy_reset_grad()
        outputs = self.module(*self.feeds(batch))
        loss = float(np.asarray(outputs[0] if isinstance(outputs, (list, tuple)) else outputs).reshape(-1)[0])
        return loss, {n: np.array(self.state.parameters[n].grad) for n in self.trainable}

    def step(self, batch):
        """One training step; returns its loss (before the update) and its wall time."""
        self.module.train()
        start = time.perf_counter()
        outputs = self.module(*self.feeds(batch))
        self.optimizer.step()
        self.module.lazy_reset_grad()
        seconds = time.perf_counter() - start
        return float(np.asarray(outputs[0] if isinstance(outputs, (list, tuple)) else outputs).reshape(-1)[0]), seconds

    def logits(self, batch):
        """The eval model's logits (its second output; the first is the loss)."""
        self.module.eval()
        outputs = self.module(*self.feeds(batch))
        return np.asarray(outputs[1])

    def parameters(self):
        return {n: np.array(self.state.parameters[n].data) for n in self.trainable}


def compare(a: dict, b: dict):
    worst_abs, worst_rel, where = 0.0, 0.0, ""
    for name in a:
        diff = np.abs(a[name] - b[name])
        rel = diff / np.maximum(np.abs(b[name]), 1e-12)
        # Relative error only where the value is not tiny: 1e-6 absolute covers those.
        rel = np.where(diff <= 1e-6, 0.0, rel)
        if diff.max() > worst_abs:
            worst_abs = float(diff.max())
        if rel.max() > worst_rel:
            worst_rel, where = float(rel.max()), name
    return {"max_abs": worst_abs, "max_rel_beyond_1e-6_abs": worst_rel, "worst_parameter": where}


def parity(other: str, start: dict, logits_ours, logits_theirs, loss_ours: float, loss_theirs: float, grads_ours: dict, grads_theirs: dict, trainable_theirs: int) -> dict:
    """adapterc against another system (`other` names it in the keys) from the same initial values: one batch's logits, loss and first-step gradients."""
    norm = max(float(np.abs(g).max()) for g in grads_theirs.values())
    return {
        "parameters": {"adapterc": int(sum(v.size for v in start.values())), other: int(trainable_theirs)},
        "logits_max_abs_diff": float(np.abs(logits_ours - logits_theirs).max()),
        "logits_max_abs": float(np.abs(logits_theirs).max()),
        "loss": {"adapterc": loss_ours, other: float(loss_theirs)},
        "gradients": compare(grads_ours, grads_theirs),
        "largest_gradient": norm,
        "gradient_max_rel_to_largest": float(max(np.abs(grads_ours[n] - grads_theirs[n]).max() for n in start) / norm),
    }
