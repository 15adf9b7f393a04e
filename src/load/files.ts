/**
 * Models on disk. `readModel` reads the file in one buffer and decodes it with tensor data as views
 * into that buffer; `writeModel` streams the encoded parts to a temporary file in the target folder
 * and renames it into place, so a reader never sees a half-written model.
 */
import { randomBytes } from 'node:crypto';
import { Buffer } from 'node:buffer';
import { closeSync, constants, openSync, statSync } from 'node:fs';
import { copyFile, mkdir, open, readdir, rename, rm, stat, unlink, type FileHandle } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { AdapterError, diagnostic } from '../diagnostics/index.js';
import { processAlive } from '../util/process.js';
import { DataLocation, type Model, type Tensor } from '../ir/types.js';
import { decodeModel, MAX_MODEL_BYTES } from './bytes.js';
import { encodeModelParts } from './encode.js';
import { changedWhileReading, checkUnchanged, deferredRange, deferTensorData, isSourceRange, readRangeInto, type SourceFile, type SourceRange, type WritePart } from './deferred.js';
import { externalTensors, layoutExternalData, resolveExternalData } from './external.js';
import { copyRangesInWorker, prestartCopyWorker, stopPrestartedCopyWorker, type RangeCopy } from './copy-worker.js';
import { computed } from './lazy.js';
import { readSparse } from './sparse-read.js';

export type { SourceFile, SourceRange, WritePart } from './deferred.js';

export interface ReadOptions {
  /** Read the data of tensors kept in side files (default true). */
  readonly externalData?: boolean;
  /**
   * Leave the bytes of large weights (initializers with at least this many bytes of raw_data,
   * inline or external) in their files until something reads them: see `deferred.ts`.
   * Default: read everything.
   */
  readonly deferTensorsFrom?: number;
}

/** What `compile` defers: tensors this large are the weights; smaller ones (LayerNorms, biases, shapes) are read. */
export const DEFERRED_FROM = 64 * 1024;

/** Reads and decodes an .onnx file, with its external data. Every failure is an AdapterError. */
export async function readModel(path: string, options: ReadOptions = {}): Promise<Model> {
  const where = { file: path };
  let size: number;
  let mtimeMs: number;
  try {
    const info = await stat(path);
    if (!info.isFile()) {
      throw new AdapterError([
        diagnostic('ADP2002', { file: path, reason: info.isDirectory() ? 'it is a folder' : 'it is not a regular file' }, where, 'pass the path of the .onnx file itself'),
      ]);
    }
    size = info.size;
    mtimeMs = info.mtimeMs;
  } catch (error) {
    if (error instanceof AdapterError) throw error;
    throw readFailure(error, path);
  }
  if (size > MAX_MODEL_BYTES) {
    throw new AdapterError([diagnostic('ADP2013', { size }, where, 'a model this large must keep its weights as external data')]);
  }
  const file: SourceFile = { path, size, mtimeMs };
  let bytes: Buffer;
  let skipped: ReadonlyMap<number, number> | undefined;
  try {
    const sparse = options.deferTensorsFrom !== undefined ? readSparseFile(path, size, options.deferTensorsFrom) : undefined;
    skipped = sparse && new Map(sparse.skipped.map((s) => [s.offset, s.length]));
    bytes = sparse?.bytes ?? (await readWholeFile(path, size));
  } catch (error) {
    throw readFailure(error, path);
  }
  const model = decodeModel(bytes, path);
  if (skipped !== undefined) deferSkipped(model, bytes, skipped, file);
  const side = new Map<string, SourceFile>();
  sources.set(model, { model: file, bytes, side });
  if (options.externalData !== false) {
    await resolveExternalData(model, dirname(path), path, options.deferTensorsFrom === undefined ? {} : { deferFrom: options.deferTensorsFrom });
    for (const t of externalTensors(model)) {
      const location = t.externalData?.find((e) => e.key === 'location')?.value;
      if (location === undefined || side.has(location)) continue;
      const deferredFile = deferredRange(t)?.file;
      if (deferredFile !== undefined) {
        side.set(location, deferredFile);
        continue;
      }
      const path = join(dirname(file.path), location);
      const info = await stat(path);
      side.set(location, { path, size: info.size, mtimeMs: info.mtimeMs });
    }
  }
  return model;
}

