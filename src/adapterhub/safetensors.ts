/**
 * The safetensors format (Hugging Face's, read by `safetensors.safe_open` and torch loaders): an
 * 8-byte little-endian header length, a JSON header naming each tensor's dtype, shape and byte
 * range, then the bytes. Read and written here because the format is that small (a length, JSON,
 * bytes); only float32 tensors, which is all an AdapterHub adapter folder holds.
 */

/** A row-major [rows, cols] matrix as [cols, rows]: torch.nn.Linear's [out, in] and MatMul's [in, out] are each other's transpose. */
export function transposed(values: Float32Array, rows: number, cols: number): Float32Array {
  const out = new Float32Array(values.length);
  for (let r = 0; r < rows; r++) for (let c = 0; c < cols; c++) out[c * rows + r] = values[r * cols + c]!;
  return out;
}

export interface NamedFloats {
  readonly name: string;
  readonly dims: readonly number[];
  readonly values: Float32Array;
}

/** One safetensors file holding `tensors` (sorted by name, as the format's own writer orders equal dtypes), with `metadata` as `__metadata__`. */
export function encodeSafetensors(tensors: readonly NamedFloats[], metadata: Readonly<Record<string, string>> = {}): Buffer {
  const sorted = [...tensors].sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  const header: Record<string, unknown> = Object.keys(metadata).length > 0 ? { __metadata__: metadata } : {};
  let offset = 0;
  for (const t of sorted) {
    if (t.values.length !== t.dims.reduce((a, b) => a * b, 1)) throw new Error(`encodeSafetensors: '${t.name}' has ${t.values.length} values for dims [${t.dims.join(', ')}]`);
    header[t.name] = { dtype: 'F32', shape: t.dims, data_offsets: [offset, offset + t.values.byteLength] };
    offset += t.values.byteLength;
  }
  // The header is padded with spaces so that the data starts 8-byte aligned, as the reference writer does.
  let json = JSON.stringify(header);
  json += ' '.repeat((8 - ((8 + Buffer.byteLength(json)) % 8)) % 8);
  const head = Buffer.alloc(8);
  head.writeBigUInt64LE(BigInt(Buffer.byteLength(json)));
  // float32 values are written little-endian, as the format requires (every platform Node runs on is).
  return Buffer.concat([head, Buffer.from(json, 'utf8'), ...sorted.map((t) => Buffer.from(t.values.buffer, t.values.byteOffset, t.values.byteLength))]);
}

/** What a safetensors file holds, or why it cannot be read. */
export type ReadSafetensors = { readonly tensors: ReadonlyMap<string, NamedFloats> } | { readonly problem: string };

const MAX_HEADER = 100 * 1024 * 1024;

/**
 * Reads a safetensors file's float32 tensors (the dtype AdapterHub saves adapters in). Checks what
 * the format promises: the header's length, JSON, and every range inside the data, in order, without
 * overlap; any other dtype is named as a problem.
 */
export function decodeSafetensors(bytes: Uint8Array): ReadSafetensors {
  const buffer = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (buffer.length < 8) return { problem: `it is ${buffer.length} bytes, shorter than the 8-byte header length` };
  const length = buffer.readBigUInt64LE(0);
  if (length > BigInt(Math.min(MAX_HEADER, buffer.length - 8))) return { problem: `its header length ${length} runs past the file's ${buffer.length} bytes` };
  let header: Record<string, unknown>;
  try {
    header = JSON.parse(buffer.subarray(8, 8 + Number(length)).toString('utf8')) as Record<string, unknown>;
  } catch {
    return { problem: 'its header is not JSON' };
  }
  const dataStart = 8 + Number(length);
  const dataLength = buffer.length - dataStart;
  const tensors = new Map<string, NamedFloats>();
  for (const [name, entry] of Object.entries(header)) {
    if (name === '__metadata__') continue;
    const { dtype, shape, data_offsets: offsets } = (entry ?? {}) as { dtype?: unknown; shape?: unknown; data_offsets?: unknown };
    if (dtype !== 'F32') return { problem: `tensor '${name}' is ${String(dtype)}, not F32 (float32)` };
    if (!Array.isArray(shape) || !shape.every((d) => Number.isInteger(d) && d >= 0)) return { problem: `tensor '${name}' has no valid shape` };
    if (!Array.isArray(offsets) || offsets.length !== 2 || !offsets.every((o) => Number.isInteger(o))) return { problem: `tensor '${name}' has no valid data_offsets` };
    const [begin, end] = offsets as [number, number];
    const count = (shape as number[]).reduce((a, b) => a * b, 1);
    if (begin < 0 || end > dataLength || end - begin !== count * 4) return { problem: `tensor '${name}' has data_offsets [${begin}, ${end}], which do not hold its ${count} float32 values inside the file's data` };
    const slice = buffer.subarray(dataStart + begin, dataStart + end);
    // Copied: the values may not be 4-byte aligned in the file's buffer.
    const values = new Float32Array(count);
    new Uint8Array(values.buffer).set(slice);
    tensors.set(name, { name, dims: shape as number[], values });
  }
  return { tensors };
}
