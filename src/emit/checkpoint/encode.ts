/**
 * Writes ONNX Runtime's training checkpoint (FlatBuffers, `ODTC`, version 2) with the flatbuffers
 * package's Builder, table by table, following the slot layout in `schema.ts`.
 *
 * Memory: everything is checked and measured first, then the builder gets one buffer of (an upper
 * bound of) the final size, so it never grows. `encodeCheckpointParts` does not copy large tensors
 * at all: the builder reserves their place (a hole it never touches, so those pages of its buffer
 * are never even mapped) and the result is a list of parts, the builder's bytes between the holes
 * and the tensors' own bytes, for a gathering write. For BERT-base (440 MB of weights) that saves a
 * copy of the weights in time and in peak memory. `encodeCheckpoint` joins the parts into one array.
 *
 * Determinism: the same input gives the same bytes (no clocks, no randomness, no map iteration
 * whose order the caller does not control).
 */
import { Buffer } from 'node:buffer';
import { Builder } from 'flatbuffers';
import { AdapterError, diagnostic } from '../../diagnostics/index.js';
import { DataLocation, DataType, dataTypeBits, dataTypeName, type Tensor } from '../../ir/index.js';
import { hasRawData, isSourceRange, readRange, tensorSource, type WritePart } from '../../load/index.js';
import { computed } from '../../load/lazy.js';
import { joinWriteParts } from '../../load/wire.js';
import {
  CHECKPOINT_FIELDS,
  CHECKPOINT_VERSION,
  CheckpointSlot,
  FILE_IDENTIFIER,
  FIRST_MOMENT,
  MAX_CHECKPOINT_BYTES,
  MODULE_STATE_FIELDS,
  ModuleStateSlot,
  OPTIMIZER_GROUP,
  OPTIMIZER_GROUP_FIELDS,
  OptimizerGroupSlot,
  PARAMETER_OPTIMIZER_STATE_FIELDS,
  ParameterOptimizerStateSlot,
  PROPERTY_BAG_FIELDS,
  PROPERTY_FIELDS,
  PropertyBagSlot,
  PropertySlot,
  SECOND_MOMENT,
  TENSOR_FIELDS,
  TensorSlot,
} from './schema.js';
import type { CheckpointInput, MomentPair, OptimizerStateInput, PropertiesInput } from './types.js';

export interface EncodeCheckpointOptions {
  /**
   * The largest checkpoint to write, in bytes; bigger ones are refused with ADP3104. Default and
   * ceiling: 2^31 − 1, the FlatBuffers limit. Lower it only to test the refusal.
   */
  readonly maxBytes?: number;
}

/** A parameter ready to write: its name, dims, type and bytes (or where in a file they are), checked. */
interface Entry {
  readonly name: string;
  readonly dims: readonly number[];
  readonly dataType: number;
  readonly bytes: WritePart;
}

/** Moments ready to write, in trainable order; `undefined` bytes mean zeros of the parameter's size. */
interface MomentEntry {
  readonly param: Entry;
  readonly m0?: Uint8Array;
  readonly m1?: Uint8Array;
}

const INT64_MIN = -(2n ** 63n);
const INT64_MAX = 2n ** 63n - 1n;

/**
 * Encodes a checkpoint. Throws an AdapterError for: a parameter given twice (ADP3101), a trainable
 * parameter that is not float32 (ADP3102), a tensor that cannot be stored (ADP3103: no name, no
 * fixed-width type, unread external data), data whose size does not fit the type and shape
 * (ADP2017), a checkpoint over 2 GiB (ADP3104), missing or misshapen optimizer moments (ADP3105),
 * a property name used twice across the three kinds (ADP3106).
 */
export function encodeCheckpoint(input: CheckpointInput, options: EncodeCheckpointOptions = {}): Uint8Array {
  const { parts, size } = encodeCheckpointParts(input, options);
  if (parts.length === 1 && !isSourceRange(parts[0]!)) return parts[0]!;
  return joinWriteParts(parts, size);
}

