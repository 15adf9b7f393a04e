/**
 * IR → wire bytes, the mirror of decode.ts. Fields are written in field-number order, the order
 * protobuf's own serializers use, with preserved fields slotted in by their number; so a model that
 * was written by protobuf (every exporter) and not changed re-encodes to the identical bytes.
 */
import { Buffer } from 'node:buffer';
import { DataLocation } from '../ir/types.js';
import type {
  Attribute,
  Dim,
  Graph,
  Model,
  Node,
  OpsetImport,
  Preserving,
  RawField,
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
} from './schema.js';
import { deferredRange, isSourceRange, type WritePart } from './deferred.js';
import { joinWriteParts, Writer } from './wire.js';

export interface EncodeOptions {
  /**
   * What to do with tensors whose data lives in a side file (data_location EXTERNAL):
   * 'reference' writes their external_data entries as they are and leaves the side file to the
   * caller; 'inline' writes their bytes (which must have been read, see `resolveExternalData`) into
   * the model as raw_data. Default 'reference'.
   */
  readonly externalData?: 'reference' | 'inline';
  /** New external_data entries for some tensors; used by `writeModel` to move data to a new side file. */
  readonly relocated?: ReadonlyMap<Tensor, readonly StringEntry[]>;
}

/**
 * The encoded model as parts in order: small fields copied, large byte fields by reference, and
 * the raw_data of deferred tensors (`deferred.ts`) as ranges of the file they are still in.
 */
export interface EncodedParts {
  readonly parts: readonly WritePart[];
  readonly length: number;
}

export function encodeModelParts(model: Model, options: EncodeOptions = {}): EncodedParts {
  const w = new Writer();
  writeModelProto(w, model, options);
  const parts = w.parts();
  return { parts, length: w.length };
}

/** For the messages with no preserved fields (nearly all): one function, not one per message. */
const NOTHING_PRESERVED = (): void => {};

/**
 * Returns a function that writes the preserved fields numbered below a given field number, each
 * once. Calling it before every modelled field interleaves the preserved fields in number order.
 */
function preservedBelow(w: Writer, message: Preserving): (field: number) => void {
  const preserved = message.preserved;
  if (preserved === undefined || preserved.length === 0) return NOTHING_PRESERVED;
  // A stable sort keeps repeated fields (several entries with one number) in their order.
  const sorted: RawField[] = [...preserved].sort((a, b) => a.field - b.field);
  let next = 0;
  return (field) => {
    while (next < sorted.length && sorted[next]!.field < field) w.raw(sorted[next++]!.bytes);
  };
}

const END = Number.POSITIVE_INFINITY;

function writeModelProto(w: Writer, m: Model, options: EncodeOptions): void {
  const f = ModelProto.field;
  const p = preservedBelow(w, m);
  p(f.ir_version);
  if (m.irVersion !== undefined) w.varintField(f.ir_version, m.irVersion);
  p(f.producer_name);
  if (m.producerName !== undefined) w.stringField(f.producer_name, m.producerName);
  p(f.producer_version);
  if (m.producerVersion !== undefined) w.stringField(f.producer_version, m.producerVersion);
  p(f.domain);
  if (m.domain !== undefined) w.stringField(f.domain, m.domain);
  p(f.model_version);
  if (m.modelVersion !== undefined) w.varintField(f.model_version, m.modelVersion);
  p(f.doc_string);
  if (m.docString !== undefined) w.stringField(f.doc_string, m.docString);
  p(f.graph);
  w.messageField(f.graph, (c) => writeGraph(c, m.graph, options));
  p(f.opset_import);
  for (const o of m.opsetImports) w.messageField(f.opset_import, (c) => writeOpsetImport(c, o));
  p(f.metadata_props);
  for (const e of m.metadata) w.messageField(f.metadata_props, (c) => writeStringEntry(c, e));
  p(END);
}

function writeGraph(w: Writer, g: Graph, options: EncodeOptions): void {
  const f = GraphProto.field;
  const p = preservedBelow(w, g);
  p(f.node);
  // Indexed loops over nodes and their names (see forEachGraph in ir/walk.ts): a model is encoded
  // once, mostly before V8 optimizes this, and an interpreted for-of allocates per element.
  for (let i = 0; i < g.nodes.length; i++) w.messageFieldOf(f.node, writeNode, g.nodes[i]!, options);
  p(f.name);
  if (g.name !== undefined) w.stringField(f.name, g.name);
  p(f.initializer);
  for (let i = 0; i < g.initializers.length; i++) w.messageFieldOf(f.initializer, writeTensor, g.initializers[i]!, options);
  p(f.doc_string);
  if (g.docString !== undefined) w.stringField(f.doc_string, g.docString);
  p(f.input);
  for (const v of g.inputs) w.messageField(f.input, (c) => writeValueInfo(c, v));
  p(f.output);
  for (const v of g.outputs) w.messageField(f.output, (c) => writeValueInfo(c, v));
  p(f.value_info);
  for (const v of g.valueInfo) w.messageField(f.value_info, (c) => writeValueInfo(c, v));
  p(END);
}

