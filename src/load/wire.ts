/**
 * The protobuf wire format, just what ONNX needs: a reader that hands out byte fields as views into
 * the input (no copies), and a writer that keeps large byte fields as references to the caller's
 * buffers instead of copying them, so a 400 MB model is encoded without a second 400 MB buffer.
 *
 * https://protobuf.dev/programming-guides/encoding/
 */
import { Buffer, isUtf8 } from 'node:buffer';
import { isSourceRange, readRange, type SourceRange, type WritePart } from './deferred.js';
import { computed } from './lazy.js';

declare global {
  interface Buffer {
    /** UTF-8 text of bytes [start, end), invalid bytes replaced by U+FFFD: what toString('utf8', start, end) calls. Node has it; its types do not declare it. */
    utf8Slice(start: number, end: number): string;
  }
}

export const WireType = { VARINT: 0, I64: 1, LEN: 2, SGROUP: 3, EGROUP: 4, I32: 5 } as const;

/**
 * A problem with the bytes themselves. `eof` means a field runs past the end of the data, which is
 * what a truncated file looks like; the decoder turns these into diagnostics.
 */
export class WireError extends Error {
  constructor(
    readonly kind: 'eof' | 'malformed' | 'range' | 'utf8',
    message: string,
    /** Where the problem is; for `eof`, the offset the data would have to reach. */
    readonly offset: number,
  ) {
    super(message);
    this.name = 'WireError';
  }
}

/**
 * Reads fields from one buffer. `limit` is the end of the message being read: nested messages
 * narrow it (see `nested`), so a field that overruns its message is caught where it happens.
 */
export class Reader {
  pos = 0;
  limit: number;
  /** How many nested messages `pos` is inside. */
  private depth = 0;

  constructor(readonly buf: Buffer) {
    this.limit = buf.length;
  }

  get done(): boolean {
    return this.pos >= this.limit;
  }

  private overrun(start: number, needed: number, what: string): WireError {
    // A top-level field running past the end of the buffer is what truncation looks like (lengths
    // are checked outside in, so a cut inside a nested message shows up at the top); a field running
    // past the end of its enclosing message means the bytes are damaged.
    if (this.depth === 0) return new WireError('eof', `${what} at offset ${start} is cut off`, needed);
    return new WireError('malformed', `${what} at offset ${start} overruns its message`, start);
  }

  private need(n: number): void {
    if (this.pos + n > this.limit) throw this.overrun(this.pos, this.pos + n, 'field');
  }

  /** Reads a nested message whose length prefix comes next, with `limit` narrowed to it. */
  nested<T>(read: () => T): T {
    const end = this.lengthEnd();
    const outer = this.limit;
    this.limit = end;
    this.depth++;
    const value = read();
    if (this.pos !== end) throw new WireError('malformed', `message ending at offset ${end} was not read to its end`, this.pos);
    this.depth--;
    this.limit = outer;
    return value;
  }

  /**
   * An unsigned varint as a number. Exact up to 2^53; longer varints (negative int64 values are
   * ten bytes long) take the bigint path and must still fit a safe integer once read as int64.
   */
  varint(): number {
    const start = this.pos;
    let value = 0;
    let scale = 1;
    for (let i = 0; i < 7; i++) {
      if (this.pos >= this.limit) throw this.overrun(start, this.pos + 1, 'varint');
      const byte = this.buf[this.pos++]!;
      value += (byte & 0x7f) * scale;
      if (byte < 0x80) return value;
      scale *= 128;
    }
    this.pos = start;
    const big = BigInt.asIntN(64, this.varint64());
    if (big > BigInt(Number.MAX_SAFE_INTEGER) || big < BigInt(Number.MIN_SAFE_INTEGER)) {
      throw new WireError('range', String(big), start);
    }
    return Number(big);
  }

  /** A varint read as int32, the way protobuf truncates it. */
  int32(): number {
    return Number(BigInt.asIntN(32, this.varint64()));
  }

