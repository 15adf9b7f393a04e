/**
 * Reading and making tensors. ONNX stores tensor contents either as raw_data (little-endian bytes)
 * or in a typed field that depends on the element type (float_data for float32, int32_data for the
 * narrow integer types and float16, ...); these helpers hide the difference.
 *
 * Assumes a little-endian host, as ONNX Runtime does.
 */
import { Buffer } from 'node:buffer';
import { createHash } from 'node:crypto';
import { AdapterError, diagnostic } from '../diagnostics/index.js';
import { dataTypeBits, dataTypeName, rawByteLength } from './dtype.js';
import { DataLocation, DataType, type Tensor } from './types.js';

/** The number of elements: the product of the dims (1 for a scalar). */
export function elementCount(t: Tensor): number {
  return t.dims.reduce((n, d) => n * d, 1);
}

/** A tensor's name for messages. */
export function tensorLabel(t: Tensor): string {
  return t.name === undefined || t.name === '' ? '(unnamed tensor)' : t.name;
}

function bytesOf(values: ArrayBufferView): Uint8Array {
  return new Uint8Array(values.buffer, values.byteOffset, values.byteLength);
}

/** Narrows int32_data values to `bytesPerElement` little-endian bytes each. */
function narrow(values: Int32Array | BigUint64Array, bytesPerElement: number): Uint8Array {
  const out = new Uint8Array(values.length * bytesPerElement);
  const view = new DataView(out.buffer);
  values.forEach((v: number | bigint, i: number) => {
    const n = Number(v);
    if (bytesPerElement === 1) view.setUint8(i, n & 0xff);
    else if (bytesPerElement === 2) view.setUint16(i * 2, n & 0xffff, true);
    else view.setUint32(i * 4, n >>> 0, true);
  });
  return out;
}

/**
 * The contents in raw_data layout, whichever field holds them: a view of raw_data, or bytes built
 * from the typed field. Throws an AdapterError when the byte count does not match the type and
 * shape, and an Error for strings and for external data that has not been read.
 */
export function tensorBytes(t: Tensor): Uint8Array {
  const bytes = storedBytes(t);
  const expected = rawByteLength(t.dataType, elementCount(t));
  if (expected !== undefined && bytes.length !== expected) {
    throw new AdapterError([diagnostic('ADP2017', { tensor: tensorLabel(t), found: bytes.length, expected })]);
  }
  return bytes;
}

function storedBytes(t: Tensor): Uint8Array {
  if (t.rawData !== undefined) return t.rawData;
  const bits = dataTypeBits(t.dataType);
  if (bits === undefined) throw new Error(`${tensorLabel(t)} of type ${dataTypeName(t.dataType)} has no byte layout`);
  if (t.floatData) return bytesOf(t.floatData);
  if (t.doubleData) return bytesOf(t.doubleData);
  if (t.int64Data) return bytesOf(t.int64Data);
  if (t.int32Data) {
    if (bits === 4) throw new Error(`${tensorLabel(t)}: 4-bit types in int32_data are not supported`);
    return bits === 32 ? bytesOf(t.int32Data) : narrow(t.int32Data, bits / 8);
  }
  if (t.uint64Data) return bits === 64 ? bytesOf(t.uint64Data) : narrow(t.uint64Data, bits / 8);
  if (t.dataLocation === DataLocation.EXTERNAL) throw new Error(`the external data of ${tensorLabel(t)} has not been read`);
  // No data field at all is an empty tensor (or one whose dims say it has elements, caught by the caller).
  return new Uint8Array(0);
}

/** A typed array over `bytes`: a view when the alignment allows, otherwise a copy. */
function typedView<T>(bytes: Uint8Array, width: number, make: (buffer: ArrayBufferLike, offset: number, length: number) => T): T {
  if (bytes.byteOffset % width === 0) return make(bytes.buffer, bytes.byteOffset, bytes.length / width);
  const copy = new Uint8Array(bytes);
  return make(copy.buffer, 0, bytes.length / width);
}

function expectType(t: Tensor, wanted: number): void {
  if (t.dataType !== wanted) {
    throw new Error(`${tensorLabel(t)} is ${dataTypeName(t.dataType)}, not ${dataTypeName(wanted)}`);
  }
}

/** The values of a float32 tensor. Possibly a view into the model's bytes: do not write into it. */
export function readFloat32(t: Tensor): Float32Array {
  expectType(t, DataType.FLOAT);
  if (t.floatData && t.rawData === undefined) return t.floatData;
  return typedView(tensorBytes(t), 4, (b, o, n) => new Float32Array(b, o, n));
}

/** The values of an int64 tensor. Possibly a view into the model's bytes: do not write into it. */
export function readInt64(t: Tensor): BigInt64Array {
  expectType(t, DataType.INT64);
  if (t.int64Data && t.rawData === undefined) return t.int64Data;
  return typedView(tensorBytes(t), 8, (b, o, n) => new BigInt64Array(b, o, n));
}