function writeNode(w: Writer, n: Node, options: EncodeOptions): void {
  const f = NodeProto.field;
  const p = preservedBelow(w, n);
  p(f.input);
  for (let i = 0; i < n.inputs.length; i++) w.stringField(f.input, n.inputs[i]!);
  p(f.output);
  for (let i = 0; i < n.outputs.length; i++) w.stringField(f.output, n.outputs[i]!);
  p(f.name);
  if (n.name !== undefined) w.stringField(f.name, n.name);
  p(f.op_type);
  w.stringField(f.op_type, n.opType);
  p(f.attribute);
  for (let i = 0; i < n.attributes.length; i++) w.messageFieldOf(f.attribute, writeAttribute, n.attributes[i]!, options);
  p(f.doc_string);
  if (n.docString !== undefined) w.stringField(f.doc_string, n.docString);
  p(f.domain);
  if (n.domain !== undefined) w.stringField(f.domain, n.domain);
  p(END);
}

function writeAttribute(w: Writer, a: Attribute, options: EncodeOptions): void {
  const f = AttributeProto.field;
  const p = preservedBelow(w, a);
  p(f.name);
  w.stringField(f.name, a.name);
  p(f.f);
  if (a.f !== undefined) w.floatField(f.f, a.f);
  p(f.i);
  if (a.i !== undefined) w.int64Field(f.i, a.i);
  p(f.s);
  if (a.s !== undefined) w.bytesField(f.s, a.s);
  p(f.t);
  const t = a.t;
  if (t !== undefined) w.messageField(f.t, (c) => writeTensor(c, t, options));
  p(f.g);
  const g = a.g;
  if (g !== undefined) w.messageField(f.g, (c) => writeGraph(c, g, options));
  // onnx.proto declares floats and ints unpacked (proto2 default), and protobuf writes them so.
  // Indexed loops, and none over an absent list (see writeGraph): this runs for every attribute.
  p(f.floats);
  const floats = a.floats;
  if (floats) for (let i = 0; i < floats.length; i++) w.floatField(f.floats, floats[i]!);
  p(f.ints);
  const ints = a.ints;
  if (ints) for (let i = 0; i < ints.length; i++) w.int64Field(f.ints, ints[i]!);
  p(f.strings);
  if (a.strings) for (const s of a.strings) w.bytesField(f.strings, s);
  p(f.tensors);
  if (a.tensors) for (const x of a.tensors) w.messageField(f.tensors, (c) => writeTensor(c, x, options));
  p(f.graphs);
  if (a.graphs) for (const x of a.graphs) w.messageField(f.graphs, (c) => writeGraph(c, x, options));
  p(f.doc_string);
  if (a.docString !== undefined) w.stringField(f.doc_string, a.docString);
  p(f.type);
  if (a.type !== undefined) w.varintField(f.type, a.type);
  p(f.ref_attr_name);
  if (a.refAttrName !== undefined) w.stringField(f.ref_attr_name, a.refAttrName);
  p(END);
}

function bytesOf(values: ArrayBufferView): Uint8Array {
  return new Uint8Array(values.buffer, values.byteOffset, values.byteLength);
}

/**
 * Where a tensor's contents go: inline (raw_data or the typed field it came in), or to a side file
 * described by external_data entries.
 */
interface TensorStorage {
  /** The raw_data: bytes, or where a deferred tensor's bytes still are (never read here). */
  readonly rawData?: WritePart;
  /** Whether the typed data fields (float_data, ...) are written. */
  readonly typed: boolean;
  readonly externalData?: readonly StringEntry[];
  readonly dataLocation?: number;
}

function tensorStorage(t: Tensor, options: EncodeOptions): TensorStorage {
  const relocated = options.relocated?.get(t);
  if (relocated !== undefined) return { typed: false, externalData: relocated, dataLocation: DataLocation.EXTERNAL };
  const raw = deferredRange(t) ?? t.rawData;
  if (t.dataLocation === DataLocation.EXTERNAL && options.externalData === 'inline') {
    if (raw === undefined) {
      throw new Error(`tensor '${t.name ?? ''}' has external data that was never read; call resolveExternalData first`);
    }
    return { typed: false, rawData: raw };
  }
  if (t.dataLocation === DataLocation.EXTERNAL) return { typed: false, externalData: t.externalData ?? [], dataLocation: t.dataLocation };
  return {
    typed: true,
    ...(raw === undefined ? {} : { rawData: raw }),
    ...(t.externalData === undefined ? {} : { externalData: t.externalData }),
    ...(t.dataLocation === undefined ? {} : { dataLocation: t.dataLocation }),
  };
}

