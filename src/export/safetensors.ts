/**
 * The safetensors format (Hugging Face's, read by `safetensors.safe_open` and torch loaders): an
 * 8-byte little-endian header length, a JSON header naming each tensor's dtype, shape and byte
 * range, then the bytes. Written here because the format is this small, and the npm packages that
 * read it do not write it; only float32 tensors, which is all an adapter folder holds.
 */

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
