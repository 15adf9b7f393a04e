/**
 * Reads ONNX Runtime's training checkpoint (see `schema.ts`). Every offset is checked against the
 * buffer, so damaged or foreign bytes give an ADP3107 error rather than garbage or a crash.
 *
 * From bytes in memory (`decodeCheckpoint`), tensor data is not copied: `rawData` is a view into
 * the input. From a file (`readCheckpoint`), the structure is read a page at a time and large
 * tensors stay in the file, deferred like a model's weights (`src/load/deferred.ts`): `export`
 * compares and copies a BERT's worth of them without holding them in memory.
 */
import { Buffer, isUtf8 } from 'node:buffer';
import { closeSync, fstatSync, openSync, readSync } from 'node:fs';
import { AdapterError, diagnostic } from '../../diagnostics/index.js';
import type { Tensor } from '../../ir/index.js';
import { deferTensorData, type SourceFile } from '../../load/deferred.js';
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

/** Where a reader's bytes come from; positions are checked against `length` before any call. */
interface ByteSource {
  readonly length: number;
  /** `size` bytes from `pos`. */
  at(pos: number, size: number): Uint8Array;
  /** Sets `tensor.rawData` to the `length` bytes at `pos`: a view, a copy, or deferred to a file. */
  setTensorData(tensor: Tensor, pos: number, length: number): void;
}

/** All bytes in memory; tensor data are views into them. */
function memorySource(bytes: Uint8Array): ByteSource {
  return {
    length: bytes.length,
    at: (pos, size) => bytes.subarray(pos, pos + size),
    setTensorData: (tensor, pos, length) => {
      tensor.rawData = bytes.subarray(pos, pos + length);
    },
  };
}

const PAGE = 64 * 1024;

/**
 * A file read a page at a time, on demand (FlatBuffers tables, names and dims are small and
 * scattered between the tensor data); tensor data from `deferFrom` bytes up stay in the file.
 */
class FileSource implements ByteSource {
  private readonly pages = new Map<number, Uint8Array>();

  constructor(
    private readonly fd: number,
    private readonly file: SourceFile,
    private readonly deferFrom: number,
  ) {}

  get length(): number {
    return this.file.size;
  }

  private page(index: number): Uint8Array {
    let page = this.pages.get(index);
    if (page === undefined) {
      page = new Uint8Array(Math.min(PAGE, this.file.size - index * PAGE));
      let done = 0;
      while (done < page.length) {
        const n = readSync(this.fd, page, done, page.length - done, index * PAGE + done);
        if (n === 0) throw new Malformed(`the file ended at byte ${index * PAGE + done} while being read`);
        done += n;
      }
      this.pages.set(index, page);
    }
    return page;
  }

  at(pos: number, size: number): Uint8Array {
    const first = Math.floor(pos / PAGE);
    if (Math.floor((pos + size - 1) / PAGE) === first || size === 0) return this.page(first).subarray(pos - first * PAGE, pos - first * PAGE + size);
    const out = new Uint8Array(size);
    for (let done = 0; done < size; ) {
      const index = Math.floor((pos + done) / PAGE);
      const from = pos + done - index * PAGE;
      const chunk = this.page(index).subarray(from, Math.min(PAGE, from + size - done));
      out.set(chunk, done);
      done += chunk.length;
    }
    return out;
  }

  setTensorData(tensor: Tensor, pos: number, length: number): void {
    if (length >= this.deferFrom) deferTensorData(tensor, { file: this.file, offset: pos, length });
    else tensor.rawData = this.at(pos, length).slice();
  }
}

/** Bounds-checked little-endian reads of FlatBuffers structures. */
class FlatReader {
  constructor(readonly source: ByteSource) {}

  private check(pos: number, size: number, what: string): void {
    if (!Number.isInteger(pos) || pos < 0 || pos + size > this.source.length) {
      throw new Malformed(`${what} at byte ${pos} lies outside the file`);
    }
  }

  private view(pos: number, size: number, what: string): DataView {
    this.check(pos, size, what);
    const b = this.source.at(pos, size);
    return new DataView(b.buffer, b.byteOffset, size);
  }