  /** An unsigned 64-bit varint. */
  varint64(): bigint {
    const start = this.pos;
    let value = 0n;
    let shift = 0n;
    for (let i = 0; i < 10; i++) {
      if (this.pos >= this.limit) throw this.overrun(start, this.pos + 1, 'varint');
      const byte = this.buf[this.pos++]!;
      value |= BigInt(byte & 0x7f) << shift;
      if (byte < 0x80) return BigInt.asUintN(64, value);
      shift += 7n;
    }
    throw new WireError('malformed', `varint at offset ${start} is longer than 10 bytes`, start);
  }

  /** A signed int64 varint. */
  int64(): bigint {
    return BigInt.asIntN(64, this.varint64());
  }

  /** A varint that protobuf limits to 32 bits (tags, lengths): at most five bytes. */
  private varint32(what: string): number {
    const start = this.pos;
    let value = 0;
    let scale = 1;
    for (let i = 0; i < 5; i++) {
      if (this.pos >= this.limit) throw this.overrun(start, this.pos + 1, what);
      const byte = this.buf[this.pos++]!;
      value += (byte & 0x7f) * scale;
      if (byte < 0x80) return value;
      scale *= 128;
    }
    throw new WireError('malformed', `${what} at offset ${start} is too long`, start);
  }

  /** A field tag: the field number and the wire type. */
  tag(): { field: number; wireType: number } {
    const tag = this.tagNumber();
    return { field: Math.floor(tag / 8), wireType: tag & 7 };
  }

  /** A field tag as one number (field number * 8 + wire type), checked as `tag` checks it: no object made per field. */
  tagNumber(): number {
    const start = this.pos;
    const tag = this.varint32('tag');
    if (tag < 8 || tag > 0xffffffff || (tag & 7) > 5) {
      throw new WireError('malformed', `byte ${start} does not start a valid protobuf field`, start);
    }
    return tag;
  }

  /** The length prefix of a length-delimited field. */
  private length(): number {
    const start = this.pos;
    const length = this.varint32('length');
    if (length > 0x7fffffff) throw new WireError('malformed', `length at offset ${start} is over 2 GiB`, start);
    return length;
  }

  float(): number {
    this.need(4);
    const value = this.buf.readFloatLE(this.pos);
    this.pos += 4;
    return value;
  }

  /** A length-delimited payload as a view into the input. */
  bytes(): Buffer {
    const length = this.length();
    this.need(length);
    const view = this.buf.subarray(this.pos, this.pos + length);
    this.pos += length;
    return view;
  }

  /** A length-delimited UTF-8 string; invalid UTF-8 is refused rather than silently replaced. */
  string(): string {
    const start = this.pos;
    const length = this.length();
    this.need(length);
    const from = this.pos;
    this.pos += length;
    // Decoded without a view made per string (names are most of a model's fields). Decoding
    // replaces invalid bytes with U+FFFD, so only a string holding one is checked further.
    const text = this.buf.utf8Slice(from, this.pos);
    if (text.includes('\uFFFD') && !isUtf8(this.buf.subarray(from, this.pos))) throw new WireError('utf8', 'invalid UTF-8', start);
    return text;
  }

  /** Where a length-delimited payload ends, after reading its length: for nested messages. */
  lengthEnd(): number {
    const length = this.length();
    this.need(length);
    return this.pos + length;
  }

  /** Skips the payload of a field whose tag has just been read. */
  skip(wireType: number, field: number): void {
    switch (wireType) {
      case WireType.VARINT:
        this.varint64();
        return;
      case WireType.I64:
        this.need(8);
        this.pos += 8;
        return;
      case WireType.LEN:
        this.pos = this.lengthEnd();
        return;
      case WireType.I32:
        this.need(4);
        this.pos += 4;
        return;
      case WireType.SGROUP:
        // A proto2 group: fields until the matching end-group tag.
        for (;;) {
          if (this.done) throw this.overrun(this.pos, this.pos + 1, 'group');
          const inner = this.tag();
          if (inner.wireType === WireType.EGROUP) {
            if (inner.field !== field) throw new WireError('malformed', `group ${field} closed by ${inner.field}`, this.pos);
            return;
          }
          this.skip(inner.wireType, inner.field);
        }
      default:
        throw new WireError('malformed', `unexpected wire type ${wireType} at offset ${this.pos}`, this.pos);
    }
  }
}

