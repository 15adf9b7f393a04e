/**
 * Multiply-adds of a graph's matrix products (MatMul, Gemm), from inferred shapes: the measure of
 * how much a training step costs against a forward pass. Elementwise ops are left out; they are a
 * small share of a transformer's arithmetic.
 */
import { attrInt } from '../ir/index.js';
import type { Model } from '../ir/index.js';
import type { ShapeTable } from '../shapes/index.js';

export function multiplyAdds(model: Model, shapes: ShapeTable): number {
  const dims = (value: string): readonly number[] | undefined =>
    shapes.get(value)?.dims ?? model.graph.initializers.find((t) => t.name === value)?.dims ?? shapeFromInput(model, value);
  let total = 0;
  for (const node of model.graph.nodes) {
    if (node.opType !== 'MatMul' && node.opType !== 'Gemm' && node.opType !== 'FusedMatMul' && node.opType !== 'FusedGemm') continue;
    const a = dims(node.inputs[0]!);
    const y = dims(node.outputs[0]!);
    if (!a || !y || a.length === 0 || y.length === 0) continue;
    // Y = A·B: every output element takes K multiply-adds, K being A's contracted dim.
    const transA = node.opType.endsWith('Gemm') && attrInt(node, 'transA', 0) === 1;
    const k = transA ? a[a.length - 2]! : a[a.length - 1]!;
    total += y.reduce((n, d) => n * d, 1) * k;
  }
  return total;
}

function shapeFromInput(model: Model, value: string): number[] | undefined {
  const input = model.graph.inputs.find((i) => i.name === value);
  const dims = input?.type?.tensor?.shape?.dims.map((d) => d.value);
  return dims?.every((d) => d !== undefined) ? (dims as number[]) : undefined;
}