function writeTensor(w: Writer, t: Tensor, options: EncodeOptions): void {
  const f = TensorProto.field;
  const storage = tensorStorage(t, options);
  const typed: Partial<Tensor> = storage.typed ? t : {};
  const p = preservedBelow(w, t);
  p(f.dims);
  for (const d of t.dims) w.varintField(f.dims, d);
  p(f.data_type);
  if (t.dataType !== undefined) w.varintField(f.data_type, t.dataType);
  // The typed data fields are declared [packed = true].
  p(f.float_data);
  if (typed.floatData !== undefined && typed.floatData.length > 0) w.bytesField(f.float_data, bytesOf(typed.floatData));
  p(f.int32_data);
  const int32s = typed.int32Data;
  if (int32s !== undefined && int32s.length > 0) w.messageField(f.int32_data, (c) => int32s.forEach((v) => c.signed(v)));
  p(f.string_data);
  for (const s of typed.stringData ?? []) w.bytesField(f.string_data, s);
  p(f.int64_data);
  const int64s = typed.int64Data;
  if (int64s !== undefined && int64s.length > 0) w.messageField(f.int64_data, (c) => int64s.forEach((v) => c.varint64(v)));
  p(f.name);
  if (t.name !== undefined) w.stringField(f.name, t.name);
  p(f.raw_data);
  if (storage.rawData !== undefined) {
    if (isSourceRange(storage.rawData)) w.rangeField(f.raw_data, storage.rawData);
    else w.bytesField(f.raw_data, storage.rawData);
  }
  p(f.double_data);
  if (typed.doubleData !== undefined && typed.doubleData.length > 0) w.bytesField(f.double_data, bytesOf(typed.doubleData));
  p(f.uint64_data);
  const uint64s = typed.uint64Data;
  if (uint64s !== undefined && uint64s.length > 0) w.messageField(f.uint64_data, (c) => uint64s.forEach((v) => c.varint64(v)));
  p(f.doc_string);
  if (t.docString !== undefined) w.stringField(f.doc_string, t.docString);
  p(f.external_data);
  for (const e of storage.externalData ?? []) w.messageField(f.external_data, (c) => writeStringEntry(c, e));
  p(f.data_location);
  if (storage.dataLocation !== undefined) w.varintField(f.data_location, storage.dataLocation);
  p(END);
}

function writeValueInfo(w: Writer, v: ValueInfo): void {
  const f = ValueInfoProto.field;
  const p = preservedBelow(w, v);
  p(f.name);
  w.stringField(f.name, v.name);
  p(f.type);
  const type = v.type;
  if (type !== undefined) w.messageField(f.type, (c) => writeType(c, type));
  p(f.doc_string);
  if (v.docString !== undefined) w.stringField(f.doc_string, v.docString);
  p(END);
}

function writeType(w: Writer, t: ValueType): void {
  const f = TypeProto.field;
  const p = preservedBelow(w, t);
  p(f.tensor_type);
  const tensor = t.tensor;
  if (tensor !== undefined) w.messageField(f.tensor_type, (c) => writeTensorType(c, tensor));
  p(f.denotation);
  if (t.denotation !== undefined) w.stringField(f.denotation, t.denotation);
  p(END);
}

function writeTensorType(w: Writer, t: TensorType): void {
  const f = TypeProtoTensor.field;
  const p = preservedBelow(w, t);
  p(f.elem_type);
  if (t.elemType !== undefined) w.varintField(f.elem_type, t.elemType);
  p(f.shape);
  const shape = t.shape;
  if (shape !== undefined) w.messageField(f.shape, (c) => writeShape(c, shape));
  p(END);
}

function writeShape(w: Writer, s: Shape): void {
  const p = preservedBelow(w, s);
  p(TensorShapeProto.field.dim);
  for (const d of s.dims) w.messageField(TensorShapeProto.field.dim, (c) => writeDim(c, d));
  p(END);
}

function writeDim(w: Writer, d: Dim): void {
  const f = Dimension.field;
  const p = preservedBelow(w, d);
  p(f.dim_value);
  if (d.value !== undefined) w.varintField(f.dim_value, d.value);
  p(f.dim_param);
  if (d.param !== undefined) w.stringField(f.dim_param, d.param);
  p(f.denotation);
  if (d.denotation !== undefined) w.stringField(f.denotation, d.denotation);
  p(END);
}

function writeOpsetImport(w: Writer, o: OpsetImport): void {
  const f = OperatorSetIdProto.field;
  const p = preservedBelow(w, o);
  p(f.domain);
  if (o.domain !== undefined) w.stringField(f.domain, o.domain);
  p(f.version);
  if (o.version !== undefined) w.varintField(f.version, o.version);
  p(END);
}

function writeStringEntry(w: Writer, e: StringEntry): void {
  const f = StringStringEntryProto.field;
  const p = preservedBelow(w, e);
  p(f.key);
  if (e.key !== undefined) w.stringField(f.key, e.key);
  p(f.value);
  if (e.value !== undefined) w.stringField(f.value, e.value);
  p(END);
}

/** Joins encoded parts into one buffer (one allocation of the final size; deferred tensors' bytes read). */
export function joinParts(encoded: EncodedParts): Buffer {
  return joinWriteParts(encoded.parts, encoded.length);
}
