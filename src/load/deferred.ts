/**
 * Tensor bytes that stay in their file until something needs them. `compile` reads a model's
 * structure and its small tensors, but not the bytes of its large weights: the shape probe runs on
 * zeros, base.data is a kernel copy of the file, and the default layout's checkpoint streams them
 * from the file into place. Reading them into memory first cost BERT-large 0.45 s and 1.3 GB of
 * fresh memory for nothing.
 *
 * A deferred tensor is still a normal tensor: its `rawData` is a getter that reads the bytes the
 * first time anything asks (synchronously, from the file, checked unchanged), so code that does not
 * know about deferral gets the right bytes, only later. Writers that do know ask `deferredRange`
 * for the file range instead, which reads nothing.
 */
import { Buffer } from 'node:buffer';
import { closeSync, fstatSync, openSync, readSync, statSync } from 'node:fs';
import { AdapterError, diagnostic } from '../diagnostics/index.js';
import { rawByteLength } from '../ir/dtype.js';
import { elementCount, tensorBytes, tensorLabel } from '../ir/tensor.js';
import type { Tensor } from '../ir/types.js';
import { computed, lazyView, rawDataOnRead } from './lazy.js';

/** A file a model's bytes were read from, as it was then. */
export interface SourceFile {
  readonly path: string;
  readonly size: number;
  readonly mtimeMs: number;
}

/** Where some bytes are in one of the files a model was read from. */
export interface SourceRange {
  readonly file: SourceFile;
  readonly offset: number;
  readonly length: number;
}

/** Something to write: bytes in memory, or a range of a source file that the writer copies. */
export type WritePart = Uint8Array | SourceRange;

export function isSourceRange(part: WritePart): part is SourceRange {
  return !(part instanceof Uint8Array);
}

const deferred = new WeakMap<Tensor, SourceRange>();
let reads = 0;

/**
 * Makes `t.rawData` read `range` the first time it is read: into `into` (a view of exactly
 * `range.length` bytes, such as the skipped part of a sparse read), or into new memory. Setting
 * `rawData` replaces the bytes and ends the deferral.
 */
export function deferTensorData(t: Tensor, range: SourceRange, into?: Uint8Array): void {
  let bytes: Uint8Array | undefined;
  deferred.set(t, range);
  rawDataOnRead(
    t,
    () => {
      if (bytes === undefined) {
        reads++;
        const target = into ?? new Uint8Array(range.length);
        readRangeInto(range, target);
        bytes = target;
      }
      return bytes;
    },
    () => deferred.delete(t),
  );
}

/** The file range of a tensor whose bytes were deferred (read or not since), without reading them. */
export function deferredRange(t: Tensor): SourceRange | undefined {
  return deferred.get(t);
}

/** How many deferred tensors have had their bytes read through `rawData` in this process: for tests. */
export function deferredReads(): number {
  return reads;
}

/**
 * ADP2002: `file` changed after it was read (its bytes are no longer the tensors that were read).
 * Compile and export both read deferred bytes, so the message names neither.
 */
export function changedWhileReading(file: SourceFile): AdapterError {
  return new AdapterError([
    diagnostic('ADP2002', { file: file.path, reason: 'it changed while adapterc was using it' }, { file: file.path }, 'run the command again once the file is complete'),
  ]);
}

/** Throws ADP2002 unless the file still has the size and modification time it had when read. */
export function checkUnchanged(file: SourceFile, now: { size: number; mtimeMs: number }): void {
  if (now.size !== file.size || now.mtimeMs !== file.mtimeMs) throw changedWhileReading(file);
}

/** Reads `range` into `into`, synchronously; fails with ADP2002 if the file changed since it was read. */
export function readRangeInto(range: SourceRange, into: Uint8Array): void {
  let fd: number;
  try {
    fd = openSync(range.file.path, 'r');
  } catch {
    throw new AdapterError([diagnostic('ADP2002', { file: range.file.path, reason: 'it was removed while adapterc was using it' }, { file: range.file.path }, 'run the command again')]);
  }
  try {
    checkUnchanged(range.file, fstatSync(fd));
    let done = 0;
    while (done < range.length) {
      const n = readSync(fd, into, done, range.length - done, range.offset + done);
      if (n === 0) throw changedWhileReading(range.file);
      done += n;
    }
  } finally {
    closeSync(fd);
  }
}

