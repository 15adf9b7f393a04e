/** Shapes of matrix products: MatMul's numpy semantics, Gemm's 2-D form, and ONNX Runtime's fused forms. */
import { attrInt } from '../../ir/index.js';
import { compare, toString, type Dim } from '../dim.js';
import type { ShapeContext, ShapeRule } from '../rule.js';
import { broadcastOrFail } from './elementwise.js';

function matmulDims(c: ShapeContext, a: readonly Dim[], b: readonly Dim[]): Dim[] {
  if (a.length === 0 || b.length === 0) c.fail('an input is a scalar');
  const left = a.length === 1 ? [a[0]!] : a;
  const right = b.length === 1 ? [b[0]!] : b;
  const k = left[left.length - 1]!;
  const kRight = right.length === 1 ? right[0]! : right[right.length - 2]!;
  if (compare(k, kRight) !== 0) c.fail(`the inner dims ${toString(k)} and ${toString(kRight)} differ`);
  const batch = broadcastOrFail(c, [a.length > 2 ? a.slice(0, -2) : [], b.length > 2 ? b.slice(0, -2) : []]);
  return [...batch, ...(a.length > 1 ? [a[a.length - 2]!] : []), ...(b.length > 1 ? [b[b.length - 1]!] : [])];
}

const matmul: ShapeRule = (c) => [{ dims: matmulDims(c, c.dims(0), c.dims(1)) }];

/** The last two dims swapped (com.microsoft FusedMatMul's transA / transB). */
function swapped(dims: readonly Dim[], swap: boolean): readonly Dim[] {
  if (!swap || dims.length < 2) return dims;
  return [...dims.slice(0, -2), dims[dims.length - 1]!, dims[dims.length - 2]!];
}

const fusedMatmul: ShapeRule = (c) => [{ dims: matmulDims(c, swapped(c.dims(0), attrInt(c.node, 'transA', 0) === 1), swapped(c.dims(1), attrInt(c.node, 'transB', 0) === 1)) }];

const gemm: ShapeRule = (c) => {
  const [a, b] = [c.dims(0), c.dims(1)];
  if (a.length !== 2 || b.length !== 2) c.fail(`its inputs have ranks ${a.length} and ${b.length}, not 2`);
  const [m, k] = attrInt(c.node, 'transA', 0) === 1 ? [a[1]!, a[0]!] : [a[0]!, a[1]!];
  const [kRight, n] = attrInt(c.node, 'transB', 0) === 1 ? [b[1]!, b[0]!] : [b[0]!, b[1]!];
  if (compare(k, kRight) !== 0) c.fail(`the inner dims ${toString(k)} and ${toString(kRight)} differ`);
  // C must broadcast to [M, N]; the output is [M, N] either way.
  if (c.has(2)) broadcastOrFail(c, [[m, n], c.dims(2)]);
  return [{ dims: [m, n] }];
};

export const linearRules: ReadonlyArray<readonly [string, ShapeRule]> = [
  ['MatMul', matmul],
  ['Gemm', gemm],
  ['com.microsoft:FusedMatMul', fusedMatmul],
  ['com.microsoft:FusedGemm', gemm],
];