interface ReadFrom {
  readonly model: SourceFile;
  /** The buffer `readModel` read the model file into: inline tensors are views of it. */
  readonly bytes: Buffer;
  /** Side files by their location, as they were when read. */
  readonly side: Map<string, SourceFile>;
}

const sources = new WeakMap<Model, ReadFrom>();

/** The model file `readModel` read `model` from, as it was then (undefined for a model built in memory). */
export function modelSourceFile(model: Model): SourceFile | undefined {
  return sources.get(model)?.model;
}

/**
 * Where `tensor`'s bytes sit in the files `model` was read from: the model file for raw bytes inline
 * in it (views of the buffer `readModel` read), a side file for external data. Undefined for a
 * model built in memory, a tensor changed or added since, or data in a typed field (float_data).
 */
export function sourceRange(model: Model, tensor: Tensor): SourceRange | undefined {
  const deferred = deferredRange(tensor);
  if (deferred !== undefined) return deferred;
  const from = sources.get(model);
  const raw = tensor.rawData;
  if (from === undefined || raw === undefined) return undefined;
  if (tensor.dataLocation === DataLocation.EXTERNAL) {
    const location = tensor.externalData?.find((e) => e.key === 'location')?.value;
    const file = location === undefined ? undefined : from.side.get(location);
    const offset = Number(tensor.externalData?.find((e) => e.key === 'offset')?.value ?? 0);
    if (file === undefined || !Number.isSafeInteger(offset) || offset + raw.byteLength > file.size) return undefined;
    return { file, offset, length: raw.byteLength };
  }
  if (raw.buffer !== from.bytes.buffer) return undefined;
  const offset = raw.byteOffset - from.bytes.byteOffset;
  if (offset < 0 || offset + raw.byteLength > from.model.size) return undefined;
  return { file: from.model, offset, length: raw.byteLength };
}

/**
 * Copies a file a model was read from to `target`, which must not exist yet: a clone where the file
 * system can, else an in-kernel copy, so the bytes never pass through this process. Refuses with
 * ADP2002 if the file changed since it was read, since the copy would then not hold the tensors
 * that were read.
 *
 * Exclusive creation (COPYFILE_EXCL) is also what keeps it fast: without it, libuv truncates the
 * new file to zero before copying, and ext4 (auto_da_alloc: a file truncated to zero and written is
 * flushed when closed, against losing its contents in a crash) then starts writing the whole copy
 * out inside close(). BERT-large's 1.34 GB copied in 0.66 s that way, 0.33 s without (node's
 * copyFileSync, two runs each; `cp` takes 0.33 s).
 */
export async function copySourceFile(source: SourceFile, target: string): Promise<void> {
  await copyFile(source.path, target, constants.COPYFILE_EXCL | constants.COPYFILE_FICLONE);
  const [copied, original] = await Promise.all([stat(target), stat(source.path)]);
  checkUnchanged(source, original);
  if (copied.size !== source.size) throw changedWhileReading(source);
}

/** Reads the model file but its large initializers' bytes (see `sparse-read.ts`); undefined where the scan gives up. */
function readSparseFile(path: string, size: number, threshold: number): ReturnType<typeof readSparse> {
  const fd = openSync(path, 'r');
  try {
    return readSparse(fd, size, Math.max(1, threshold));
  } finally {
    closeSync(fd);
  }
}

/**
 * Defers the tensors whose raw_data the sparse read skipped: their `rawData` views point into
 * the unread parts of `bytes`, which are filled from `file` when first read. A skipped range that
 * no initializer decoded to (which the scan's path rules out) is read now, so `bytes` never holds
 * unread bytes that something could see.
 */
