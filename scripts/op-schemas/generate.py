"""Writes src/target/op-schemas.data.ts: for every operator version adapterc may meet, which formal
inputs and outputs carry which type constraint (T, T1, Tind, ...) and the types each constraint
allows, in ONNX Runtime's names for element types (float, MLFloat16, int64_t, ...).

Sources, all pinned in requirements.txt (run this with run.sh):
- ai.onnx: the `onnx` package's operator schemas (onnx.defs), every version up to its opset;
- ONNX Runtime's own schemas (com.microsoft, and the LayerNormalization / SimplifiedLayerNormalization
  it registers in the default domain below opset 17): Netron's onnx-metadata.json, which Netron
  generates from onnxruntime's schema registry;
- the three com.microsoft training ops adapterc emits, in neither of those:
  ort-training-schemas.json beside this file.

Usage: scripts/op-schemas/run.sh [--check]   (--check: exit 1 if the committed file differs)
"""

import json
import pathlib
import sys

import netron
import onnx
from onnx import defs

HERE = pathlib.Path(__file__).resolve().parent
TARGET = HERE.parent.parent / "src" / "target" / "op-schemas.data.ts"

# ONNX type strings -> ONNX Runtime's C++ names, as its kernel registrations spell them.
ORT_NAMES = {
    "float": "float", "double": "double", "float16": "MLFloat16", "bfloat16": "BFloat16",
    "int8": "int8_t", "int16": "int16_t", "int32": "int32_t", "int64": "int64_t",
    "uint8": "uint8_t", "uint16": "uint16_t", "uint32": "uint32_t", "uint64": "uint64_t",
    "bool": "bool", "string": "string", "complex64": "complex64", "complex128": "complex128",
    "float8e4m3fn": "Float8E4M3FN", "float8e4m3fnuz": "Float8E4M3FNUZ",
    "float8e5m2": "Float8E5M2", "float8e5m2fnuz": "Float8E5M2FNUZ",
    "int4": "Int4x2", "uint4": "UInt4x2", "float4e2m1": "Float4E2M1x2",
}


def ort_type(type_str: str) -> str:
    """'tensor(float16)' -> 'MLFloat16'; 'seq(tensor(float))' -> 'seq(float)'; 'int64' -> 'int64_t'."""
    if type_str.startswith("seq(") and type_str.endswith(")"):
        return f"seq({ort_type(type_str[4:-1])})"
    if type_str.startswith("optional(") and type_str.endswith(")"):
        return f"optional({ort_type(type_str[9:-1])})"
    if type_str.startswith("tensor(") and type_str.endswith(")"):
        type_str = type_str[7:-1]
    # Types adapterc never meets (sparse tensors, maps, newer small floats) keep ONNX's spelling.
    return ORT_NAMES.get(type_str, type_str)


def formal(name: str, type_str: str, option: str, constraints: dict) -> str:
    """One formal parameter: 'name:' then its constraint name, or '=' and a fixed type; '?' optional, '*' variadic."""
    text = type_str if type_str in constraints else "=" + ort_type(type_str)
    return f"{name}:{text}" + {"single": "", "optional": "?", "variadic": "*"}[option]


def onnx_schemas():
    option = {
        defs.OpSchema.FormalParameterOption.Single: "single",
        defs.OpSchema.FormalParameterOption.Optional: "optional",
        defs.OpSchema.FormalParameterOption.Variadic: "variadic",
    }
    for s in defs.get_all_schemas_with_history():
        if s.domain not in ("", "ai.onnx"):
            continue
        constraints = {c.type_param_str: [ort_type(t) for t in c.allowed_type_strs] for c in s.type_constraints}
        yield (
            "", s.name, s.since_version,
            [formal(p.name, p.type_str, option[p.option], constraints) for p in s.inputs],
            [formal(p.name, p.type_str, option[p.option], constraints) for p in s.outputs],
            constraints,
        )


def metadata_schema(entry: dict):
    constraints = {c["type_param_str"]: [ort_type(t) for t in c["allowed_type_strs"]] for c in entry.get("type_constraints", [])}

    def params(items):
        return [formal(p["name"], p["type"], "variadic" if p.get("list") else p.get("option", "single"), constraints) for p in items]

    domain = "" if entry["module"] == "ai.onnx" else entry["module"]
    return (domain, entry["name"], entry["version"], params(entry.get("inputs", [])), params(entry.get("outputs", [])), constraints)


def ort_schemas(max_onnx_opset: int, onnx_names: dict):
    metadata = json.loads((pathlib.Path(netron.__file__).parent / "onnx-metadata.json").read_text())
    for entry in metadata:
        if entry["module"] == "com.microsoft":
            yield metadata_schema(entry)
        elif entry["module"] == "ai.onnx" and entry["version"] <= max_onnx_opset:
            # ONNX Runtime's default-domain schemas that onnx lacks: an op onnx does not have, or a
            # version below onnx's first (LayerNormalization 1, where onnx's starts at 17).
            first = onnx_names.get(entry["name"])
            if first is None or entry["version"] < first:
                yield metadata_schema(entry)
    training = json.loads((HERE / "ort-training-schemas.json").read_text())
    for entry in training["schemas"]:
        yield metadata_schema(entry)


def render(rows) -> str:
    lines = []
    for domain, name, since, inputs, outputs, constraints in rows:
        constraint_text = ";".join(f"{k}={','.join(v)}" for k, v in constraints.items())
        lines.append(f"  [{json.dumps(domain)}, {json.dumps(name)}, {since}, {json.dumps(' '.join(inputs))}, {json.dumps(' '.join(outputs))}, {json.dumps(constraint_text)}],")
    source = f"onnx {onnx.__version__} (ai.onnx up to opset {defs.onnx_opset_version()}); netron {netron.__version__}'s onnx-metadata.json (ONNX Runtime's schemas); scripts/op-schemas/ort-training-schemas.json"
    return f"""// Generated by scripts/op-schemas/generate.py: do not edit by hand.
/**
 * Operator schemas as (domain, op, since, inputs, outputs, constraints): each formal input or output
 * is its name, ':', and its type constraint's name or '=' and a fixed type; '?' marks an optional
 * one, '*' a variadic one. Constraints list the types they allow, in ONNX Runtime's names. Sources: {source}.
 */
export const OP_SCHEMAS_SOURCE = {json.dumps(source)};

export const OP_SCHEMA_ROWS: ReadonlyArray<readonly [string, string, number, string, string, string]> = [
{chr(10).join(lines)}
];
"""


def main() -> None:
    rows = list(onnx_schemas())
    first_version: dict = {}
    for _, name, since, *_ in rows:
        first_version[name] = min(since, first_version.get(name, since))
    rows += list(ort_schemas(defs.onnx_opset_version(), first_version))
    rows.sort(key=lambda r: (r[0], r[1], r[2]))
    seen = set()
    for r in rows:
        key = (r[0], r[1], r[2])
        if key in seen:
            raise SystemExit(f"op-schemas: two schemas for {key}")
        seen.add(key)
    text = render(rows)
    if "--check" in sys.argv[1:]:
        if TARGET.read_text() != text:
            print(f"{TARGET} is out of date: run scripts/op-schemas/run.sh", file=sys.stderr)
            sys.exit(1)
        print(f"{TARGET} is up to date ({len(rows)} schemas)")
        return
    TARGET.write_text(text)
    print(f"wrote {len(rows)} schemas to {TARGET}")


if __name__ == "__main__":
    main()