  u8(pos: number): number {
    return this.view(pos, 1, 'a byte').getUint8(0);
  }
  u16(pos: number): number {
    return this.view(pos, 2, 'a 16-bit value').getUint16(0, true);
  }
  i32(pos: number): number {
    return this.view(pos, 4, 'a 32-bit value').getInt32(0, true);
  }
  u32(pos: number): number {
    return this.view(pos, 4, 'a 32-bit value').getUint32(0, true);
  }
  i64(pos: number): bigint {
    return this.view(pos, 8, 'a 64-bit value').getBigInt64(0, true);
  }
  f32(pos: number): number {
    return this.view(pos, 4, 'a float').getFloat32(0, true);
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
    const bytes = this.source.at(start, length);
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
  /** Sets `tensor.rawData` from the [ubyte] vector in `slot`, if present (see `ByteSource`). */
  tensorData(slot: number, name: string, tensor: Tensor): void {
    const pos = this.field(slot);
    if (pos === undefined) return;
    const { start, length } = this.r.vector(pos, 1, `${this.what}.${name}`);
    this.r.source.setTensorData(tensor, start, length);
  }
}

/**
 * Decodes a checkpoint. `file` names it in messages. Throws an AdapterError (ADP3107) for bytes
 * that are not a version-2 ONNX Runtime checkpoint, naming what is wrong.
 */
export function decodeCheckpoint(bytes: Uint8Array, file = 'checkpoint'): Checkpoint {
  return reported(file, () => read(memorySource(bytes)));
}

/**
 * Reads the checkpoint file at `path`, leaving tensor data of `deferFrom` bytes or more in the
 * file (see `FileSource`). Same ADP3107 errors as `decodeCheckpoint`; a file that cannot be opened
 * throws the file system's error.
 */
export function readCheckpoint(path: string, deferFrom: number): Checkpoint {
  const fd = openSync(path, 'r');
  try {
    const { size, mtimeMs } = fstatSync(fd);
    return reported(path, () => read(new FileSource(fd, { path, size, mtimeMs }, deferFrom)));
  } finally {
    closeSync(fd);
  }
}

function reported(file: string, decode: () => Checkpoint): Checkpoint {
  try {
    return decode();
  } catch (error) {
    if (!(error instanceof Malformed)) throw error;
    throw new AdapterError([
      diagnostic('ADP3107', { file, reason: error.message }, { file }, 'pass the checkpoint file written by adapterc or by onnxruntime-training'),
    ]);
  }
}

function read(source: ByteSource): Checkpoint {
  if (source.length < 8) throw new Malformed(`it has only ${source.length} bytes`);
  const identifier = Buffer.from(source.at(4, 4)).toString('latin1');
  if (identifier !== FILE_IDENTIFIER) throw new Malformed(`its file identifier is not '${FILE_IDENTIFIER}'`);
  const r = new FlatReader(source);
  const root = r.table(0, 'Checkpoint');
  const version = root.int32(CheckpointSlot.version, 0);
  if (version !== CHECKPOINT_VERSION) throw new Malformed(`its version is ${version}, and ONNX Runtime 1.19 reads version ${CHECKPOINT_VERSION} only`);

  const module = root.table(CheckpointSlot.moduleState, 'ModuleState');
  if (module === undefined) throw new Malformed('it has no module state');
  const nominal = module.bool(ModuleStateSlot.isNominalState);
  const tensors = (slot: number, name: string): Tensor[] => {
    const list = module.tables(slot, name);
    if (list === undefined) throw new Malformed(`its module state has no ${name} vector`);
    return list.map((t) => readTensor(t));
  };
  const trainable = tensors(ModuleStateSlot.requiresGradParams, 'requires_grad_params');
  const frozen = tensors(ModuleStateSlot.frozenParams, 'frozen_params');

  let optimizer: OptimizerState | undefined;
  const ignoredOptimizerGroups: string[] = [];
  for (const group of root.tables(CheckpointSlot.optimizerGroups, 'OptimizerGroup') ?? []) {
    const name = group.string(OptimizerGroupSlot.groupName, 'group_name') ?? '';
    if (name === OPTIMIZER_GROUP && optimizer === undefined) optimizer = readOptimizerGroup(group);
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

function readTensor(t: Table): Tensor {
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
  t.tensorData(TensorSlot.rawData, 'raw_data', tensor);
  const docString = t.string(TensorSlot.docString, 'doc_string');
  if (docString !== undefined) tensor.docString = docString;
  return tensor;
}

function readOptimizerGroup(group: Table): OptimizerState {
  const moments = new Map<string, MomentPair>();
  for (const state of group.tables(OptimizerGroupSlot.optimizerStates, 'ParameterOptimizerState') ?? []) {
    const param = state.string(ParameterOptimizerStateSlot.paramName, 'param_name');
    if (param === undefined) throw new Malformed('a parameter optimizer state has no param_name');
    const found = new Map<string, Float32Array>();
    for (const m of state.tables(ParameterOptimizerStateSlot.momentums, 'momentums') ?? []) {
      const tensor = readTensor(m);
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