/** A checkpoint as consecutive parts (to write with one gathering write), and where each tensor's bytes are. */
export interface CheckpointParts {
  /** Bytes, and file ranges for the large tensors whose bytes were left in their files (`deferred.ts`). */
  readonly parts: readonly WritePart[];
  /** The total length of the parts. */
  readonly size: number;
  /** Per parameter name (trainable and frozen, not optimizer moments): where its raw bytes start in the file, and their length. */
  readonly dataOffsets: ReadonlyMap<string, { readonly offset: number; readonly length: number }>;
}

/** Tensors at least this large are written by reference, not copied into the builder. */
const BY_REFERENCE = 64 * 1024;

/** Where the builder put a tensor's raw bytes (positions in its buffer) and, for a hole, the bytes that belong there. */
interface Placed {
  readonly name?: string;
  readonly position: number;
  readonly length: number;
  readonly hole?: WritePart;
}

/** As `encodeCheckpoint`, with large tensors' bytes left in place (see the module comment). Same bytes, same checks. */
export function encodeCheckpointParts(input: CheckpointInput, options: EncodeCheckpointOptions = {}): CheckpointParts {
  const names = new Set<string>();
  const trainable = input.trainable.map((t) => entry(t, names, true));
  const frozen = input.frozen.map((t) => entry(t, names, false));
  const moments = input.optimizer === undefined ? undefined : momentEntries(input.optimizer, trainable);
  const properties = propertyEntries(input.properties ?? {});

  const maxBytes = Math.min(options.maxBytes ?? MAX_CHECKPOINT_BYTES, MAX_CHECKPOINT_BYTES);
  const capacity = sizeBound(trainable, frozen, moments, properties);
  if (capacity > maxBytes) {
    throw new AdapterError([
      diagnostic('ADP3104', { size: capacity }, undefined, "compile with '--layout shared-base': its checkpoint holds only the trainable parameters"),
    ]);
  }

  const b = new Builder(capacity);
  const placed: Placed[] = [];
  // Children are written before their parents (FlatBuffers builds back to front).
  const moduleState = writeModuleState(b, trainable, frozen, placed);
  const groups = moments === undefined ? undefined : writeOptimizerGroups(b, input.optimizer!, moments, placed);
  const bag = writePropertyBag(b, properties);
  b.startObject(CHECKPOINT_FIELDS);
  b.addFieldInt32(CheckpointSlot.version, CHECKPOINT_VERSION, 0);
  b.addFieldOffset(CheckpointSlot.moduleState, moduleState, 0);
  if (groups !== undefined) b.addFieldOffset(CheckpointSlot.optimizerGroups, groups, 0);
  if (bag !== undefined) b.addFieldOffset(CheckpointSlot.propertyBag, bag, 0);
  b.finish(b.endObject(), FILE_IDENTIFIER);

  const bytes = b.asUint8Array();
  if (b.dataBuffer().capacity() !== capacity) {
    // Cannot happen unless sizeBound is wrong: the builder grew, doubling its buffer (and moving the holes).
    throw new Error(`internal error: the checkpoint size bound ${capacity} is below the real size ${bytes.length}`);
  }
  // The finished bytes are the end of the builder's buffer: positions become file offsets.
  const start = capacity - bytes.length;
  const dataOffsets = new Map<string, { offset: number; length: number }>();
  for (const p of placed) if (p.name !== undefined) dataOffsets.set(p.name, { offset: p.position - start, length: p.length });
  const parts: WritePart[] = [];
  let at = 0;
  for (const p of placed.filter((x) => x.hole !== undefined).sort((x, y) => x.position - y.position)) {
    const offset = p.position - start;
    if (offset > at) parts.push(bytes.subarray(at, offset));
    parts.push(p.hole!);
    at = offset + p.length;
  }
  if (at < bytes.length) parts.push(bytes.subarray(at));
  return { parts, size: bytes.length, dataOffsets };
}

/**
 * A `[ubyte]` vector of `bytes.length` bytes, as the builder's createByteVector writes it (same
 * alignment, same length prefix), but for large data only its place is reserved: the builder moves
 * its write position past it without touching the bytes, and `placed` remembers what goes there.
 * (`space` is the builder's write position; its JavaScript field is not in the type declarations.)
 */
