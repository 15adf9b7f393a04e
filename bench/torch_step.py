"""PyTorch eager's training step on a BERT-shaped model, for `npm run bench` (bench/step.ts): the same
model adapterc trains, exported to ONNX for it, and timed here with Houlsby adapters and with full
fine-tuning.

  python bench/torch_step.py export OUT.onnx --layers 4 --hidden 256 --heads 4 --ffn 1024
  python bench/torch_step.py time   OUT.onnx --layers 4 ... --threads 2 --batch 8 --sequence 128 --steps 5

`export` builds transformers' BertModel from its config with random weights (seed 0; vocabulary 30,522,
512 positions) and writes it with torch's TorchScript exporter (opset 14, constant folding on: torch's
defaults), outputs last_hidden_state and pooler_output. `time` builds the same model (same seed, so
the same weights), adds what specs/houlsby.adp adds (size-64 GELU bottleneck adapters on the
attention and FFN output projections of every layer, before the residual Add + LayerNorm; a new
2-label classifier on the pooled output; adapters, LayerNorms and the classifier train, AdamW) and
prints, as JSON, the median wall time of a training step (zero_grad, forward, cross-entropy,
backward, optimizer step) with adapters and with every parameter training, in eval mode (no
dropout, as in the exported graph) on `--threads` threads, and the process's peak RSS after the
adapter steps (the model, their activations and optimizer state; torch itself is about 0.4 GB).
"""

import argparse
import json
import statistics
import sys
import time

import torch
import transformers
from transformers import BertConfig, BertModel


def build(a) -> BertModel:
    torch.manual_seed(0)
    config = BertConfig(vocab_size=30522, hidden_size=a.hidden, num_hidden_layers=a.layers, num_attention_heads=a.heads,
                        intermediate_size=a.ffn, max_position_embeddings=512, attn_implementation="eager")
    return BertModel(config).eval()


class Adapter(torch.nn.Module):
    def __init__(self, hidden: int, size: int):
        super().__init__()
        self.down = torch.nn.Linear(hidden, size)
        self.up = torch.nn.Linear(size, hidden)
        torch.nn.init.normal_(self.down.weight, std=1e-2)
        torch.nn.init.normal_(self.up.weight, std=1e-2)
        torch.nn.init.zeros_(self.down.bias)
        torch.nn.init.zeros_(self.up.bias)

    def forward(self, h):
        return h + self.up(torch.nn.functional.gelu(self.down(h)))


def with_adapters(model: BertModel, size: int) -> torch.nn.ModuleList:
    adapters = torch.nn.ModuleList()
    for layer in model.encoder.layer:
        for projection in (layer.attention.output.dense, layer.output.dense):
            adapter = Adapter(model.config.hidden_size, size)
            adapters.append(adapter)
            projection.register_forward_hook(lambda _m, _i, out, adapter=adapter: adapter(out))
    return adapters


def step_time(model, head, trainable, a) -> float:
    for p in list(model.parameters()) + list(head.parameters()):
        p.requires_grad_(False)
    for p in trainable:
        p.requires_grad_(True)
    optimizer = torch.optim.AdamW(trainable, lr=1e-4, weight_decay=0.01)
    generator = torch.Generator().manual_seed(1)
    ids = torch.randint(1000, 30000, (a.batch, a.sequence), generator=generator)
    mask = torch.ones_like(ids)
    types = torch.zeros_like(ids)
    labels = torch.randint(0, 2, (a.batch,), generator=generator)
    times = []
    for i in range(a.steps + 2):
        started = time.perf_counter()
        optimizer.zero_grad(set_to_none=True)
        pooled = model(input_ids=ids, attention_mask=mask, token_type_ids=types).pooler_output
        loss = torch.nn.functional.cross_entropy(head(pooled), labels)
        loss.backward()
        optimizer.step()
        if i >= 2:
            times.append(time.perf_counter() - started)
    return statistics.median(times)


def peak_rss_kib() -> int:
    with open("/proc/self/status") as f:
        return int(next(line for line in f if line.startswith("VmHWM:")).split()[1])


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("command", choices=["export", "time"])
    parser.add_argument("model")
    for name in ("layers", "hidden", "heads", "ffn"):
        parser.add_argument(f"--{name}", type=int, required=True)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--batch", type=int, default=8)
    parser.add_argument("--sequence", type=int, default=128)
    parser.add_argument("--steps", type=int, default=5)
    parser.add_argument("--adapter-size", type=int, default=64)
    a = parser.parse_args()
    torch.set_num_threads(a.threads)
    model = build(a)
    if a.command == "export":
        ids = torch.randint(1000, 2000, (2, 8))
        names = ["input_ids", "attention_mask", "token_type_ids"]
        dynamic = {n: {0: "batch", 1: "sequence"} for n in names} | {"last_hidden_state": {0: "batch", 1: "sequence"}, "pooler_output": {0: "batch"}}
        torch.onnx.export(model, (ids, torch.ones_like(ids), torch.zeros_like(ids)), a.model, input_names=names,
                          output_names=["last_hidden_state", "pooler_output"], dynamic_axes=dynamic, dynamo=False)
        print(json.dumps({"exported": a.model, "torch": torch.__version__, "transformers": transformers.__version__}))
        return
    head = torch.nn.Linear(a.hidden, 2)
    adapters = with_adapters(model, a.adapter_size)
    layernorms = [p for name, p in model.named_parameters() if "LayerNorm" in name]
    adapter_step = step_time(model, head, list(adapters.parameters()) + layernorms + list(head.parameters()), a)
    # The process's peak so far: the model, and the adapter steps' activations and optimizer state.
    adapter_peak = peak_rss_kib()
    full_step = step_time(model, head, list(model.parameters()) + list(adapters.parameters()) + list(head.parameters()), a)
    print(json.dumps({"adapters": adapter_step, "full": full_step, "adapterPeakRssKiB": adapter_peak, "threads": torch.get_num_threads(), "torch": torch.__version__}))


if __name__ == "__main__":
    sys.exit(main())
