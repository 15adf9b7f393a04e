/**
 * The graph IR every stage shares: plain data that mirrors onnx.proto message by message, so that a
 * model read from a file and written back loses nothing.
 *
 * Conventions:
 * - Field names are the camelCase form of onnx.proto's (`op_type` → `opType`).
 * - An optional property (`name?: string`) stands for a proto2 field that may be absent; absent and
 *   empty are different on the wire, and keeping them apart keeps re-encoding byte-identical.
 *   Repeated fields are arrays; an optional repeated field (`floats?`) that is undefined is empty.
 * - Integers that are int64 in onnx.proto are `number` where real values are small (dims, versions)
 *   and `bigint` where exporters do use the whole range (attribute ints such as Slice's INT64_MAX,
 *   `int64_data`).
 * - `preserved` holds, verbatim and in wire format, every field of the message that this IR does
 *   not model: parts of ONNX adapterc never touches (training_info, functions, sparse tensors, ...)
 *   and fields unknown to adapterc's copy of the schema. The encoder writes them back in field-number
 *   order among the modelled fields.
 */

/** ONNX TensorProto.DataType numbering. */
export const DataType = {
  UNDEFINED: 0,
  FLOAT: 1,
  UINT8: 2,
  INT8: 3,
  UINT16: 4,
  INT16: 5,
  INT32: 6,
  INT64: 7,
  STRING: 8,
  BOOL: 9,
  FLOAT16: 10,
  DOUBLE: 11,
  UINT32: 12,
  UINT64: 13,
  COMPLEX64: 14,
  COMPLEX128: 15,
  BFLOAT16: 16,
  FLOAT8E4M3FN: 17,
  FLOAT8E4M3FNUZ: 18,
  FLOAT8E5M2: 19,
  FLOAT8E5M2FNUZ: 20,
  UINT4: 21,
  INT4: 22,
  FLOAT4E2M1: 23,
} as const;

/** ONNX AttributeProto.AttributeType numbering. */
export const AttributeType = {
  UNDEFINED: 0,
  FLOAT: 1,
  INT: 2,
  STRING: 3,
  TENSOR: 4,
  GRAPH: 5,
  SPARSE_TENSOR: 11,
  TYPE_PROTO: 13,
  FLOATS: 6,
  INTS: 7,
  STRINGS: 8,
  TENSORS: 9,
  GRAPHS: 10,
  SPARSE_TENSORS: 12,
  TYPE_PROTOS: 14,
} as const;

/** ONNX TensorProto.DataLocation numbering. */
export const DataLocation = { DEFAULT: 0, EXTERNAL: 1 } as const;

/**
 * One field of a message kept as the exact bytes it had in the file (tag and payload), for fields
 * the IR does not model.
 */
export interface RawField {
  /** The protobuf field number, which decides where the field is written back. */
  readonly field: number;
  /** The complete encoded field: tag, then payload. A view into the file's bytes. */
  readonly bytes: Uint8Array;
  /**
   * Set when the field is not part of onnx.proto as adapterc knows it: the name of the message that
   * held it ("NodeProto"). Such fields are kept, and reported by `unknownFields`.
   */
  readonly unknownIn?: string;
}

/** Fields every message has besides its own. */
export interface Preserving {
  preserved?: RawField[];
}

export interface StringEntry extends Preserving {
  key?: string;
  value?: string;
}

export interface OpsetImport extends Preserving {
  /** '' (or 'ai.onnx') is the default ONNX domain. */
  domain?: string;
  version?: number;
}

export interface Model extends Preserving {
  irVersion?: number;
  opsetImports: OpsetImport[];
  producerName?: string;
  producerVersion?: string;
  domain?: string;
  modelVersion?: number;
  docString?: string;
  graph: Graph;
  /** metadata_props: free-form key/value pairs. */
  metadata: StringEntry[];
}

export interface Graph extends Preserving {
  name?: string;
  /** In file order, which is not always topological (see `topologicalOrder`). */
  nodes: Node[];
  initializers: Tensor[];
  docString?: string;
  inputs: ValueInfo[];
  outputs: ValueInfo[];
  /** Type and shape annotations of intermediate values. */
  valueInfo: ValueInfo[];
}

export interface Node extends Preserving {
  /** Value names; '' marks an omitted optional input or output. */
  inputs: string[];
  outputs: string[];
  name?: string;
  opType: string;
  /** undefined or '' is the default ONNX domain. */
  domain?: string;
  attributes: Attribute[];
  docString?: string;
}

/**
 * An attribute as stored: which of the value fields is set says what it holds (and `type` says so
 * too in models newer than IR version 1). Read it with the helpers in `attributes.ts`.
 */
export interface Attribute extends Preserving {
  name: string;
  f?: number;
  i?: bigint;
  /** Bytes, usually UTF-8 text. */
  s?: Uint8Array;
  t?: Tensor;
  g?: Graph;
  floats?: number[];
  ints?: bigint[];
  strings?: Uint8Array[];
  tensors?: Tensor[];
  graphs?: Graph[];
  docString?: string;
  /** An AttributeType value. */
  type?: number;
  refAttrName?: string;
}

export interface Tensor extends Preserving {
  dims: number[];
  /** A DataType value. */
  dataType?: number;
  name?: string;
  /**
   * The contents in ONNX's raw layout (little-endian, packed). Usually a view into the bytes the
   * model was read from; for tensors with external data, the bytes read from the side file.
   */
  rawData?: Uint8Array;
  /** The typed storage fields, used instead of rawData by some exporters (see `tensor.ts`). */
  floatData?: Float32Array;
  int32Data?: Int32Array;
  stringData?: Uint8Array[];
  int64Data?: BigInt64Array;
  doubleData?: Float64Array;
  uint64Data?: BigUint64Array;
  docString?: string;
  /** external_data: where the bytes live when dataLocation is EXTERNAL (keys location/offset/length/checksum). */
  externalData?: StringEntry[];
  /** A DataLocation value. */
  dataLocation?: number;
}

export interface ValueInfo extends Preserving {
  name: string;
  type?: ValueType;
  docString?: string;
}

/** TypeProto. Only tensor types are modelled; sequence, map, optional and sparse types are preserved. */
export interface ValueType extends Preserving {
  tensor?: TensorType;
  denotation?: string;
}

export interface TensorType extends Preserving {
  /** A DataType value. */
  elemType?: number;
  /** Absent when the rank is unknown; an empty `dims` is a scalar. */
  shape?: Shape;
}

export interface Shape extends Preserving {
  dims: Dim[];
}

/** One dimension: a number, a symbol such as 'batch', or neither (unknown). */
export interface Dim extends Preserving {
  value?: number;
  param?: string;
  denotation?: string;
}