function byteVector(b: Builder, source: WritePart, placed: Placed[], name?: string): number {
  if (source.length < BY_REFERENCE) {
    const bytes = isSourceRange(source) ? readRange(source) : computed(source);
    const offset = b.createByteVector(bytes);
    // The data starts right after the 4-byte length prefix that endVector just wrote.
    placed.push({ ...(name === undefined ? {} : { name }), position: b.dataBuffer().capacity() - offset + 4, length: bytes.length });
    return offset;
  }
  const builder = b as unknown as { space: number };
  b.startVector(1, source.length, 1);
  builder.space -= source.length;
  placed.push({ ...(name === undefined ? {} : { name }), position: builder.space, length: source.length, hole: source });
  return b.endVector();
}

// ---- checking the input ---------------------------------------------------------------------------

function cannotStore(name: string, reason: string): never {
  throw new AdapterError([diagnostic('ADP3103', { name, reason })]);
}

function entry(t: Tensor, names: Set<string>, trainable: boolean): Entry {
  const name = t.name ?? '';
  if (name === '') cannotStore('(unnamed tensor)', 'it has no name');
  if (names.has(name)) {
    throw new AdapterError([diagnostic('ADP3101', { name }, undefined, 'each parameter goes into the checkpoint once, trainable or frozen')]);
  }
  names.add(name);
  if (trainable && t.dataType !== DataType.FLOAT) {
    throw new AdapterError([
      diagnostic('ADP3102', { name, type: dataTypeName(t.dataType) }, undefined, 'keep trainable parameters float32 (convert them, or freeze this one)'),
    ]);
  }
  if (t.dataType === undefined || dataTypeBits(t.dataType) === undefined) {
    cannotStore(name, `its type ${dataTypeName(t.dataType)} has no fixed-width byte layout`);
  }
  for (const d of t.dims) if (!Number.isSafeInteger(d) || d < 0) cannotStore(name, `its shape has the dimension ${d}`);
  if (t.dataLocation === DataLocation.EXTERNAL && !hasRawData(t)) cannotStore(name, 'its external data has not been read');
  // tensorSource checks the size against the type and shape (ADP2017).
  return { name, dims: t.dims, dataType: t.dataType, bytes: tensorSource(t) };
}

function momentEntries(optimizer: OptimizerStateInput, trainable: readonly Entry[]): MomentEntry[] {
  const problem = (name: string, text: string, hint?: string): never => {
    throw new AdapterError([diagnostic('ADP3105', { name, problem: text }, undefined, hint)]);
  };
  const step = BigInt(optimizer.step);
  if (step < 0n || step > INT64_MAX) problem(OPTIMIZER_GROUP, `has the step ${step}, which is not a non-negative int64`);
  const given = optimizer.moments;
  if (given === 'zeros') return trainable.map((param) => ({ param }));
  const known = new Set(trainable.map((p) => p.name));
  for (const name of given.keys()) {
    if (!known.has(name)) problem(name, 'is given, but no trainable parameter has that name', 'give moments for trainable parameters only');
  }
  return trainable.map((param) => {
    const pair: MomentPair | undefined = given.get(param.name);
    if (pair === undefined) return problem(param.name, 'is missing', "give moments for every trainable parameter, or 'zeros'");
    const count = param.bytes.length / 4;
    for (const [key, m] of [['m0', pair.m0], ['m1', pair.m1]] as const) {
      if (m.length !== count) problem(param.name, `has ${m.length} values in ${key}, but the parameter has ${count}`);
    }
    return { param, m0: floatBytes(pair.m0), m1: floatBytes(pair.m1) };
  });
}

function floatBytes(values: Float32Array): Uint8Array {
  return new Uint8Array(values.buffer, values.byteOffset, values.byteLength);
}

interface PropertyEntries {
  readonly ints: readonly (readonly [string, bigint])[];
  readonly floats: readonly (readonly [string, number])[];
  readonly strings: readonly (readonly [string, string])[];
}

