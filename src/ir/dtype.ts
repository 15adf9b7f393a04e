/** Names and sizes of ONNX element types. */
import { DataType } from './types.js';

const NAMES: Readonly<Record<number, string>> = {
  [DataType.UNDEFINED]: 'undefined',
  [DataType.FLOAT]: 'float32',
  [DataType.UINT8]: 'uint8',
  [DataType.INT8]: 'int8',
  [DataType.UINT16]: 'uint16',
  [DataType.INT16]: 'int16',
  [DataType.INT32]: 'int32',
  [DataType.INT64]: 'int64',
  [DataType.STRING]: 'string',
  [DataType.BOOL]: 'bool',
  [DataType.FLOAT16]: 'float16',
  [DataType.DOUBLE]: 'float64',
  [DataType.UINT32]: 'uint32',
  [DataType.UINT64]: 'uint64',
  [DataType.COMPLEX64]: 'complex64',
  [DataType.COMPLEX128]: 'complex128',
  [DataType.BFLOAT16]: 'bfloat16',
  [DataType.FLOAT8E4M3FN]: 'float8e4m3fn',
  [DataType.FLOAT8E4M3FNUZ]: 'float8e4m3fnuz',
  [DataType.FLOAT8E5M2]: 'float8e5m2',
  [DataType.FLOAT8E5M2FNUZ]: 'float8e5m2fnuz',
  [DataType.UINT4]: 'uint4',
  [DataType.INT4]: 'int4',
  [DataType.FLOAT4E2M1]: 'float4e2m1',
};

/** 'float32', 'int64', ...; unknown numbers print as 'dtype(42)'. */
export function dataTypeName(dataType: number | undefined): string {
  if (dataType === undefined) return 'undefined';
  return NAMES[dataType] ?? `dtype(${dataType})`;
}

/** The DataType of a name `dataTypeName` gives (onnxruntime-node's tensor type names too), if any. */
export function dataTypeOfName(name: string): number | undefined {
  const found = Object.entries(NAMES).find(([, n]) => n === name);
  return found === undefined ? undefined : Number(found[0]);
}

/** Bits per element in raw_data; undefined for strings and unknown types. */
export function dataTypeBits(dataType: number | undefined): number | undefined {
  switch (dataType) {
    case DataType.BOOL:
    case DataType.UINT8:
    case DataType.INT8:
    case DataType.FLOAT8E4M3FN:
    case DataType.FLOAT8E4M3FNUZ:
    case DataType.FLOAT8E5M2:
    case DataType.FLOAT8E5M2FNUZ:
      return 8;
    case DataType.UINT16:
    case DataType.INT16:
    case DataType.FLOAT16:
    case DataType.BFLOAT16:
      return 16;
    case DataType.FLOAT:
    case DataType.INT32:
    case DataType.UINT32:
      return 32;
    case DataType.INT64:
    case DataType.UINT64:
    case DataType.DOUBLE:
    case DataType.COMPLEX64:
      return 64;
    case DataType.COMPLEX128:
      return 128;
    case DataType.UINT4:
    case DataType.INT4:
    case DataType.FLOAT4E2M1:
      return 4;
    default:
      return undefined;
  }
}

/** Bytes that `count` elements take in raw_data (4-bit types pack two per byte). */
export function rawByteLength(dataType: number | undefined, count: number): number | undefined {
  const bits = dataTypeBits(dataType);
  return bits === undefined ? undefined : Math.ceil((bits * count) / 8);
}
