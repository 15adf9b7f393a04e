/**
 * Reads ONNX Runtime's training checkpoint (see `schema.ts`). Every offset is checked against the
 * buffer, so damaged or foreign bytes give an ADP3107 error rather than garbage or a crash. Tensor
 * data is not copied: `rawData` is a view into the input.
 */
import { Buffer, isUtf8 } from 'node:buffer';
import { AdapterError, diagnostic } from '../../diagnostics/index.js';
import type { Tensor } from '../../ir/index.js';
import {
  CHECKPOINT_VERSION,
  CheckpointSlot,
  FILE_IDENTIFIER,
  FIRST_MOMENT,
  ModuleStateSlot,
  OPTIMIZER_GROUP,
  OptimizerGroupSlot,
  ParameterOptimizerStateSlot,
  PropertyBagSlot,
  PropertySlot,
  SECOND_MOMENT,
  TensorSlot,
} from './schema.js';
import type { Checkpoint, MomentPair, OptimizerState, Properties } from './types.js';

/** Thrown inside the reader; `decodeCheckpoint` turns it into ADP3107. */
class Malformed extends Error {}

/** Bounds-checked little-endian reads of FlatBuffers structures. */
class FlatReader {
  private readonly view: DataView;

  constructor(readonly bytes: Uint8Array) {
    this.view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  }

  private check(pos: number, size: number, what: string): void {
    if (!Number.isInteger(pos) || pos < 0 || pos + size > this.bytes.length) {
      throw new Malformed(`${what} at byte ${pos} lies outside the file`);
    }
  }

  u8(pos: number): number {
    this.check(pos, 1, 'a byte');
    return this.view.getUint8(pos);
  }
  u16(pos: number): number {
    this.check(pos, 2, 'a 16-bit value');
    return this.view.getUint16(pos, true);
  }
  i32(pos: number): number {
    this.check(pos, 4, 'a 32-bit value');
    return this.view.getInt32(pos, true);
  }
  u32(pos: number): number {
    this.check(pos, 4, 'a 32-bit value');
    return this.view.getUint32(pos, true);
  }
  i64(pos: number): bigint {
    this.check(pos, 8, 'a 64-bit value');
    return this.view.getBigInt64(pos, true);
  }
  f32(pos: number): number {
    this.check(pos, 4, 'a float');
    return this.view.getFloat32(pos, true);
  }

  /** The table that the offset stored at `pos` points to. */
  table(pos: number, what: string): Table {
    const at = pos + this.u32(pos);
    const vtable = at - this.i32(at);
    const vtableSize = this.u16(vtable);
    if (vtableSize < 4 || vtableSize % 2 !== 0) throw new Malformed(`the ${what} table at byte ${at} has a damaged vtable`);
    this.check(vtable, vtableSize, `the vtable of the ${what} table`);
    this.check(at, this.u16(vtable + 2), `the ${what} table`);
    return new Table(this, at, vtable, vtableSize, what);
  }

  /** The vector that the offset stored at `pos` points to: where its elements start, and how many. */
  vector(pos: number, elementSize: number, what: string): { start: number; length: number } {
    const at = pos + this.u32(pos);
    const length = this.u32(at);
    this.check(at + 4, length * elementSize, `the ${what} vector`);
    return { start: at + 4, length };
  }

  string(pos: number, what: string): string {
    const { start, length } = this.vector(pos, 1, what);
    const bytes = this.bytes.subarray(start, start + length);
    if (!isUtf8(bytes)) throw new Malformed(`the ${what} at byte ${start} is not valid UTF-8`);
    return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('utf8');
  }
}

/** One table: reads a field by slot, or its default when the vtable leaves it out. */
class Table {
  constructor(
    private readonly r: FlatReader,
    private readonly at: number,
    private readonly vtable: number,
    private readonly vtableSize: number,
    readonly what: string,
  ) {}

  /** Where the field in `slot` is, or undefined when absent. */
  private field(slot: number): number | undefined {
    const entry = 4 + 2 * slot;
    if (entry >= this.vtableSize) return undefined;
    const offset = this.r.u16(this.vtable + entry);
    return offset === 0 ? undefined : this.at + offset;
  }

