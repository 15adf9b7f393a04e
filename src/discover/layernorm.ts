/**
 * Finding LayerNorms, however they are written: the LayerNormalization op (any domain and opset),
 * com.microsoft SkipLayerNormalization (residual Add folded in) and EmbedLayerNormalization (the
 * embeddings' lookups and sum folded in: BERT's embedding LayerNorm), or decomposed into elementwise
 * arithmetic by PyTorch (ReduceMean, Sub, Pow, ReduceMean, Add, Sqrt, Div, Mul, Add) or by
 * TensorFlow (ReduceMean, Sub, Mul, ReduceMean, Add, Sqrt, Reciprocal, Mul, Mul, Sub, Add).
 *
 * A decomposed LayerNorm is recognised by what it is, not by one exact op sequence: starting from
 * the value x that a ReduceMean averages, take every node that computes only from x, from values
 * already taken and from constants, using only the arithmetic above. That region is a LayerNorm if
 * it averages at least twice (mean and variance), takes a square root, and hands exactly one value
 * to the rest of the graph.
 */
import { isDefaultDomain, type Node } from '../ir/index.js';
import type { LayerNorm } from './types.js';
import type { GraphView } from './view.js';

const decomposedOps = new Set(['ReduceMean', 'Sub', 'Pow', 'Mul', 'Div', 'Add', 'Sqrt', 'Reciprocal']);

export function findLayerNorms(view: GraphView): LayerNorm[] {
  const found: LayerNorm[] = [];
  const covered = new Set<Node>();
  for (const node of view.graph.nodes) {
    if (covered.has(node)) continue;
    const ln = asLayerNormOp(view, node) ?? asDecomposed(view, node);
    if (!ln) continue;
    for (const n of ln.nodes) covered.add(n);
    found.push(ln);
  }
  return found;
}

function width(view: GraphView, value: string | undefined): number | undefined {
  if (!value) return undefined;
  const dims = view.constantDims(value);
  return dims && dims.length === 1 ? dims[0] : undefined;
}

function asLayerNormOp(view: GraphView, node: Node): LayerNorm | undefined {
  const ours = isDefaultDomain(node.domain) || node.domain === 'com.microsoft';
  if (!ours) return undefined;
  if (node.opType === 'LayerNormalization') {
    const scale = node.inputs[1] || undefined;
    return { form: 'LayerNormalization', input: node.inputs[0]!, output: node.outputs[0]!, nodes: [node], scale, bias: node.inputs[2] || undefined, width: width(view, scale) };
  }
  if (node.opType === 'SkipLayerNormalization' && node.domain === 'com.microsoft') {
    const scale = node.inputs[2] || undefined;
    return { form: 'SkipLayerNormalization', input: '', output: node.outputs[0]!, nodes: [node], scale, bias: node.inputs[3] || undefined, width: width(view, scale) };
  }
  if (node.opType === 'EmbedLayerNormalization' && node.domain === 'com.microsoft') {
    const scale = node.inputs[5] || undefined;
    return { form: 'EmbedLayerNormalization', input: '', output: node.outputs[0]!, nodes: [node], scale, bias: node.inputs[6] || undefined, width: width(view, scale) };
  }
  return undefined;
}

function asDecomposed(view: GraphView, mean: Node): LayerNorm | undefined {
  if (mean.opType !== 'ReduceMean' || !isDefaultDomain(mean.domain)) return undefined;
  const axes = view.reduceAxes(mean);
  // The last axis only: -1, or 2 for the usual [batch, sequence, hidden].
  if (!axes || axes.length !== 1 || !(axes[0] === -1 || axes[0] === 2)) return undefined;
  const x = mean.inputs[0]!;

  const values = new Set([x]);
  const nodes: Node[] = [];
  const taken = new Set<Node>();
  let grew = true;
  while (grew && nodes.length < 32) {
    grew = false;
    for (const value of [...values]) {
      for (const consumer of view.consumers(value)) {
        if (taken.has(consumer) || !decomposedOps.has(consumer.opType) || !isDefaultDomain(consumer.domain)) continue;
        if (!consumer.inputs.every((i) => values.has(i) || view.isConstant(i))) continue;
        taken.add(consumer);
        nodes.push(consumer);
        for (const out of consumer.outputs) values.add(out);
        grew = true;
      }
    }
  }

  const count = (op: string) => nodes.filter((n) => n.opType === op).length;
  if (count('ReduceMean') < 2 || count('Sqrt') < 1) return undefined;
  // Exactly one value may leave the region: the normalized output.
  const leaving = [...values].filter((v) => v !== x && (view.isGraphOutput(v) || view.consumers(v).some((c) => !taken.has(c))));
  if (leaving.length !== 1) return undefined;
  if (view.consumers(x).some((c) => !taken.has(c))) return undefined;

  // gamma multiplies and beta adds (or, in TensorFlow's form, is subtracted from): 1-D constants.
  const vectorOperand = (n: Node) => n.inputs.find((i) => !values.has(i) && (view.constantDims(i)?.length ?? 0) === 1 && (view.constantDims(i)?.[0] ?? 0) > 1);
  const scale = nodes.filter((n) => n.opType === 'Mul').map(vectorOperand).find((v) => v !== undefined);
  const bias = nodes.filter((n) => n.opType === 'Add' || n.opType === 'Sub').map(vectorOperand).find((v) => v !== undefined);
  return { form: 'decomposed', input: x, output: leaving[0]!, nodes, scale, bias, width: width(view, scale) ?? width(view, bias) };
}