/** Byte fields at least this long are kept by reference instead of being copied. */
const REFERENCE_THRESHOLD = 16 * 1024;

/** Bytes kept for a nested message's length: a varint of up to 2^35 - 1 (messages stay under 2 GiB). */
const LENGTH_SLOT = 5;

/** Writes `value` (a non-negative safe integer) as a minimal varint at `at`; returns the position after it. */
function putVarint(target: Uint8Array, at: number, value: number): number {
  while (value >= 0x80) {
    target[at++] = (value % 0x80) | 0x80;
    value = Math.floor(value / 0x80);
  }
  target[at++] = value;
  return at;
}

/** `value` as a minimal varint. */
function varintBytes(value: number): Uint8Array {
  const bytes = new Uint8Array(10);
  return bytes.subarray(0, putVarint(bytes, 0, value));
}

const EMPTY = Buffer.alloc(0);

/**
 * Builds an encoded message as a list of parts: small fields are copied into a growing scratch
 * buffer, large byte fields are kept as references. `parts()` hands them out for `writev` or a
 * single concatenation.
 *
 * Nested messages are written in place, their length filled in afterwards (`messageField`).
 */
export class Writer {
  private readonly done: WritePart[] = [];
  private doneLength = 0;
  private scratch: Buffer = EMPTY;
  private pos = 0;

  get length(): number {
    return this.doneLength + this.pos;
  }

  private reserve(n: number): void {
    if (this.pos + n <= this.scratch.length) return;
    const grown = Buffer.allocUnsafe(Math.max(64, this.scratch.length * 2, this.pos + n));
    this.scratch.copy(grown, 0, 0, this.pos);
    this.scratch = grown;
  }

  private flushScratch(): void {
    if (this.pos === 0) return;
    this.done.push(this.scratch.subarray(0, this.pos));
    this.doneLength += this.pos;
    // The flushed bytes stay referenced, so later bytes go to a fresh buffer, allocated when needed.
    this.scratch = EMPTY;
    this.pos = 0;
  }

  /** Appends bytes: copied when small, referenced when large. */
  raw(data: Uint8Array): void {
    if (data.length >= REFERENCE_THRESHOLD) {
      this.flushScratch();
      this.done.push(data);
      this.doneLength += data.length;
      return;
    }
    this.reserve(data.length);
    this.scratch.set(data, this.pos);
    this.pos += data.length;
  }

  /** An unsigned varint from a non-negative safe integer. */
  varint(value: number): void {
    this.reserve(10);
    this.pos = putVarint(this.scratch, this.pos, value);
  }

  /** Any int64 (or uint64) value: negative values take ten bytes, as protobuf writes them. */
  varint64(value: bigint): void {
    let v = BigInt.asUintN(64, value);
    this.reserve(10);
    while (v >= 0x80n) {
      this.scratch[this.pos++] = Number(v & 0x7fn) | 0x80;
      v >>= 7n;
    }
    this.scratch[this.pos++] = Number(v);
  }

  /** An int32 or int64 held in a number. */
  signed(value: number): void {
    if (value >= 0) this.varint(value);
    else this.varint64(BigInt(value));
  }

  tag(field: number, wireType: number): void {
    this.varint(field * 8 + wireType);
  }

  float(value: number): void {
    this.reserve(4);
    this.scratch.writeFloatLE(value, this.pos);
    this.pos += 4;
  }

  // ---- whole fields -----------------------------------------------------------------------------

  varintField(field: number, value: number): void {
    this.tag(field, WireType.VARINT);
    this.signed(value);
  }

  int64Field(field: number, value: bigint): void {
    this.tag(field, WireType.VARINT);
    this.varint64(value);
  }

