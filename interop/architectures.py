"""Small random-weight models of every BERT-family architecture transformers 4.45.2 builds from a config (no
download), exported by each exporter users run: the graphs adapterc must read in the wild.

  architectures  bert, distilbert, roberta, xlm-roberta, albert, electra, mpnet, deberta-v2 (DeBERTa-v3's
                 config), megatron-bert (the pre-LayerNorm encoder transformers 4.45.2 has; ModernBERT
                 came in transformers 4.48)
  exporters      torchscript (torch.onnx.export(dynamo=False), opset 17, constant folding on),
                 dynamo (torch.onnx.export(dynamo=True)), optimum (main_export, task feature-extraction)

Every model has 2 layers, hidden size 128 (twice the paper's adapter size, 64), 4 heads, feed-forward 256, and a vocabulary built from the first
200 SST-2 training sentences (written as vocab.txt beside the models, so adapterc train can tokenize for them).

Usage:
  python interop/architectures.py export OUT_DIR SST2_TRAIN_TSV
      writes OUT_DIR/vocab.txt, OUT_DIR/<architecture>-<exporter>.onnx (an existing one is kept) and
      OUT_DIR/exports.json: for each, how it was made, or the exporter's error when it failed
"""

import json
import os
import pathlib
import re
import shutil
import sys
import tempfile
import time
import traceback

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")

HIDDEN = 128
LAYERS = 2
HEADS = 4
FFN = 256
POSITIONS = 128
# The first ids of vocab.txt: [PAD] is 0, as adapterc train pads (RoBERTa's padding id is set to match).
SPECIAL = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"]


def vocabulary(tsv: pathlib.Path) -> list[str]:
    """The special tokens, then every lower-cased word and punctuation mark of the first 200 sentences."""
    words: set[str] = set()
    for line in tsv.read_text(encoding="utf-8").split("\n")[1:201]:
        if "\t" in line:
            words.update(re.findall(r"\w+|[^\w\s]", line.split("\t", 1)[1].lower()))
    return SPECIAL + sorted(words)


def architectures(vocab: int) -> dict:
    """name -> (model class, config, forward inputs, outputs)."""
    import transformers as t

    common = dict(vocab_size=vocab, hidden_size=HIDDEN, num_hidden_layers=LAYERS, num_attention_heads=HEADS,
                  intermediate_size=FFN, max_position_embeddings=POSITIONS)
    typed = ["input_ids", "attention_mask", "token_type_ids"]
    untyped = ["input_ids", "attention_mask"]
    pooled = ["last_hidden_state", "pooler_output"]
    hidden_only = ["last_hidden_state"]
    return {
        "bert": (t.BertModel, t.BertConfig(**common), typed, pooled),
        "distilbert": (t.DistilBertModel, t.DistilBertConfig(vocab_size=vocab, dim=HIDDEN, n_layers=LAYERS, n_heads=HEADS,
                                                             hidden_dim=FFN, max_position_embeddings=POSITIONS), untyped, hidden_only),
        # RoBERTa's position ids count from padding_idx + 1: POSITIONS + 2 rows, padding id 0 as the vocabulary's.
        "roberta": (t.RobertaModel, t.RobertaConfig(**{**common, "max_position_embeddings": POSITIONS + 2}, pad_token_id=0, type_vocab_size=1), untyped, pooled),
        "xlm-roberta": (t.XLMRobertaModel, t.XLMRobertaConfig(**{**common, "max_position_embeddings": POSITIONS + 2}, pad_token_id=0, type_vocab_size=1), untyped, pooled),
        # ALBERT: factorized embeddings (32 -> 64) and one layer's weights shared by every layer.
        "albert": (t.AlbertModel, t.AlbertConfig(**common, embedding_size=32), typed, pooled),
        "electra": (t.ElectraModel, t.ElectraConfig(**common, embedding_size=HIDDEN), typed, hidden_only),
        "mpnet": (t.MPNetModel, t.MPNetConfig(**{**common, "max_position_embeddings": POSITIONS + 2}, pad_token_id=0), untyped, pooled),
        # DeBERTa-v3-base's settings: relative attention (c2p, p2c) with log buckets, no absolute positions, no token types.
        "deberta-v2": (t.DebertaV2Model, t.DebertaV2Config(**common, relative_attention=True, position_buckets=32, pos_att_type=["p2c", "c2p"],
                                                           max_relative_positions=-1, position_biased_input=False, type_vocab_size=0,
                                                           norm_rel_ebd="layer_norm", share_att_key=True, pad_token_id=0), untyped, hidden_only),
        # Pre-LayerNorm: LayerNorm before each sub-layer, the residual Add after it, one LayerNorm at the end.
        "megatron-bert": (t.MegatronBertModel, t.MegatronBertConfig(**common), typed, pooled),
    }


