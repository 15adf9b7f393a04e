"""adapterc's AdapterHub export, loaded by AdapterHub (`adapters`): `adapterc export ARTIFACTS --adapterhub -o
FOLDER` is loaded with `model.load_adapter(FOLDER)` onto the same pretrained model, and its logits are compared
with those of adapterc's exported ONNX model (`adapterc export ARTIFACTS -o model.onnx`) run in onnxruntime, on
the same sentences.

Usage: python interop/adapterhub_export.py FOLDER MODEL_DIR MODEL_ONNX TSV OUT_JSON [--sentences 64]
"""

import argparse
import json
import os
import pathlib

os.environ.setdefault("HF_HUB_OFFLINE", "1")

import numpy as np  # noqa: E402
import onnxruntime  # noqa: E402
import torch  # noqa: E402
from adapters import AutoAdapterModel, DoubleSeqBnConfig  # noqa: E402

from common import batches  # noqa: E402


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("folder")
    ap.add_argument("model_dir")
    ap.add_argument("onnx")
    ap.add_argument("tsv")
    ap.add_argument("out")
    ap.add_argument("--sentences", type=int, default=64)
    args = ap.parse_args()

    model = AutoAdapterModel.from_pretrained(args.model_dir, local_files_only=True)
    # adapters 1.0.1 reads safetensors only when asked (as for the folders its own save_adapter(..., use_safetensors=True) writes).
    name = model.load_adapter(args.folder, set_active=True, use_safetensors=True)
    model.eval()
    # The config it loaded is AdapterHub's Houlsby configuration of the same size and activation.
    loaded = model.adapters_config.get(name).to_dict()
    houlsby = DoubleSeqBnConfig(reduction_factor=loaded["reduction_factor"], non_linearity=loaded["non_linearity"]).to_dict()
    adapter_parameters = sum(p.numel() for n, p in model.named_parameters() if f"adapters.{name}." in n)
    head_parameters = sum(p.numel() for n, p in model.named_parameters() if n.startswith(f"heads.{name}."))

    session = onnxruntime.InferenceSession(args.onnx, providers=["CPUExecutionProvider"])
    names = [i.name for i in session.get_inputs()]
    worst, largest, rows, agree = 0.0, 0.0, 0, 0
    for batch in batches(args.model_dir, args.tsv, args.sentences // 16, 16, 128):
        with torch.no_grad():
            theirs = model(**{k: torch.from_numpy(v) for k, v in batch.items() if k != "labels"}).logits.numpy()
        ours = session.run(None, {n: batch[n] for n in names})[0]
        worst = max(worst, float(np.abs(ours - theirs).max()))
        largest = max(largest, float(np.abs(theirs).max()))
        agree += int((ours.argmax(-1) == theirs.argmax(-1)).sum())
        rows += len(theirs)
    result = {
        "adapter": name,
        "config": {k: loaded[k] for k in ("reduction_factor", "non_linearity", "mh_adapter", "output_adapter", "original_ln_before", "original_ln_after", "residual_before_ln", "is_parallel", "scaling")},
        "config_is_double_seq_bn": loaded == houlsby,
        "adapter_parameters": adapter_parameters,
        "head_parameters": head_parameters,
        "sentences": rows,
        "logits_max_abs_diff": worst,
        "logits_max_abs": largest,
        "same_predictions": agree,
    }
    pathlib.Path(args.out).write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    onnxruntime.set_default_logger_severity(3)
    main()
