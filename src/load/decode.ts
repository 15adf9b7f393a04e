/**
 * Wire bytes → IR. One function per onnx.proto message. Byte fields (raw tensor data above all)
 * stay views into the input buffer; fields the IR does not model are kept verbatim (see
 * `RawField`). Problems with the bytes surface as `WireError`s, which `model-bytes.ts` turns into
 * diagnostics.
 */
import type { Buffer } from 'node:buffer';
import type {
  Attribute,
  Dim,
  Graph,
  Model,
  Node,
  OpsetImport,
  Preserving,
  Shape,
  StringEntry,
  Tensor,
  TensorType,
  ValueInfo,
  ValueType,
} from '../ir/types.js';
import {
  AttributeProto,
  Dimension,
  GraphProto,
  ModelProto,
  NodeProto,
  OperatorSetIdProto,
  StringStringEntryProto,
  TensorProto,
  TensorShapeProto,
  TypeProto,
  TypeProtoTensor,
  ValueInfoProto,
  type MessageSchema,
} from './schema.js';
import { Reader, WireError, WireType } from './wire.js';

/**
 * Reads the fields of the message `r` is positioned in, up to `r.limit`. Modelled fields with an
 * expected wire type go to `onField`, which must consume the payload; everything else is appended
 * to `message.preserved` as the exact bytes it had. `observe`, if given, sees every tag first.
 */
function readFields<F extends string>(
  r: Reader,
  schema: MessageSchema<F>,
  message: Preserving,
  onField: (field: number, wireType: number) => void,
  observe?: (field: number, modelled: boolean) => void,
): void {
  while (!r.done) {
    const start = r.pos;
    const tag = r.tagNumber();
    const field = Math.floor(tag / 8);
    const wireType = tag & 7;
    const modelled = schema.acceptsTag.has(tag);
    observe?.(field, modelled);
    if (modelled) {
      onField(field, wireType);
      continue;
    }
    r.skip(wireType, field);
    const bytes = r.buf.subarray(start, r.pos);
    // A known field number with an unexpected wire type is as foreign as an unknown number.
    const known = schema.known.has(field) && !schema.accepts.has(field);
    (message.preserved ??= []).push(known ? { field, bytes } : { field, bytes, unknownIn: schema.name });
  }
}

/** Tracks how the top level of a model looked, to tell a truncated model from other bytes. */
export interface TopLevelTrace {
  /** True while every top-level field read so far was a ModelProto field with its proper wire type. */
  plausible: boolean;
  sawField: boolean;
}

/** A ModelProto as decoded, before the caller has checked that it has a graph. */
export type DecodedModel = Omit<Model, 'graph'> & { graph?: Graph };

/**
 * Decodes a ModelProto. Throws WireError for bytes that are not a valid protobuf; `trace` records
 * what the top level looked like up to the failure.
 */
export function decodeModelProto(buf: Buffer, trace: TopLevelTrace): DecodedModel {
  const r = new Reader(buf);
  const f = ModelProto.field;
  const model: DecodedModel = { opsetImports: [], metadata: [] };
  const observe = (field: number, modelled: boolean): void => {
    trace.plausible &&= modelled || ModelProto.known.has(field);
    trace.sawField = true;
  };
  readFields(
    r,
    ModelProto,
    model,
    (field) => {
      switch (field) {
        case f.ir_version:
          model.irVersion = r.varint();
          break;
        case f.producer_name:
          model.producerName = r.string();
          break;
        case f.producer_version:
          model.producerVersion = r.string();
          break;
        case f.domain:
          model.domain = r.string();
          break;
        case f.model_version:
          model.modelVersion = r.varint();
          break;
        case f.doc_string:
          model.docString = r.string();
          break;
        case f.graph:
          model.graph = r.nested(() => readGraph(r));
          break;
        case f.opset_import:
          model.opsetImports.push(r.nested(() => readOpsetImport(r)));
          break;
        case f.metadata_props:
          model.metadata.push(r.nested(() => readStringEntry(r)));
          break;
      }
    },
    observe,
  );
  return model;
}