function propertyEntries(p: PropertiesInput): PropertyEntries {
  const seen = new Set<string>();
  const check = (name: string): void => {
    if (seen.has(name)) throw new AdapterError([diagnostic('ADP3106', { name }, undefined, 'give each property one kind: int, float or string')]);
    seen.add(name);
  };
  const ints = Object.entries(p.ints ?? {}).map(([name, value]) => {
    check(name);
    if (typeof value === 'number' && !Number.isSafeInteger(value)) throw new Error(`property '${name}': ${value} is not a safe integer`);
    const big = BigInt(value);
    if (big < INT64_MIN || big > INT64_MAX) throw new Error(`property '${name}': ${big} does not fit int64`);
    return [name, big] as const;
  });
  const floats = Object.entries(p.floats ?? {}).map(([name, value]) => (check(name), [name, value] as const));
  const strings = Object.entries(p.strings ?? {}).map(([name, value]) => (check(name), [name, value] as const));
  return { ints, floats, strings };
}

// ---- sizing ---------------------------------------------------------------------------------------

/**
 * An upper bound of the encoded size, rounded up to 8 (so the finished bytes start 8-aligned in
 * the builder's buffer). Per tensor: a table with its vtable (≤ 64 bytes with padding), the name
 * string (length prefix, NUL, padding), the dims vector (prefix, 8 per dim, alignment padding),
 * raw_data (prefix, bytes, padding) and one offset in the vector that holds the table.
 */
function sizeBound(trainable: readonly Entry[], frozen: readonly Entry[], moments: readonly MomentEntry[] | undefined, p: PropertyEntries): number {
  const text = (s: string): number => 12 + Buffer.byteLength(s, 'utf8');
  const tensor = (name: string, dims: number, bytes: number): number => 64 + text(name) + (16 + 8 * dims) + (8 + bytes) + 4;
  let size = 256; // root offset, identifier, Checkpoint and ModuleState tables, vector prefixes
  for (const e of [...trainable, ...frozen]) size += tensor(e.name, e.dims.length, e.bytes.length);
  if (moments !== undefined) {
    size += 128 + text(OPTIMIZER_GROUP); // group table, vector of groups, state vector prefix
    for (const m of moments) {
      const dims = m.param.dims.length;
      const bytes = m.param.bytes.length;
      size += 64 + text(m.param.name) + 16 + tensor(FIRST_MOMENT, dims, bytes) + tensor(SECOND_MOMENT, dims, bytes);
    }
  }
  size += 64; // PropertyBag table and vector prefixes
  for (const [name] of p.ints) size += 48 + text(name);
  for (const [name] of p.floats) size += 48 + text(name);
  for (const [name, value] of p.strings) size += 48 + text(name) + text(value);
  return Math.ceil(size / 8) * 8;
}

// ---- writing --------------------------------------------------------------------------------------

/** A vector of table offsets, element i pointing at offsets[i]. */
function offsetVector(b: Builder, offsets: readonly number[]): number {
  b.startVector(4, offsets.length, 4);
  for (let i = offsets.length - 1; i >= 0; i--) b.addOffset(offsets[i]!);
  return b.endVector();
}

function writeTensor(b: Builder, name: string, dims: readonly number[], dataType: number, bytes: WritePart, placed: Placed[], parameter: boolean): number {
  const nameOffset = b.createString(name);
  b.startVector(8, dims.length, 8);
  for (let i = dims.length - 1; i >= 0; i--) b.addInt64(BigInt(dims[i]!));
  const dimsOffset = b.endVector();
  const rawOffset = byteVector(b, bytes, placed, parameter ? name : undefined);
  b.startObject(TENSOR_FIELDS);
  b.addFieldOffset(TensorSlot.name, nameOffset, 0);
  b.addFieldOffset(TensorSlot.dims, dimsOffset, 0);
  // data_type is written even if 0 (UNDEFINED never reaches here), so readers see it explicitly.
  b.addFieldInt32(TensorSlot.dataType, dataType, -1);
  b.addFieldOffset(TensorSlot.rawData, rawOffset, 0);
  return b.endObject();
}