/** The bytes of `range`, read now. */
export function readRange(range: SourceRange): Uint8Array {
  const bytes = new Uint8Array(range.length);
  readRangeInto(range, bytes);
  return bytes;
}

/**
 * A tensor's contents in raw_data layout, for writers that can copy from a file: the file range of
 * a deferred tensor (nothing is read), the bytes of a lazy one (not computed yet: see lazy.ts),
 * otherwise `tensorBytes`. Same size check (ADP2017) either way.
 */
export function tensorSource(t: Tensor): Uint8Array | SourceRange {
  const range = deferred.get(t);
  // A lazy tensor's bytes are handed out not yet computed: writers compute them (lazy.ts).
  if (range === undefined) return lazyView(t) ?? tensorBytes(t);
  const expected = rawByteLength(t.dataType, elementCount(t));
  if (expected !== undefined && range.length !== expected) {
    throw new AdapterError([diagnostic('ADP2017', { tensor: tensorLabel(t), found: range.length, expected })]);
  }
  return range;
}

/** Bytes compared or hashed per read: small enough to stay out of the way, large enough for few calls. */
const CHUNK = 4 * 1024 * 1024;

/**
 * Calls `use` with successive chunks of `part` until it returns false; a file range is read a chunk
 * at a time into one buffer, so the chunk is only valid during the call.
 */
export function forEachChunk(part: WritePart, use: (chunk: Uint8Array) => boolean | void): void {
  if (!isSourceRange(part)) {
    use(computed(part));
    return;
  }
  const buffer = new Uint8Array(Math.min(CHUNK, part.length));
  for (let done = 0; done < part.length; done += buffer.length) {
    const chunk = buffer.subarray(0, Math.min(buffer.length, part.length - done));
    readRangeInto({ file: part.file, offset: part.offset + done, length: chunk.length }, chunk);
    if (use(chunk) === false) return;
  }
}

/**
 * Whether two contents (see `tensorSource`) hold the same bytes, reading file ranges a chunk at a
 * time: comparing a BERT's weights with a checkpoint's needs neither copy in memory. The same range
 * of the same (unchanged) file is equal without reading.
 */
export function sameContents(a: WritePart, b: WritePart): boolean {
  const length = (p: WritePart) => (isSourceRange(p) ? p.length : p.byteLength);
  if (length(a) !== length(b)) return false;
  if (isSourceRange(a) && isSourceRange(b) && a.file.path === b.file.path && a.offset === b.offset) {
    let now: { size: number; mtimeMs: number };
    try {
      now = statSync(a.file.path);
    } catch {
      throw changedWhileReading(a.file);
    }
    checkUnchanged(a.file, now);
    checkUnchanged(b.file, now);
    return true;
  }
  // Walk `a` in chunks and compare each with the same span of `b`, read into a buffer of its own.
  const other = isSourceRange(b) ? new Uint8Array(Math.min(CHUNK, b.length)) : undefined;
  let done = 0;
  let equal = true;
  forEachChunk(a, (chunk) => {
    let span: Uint8Array;
    if (isSourceRange(b)) {
      span = other!.subarray(0, chunk.length);
      readRangeInto({ file: b.file, offset: b.offset + done, length: chunk.length }, span);
    } else {
      span = computed(b).subarray(done, done + chunk.length);
    }
    equal = Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength).equals(span);
    done += chunk.length;
    return equal;
  });
  return equal;
}

/** Whether `t` has its contents in raw_data (read or deferred), checked without reading deferred bytes. */
export function hasRawData(t: Tensor): boolean {
  return deferred.has(t) || t.rawData !== undefined;
}