function readGraph(r: Reader): Graph {
  const f = GraphProto.field;
  const graph: Graph = { nodes: [], initializers: [], inputs: [], outputs: [], valueInfo: [] };
  readFields(r, GraphProto, graph, (field) => {
    switch (field) {
      case f.node:
        graph.nodes.push(r.nested(() => readNode(r)));
        break;
      case f.name:
        graph.name = r.string();
        break;
      case f.initializer:
        graph.initializers.push(r.nested(() => readTensor(r)));
        break;
      case f.doc_string:
        graph.docString = r.string();
        break;
      case f.input:
        graph.inputs.push(r.nested(() => readValueInfo(r)));
        break;
      case f.output:
        graph.outputs.push(r.nested(() => readValueInfo(r)));
        break;
      case f.value_info:
        graph.valueInfo.push(r.nested(() => readValueInfo(r)));
        break;
    }
  });
  return graph;
}

function readNode(r: Reader): Node {
  const f = NodeProto.field;
  const node: Node = { inputs: [], outputs: [], opType: '', attributes: [] };
  readFields(r, NodeProto, node, (field) => {
    switch (field) {
      case f.input:
        node.inputs.push(r.string());
        break;
      case f.output:
        node.outputs.push(r.string());
        break;
      case f.name:
        node.name = r.string();
        break;
      case f.op_type:
        node.opType = r.string();
        break;
      case f.attribute:
        node.attributes.push(r.nested(() => readAttribute(r)));
        break;
      case f.doc_string:
        node.docString = r.string();
        break;
      case f.domain:
        node.domain = r.string();
        break;
    }
  });
  return node;
}

function readAttribute(r: Reader): Attribute {
  const f = AttributeProto.field;
  const attribute: Attribute = { name: '' };
  readFields(r, AttributeProto, attribute, (field, wireType) => {
    switch (field) {
      case f.name:
        attribute.name = r.string();
        break;
      case f.f:
        attribute.f = r.float();
        break;
      case f.i:
        attribute.i = r.int64();
        break;
      case f.s:
        attribute.s = r.bytes();
        break;
      case f.t:
        attribute.t = r.nested(() => readTensor(r));
        break;
      case f.g:
        attribute.g = r.nested(() => readGraph(r));
        break;
      case f.floats:
        readRepeated(r, wireType, WireType.I32, () => (attribute.floats ??= []).push(r.float()));
        break;
      case f.ints:
        readRepeated(r, wireType, WireType.VARINT, () => (attribute.ints ??= []).push(r.int64()));
        break;
      case f.strings:
        (attribute.strings ??= []).push(r.bytes());
        break;
      case f.tensors:
        (attribute.tensors ??= []).push(r.nested(() => readTensor(r)));
        break;
      case f.graphs:
        (attribute.graphs ??= []).push(r.nested(() => readGraph(r)));
        break;
      case f.doc_string:
        attribute.docString = r.string();
        break;
      case f.type:
        attribute.type = r.int32();
        break;
      case f.ref_attr_name:
        attribute.refAttrName = r.string();
        break;
    }
  });
  return attribute;
}

/** One value of a repeated scalar field, or a packed run of them. */
function readRepeated(r: Reader, wireType: number, scalarWireType: number, readOne: () => void): void {
  if (wireType === scalarWireType) {
    readOne();
    return;
  }
  r.nested(() => {
    while (!r.done) readOne();
  });
}

/**
 * Packed fixed-width values (float_data, double_data) arrive as byte runs; they are collected and
 * turned into one typed array at the end, a view into the input when a single aligned run.
 */
function fixedWidthArray<T>(runs: Uint8Array[], width: number, make: (buffer: ArrayBufferLike, offset: number, length: number) => T): T {
  const total = runs.reduce((n, run) => n + run.length, 0);
  const only = runs[0];
  if (runs.length === 1 && only !== undefined && only.byteOffset % width === 0) return make(only.buffer, only.byteOffset, total / width);
  const bytes = new Uint8Array(total);
  let offset = 0;
  for (const run of runs) {
    bytes.set(run, offset);
    offset += run.length;
  }
  return make(bytes.buffer, 0, total / width);
}

function readFixedRun(r: Reader, wireType: number, width: number, runs: Uint8Array[]): void {
  const start = r.pos;
  const run = wireType === WireType.LEN ? r.bytes() : (r.skip(wireType, 0), r.buf.subarray(start, r.pos));
  if (run.length % width !== 0) throw new WireError('malformed', `packed field at offset ${start} has a partial value`, start);
  runs.push(run);
}