  int32(slot: number, fallback: number): number {
    const pos = this.field(slot);
    return pos === undefined ? fallback : this.r.i32(pos);
  }
  int64(slot: number, fallback: bigint): bigint {
    const pos = this.field(slot);
    return pos === undefined ? fallback : this.r.i64(pos);
  }
  float32(slot: number, fallback: number): number {
    const pos = this.field(slot);
    return pos === undefined ? fallback : this.r.f32(pos);
  }
  bool(slot: number): boolean {
    const pos = this.field(slot);
    return pos === undefined ? false : this.r.u8(pos) !== 0;
  }
  string(slot: number, name: string): string | undefined {
    const pos = this.field(slot);
    return pos === undefined ? undefined : this.r.string(pos, `${this.what}.${name}`);
  }
  tables(slot: number, name: string): Table[] | undefined {
    const pos = this.field(slot);
    if (pos === undefined) return undefined;
    const { start, length } = this.r.vector(pos, 4, `${this.what}.${name}`);
    return Array.from({ length }, (_, i) => this.r.table(start + 4 * i, name));
  }
  table(slot: number, name: string): Table | undefined {
    const pos = this.field(slot);
    return pos === undefined ? undefined : this.r.table(pos, name);
  }
  int64s(slot: number, name: string): bigint[] | undefined {
    const pos = this.field(slot);
    if (pos === undefined) return undefined;
    const { start, length } = this.r.vector(pos, 8, `${this.what}.${name}`);
    return Array.from({ length }, (_, i) => this.r.i64(start + 8 * i));
  }
  bytes(slot: number, name: string, source: Uint8Array): Uint8Array | undefined {
    const pos = this.field(slot);
    if (pos === undefined) return undefined;
    const { start, length } = this.r.vector(pos, 1, `${this.what}.${name}`);
    return source.subarray(start, start + length);
  }
}

/**
 * Decodes a checkpoint. `file` names it in messages. Throws an AdapterError (ADP3107) for bytes
 * that are not a version-2 ONNX Runtime checkpoint, naming what is wrong.
 */
export function decodeCheckpoint(bytes: Uint8Array, file = 'checkpoint'): Checkpoint {
  try {
    return read(bytes);
  } catch (error) {
    if (!(error instanceof Malformed)) throw error;
    throw new AdapterError([
      diagnostic('ADP3107', { file, reason: error.message }, { file }, 'pass the checkpoint file written by adapterc or by onnxruntime-training'),
    ]);
  }
}

function read(bytes: Uint8Array): Checkpoint {
  if (bytes.length < 8) throw new Malformed(`it has only ${bytes.length} bytes`);
  const identifier = Buffer.from(bytes.buffer, bytes.byteOffset + 4, 4).toString('latin1');
  if (identifier !== FILE_IDENTIFIER) throw new Malformed(`its file identifier is not '${FILE_IDENTIFIER}'`);
  const r = new FlatReader(bytes);
  const root = r.table(0, 'Checkpoint');
  const version = root.int32(CheckpointSlot.version, 0);
  if (version !== CHECKPOINT_VERSION) throw new Malformed(`its version is ${version}, and ONNX Runtime 1.19 reads version ${CHECKPOINT_VERSION} only`);

  const module = root.table(CheckpointSlot.moduleState, 'ModuleState');
  if (module === undefined) throw new Malformed('it has no module state');
  const nominal = module.bool(ModuleStateSlot.isNominalState);
  const tensors = (slot: number, name: string): Tensor[] => {
    const list = module.tables(slot, name);
    if (list === undefined) throw new Malformed(`its module state has no ${name} vector`);
    return list.map((t) => readTensor(t, bytes));
  };
  const trainable = tensors(ModuleStateSlot.requiresGradParams, 'requires_grad_params');
  const frozen = tensors(ModuleStateSlot.frozenParams, 'frozen_params');

  let optimizer: OptimizerState | undefined;
  const ignoredOptimizerGroups: string[] = [];
  for (const group of root.tables(CheckpointSlot.optimizerGroups, 'OptimizerGroup') ?? []) {
    const name = group.string(OptimizerGroupSlot.groupName, 'group_name') ?? '';
    if (name === OPTIMIZER_GROUP && optimizer === undefined) optimizer = readOptimizerGroup(group, bytes);
    else ignoredOptimizerGroups.push(name);
  }

  const bag = root.table(CheckpointSlot.propertyBag, 'PropertyBag');
  const properties = bag === undefined ? { ints: {}, floats: {}, strings: {} } : readProperties(bag);
  return {
    version,
    trainable,
    frozen,
    ...(optimizer === undefined ? {} : { optimizer }),
    ignoredOptimizerGroups,
    properties,
    nominal,
    externalData: module.bool(ModuleStateSlot.hasExternalData),
  };
}