function deferSkipped(model: Model, bytes: Buffer, skipped: ReadonlyMap<number, number>, file: SourceFile): void {
  const pending = new Map(skipped);
  for (const t of model.graph.initializers) {
    const raw = t.rawData;
    if (raw === undefined || raw.buffer !== bytes.buffer) continue;
    const offset = raw.byteOffset - bytes.byteOffset;
    if (pending.get(offset) !== raw.byteLength) continue;
    pending.delete(offset);
    deferTensorData(t, { file, offset, length: raw.byteLength }, raw);
  }
  for (const [offset, length] of pending) readRangeInto({ file, offset, length }, bytes.subarray(offset, offset + length));
}

/** Files above this size are read by several concurrent reads. */
const PARALLEL_READ_FROM = 64 * 1024 * 1024;
const READ_STREAMS = 4;
/** One read call asks for at most this much, well below Linux's 2 GiB limit per call. */
const MAX_READ = 256 * 1024 * 1024;

/**
 * Reads a file of known size into one buffer. Large files are read as a few ranges at once: most
 * of the cost of reading a model from the page cache is the kernel mapping fresh memory for the
 * buffer, and that work runs in parallel on libuv's worker threads (it halves load time on two
 * cores). A file that shrinks meanwhile comes back short, and the decoder reports it truncated.
 */
async function readWholeFile(path: string, size: number): Promise<Buffer> {
  const handle = await open(path, 'r');
  try {
    const buffer = Buffer.allocUnsafeSlow(size);
    const streams = size >= PARALLEL_READ_FROM ? READ_STREAMS : 1;
    const step = Math.ceil(size / streams);
    const ends = await Promise.all(
      Array.from({ length: streams }, async (_, i) => {
        let position = i * step;
        const end = Math.min(size, position + step);
        while (position < end) {
          const { bytesRead } = await handle.read(buffer, position, Math.min(end - position, MAX_READ), position);
          if (bytesRead === 0) break;
          position += bytesRead;
        }
        return position;
      }),
    );
    const short = ends.findIndex((end, i) => end < Math.min(size, (i + 1) * step));
    return short === -1 ? buffer : buffer.subarray(0, ends[short]);
  } finally {
    await handle.close();
  }
}

function readFailure(error: unknown, path: string): AdapterError {
  const code = (error as NodeJS.ErrnoException).code;
  const where = { file: path };
  if (code === 'ENOENT') return new AdapterError([diagnostic('ADP2001', { file: path }, where, 'check the path and the current folder')]);
  if (code === 'ENOTDIR') {
    return new AdapterError([diagnostic('ADP2001', { file: path }, where, 'a part of the path before the file name is a file, not a folder')]);
  }
  const reason = code === 'EACCES' || code === 'EPERM' ? 'permission is denied' : code === 'EISDIR' ? 'it is a folder' : `the system reports ${code ?? String(error)}`;
  return new AdapterError([diagnostic('ADP2002', { file: path, reason }, where, 'check that the file exists and that you may read it')]);
}

export interface WriteOptions {
  /**
   * Tensors that were read from side files: 'keep' writes them to one side file next to the model
   * (named by `dataFile`), 'inline' writes them into the model. Default 'keep'.
   */
  readonly externalData?: 'keep' | 'inline';
  /** The side file's name, relative to the model's folder. Default: the model's file name + '.data'. */
  readonly dataFile?: string;
  /** Flush the files to the disk before renaming them into place (slower; survives power loss). */
  readonly durable?: boolean;
}

/**
 * Encodes a model and writes it to `path`, replacing any existing file atomically. The side file,
 * if any, is written first, so the model never refers to data that is not there.
 */
export async function writeModel(model: Model, path: string, options: WriteOptions = {}): Promise<void> {
  const external = options.externalData === 'inline' ? [] : externalTensors(model);
  const dataFile = options.dataFile ?? `${basename(path)}.data`;
  const layout = external.length > 0 ? layoutExternalData(external, dataFile) : undefined;
  // With 'keep', every external tensor is relocated to the new side file; 'inline' then applies to
  // none of them. With 'inline', there is no layout and all of them are inlined.
  const encoded = encodeModelParts(model, {
    externalData: 'inline',
    ...(layout === undefined ? {} : { relocated: layout.entries }),
  });
  if (encoded.length > MAX_MODEL_BYTES) {
    throw new AdapterError([
      diagnostic('ADP2013', { size: encoded.length }, { file: path }, 'keep the large tensors as external data in a side file'),
    ]);
  }
  if (layout !== undefined) await writeFileAtomically(join(dirname(path), dataFile), layout.parts, options.durable ?? false);
  await writeFileAtomically(path, encoded.parts, options.durable ?? false);
}