function readTensor(r: Reader): Tensor {
  const f = TensorProto.field;
  const tensor: Tensor = { dims: [] };
  const floatRuns: Uint8Array[] = [];
  const doubleRuns: Uint8Array[] = [];
  let int32s: number[] | undefined;
  let int64s: bigint[] | undefined;
  let uint64s: bigint[] | undefined;
  readFields(r, TensorProto, tensor, (field, wireType) => {
    switch (field) {
      case f.dims:
        readRepeated(r, wireType, WireType.VARINT, () => tensor.dims.push(r.varint()));
        break;
      case f.data_type:
        tensor.dataType = r.int32();
        break;
      case f.float_data:
        readFixedRun(r, wireType, 4, floatRuns);
        break;
      case f.int32_data:
        readRepeated(r, wireType, WireType.VARINT, () => (int32s ??= []).push(r.int32()));
        break;
      case f.string_data:
        (tensor.stringData ??= []).push(r.bytes());
        break;
      case f.int64_data:
        readRepeated(r, wireType, WireType.VARINT, () => (int64s ??= []).push(r.int64()));
        break;
      case f.name:
        tensor.name = r.string();
        break;
      case f.raw_data:
        tensor.rawData = r.bytes();
        break;
      case f.double_data:
        readFixedRun(r, wireType, 8, doubleRuns);
        break;
      case f.uint64_data:
        readRepeated(r, wireType, WireType.VARINT, () => (uint64s ??= []).push(r.varint64()));
        break;
      case f.doc_string:
        tensor.docString = r.string();
        break;
      case f.external_data:
        (tensor.externalData ??= []).push(r.nested(() => readStringEntry(r)));
        break;
      case f.data_location:
        tensor.dataLocation = r.int32();
        break;
    }
  });
  if (floatRuns.length > 0) tensor.floatData = fixedWidthArray(floatRuns, 4, (b, o, n) => new Float32Array(b, o, n));
  if (doubleRuns.length > 0) tensor.doubleData = fixedWidthArray(doubleRuns, 8, (b, o, n) => new Float64Array(b, o, n));
  if (int32s) tensor.int32Data = Int32Array.from(int32s);
  if (int64s) tensor.int64Data = BigInt64Array.from(int64s);
  if (uint64s) tensor.uint64Data = BigUint64Array.from(uint64s);
  return tensor;
}

function readValueInfo(r: Reader): ValueInfo {
  const f = ValueInfoProto.field;
  const info: ValueInfo = { name: '' };
  readFields(r, ValueInfoProto, info, (field) => {
    switch (field) {
      case f.name:
        info.name = r.string();
        break;
      case f.type:
        info.type = r.nested(() => readType(r));
        break;
      case f.doc_string:
        info.docString = r.string();
        break;
    }
  });
  return info;
}

function readType(r: Reader): ValueType {
  const f = TypeProto.field;
  const type: ValueType = {};
  readFields(r, TypeProto, type, (field) => {
    switch (field) {
      case f.tensor_type:
        type.tensor = r.nested(() => readTensorType(r));
        break;
      case f.denotation:
        type.denotation = r.string();
        break;
    }
  });
  return type;
}

function readTensorType(r: Reader): TensorType {
  const f = TypeProtoTensor.field;
  const type: TensorType = {};
  readFields(r, TypeProtoTensor, type, (field) => {
    switch (field) {
      case f.elem_type:
        type.elemType = r.int32();
        break;
      case f.shape:
        type.shape = r.nested(() => readShape(r));
        break;
    }
  });
  return type;
}

function readShape(r: Reader): Shape {
  const shape: Shape = { dims: [] };
  readFields(r, TensorShapeProto, shape, () => shape.dims.push(r.nested(() => readDim(r))));
  return shape;
}

function readDim(r: Reader): Dim {
  const f = Dimension.field;
  const dim: Dim = {};
  readFields(r, Dimension, dim, (field) => {
    switch (field) {
      case f.dim_value:
        dim.value = r.varint();
        break;
      case f.dim_param:
        dim.param = r.string();
        break;
      case f.denotation:
        dim.denotation = r.string();
        break;
    }
  });
  return dim;
}

function readOpsetImport(r: Reader): OpsetImport {
  const f = OperatorSetIdProto.field;
  const opset: OpsetImport = {};
  readFields(r, OperatorSetIdProto, opset, (field) => {
    if (field === f.domain) opset.domain = r.string();
    else opset.version = r.varint();
  });
  return opset;
}

function readStringEntry(r: Reader): StringEntry {
  const f = StringStringEntryProto.field;
  const entry: StringEntry = {};
  readFields(r, StringStringEntryProto, entry, (field) => {
    if (field === f.key) entry.key = r.string();
    else entry.value = r.string();
  });
  return entry;
}
