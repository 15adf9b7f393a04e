/**
 * Reads an .onnx file without the bytes of its large initializers. The file goes into one buffer
 * at its own offsets, as a whole read would put it, but the raw_data of every initializer of at
 * least `threshold` bytes is skipped: that part of the buffer is never written (and, allocated
 * fresh, never even mapped). The decoder then runs on the buffer as usual, and those tensors'
 * `rawData` views point at the skipped ranges, which `deferTensorData` fills on first use.
 *
 * Only the path ModelProto.graph (7) → GraphProto.initializer (5) → TensorProto.raw_data (9) is
 * walked field by field; every other field, whatever it is, is read whole. Anything unexpected on
 * that path (a wire type that does not fit, a length past the end) returns undefined: the caller
 * then reads the whole file, and the decoder reports the problem as it would have.
 */
import { readSync } from 'node:fs';
import { Buffer } from 'node:buffer';

/** A skipped raw_data: where its bytes are in the file (and in the buffer). */
export interface SkippedBytes {
  readonly offset: number;
  readonly length: number;
}

export interface SparseRead {
  readonly bytes: Buffer;
  readonly skipped: readonly SkippedBytes[];
}

const MODEL_GRAPH = 7;
const GRAPH_INITIALIZER = 5;
const TENSOR_RAW_DATA = 9;
const LEN = 2;

/** Reads ahead of the scan in steps of this much, so small fields cost one read call per step. */
const WINDOW = 16 * 1024;

class Malformed extends Error {}

/** Reads the file behind `fd` (of `size` bytes) but the raw_data of initializers of at least `threshold` bytes. */
export function readSparse(fd: number, size: number, threshold: number): SparseRead | undefined {
  const bytes = Buffer.allocUnsafeSlow(size);
  const skipped: SkippedBytes[] = [];
  // Everything before `readTo` has been read, except the skipped ranges.
  let readTo = 0;

  const readUpTo = (end: number): void => {
    if (end <= readTo) return;
    const to = Math.min(size, Math.max(end, readTo + WINDOW));
    while (readTo < to) {
      const n = readSync(fd, bytes, readTo, to - readTo, readTo);
      if (n === 0) throw new Malformed('the file is shorter than its size');
      readTo += n;
    }
  };

  const varint = (at: number): [value: number, next: number] => {
    readUpTo(Math.min(size, at + 10));
    let value = 0;
    let scale = 1;
    for (let i = at; i < Math.min(size, at + 10); i++) {
      const b = bytes[i]!;
      value += (b & 0x7f) * scale;
      if ((b & 0x80) === 0) {
        if (!Number.isSafeInteger(value)) throw new Malformed('varint too large');
        return [value, i + 1];
      }
      scale *= 128;
    }
    throw new Malformed('varint runs past the end');
  };

  /** Walks the fields in [start, end) of a message at `depth` on the path model → graph → initializer. */
  const walk = (start: number, end: number, depth: 0 | 1 | 2): void => {
    let at = start;
    while (at < end) {
      const [tag, afterTag] = varint(at);
      const field = Math.floor(tag / 8);
      const wireType = tag & 7;
      let next: number;
      if (wireType === 0) next = varint(afterTag)[1];
      else if (wireType === 1) next = afterTag + 8;
      else if (wireType === 5) next = afterTag + 4;
      else if (wireType === LEN) {
        const [length, body] = varint(afterTag);
        next = body + length;
        if (next > end) throw new Malformed('a field runs past its message');
        if (depth === 0 && field === MODEL_GRAPH) walk(body, next, 1);
        else if (depth === 1 && field === GRAPH_INITIALIZER) walk(body, next, 2);
        else if (depth === 2 && field === TENSOR_RAW_DATA && length >= threshold) {
          skipped.push({ offset: body, length });
          // The read-ahead may have taken the start of the bytes already; skip the rest.
          readTo = Math.max(readTo, next);
        }
      } else throw new Malformed(`wire type ${wireType} on the path to the initializers`);
      if (next > end) throw new Malformed('a field runs past its message');
      readUpTo(next);
      at = next;
    }
  };

  try {
    walk(0, size, 0);
  } catch (error) {
    if (error instanceof Malformed) return undefined;
    throw error;
  }
  return { bytes, skipped };
}