function writeModuleState(b: Builder, trainable: readonly Entry[], frozen: readonly Entry[], placed: Placed[]): number {
  const tensors = (list: readonly Entry[]): number => offsetVector(b, list.map((e) => writeTensor(b, e.name, e.dims, e.dataType, e.bytes, placed, true)));
  const requiresGrad = tensors(trainable);
  const frozenParams = tensors(frozen);
  b.startObject(MODULE_STATE_FIELDS);
  // Both vectors are always present: the runtime refuses a checkpoint without frozen_params.
  b.addFieldOffset(ModuleStateSlot.requiresGradParams, requiresGrad, -1);
  b.addFieldOffset(ModuleStateSlot.frozenParams, frozenParams, -1);
  return b.endObject();
}

function writeOptimizerGroups(b: Builder, optimizer: OptimizerStateInput, moments: readonly MomentEntry[], placed: Placed[]): number {
  // Zero moments share one zero-filled source, as large as the largest parameter.
  const largest = moments.reduce((n, m) => (m.m0 === undefined ? Math.max(n, m.param.bytes.length) : n), 0);
  const zeros = new Uint8Array(largest);
  const states = moments.map((m) => {
    const size = m.param.bytes.length;
    const nameOffset = b.createString(m.param.name);
    const first = writeTensor(b, FIRST_MOMENT, m.param.dims, DataType.FLOAT, m.m0 ?? zeros.subarray(0, size), placed, false);
    const second = writeTensor(b, SECOND_MOMENT, m.param.dims, DataType.FLOAT, m.m1 ?? zeros.subarray(0, size), placed, false);
    const momentums = offsetVector(b, [first, second]);
    b.startObject(PARAMETER_OPTIMIZER_STATE_FIELDS);
    b.addFieldOffset(ParameterOptimizerStateSlot.paramName, nameOffset, 0);
    b.addFieldOffset(ParameterOptimizerStateSlot.momentums, momentums, 0);
    return b.endObject();
  });
  const statesOffset = offsetVector(b, states);
  const groupName = b.createString(OPTIMIZER_GROUP);
  b.startObject(OPTIMIZER_GROUP_FIELDS);
  b.addFieldOffset(OptimizerGroupSlot.groupName, groupName, 0);
  b.addFieldInt64(OptimizerGroupSlot.step, BigInt(optimizer.step), 0n);
  b.addFieldFloat32(OptimizerGroupSlot.initialLearningRate, optimizer.learningRate, 0);
  b.addFieldOffset(OptimizerGroupSlot.optimizerStates, statesOffset, 0);
  const group = b.endObject();
  return offsetVector(b, [group]);
}

function writePropertyBag(b: Builder, p: PropertyEntries): number | undefined {
  if (p.ints.length + p.floats.length + p.strings.length === 0) return undefined;
  // Strings must be created outside a table, so each name (and string value) is written first.
  const table = (name: string, addValue: () => void): number => {
    const nameOffset = b.createString(name);
    b.startObject(PROPERTY_FIELDS);
    b.addFieldOffset(PropertySlot.name, nameOffset, 0);
    addValue();
    return b.endObject();
  };
  const ints = p.ints.map(([name, value]) => table(name, () => b.addFieldInt64(PropertySlot.value, value, 0n)));
  const floats = p.floats.map(([name, value]) => table(name, () => b.addFieldFloat32(PropertySlot.value, value, 0)));
  const strings = p.strings.map(([name, value]) => {
    const valueOffset = b.createString(value);
    return table(name, () => b.addFieldOffset(PropertySlot.value, valueOffset, 0));
  });
  const intsOffset = offsetVector(b, ints);
  const floatsOffset = offsetVector(b, floats);
  const stringsOffset = offsetVector(b, strings);
  b.startObject(PROPERTY_BAG_FIELDS);
  b.addFieldOffset(PropertyBagSlot.ints, intsOffset, 0);
  b.addFieldOffset(PropertyBagSlot.floats, floatsOffset, 0);
  b.addFieldOffset(PropertyBagSlot.strings, stringsOffset, 0);
  return b.endObject();
}