/** Removes the temporary files a killed write of `path` left beside it (their process gone). */
async function removeStaleTemporaries(path: string): Promise<void> {
  const pattern = new RegExp(`^\\.${basename(path).replace(/[.*+?^${}()|[\]\\]/g, '\\$&')}\\.(\\d+)\\.[0-9a-f]{8}\\.tmp$`);
  let entries: string[];
  try {
    entries = await readdir(dirname(path));
  } catch {
    return;
  }
  for (const entry of entries) {
    const match = pattern.exec(entry);
    if (match && Number(match[1]) !== process.pid && !processAlive(Number(match[1]))) await unlink(join(dirname(path), entry)).catch(() => {});
  }
}

/**
 * Writes `parts` to a temporary file next to `path`, then renames it to `path`. `started`, if
 * given, is called once the parts are being written (for large file ranges: once the worker that
 * copies them runs), so that a caller can compute while the copy proceeds: this thread's share of
 * the writing needs its event loop, the worker's does not.
 */
export async function writeFileAtomically(path: string, parts: readonly WritePart[], durable: boolean, started?: () => void): Promise<void> {
  const temporary = join(dirname(path), `.${basename(path)}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`);
  let handle: FileHandle | undefined;
  // Missing parent folders are created, as build tools do, and removed again if the write fails.
  let created: string | undefined;
  try {
    created = await mkdir(dirname(path), { recursive: true });
    await removeStaleTemporaries(path);
    handle = await open(temporary, 'wx');
  } catch (error) {
    if (created !== undefined) await rm(created, { recursive: true, force: true });
    throw writeFailure(error, path);
  }
  try {
    await writePartsInPlace(handle, parts, started);
    if (durable) await handle.sync();
    await handle.close();
    handle = undefined;
    await rename(temporary, path);
  } catch (error) {
    await handle?.close().catch(() => {});
    await unlink(temporary).catch(() => {});
    if (created !== undefined) await rm(created, { recursive: true, force: true });
    if (error instanceof AdapterError) throw error;
    throw writeFailure(error, path);
  }
}

/** File ranges of at least this many bytes in all are copied by a worker thread (`copy-worker.ts`). */
const WORKER_FROM = 32 * 1024 * 1024;

/**
 * Runs `body` with the copying worker started ahead (`prestartCopyWorker`) when `source` is large
 * enough that copying from it will take one: the caller is about to write a file that holds most of
 * it. The worker is ended afterwards if nothing used it.
 */
export async function withCopyWorkerAhead<T>(source: string, body: () => Promise<T>): Promise<T> {
  let size = 0;
  try {
    size = statSync(source).size;
  } catch {
    // Reading the file will say what is wrong with it.
  }
  if (size < WORKER_FROM) return body();
  prestartCopyWorker();
  try {
    return await body();
  } finally {
    void stopPrestartedCopyWorker();
  }
}

/**
 * Writes `parts` in order into the new, empty file `handle`: as `writeParts` does, except that
 * when the file ranges are large, a worker thread copies them into their places while this thread
 * writes the bytes between them.
 */
async function writePartsInPlace(handle: FileHandle, parts: readonly WritePart[], started?: () => void): Promise<void> {
  const copies: RangeCopy[] = [];
  // Consecutive byte parts, each run written with one gathering write at its place.
  const runs: { at: number; bytes: Uint8Array[] }[] = [];
  let at = 0;
  let previousWasBytes = false;
  for (const part of parts) {
    if (isSourceRange(part)) copies.push({ range: part, at });
    else if (previousWasBytes) runs[runs.length - 1]!.bytes.push(part);
    else runs.push({ at, bytes: [part] });
    previousWasBytes = !isSourceRange(part);
    at += part.length;
  }
  if (copies.reduce((n, c) => n + c.range.length, 0) < WORKER_FROM) {
    started?.();
    return writeParts(handle, parts);
  }
  const copied = copyRangesInWorker(handle.fd, copies);
  started?.();
  try {
    for (const run of runs) await writeAll(handle, run.bytes, run.at);
  } finally {
    // Never leave the worker's failure unhandled, nor close the file under it.
    await copied.catch(() => undefined);
  }
  await copied;
}