function readTensor(t: Table, source: Uint8Array): Tensor {
  const name = t.string(TensorSlot.name, 'name');
  if (name === undefined) throw new Malformed('a tensor has no name');
  const dims = t.int64s(TensorSlot.dims, 'dims');
  if (dims === undefined) throw new Malformed(`tensor '${name}' has no dims`);
  const tensor: Tensor = {
    name,
    dims: dims.map((d) => {
      if (d < 0n || d > BigInt(Number.MAX_SAFE_INTEGER)) throw new Malformed(`tensor '${name}' has the dimension ${d}`);
      return Number(d);
    }),
    dataType: t.int32(TensorSlot.dataType, 0),
  };
  const raw = t.bytes(TensorSlot.rawData, 'raw_data', source);
  if (raw !== undefined) tensor.rawData = raw;
  const docString = t.string(TensorSlot.docString, 'doc_string');
  if (docString !== undefined) tensor.docString = docString;
  return tensor;
}

function readOptimizerGroup(group: Table, source: Uint8Array): OptimizerState {
  const moments = new Map<string, MomentPair>();
  for (const state of group.tables(OptimizerGroupSlot.optimizerStates, 'ParameterOptimizerState') ?? []) {
    const param = state.string(ParameterOptimizerStateSlot.paramName, 'param_name');
    if (param === undefined) throw new Malformed('a parameter optimizer state has no param_name');
    const found = new Map<string, Float32Array>();
    for (const m of state.tables(ParameterOptimizerStateSlot.momentums, 'momentums') ?? []) {
      const tensor = readTensor(m, source);
      found.set(tensor.name!, floatsOf(tensor.rawData ?? new Uint8Array(0)));
    }
    const m0 = found.get(FIRST_MOMENT);
    const m1 = found.get(SECOND_MOMENT);
    if (m0 === undefined || m1 === undefined) {
      throw new Malformed(`the optimizer state of '${param}' lacks '${m0 === undefined ? FIRST_MOMENT : SECOND_MOMENT}'`);
    }
    moments.set(param, { m0, m1 });
  }
  return {
    learningRate: group.float32(OptimizerGroupSlot.initialLearningRate, 0),
    step: group.int64(OptimizerGroupSlot.step, 0n),
    moments,
  };
}

/** Float32 values of raw bytes: a view when aligned, otherwise a copy. */
function floatsOf(bytes: Uint8Array): Float32Array {
  if (bytes.length % 4 !== 0) throw new Malformed(`a moment tensor has ${bytes.length} bytes, not a whole number of floats`);
  if (bytes.byteOffset % 4 === 0) return new Float32Array(bytes.buffer, bytes.byteOffset, bytes.length / 4);
  return new Float32Array(new Uint8Array(bytes).buffer);
}

function readProperties(bag: Table): Properties {
  const ints: Record<string, bigint> = {};
  const floats: Record<string, number> = {};
  const strings: Record<string, string> = {};
  const name = (p: Table): string => {
    const n = p.string(PropertySlot.name, 'name');
    if (n === undefined) throw new Malformed('a property has no name');
    return n;
  };
  for (const p of bag.tables(PropertyBagSlot.ints, 'IntProperty') ?? []) ints[name(p)] = p.int64(PropertySlot.value, 0n);
  for (const p of bag.tables(PropertyBagSlot.floats, 'FloatProperty') ?? []) floats[name(p)] = p.float32(PropertySlot.value, 0);
  for (const p of bag.tables(PropertyBagSlot.strings, 'StringProperty') ?? []) strings[name(p)] = p.string(PropertySlot.value, 'value') ?? '';
  return { ints, floats, strings };
}
