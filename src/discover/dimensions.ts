/** Attention heads and FFN size, read off the graph where it states them plainly. */
import { attrInt, getAttribute, isDefaultDomain } from '../ir/index.js';
import type { TransformerLayer } from './types.js';
import type { GraphView } from './view.js';

export function findHeads(view: GraphView, hidden: number, layer: TransformerLayer | undefined): number | undefined {
  for (const node of view.graph.nodes) {
    if (node.domain === 'com.microsoft' && (node.opType === 'Attention' || node.opType === 'MultiHeadAttention') && getAttribute(node, 'num_heads')) {
      return attrInt(node, 'num_heads');
    }
  }
  if (!layer?.attention) return undefined;
  // The split into heads: Reshape to [batch, sequence, heads, head size] with heads · head size = hidden.
  for (const node of view.upstreamOps(layer.attention.adapter?.input ?? layer.attention.value, new Set([layer.attention.residual]))) {
    if (node.opType !== 'Reshape' || !isDefaultDomain(node.domain)) continue;
    const shape = shapeElements(view, node.inputs[1] ?? '');
    if (shape?.length === 4 && shape[2] !== undefined && shape[3] !== undefined && shape[2]! > 0 && shape[3]! > 0 && shape[2]! * shape[3]! === hidden) return shape[2];
  }
  return undefined;
}

export function findFfnSize(view: GraphView, hidden: number, layer: TransformerLayer | undefined): number | undefined {
  if (!layer?.ffn) return undefined;
  // Through an adapter adapterc inserted: its projections are not the feed-forward block's.
  for (const node of view.upstreamOps(layer.ffn.adapter?.input ?? layer.ffn.value, new Set([layer.ffn.residual]))) {
    if (!['MatMul', 'Gemm', 'FusedMatMul', 'FusedGemm'].includes(node.opType)) continue;
    for (const input of node.inputs.slice(0, 2)) {
      const dims = view.constantDims(input);
      if (dims?.length === 2 && dims.includes(hidden) && dims[0] !== dims[1]) return dims[0] === hidden ? dims[1] : dims[0];
    }
  }
  return undefined;
}

/**
 * The elements of a shape value where they are constants: a constant tensor, or a Concat of
 * constants and dynamic one-element pieces (how PyTorch and TensorFlow build [batch, seq, heads, size]).
 */
function shapeElements(view: GraphView, value: string): Array<number | undefined> | undefined {
  const constant = view.constantNumbers(value);
  if (constant) return constant;
  const p = view.producer(value);
  if (!p || p.opType !== 'Concat') return undefined;
  return p.inputs.flatMap((input) => {
    const direct = view.constantNumbers(input);
    if (direct) return direct;
    const q = view.producer(input);
    if (q?.opType === 'Unsqueeze') return view.constantNumbers(q.inputs[0] ?? '') ?? [undefined];
    return [undefined];
  });
}