/**
 * Writes `parts` in order at `handle`'s position: runs of bytes with gathering writes, file ranges
 * copied through one small buffer (reused, so its memory stays mapped and cached, where reading a
 * whole model first costs fresh memory for every byte). Fails with ADP2002 if a source file
 * changed since it was read.
 */
export async function writeParts(handle: FileHandle, parts: readonly WritePart[]): Promise<void> {
  let run: Uint8Array[] = [];
  let buffer: Buffer | undefined;
  for (const part of parts) {
    if (!isSourceRange(part)) {
      run.push(part);
      continue;
    }
    await writeAll(handle, run);
    run = [];
    buffer ??= Buffer.allocUnsafeSlow(COPY_CHUNK);
    await copyRange(handle, part, buffer);
  }
  await writeAll(handle, run);
}

/** File ranges are copied in pieces of this size. */
const COPY_CHUNK = 1024 * 1024;

/** Copies `range` to `target`'s position, a piece at a time (large copies go to `copy-worker.ts` instead). */
async function copyRange(target: FileHandle, range: SourceRange, buffer: Buffer): Promise<void> {
  const source = await open(range.file.path, 'r');
  try {
    checkUnchanged(range.file, await source.stat());
    for (let done = 0; done < range.length; ) {
      const { bytesRead } = await source.read(buffer, 0, Math.min(buffer.length, range.length - done), range.offset + done);
      if (bytesRead === 0) throw changedWhileReading(range.file);
      await writeAll(target, [buffer.subarray(0, bytesRead)]);
      done += bytesRead;
    }
  } finally {
    await source.close();
  }
}

/**
 * Linux writes at most about 2 GiB and 1024 buffers per call, and may write less: loop until done.
 * At `handle`'s position, or at `position` if given.
 */
async function writeAll(handle: FileHandle, parts: readonly Uint8Array[], position?: number): Promise<void> {
  // A lazy tensor's bytes (lazy.ts) are computed as they are about to be written.
  for (const part of parts) computed(part);
  const BATCH = 512;
  let queue = parts.filter((p) => p.length > 0);
  let at = position;
  while (queue.length > 0) {
    const batch = queue.slice(0, BATCH);
    let { bytesWritten } = at === undefined ? await handle.writev(batch) : await handle.writev(batch, at);
    if (at !== undefined) at += bytesWritten;
    let consumed = 0;
    while (consumed < batch.length && bytesWritten >= batch[consumed]!.length) {
      bytesWritten -= batch[consumed]!.length;
      consumed++;
    }
    const rest = queue.slice(consumed);
    // A part written halfway: continue with its remainder.
    if (bytesWritten > 0) rest[0] = rest[0]!.subarray(bytesWritten);
    queue = rest;
  }
}

function writeFailure(error: unknown, path: string): AdapterError {
  if (error instanceof AdapterError) return error;
  const code = (error as NodeJS.ErrnoException).code;
  const hints: Record<string, string> = {
    ENOENT: `the folder '${dirname(path)}' cannot be made`,
    ENOTDIR: `a part of '${dirname(path)}' is a file; choose another path`,
    EEXIST: `a part of '${dirname(path)}' is a file; choose another path`,
    EACCES: 'you may not write there; choose another folder',
    EPERM: 'you may not write there; choose another folder',
    ENOSPC: 'the disk is full; free some space, or write to another disk',
    EDQUOT: 'the disk quota is used up; free some space, or write to another disk',
    EISDIR: 'a folder has that name; choose another file name',
    EROFS: 'the file system is read-only; choose another folder',
  };
  const hint = code === undefined ? undefined : hints[code];
  return new AdapterError([diagnostic('ADP4002', { path }, { file: path }, hint ?? `the system reports ${code ?? String(error)}`)], undefined, error);
}
