/**
 * NumPy's `.npy` format (version 1.0), the one way to hand arrays to the Python side of the GPU
 * check without adding a dependency to either side: a magic string, a header that is a Python dict
 * literal padded to 64 bytes, then the little-endian data.
 */

export interface NpyArray {
  readonly data: Float32Array | BigInt64Array | Int32Array | Uint8Array;
  readonly dims: readonly number[];
}

function descr(data: NpyArray['data']): string {
  if (data instanceof Float32Array) return '<f4';
  if (data instanceof BigInt64Array) return '<i8';
  if (data instanceof Int32Array) return '<i4';
  return '|b1'; // Uint8Array holds bool tensors here
}

export function npyBytes(array: NpyArray): Uint8Array {
  const shape = array.dims.length === 1 ? `(${array.dims[0]},)` : `(${array.dims.join(', ')})`;
  let header = `{'descr': '${descr(array.data)}', 'fortran_order': False, 'shape': ${shape}, }`;
  const unpadded = 10 + header.length + 1;
  header += ' '.repeat((64 - (unpadded % 64)) % 64) + '\n';
  const bytes = new Uint8Array(10 + header.length + array.data.byteLength);
  bytes.set([0x93, ...Buffer.from('NUMPY', 'latin1'), 1, 0]);
  new DataView(bytes.buffer).setUint16(8, header.length, true);
  bytes.set(Buffer.from(header, 'latin1'), 10);
  bytes.set(new Uint8Array(array.data.buffer, array.data.byteOffset, array.data.byteLength), 10 + header.length);
  return bytes;
}