/** The values of an int32 tensor. Possibly a view into the model's bytes: do not write into it. */
export function readInt32(t: Tensor): Int32Array {
  expectType(t, DataType.INT32);
  if (t.int32Data && t.rawData === undefined) return t.int32Data;
  return typedView(tensorBytes(t), 4, (b, o, n) => new Int32Array(b, o, n));
}

/** The text of a string tensor's elements. */
export function readStrings(t: Tensor): string[] {
  expectType(t, DataType.STRING);
  return (t.stringData ?? []).map((s) => Buffer.from(s.buffer, s.byteOffset, s.byteLength).toString('utf8'));
}

function halfToNumber(bits: number): number {
  const sign = bits & 0x8000 ? -1 : 1;
  const exponent = (bits >> 10) & 0x1f;
  const fraction = bits & 0x3ff;
  if (exponent === 0) return sign * 2 ** -14 * (fraction / 1024);
  if (exponent === 0x1f) return fraction === 0 ? sign * Infinity : NaN;
  return sign * 2 ** (exponent - 15) * (1 + fraction / 1024);
}

/**
 * Any numeric tensor's values as plain numbers (int64 values beyond 2^53 lose precision). Meant
 * for small tensors: shapes, axes, scalars.
 */
export function readNumbers(t: Tensor): number[] {
  const bytes = tensorBytes(t);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const n = elementCount(t);
  const out = new Array<number>(n);
  const read = numberReader(t, view);
  for (let i = 0; i < n; i++) out[i] = read(i);
  return out;
}

function numberReader(t: Tensor, v: DataView): (i: number) => number {
  switch (t.dataType) {
    case DataType.FLOAT:
      return (i) => v.getFloat32(i * 4, true);
    case DataType.DOUBLE:
      return (i) => v.getFloat64(i * 8, true);
    case DataType.FLOAT16:
      return (i) => halfToNumber(v.getUint16(i * 2, true));
    case DataType.BFLOAT16:
      return (i) => new Float32Array(new Uint32Array([v.getUint16(i * 2, true) << 16]).buffer)[0]!;
    case DataType.INT8:
      return (i) => v.getInt8(i);
    case DataType.UINT8:
    case DataType.BOOL:
      return (i) => v.getUint8(i);
    case DataType.INT16:
      return (i) => v.getInt16(i * 2, true);
    case DataType.UINT16:
      return (i) => v.getUint16(i * 2, true);
    case DataType.INT32:
      return (i) => v.getInt32(i * 4, true);
    case DataType.UINT32:
      return (i) => v.getUint32(i * 4, true);
    case DataType.INT64:
      return (i) => Number(v.getBigInt64(i * 8, true));
    case DataType.UINT64:
      return (i) => Number(v.getBigUint64(i * 8, true));
    default:
      throw new Error(`${tensorLabel(t)} of type ${dataTypeName(t.dataType)} has no numeric reading`);
  }
}

/** Typed arrays `makeTensor` accepts, each with the element type it implies. */
export type TensorValues = Float32Array | Float64Array | Int32Array | BigInt64Array | Uint8Array | Int8Array;

/**
 * A new tensor with raw_data; it shares `values`' memory rather than copying it. `dataType`
 * defaults from the array type (Uint8Array → uint8; pass DataType.BOOL or another 8-bit type
 * explicitly, or any type for raw bytes you built yourself). Throws ADP2017 when `values` does not
 * fit `dims`.
 */
export function makeTensor(name: string, dims: readonly number[], values: TensorValues, dataType?: number): Tensor {
  const type = dataType ?? defaultDataType(values);
  const tensor: Tensor = { dims: [...dims], dataType: type, name, rawData: bytesOf(values) };
  tensorBytes(tensor); // checks the size against dims
  return tensor;
}

function defaultDataType(values: TensorValues): number {
  if (values instanceof Float32Array) return DataType.FLOAT;
  if (values instanceof Float64Array) return DataType.DOUBLE;
  if (values instanceof Int32Array) return DataType.INT32;
  if (values instanceof BigInt64Array) return DataType.INT64;
  if (values instanceof Int8Array) return DataType.INT8;
  return DataType.UINT8;
}

/**
 * A short hash of the contents (sha256 of the raw-layout bytes, or of the strings), for dumps and
 * for comparing tensors.
 */
export function contentHash(t: Tensor, hexDigits = 12): string {
  const hash = createHash('sha256');
  if (t.dataType === DataType.STRING) for (const s of t.stringData ?? []) hash.update(String(s.length)).update(':').update(s);
  else hash.update(tensorBytes(t));
  return hash.digest('hex').slice(0, hexDigits);
}
