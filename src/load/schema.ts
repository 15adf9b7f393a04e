/**
 * The parts of onnx.proto (as of ONNX 1.17) the codec needs: for every message, the fields the IR
 * models with the wire types accepted for them, and the numbers of the fields it keeps verbatim.
 * A field number in neither list is unknown to adapterc; it is kept too, but reported.
 *
 * https://github.com/onnx/onnx/blob/main/onnx/onnx.proto
 */
import { WireType } from './wire.js';

const { VARINT, I64, LEN, I32 } = WireType;

export interface MessageSchema<F extends string> {
  readonly name: string;
  /** Field numbers of the modelled fields, by their onnx.proto name. */
  readonly field: Readonly<Record<F, number>>;
  /** For each modelled field number, the wire types the decoder reads; anything else is kept verbatim. */
  readonly accepts: ReadonlyMap<number, readonly number[]>;
  /** Every field number onnx.proto defines for this message, modelled or not. */
  readonly known: ReadonlySet<number>;
  /** The tags (field number * 8 + wire type) of `accepts`: what the decoder reads, looked up once per field. */
  readonly acceptsTag: ReadonlySet<number>;
}

function schema<F extends string>(
  name: string,
  modelled: Record<F, readonly [number, ...number[]]>,
  keptVerbatim: Record<string, number> = {},
): MessageSchema<F> {
  const field = {} as Record<F, number>;
  const accepts = new Map<number, readonly number[]>();
  for (const [key, [number, ...wireTypes]] of Object.entries(modelled) as [F, readonly [number, ...number[]]][]) {
    field[key] = number;
    accepts.set(number, wireTypes);
  }
  const known = new Set([...accepts.keys(), ...Object.values(keptVerbatim)]);
  const acceptsTag = new Set([...accepts].flatMap(([number, wireTypes]) => wireTypes.map((wireType) => number * 8 + wireType)));
  return { name, field, accepts, known, acceptsTag };
}

// Repeated scalars may arrive packed (one LEN field) or unpacked (one field per value), whatever
// onnx.proto says, so the decoder accepts both.
export const ModelProto = schema(
  'ModelProto',
  {
    ir_version: [1, VARINT],
    producer_name: [2, LEN],
    producer_version: [3, LEN],
    domain: [4, LEN],
    model_version: [5, VARINT],
    doc_string: [6, LEN],
    graph: [7, LEN],
    opset_import: [8, LEN],
    metadata_props: [14, LEN],
  },
  { training_info: 20, functions: 25 },
);

export const GraphProto = schema(
  'GraphProto',
  {
    node: [1, LEN],
    name: [2, LEN],
    initializer: [5, LEN],
    doc_string: [10, LEN],
    input: [11, LEN],
    output: [12, LEN],
    value_info: [13, LEN],
  },
  { quantization_annotation: 14, sparse_initializer: 15, metadata_props: 16 },
);

export const NodeProto = schema(
  'NodeProto',
  {
    input: [1, LEN],
    output: [2, LEN],
    name: [3, LEN],
    op_type: [4, LEN],
    attribute: [5, LEN],
    doc_string: [6, LEN],
    domain: [7, LEN],
  },
  { overload: 8, metadata_props: 9 },
);

export const AttributeProto = schema(
  'AttributeProto',
  {
    name: [1, LEN],
    f: [2, I32],
    i: [3, VARINT],
    s: [4, LEN],
    t: [5, LEN],
    g: [6, LEN],
    floats: [7, I32, LEN],
    ints: [8, VARINT, LEN],
    strings: [9, LEN],
    tensors: [10, LEN],
    graphs: [11, LEN],
    doc_string: [13, LEN],
    type: [20, VARINT],
    ref_attr_name: [21, LEN],
  },
  { tp: 14, type_protos: 15, sparse_tensor: 22, sparse_tensors: 23 },
);

export const TensorProto = schema(
  'TensorProto',
  {
    dims: [1, VARINT, LEN],
    data_type: [2, VARINT],
    float_data: [4, LEN, I32],
    int32_data: [5, LEN, VARINT],
    string_data: [6, LEN],
    int64_data: [7, LEN, VARINT],
    name: [8, LEN],
    raw_data: [9, LEN],
    double_data: [10, LEN, I64],
    uint64_data: [11, LEN, VARINT],
    doc_string: [12, LEN],
    external_data: [13, LEN],
    data_location: [14, VARINT],
  },
  { segment: 3, metadata_props: 16 },
);

export const ValueInfoProto = schema('ValueInfoProto', { name: [1, LEN], type: [2, LEN], doc_string: [3, LEN] }, { metadata_props: 4 });

export const TypeProto = schema(
  'TypeProto',
  { tensor_type: [1, LEN], denotation: [6, LEN] },
  { sequence_type: 4, map_type: 5, opaque_type: 7, sparse_tensor_type: 8, optional_type: 9 },
);

export const TypeProtoTensor = schema('TypeProto.Tensor', { elem_type: [1, VARINT], shape: [2, LEN] });

export const TensorShapeProto = schema('TensorShapeProto', { dim: [1, LEN] });

export const Dimension = schema('TensorShapeProto.Dimension', { dim_value: [1, VARINT], dim_param: [2, LEN], denotation: [3, LEN] });

export const OperatorSetIdProto = schema('OperatorSetIdProto', { domain: [1, LEN], version: [2, VARINT] });

export const StringStringEntryProto = schema('StringStringEntryProto', { key: [1, LEN], value: [2, LEN] });