  floatField(field: number, value: number): void {
    this.tag(field, WireType.I32);
    this.float(value);
  }

  bytesField(field: number, data: Uint8Array): void {
    this.tag(field, WireType.LEN);
    this.varint(data.length);
    this.raw(data);
  }

  stringField(field: number, text: string): void {
    this.tag(field, WireType.LEN);
    // Names are ASCII nearly always, and short: copying their characters here costs less than the
    // two native calls (measure, then encode) that any other text takes.
    if (text.length < 0x80) {
      this.reserve(1 + text.length);
      const start = this.pos + 1;
      let i = 0;
      while (i < text.length) {
        const c = text.charCodeAt(i);
        if (c >= 0x80) break;
        this.scratch[start + i++] = c;
      }
      if (i === text.length) {
        this.scratch[this.pos] = text.length;
        this.pos = start + text.length;
        return;
      }
    }
    const length = Buffer.byteLength(text, 'utf8');
    this.varint(length);
    this.reserve(length);
    this.pos += this.scratch.write(text, this.pos, length, 'utf8');
  }

  /** A bytes field whose contents stay in a file: written later by copying `range` (see `WritePart`). */
  rangeField(field: number, range: SourceRange): void {
    this.tag(field, WireType.LEN);
    this.varint(range.length);
    this.range(range);
  }

  private range(range: SourceRange): void {
    this.flushScratch();
    this.done.push(range);
    this.doneLength += range.length;
  }

  /**
   * A nested message, encoded by `write` in place: its bytes go after a gap of LENGTH_SLOT bytes,
   * and once its length is known that length is written into the gap and the message moved back
   * over the gap's unused bytes. No writer per message, and no copy per nesting level.
   */
  messageField(field: number, write: (w: Writer) => void): void {
    this.messageFieldOf(field, write, undefined, undefined);
  }

  /**
   * `messageField` with `write`'s arguments passed along rather than captured: no function made
   * per message, for the loops that write a message per node or attribute.
   */
  messageFieldOf<A, B>(field: number, write: (w: Writer, a: A, b: B) => void, a: A, b: B): void {
    this.tag(field, WireType.LEN);
    this.reserve(LENGTH_SLOT);
    const slot = this.pos;
    const partsBefore = this.done.length;
    this.pos += LENGTH_SLOT;
    const start = this.length;
    write(this, a, b);
    const length = this.length - start;
    if (this.done.length === partsBefore) {
      // The message is still in the scratch buffer, right after the gap (which a growing scratch
      // copied along): its length goes into the gap, and the message is shifted back.
      const at = putVarint(this.scratch, slot, length);
      if (at < slot + LENGTH_SLOT) this.scratch.copyWithin(at, slot + LENGTH_SLOT, this.pos);
      this.pos -= slot + LENGTH_SLOT - at;
    } else {
      const prefix = varintBytes(length);
      const unused = LENGTH_SLOT - prefix.length;
      // A large field or a file range flushed the scratch with the gap in it: the first part flushed
      // since holds the gap at `slot` (nested messages split parts only after their own, later gaps).
      const part = this.done[partsBefore] as Uint8Array;
      const pieces = [part.subarray(0, slot), prefix, part.subarray(slot + LENGTH_SLOT)].filter((piece) => piece.length > 0);
      this.done.splice(partsBefore, 1, ...pieces);
      this.doneLength -= unused;
    }
  }

  /** The encoded message so far, in order: bytes, and file ranges from `rangeField`. */
  parts(): WritePart[] {
    this.flushScratch();
    return this.done;
  }

  /** The encoded message in one buffer (file ranges read). */
  joined(): Buffer {
    return joinWriteParts(this.parts(), this.length);
  }
}

/** `parts` (of `length` bytes in all) in one buffer, file ranges read. */
export function joinWriteParts(parts: readonly WritePart[], length: number): Buffer {
  return Buffer.concat(
    parts.map((p) => (isSourceRange(p) ? readRange(p) : computed(p))),
    length,
  );
}
