/**
 * Copies file ranges into an open file on a worker thread. Copying on the main thread takes one
 * event-loop turn per piece, so it stalls whenever the main thread computes: the default layout's
 * 440 MB checkpoint, written while the gradients are built, waited out every synchronous stage (the
 * shape probe's onnxruntime run among them). A worker copies at the disk's pace meanwhile.
 */
import { Worker } from 'node:worker_threads';
import { changedWhileReading, type SourceRange } from './deferred.js';

/** One range of a source file, to be written at `at` in the target. */
export interface RangeCopy {
  readonly range: SourceRange;
  readonly at: number;
}

/** Pieces are copied through one buffer of this size. */
const CHUNK = 1024 * 1024;

/**
 * The worker's code. It runs with `eval`, so it needs no file of its own beside the bundled CLI.
 * It waits for one message with its copies (it may be started before they are known), then does
 * them with synchronous reads and positioned writes; a source that changed since it was read (size or
 * modification time, or shorter than expected) is reported back rather than copied.
 */
const WORKER_SOURCE = `
const { parentPort } = require('node:worker_threads');
const fs = require('node:fs');
parentPort.once('message', ({ fd, copies, chunk }) => {
  const buffer = Buffer.allocUnsafeSlow(chunk);
  const sources = new Map();
  const changed = (index) => Object.assign(new Error('changed'), { changed: index });
  try {
    copies.forEach((c, index) => {
      let source = sources.get(c.path);
      if (source === undefined) {
        source = fs.openSync(c.path, 'r');
        sources.set(c.path, source);
        const now = fs.fstatSync(source);
        if (now.size !== c.size || now.mtimeMs !== c.mtimeMs) throw changed(index);
      }
      for (let done = 0; done < c.length; ) {
        const n = fs.readSync(source, buffer, 0, Math.min(chunk, c.length - done), c.offset + done);
        if (n === 0) throw changed(index);
        for (let written = 0; written < n; ) written += fs.writeSync(fd, buffer, written, n - written, c.at + done + written);
        done += n;
      }
    });
    parentPort.postMessage({});
  } catch (error) {
    parentPort.postMessage({ changed: error.changed, code: error.code, message: String(error.message) });
  } finally {
    for (const source of sources.values()) fs.closeSync(source);
    parentPort.unref();
  }
});
`;

interface WorkerReply {
  readonly changed?: number;
  readonly code?: string;
  readonly message?: string;
}

/**
 * A worker started ahead (`prestartCopyWorker`), idle until the copies are known, and whether it
 * has failed or stopped meanwhile (then the next copy starts another).
 */
let ahead: { worker: Worker; stopped: boolean } | undefined;

let workersStarted = 0;

function startWorker(): { worker: Worker; stopped: boolean } {
  workersStarted++;
  const started = { worker: new Worker(WORKER_SOURCE, { eval: true }), stopped: false };
  const stop = (): void => {
    started.stopped = true;
  };
  started.worker.once('error', stop).once('exit', stop);
  return started;
}

/**
 * Starts the copying worker now, before its copies are known: a worker's start-up (about 20 ms of
 * Node's own work) then overlaps the caller's, and the next `copyRangesInWorker` uses it. It does
 * not keep the process alive; `stopPrestartedCopyWorker` ends it if it was not used.
 */
export function prestartCopyWorker(): void {
  if (ahead !== undefined) return;
  ahead = startWorker();
  ahead.worker.unref();
}

/** Workers started so far, and whether one `prestartCopyWorker` started is waiting for its copies (for tests). */
export function copyWorkers(): { started: number; waiting: boolean } {
  return { started: workersStarted, waiting: ahead !== undefined && !ahead.stopped };
}

/** Ends a worker `prestartCopyWorker` started and no copy used; resolves once it has stopped. */
export async function stopPrestartedCopyWorker(): Promise<void> {
  const unused = ahead;
  ahead = undefined;
  if (unused !== undefined) await unused.worker.terminate();
}

/**
 * Copies `copies` into the file open as `fd` (positioned writes; the caller writes the rest of
 * the file meanwhile). Fails with ADP2002 if a source file changed since it was read, and with
 * the system's error (its `code` kept) if reading or writing fails.
 */
export function copyRangesInWorker(fd: number, copies: readonly RangeCopy[]): Promise<void> {
  const data = copies.map((c) => ({ path: c.range.file.path, size: c.range.file.size, mtimeMs: c.range.file.mtimeMs, offset: c.range.offset, length: c.range.length, at: c.at }));
  const started = ahead !== undefined && !ahead.stopped ? ahead : startWorker();
  if (started !== ahead) void stopPrestartedCopyWorker();
  ahead = undefined;
  const { worker } = started;
  worker.ref();
  return new Promise((resolve, reject) => {
    let reply: WorkerReply | undefined;
    worker.on('message', (message: WorkerReply) => (reply = message));
    worker.on('error', reject);
    worker.on('exit', () => {
      if (reply === undefined) return reject(new Error('the copying worker stopped without a reply'));
      if (reply.changed !== undefined) return reject(changedWhileReading(copies[reply.changed]!.range.file));
      if (reply.message !== undefined) return reject(Object.assign(new Error(reply.message), reply.code === undefined ? {} : { code: reply.code }));
      resolve();
    });
    worker.postMessage({ fd, copies: data, chunk: CHUNK });
  });
}