def build(name: str, vocab: int):
    import torch

    cls, config, inputs, outputs = architectures(vocab)[name]
    torch.manual_seed(0)
    model = cls(config).eval()
    torch.manual_seed(1)
    ids = torch.randint(len(SPECIAL), vocab, (2, 8))
    mask = torch.ones_like(ids)
    mask[1, 6:] = 0
    values = {"input_ids": ids, "attention_mask": mask, "token_type_ids": torch.zeros_like(ids)}
    return model, config, inputs, outputs, tuple(values[n] for n in inputs)


def torchscript(name: str, vocab: int, out: pathlib.Path) -> str:
    import torch

    model, _, inputs, outputs, sample = build(name, vocab)
    axes = {n: {0: "batch", 1: "sequence"} for n in inputs + outputs}
    axes.get("pooler_output", {}).pop(1, None)
    torch.onnx.export(model, sample, str(out), input_names=inputs, output_names=outputs, dynamic_axes=axes,
                      opset_version=17, do_constant_folding=True, dynamo=False)
    return f"torch {torch.__version__} TorchScript exporter, opset 17, constant folding on"


def dynamo(name: str, vocab: int, out: pathlib.Path) -> str:
    import onnx
    import torch

    model, _, inputs, outputs, sample = build(name, vocab)
    batch = torch.export.Dim("batch", min=1, max=64)
    sequence = torch.export.Dim("sequence", min=2, max=POSITIONS - 1)
    shapes = {n: {0: batch, 1: sequence} for n in inputs}
    program = torch.onnx.export(model, sample, input_names=inputs, output_names=outputs, dynamic_shapes=shapes, dynamo=True)
    program.save(str(out))
    opset = next(o.version for o in onnx.load(str(out), load_external_data=False).opset_import if o.domain in ("", "ai.onnx"))
    return f"torch {torch.__version__} dynamo exporter (torch.onnx.export(dynamo=True)), default opset {opset}"


def optimum_export(name: str, vocab: int, out: pathlib.Path) -> str:
    import onnx
    import optimum
    from optimum.exporters.onnx import main_export

    model, *_ = build(name, vocab)
    with tempfile.TemporaryDirectory() as tmp:
        saved, exported = pathlib.Path(tmp) / "model", pathlib.Path(tmp) / "onnx"
        model.save_pretrained(saved)
        main_export(str(saved), output=str(exported), task="feature-extraction", do_validation=False, library_name="transformers")
        shutil.copyfile(exported / "model.onnx", out)
    opset = next(o.version for o in onnx.load(str(out), load_external_data=False).opset_import if o.domain in ("", "ai.onnx"))
    return f"optimum {optimum.version.__version__} main_export (task feature-extraction), opset {opset}"


EXPORTERS = {"torchscript": torchscript, "dynamo": dynamo, "optimum": optimum_export}


def first_line(error: BaseException) -> str:
    """The exporter's error in one line; for torch's ConversionError, the exception its summary names."""
    text = re.sub(r"\x1b\[[0-9;]*m", "", f"{type(error).__name__}: {error}").strip()
    lines = [line.strip() for line in text.split("\n") if line.strip()]
    if "## Exception summary" in lines:
        lines = [lines[0].split(".")[0] + ": " + " ".join(lines[lines.index("## Exception summary") + 1:][:1])]
    return lines[0][:300]


def export(folder: pathlib.Path, tsv: pathlib.Path) -> None:
    import torch
    import transformers

    folder.mkdir(parents=True, exist_ok=True)
    words = vocabulary(tsv)
    (folder / "vocab.txt").write_text("\n".join(words) + "\n", encoding="utf-8")
    record_file = folder / "exports.json"
    records = json.loads(record_file.read_text()) if record_file.exists() else {}
    for arch in architectures(len(words)):
        for exporter, make in EXPORTERS.items():
            key = f"{arch}-{exporter}"
            out = folder / f"{key}.onnx"
            if key in records and (out.exists() or "error" in records[key]):
                continue
            tmp = out.with_suffix(".onnx.tmp")
            start = time.perf_counter()
            try:
                how = make(arch, len(words), tmp)
                tmp.replace(out)
                records[key] = {"architecture": arch, "exporter": exporter, "how": how, "bytes": out.stat().st_size}
            except Exception as error:  # noqa: BLE001 - an exporter's failure is a result to record
                tmp.unlink(missing_ok=True)
                records[key] = {"architecture": arch, "exporter": exporter, "error": first_line(error)}
                traceback.print_exc(limit=2)
            records[key]["seconds"] = round(time.perf_counter() - start, 1)
            print(f"{key}: {records[key].get('how') or 'FAILED ' + records[key]['error']} ({records[key]['seconds']} s)", flush=True)
            record_file.write_text(json.dumps(records, indent=2) + "\n")
    records["versions"] = {"transformers": transformers.__version__, "torch": torch.__version__, "vocabulary": len(words)}
    record_file.write_text(json.dumps(records, indent=2) + "\n")


def main() -> None:
    if len(sys.argv) == 4 and sys.argv[1] == "export":
        export(pathlib.Path(sys.argv[2]), pathlib.Path(sys.argv[3]))
    else:
        sys.exit(__doc__)


if __name__ == "__main__":
    main()
