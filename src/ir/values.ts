/** Types and shapes of graph values (ValueInfo). */
import { dataTypeName } from './dtype.js';
import type { Dim, ValueInfo } from './types.js';

/** One dimension: a size, a symbol ('batch'), or undefined when nothing is known. */
export type DimValue = number | string | undefined;

export function makeValueInfo(name: string, elemType: number, shape?: readonly DimValue[]): ValueInfo {
  const tensor = shape === undefined ? { elemType } : { elemType, shape: { dims: shape.map(makeDim) } };
  return { name, type: { tensor } };
}

function makeDim(d: DimValue): Dim {
  if (typeof d === 'number') return { value: d };
  if (typeof d === 'string') return { param: d };
  return {};
}

/** The element type of a tensor value (a DataType number), if declared. */
export function elemTypeOf(v: ValueInfo): number | undefined {
  return v.type?.tensor?.elemType;
}

/** The declared shape of a tensor value; undefined when the rank is unknown. */
export function shapeOf(v: ValueInfo): DimValue[] | undefined {
  return v.type?.tensor?.shape?.dims.map((d) => d.value ?? d.param);
}

/** 'float32[batch, 8, 32]'; '?' for unknown dims; '[...]' for unknown rank; non-tensor types as 'non-tensor'. */
export function formatValueType(v: ValueInfo): string {
  const tensor = v.type?.tensor;
  if (tensor === undefined) return v.type === undefined ? 'untyped' : 'non-tensor';
  const shape = shapeOf(v);
  const dims = shape === undefined ? '...' : shape.map((d) => (d === undefined ? '?' : String(d))).join(', ');
  return `${dataTypeName(tensor.elemType)}[${dims}]`;
}
