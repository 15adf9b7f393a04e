"""LoRA and (IA)³ against Hugging Face PEFT on the same pretrained model: adapterc's initial adapter and head
weights are loaded into PEFT's LoraConfig / IA3Config model, then the logits of a batch and the first step's
gradients of every trainable parameter are compared (adapterc's in ORT 1.19.2's training API, PEFT's by
torch.autograd).

Usage: python interop/peft_parity.py lora|ia3 ARTIFACTS MODEL_DIR TRAIN_TSV OUT_JSON
"""

import json
import os
import pathlib
import sys

os.environ.setdefault("HF_HUB_OFFLINE", "1")

import numpy as np  # noqa: E402
import onnxruntime  # noqa: E402
import torch  # noqa: E402
from peft import IA3Config, LoraConfig, get_peft_model  # noqa: E402
from transformers import BertModel  # noqa: E402

from common import Runner, batches, parity  # noqa: E402

# PEFT's module names for adapterc's sites (BertModel's submodules).
MODULES = {"query": "attention.self.query", "key": "attention.self.key", "value": "attention.self.value", "intermediate": "output.dense"}


def config(family: str, summary: dict):
    if family == "lora":
        lora = summary["adapters"][0]["lora"]
        return LoraConfig(r=lora["rank"], lora_alpha=lora["alpha"], lora_dropout=0.0, target_modules=["query", "value"])
    # A regular expression, matched whole: "output.dense" alone would also take attention.output.dense.
    return IA3Config(target_modules=r".*\.(key|value)$|.*layer\.\d+\.output\.dense$", feedforward_modules=r".*layer\.\d+\.output\.dense$")


def torch_name(name: str):
    """PEFT's parameter for an adapterc one, and how adapterc's value maps onto it."""
    parts = name.split(".")
    _, _, layer, site, kind = parts
    module = f"base_model.model.encoder.layer.{layer}.{MODULES[site]}"
    if kind == "lora_A":
        return f"{module}.lora_A.default.weight", lambda v: v.T  # [in, r] → [r, in]
    if kind == "lora_B":
        return f"{module}.lora_B.default.weight", lambda v: v.T  # [r, out] → [out, r]
    # (IA)³: [out, 1] on a projection's output, [1, in] on the feed-forward input.
    return f"{module}.ia3_l.default", (lambda v: v.reshape(1, -1)) if site == "intermediate" else (lambda v: v.reshape(-1, 1))


def main() -> None:
    family, artifacts, model_dir, train_tsv, out = sys.argv[1:6]
    torch.manual_seed(0)
    ours = Runner(pathlib.Path(artifacts), 1e-3)
    start = ours.parameters()
    summary = json.loads((pathlib.Path(artifacts) / "summary.json").read_text())
    base = BertModel.from_pretrained(model_dir, local_files_only=True, attn_implementation="eager", add_pooling_layer=False)
    theirs = get_peft_model(base, config(family, summary))
    head = torch.nn.Linear(base.config.hidden_size, 2)
    params = dict(theirs.named_parameters())
    with torch.no_grad():
        for name, value in start.items():
            if name.startswith("head."):
                target = head.weight if name.endswith("weight") else head.bias
                target.copy_(torch.from_numpy(np.ascontiguousarray(value.T if name.endswith("weight") else value)))
                continue
            target, convert = torch_name(name)
            params[target].copy_(torch.from_numpy(np.ascontiguousarray(convert(value))))
    theirs.eval()  # dropout off, as in adapterc's graphs
    head.eval()

    batch = batches(model_dir, train_tsv, 1, 16, 64)[0]
    inputs = {k: torch.from_numpy(v) for k, v in batch.items() if k != "labels"}
    logits_theirs = head(theirs(**inputs).last_hidden_state[:, 0])
    loss_theirs = torch.nn.functional.cross_entropy(logits_theirs, torch.from_numpy(batch["labels"]))
    loss_theirs.backward()
    grads_theirs = {}
    for name in start:
        if name.startswith("head."):
            g = (head.weight if name.endswith("weight") else head.bias).grad.numpy()
            grads_theirs[name] = g.T if name.endswith("weight") else g
            continue
        target, convert = torch_name(name)
        g = params[target].grad.numpy()
        # Back to adapterc's layout: the converts are transposes and reshapes.
        grads_theirs[name] = g.T if "lora" in name else g.reshape(start[name].shape)
    logits_ours = ours.logits(batch)
    loss_ours, grads_ours = ours.loss_and_gradients(batch)
    trainable = sum(p.numel() for p in theirs.parameters() if p.requires_grad) + sum(p.numel() for p in head.parameters())
    lora = summary["adapters"][0].get("lora", {})
    result = {
        "config": f"LoraConfig(r={lora.get('rank')}, lora_alpha={lora.get('alpha')}, target_modules=['query', 'value'])" if family == "lora" else "IA3Config(key, value, feedforward output.dense)",
        **parity("peft", start, logits_ours, logits_theirs.detach().numpy(), loss_ours, float(loss_theirs), grads_ours, grads_theirs, trainable),
    }
    pathlib.Path(out).write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    onnxruntime.set_default_logger_severity(3)
    main()
