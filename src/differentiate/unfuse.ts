/**
 * Before differentiating, ONNX Runtime's fused com.microsoft ops become the standard ops they
 * stand for, so the gradient rules (all standard) cover them and the training graph stays
 * standard ONNX: SkipLayerNormalization, Gelu, BiasGelu, FastGelu, FusedMatMul, FusedGemm. Ops
 * without a standard form here (the fused Attention) are left alone; if one lies on a gradient
 * path, differentiation stops there with a clear error.
 */
import { attrFloat, attrInt, attrString, getAttribute, GraphBuilder, nodeLabel, type Model, type Node } from '../ir/index.js';
import { AdapterError, diagnostic } from '../diagnostics/index.js';
import type { ShapeTable } from './probe.js';

type Unfold = (b: GraphBuilder, node: Node, rank: (value: string) => number) => void;

function fail(node: Node, reason: string): never {
  throw new AdapterError([diagnostic('ADP3003', { op: `com.microsoft:${node.opType}`, node: nodeLabel(node), reason })]);
}

/** Renames the value `from` (an output of the removed fused node) to the output of its replacement. */
function produce(b: GraphBuilder, value: string, from: string): void {
  b.nodeWithOutput('Identity', [from], value);
}

function gelu(b: GraphBuilder, x: string, prefix: string): string {
  return b.activation('gelu', x, prefix);
}

const unfolds: Record<string, Unfold> = {
  SkipLayerNormalization(b, node) {
    const [input, skip, gamma, beta, bias] = node.inputs;
    if (node.outputs.slice(1, 3).some((o) => o)) fail(node, 'its mean and inverse standard deviation outputs are used');
    const prefix = node.name || node.outputs[0]!;
    let sum = b.node('Add', [input!, skip!], `${prefix}.sum`);
    if (bias) sum = b.node('Add', [sum, bias], `${prefix}.sum_bias`);
    const shift = beta || b.scalar(0);
    produce(b, node.outputs[0]!, b.layerNorm(sum, gamma!, shift, attrFloat(node, 'epsilon', 1e-12), `${prefix}.layernorm`));
    if (node.outputs[3]) produce(b, node.outputs[3], sum);
  },
  Gelu(b, node) {
    produce(b, node.outputs[0]!, gelu(b, node.inputs[0]!, node.name || node.outputs[0]!));
  },
  BiasGelu(b, node) {
    const prefix = node.name || node.outputs[0]!;
    produce(b, node.outputs[0]!, gelu(b, b.node('Add', [node.inputs[0]!, node.inputs[1]!], `${prefix}.biased`), prefix));
  },
  FastGelu(b, node) {
    // 0.5 · x · (1 + tanh(√(2/π) · (x + 0.044715 · x³)))
    const prefix = node.name || node.outputs[0]!;
    const x = node.inputs[1] ? b.node('Add', [node.inputs[0]!, node.inputs[1]], `${prefix}.biased`) : node.inputs[0]!;
    const cube = b.node('Mul', [b.node('Mul', [x, x], `${prefix}.square`), x], `${prefix}.cube`);
    const inner = b.node('Mul', [b.node('Add', [x, b.node('Mul', [cube, b.scalar(0.044715)], `${prefix}.cubic`)], `${prefix}.poly`), b.scalar(Math.sqrt(2 / Math.PI))], `${prefix}.inner`);
    const onePlus = b.node('Add', [b.node('Tanh', [inner], `${prefix}.tanh`), b.scalar(1)], `${prefix}.one_plus`);
    produce(b, node.outputs[0]!, b.node('Mul', [b.node('Mul', [x, b.scalar(0.5)], `${prefix}.half_x`), onePlus], `${prefix}.fast_gelu`));
  },
  FusedMatMul(b, node, rank) {
    if (attrInt(node, 'transBatchA', 0) || attrInt(node, 'transBatchB', 0)) fail(node, 'batch transposition is not supported');
    const prefix = node.name || node.outputs[0]!;
    // Transposes the last two axes.
    const swap = (x: string, name: string) => {
      const perm = [...Array(rank(x)).keys()];
      [perm[perm.length - 2], perm[perm.length - 1]] = [perm[perm.length - 1]!, perm[perm.length - 2]!];
      return b.transpose(x, perm, name);
    };
    let [a, w] = node.inputs as [string, string];
    if (attrInt(node, 'transA', 0)) a = swap(a, `${prefix}.a_t`);
    if (attrInt(node, 'transB', 0)) w = swap(w, `${prefix}.b_t`);
    let product = b.node('MatMul', [a, w], `${prefix}.matmul`);
    const alpha = attrFloat(node, 'alpha', 1);
    if (alpha !== 1) product = b.node('Mul', [product, b.scalar(alpha)], `${prefix}.scaled`);
    produce(b, node.outputs[0]!, product);
  },
  FusedGemm(b, node) {
    const prefix = node.name || node.outputs[0]!;
    const gemm = b.node('Gemm', [...node.inputs], `${prefix}.gemm`, node.attributes.filter((a) => ['alpha', 'beta', 'transA', 'transB'].includes(a.name)));
    const activation = getAttribute(node, 'activation') ? attrString(node, 'activation') : '';
    const ops: Record<string, string> = { Relu: 'Relu', Tanh: 'Tanh', Sigmoid: 'Sigmoid', '': 'Identity' };
    const op = ops[activation];
    if (!op) fail(node, `the activation ${activation} is not supported`);
    produce(b, node.outputs[0]!, op === 'Identity' ? gemm : b.node(op, [gemm], `${prefix}.${activation.toLowerCase()}`));
  },
};

/**
 * Replaces every fused com.microsoft node that has a standard form; `shapes` (probed on the model
 * as it is) give ranks. Returns how many were replaced.
 */
export function unfuse(model: Model, shapes: ShapeTable): number {
  const rank = (value: string): number => {
    const probed = shapes.get(value)?.dims ?? model.graph.initializers.find((t) => t.name === value)?.dims;
    if (!probed) throw new Error(`unfuse: no shape for '${value}'`);
    return probed.length;
  };
  const b = new GraphBuilder(model, 'unfused.constant');
  const fused = model.graph.nodes.filter((n) => n.domain === 'com.microsoft' && unfolds[n.opType] !== undefined);
  for (const node of fused) {
    model.graph.nodes = model.graph.nodes.filter((n) => n !== node);
    unfolds[node.opType]!(b, node, rank);
  }
  return fused.length;
}
