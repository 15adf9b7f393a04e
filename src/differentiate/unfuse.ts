/**
 * Before differentiating, ONNX Runtime's fused com.microsoft ops become the standard ops they
 * stand for, so the gradient rules (all standard) cover them and the training graph stays
 * standard ONNX: SkipLayerNormalization, Gelu, BiasGelu, FastGelu, FusedMatMul, FusedGemm,
 * EmbedLayerNormalization, and Attention in the form ONNX Runtime's transformer optimizer writes
 * for BERT (packed QKV weights, a 1-D or 2-D mask, no past state). Other forms and other fused ops
 * are left alone; if one lies on a gradient path, differentiation stops there with a clear error.
 * Standard ops that ONNX defines as functions of other ops and torch's dynamo exporter writes
 * (CastLike) become those ops too: they have no gradient rule and no CUDA kernel of their own.
 */
import { attr, attrFloat, attrInt, attrInts, attrString, dataTypeName, dataTypeOfName, getAttribute, GraphBuilder, isDefaultDomain, makeTensor, nodeLabel, type Model, type Node } from '../ir/index.js';
import { AdapterError, diagnostic } from '../diagnostics/index.js';
import type { ShapeTable } from '../shapes/index.js';

type Unfold = (b: GraphBuilder, node: Node, rank: (value: string) => number, dims: (value: string) => readonly number[]) => void;

function fail(node: Node, reason: string): never {
  const op = node.domain === 'com.microsoft' ? `com.microsoft:${node.opType}` : node.opType;
  throw new AdapterError([diagnostic('ADP3003', { op, node: nodeLabel(node), reason })]);
}

/** Renames the value `from` (an output of the removed fused node) to the output of its replacement. */
function produce(b: GraphBuilder, value: string, from: string): void {
  b.nodeWithOutput('Identity', [from], value);
}

function gelu(b: GraphBuilder, x: string, prefix: string): string {
  return b.activation('gelu', x, prefix);
}

/** x[..., start:end] on the last axis of a rank-3 value, as the opset writes Slice. */
function sliceLast(b: GraphBuilder, x: string, start: number, end: number, name: string): string {
  if (b.opset < 10) return b.node('Slice', [x], name, [attr.ints('starts', [start]), attr.ints('ends', [end]), attr.ints('axes', [2])]);
  return b.node('Slice', [x, b.int64s(`${name}.starts`, [start]), b.int64s(`${name}.ends`, [end]), b.int64s(`${name}.axes`, [2])], name);
}

/** Dimension `axis` of x at run time, as an int64 scalar. */
function dimension(b: GraphBuilder, x: string, axis: number, name: string): string {
  return b.node('Gather', [b.shape(x), b.int64Scalar(`${name}.axis`, axis)], name, [attr.int('axis', 0)]);
}

/** 0, 1, ..., n - 1 (int64) for the int64 scalar n. */
function positions(b: GraphBuilder, n: string, name: string): string {
  return b.node('Range', [b.int64Scalar(`${name}.start`, 0), n, b.int64Scalar(`${name}.step`, 1)], name);
}

const unfolds: Record<string, Unfold> = {
  /**
   * ONNX Runtime's Attention as its transformer optimizer writes it for BERT: input [B, S, D], packed
   * weights [D, 3H], bias [3H], and a mask that is raw ([B, S], 0 = padding) or the number of
   * tokens per row ([B], right padding, as EmbedLayerNormalization computes it). Scores are scaled
   * by `scale` (default 1/√(H/heads)) and masked keys get `mask_filter_value` added.
   */
  Attention(b, node, rank, dims) {
    const [input, weights, bias, mask, past, attentionBias, pastLength] = node.inputs;
    if (past || attentionBias || pastLength) fail(node, 'past state and attention bias inputs are not supported');
    if (node.outputs[1]) fail(node, 'its present-state output is used');
    if (attrInt(node, 'unidirectional', 0)) fail(node, 'unidirectional (causal) attention is not supported');
    if (attrInt(node, 'do_rotary', 0)) fail(node, 'rotary embeddings are not supported');
    if (!bias) fail(node, 'an Attention without a bias input is not supported');
    const heads = attrInt(node, 'num_heads');
    const [, packed] = dims(weights!);
    const sizes = getAttribute(node, 'qkv_hidden_sizes') ? attrInts(node, 'qkv_hidden_sizes').map(Number) : [packed! / 3, packed! / 3, packed! / 3];
    if (sizes[0] !== sizes[1] || sizes[1] !== sizes[2] || sizes[0]! * 3 !== packed) fail(node, `Q, K and V of different widths (${sizes.join(', ')}) are not supported`);
    if (rank(input!) !== 3) fail(node, 'its input is not [batch, sequence, hidden]');
    const hidden = sizes[0]!;
    const headSize = hidden / heads;
    if (!Number.isInteger(headSize)) fail(node, `${hidden} is not divisible by num_heads ${heads}`);
    const p = node.name || node.outputs[0]!;
    const qkv = b.node('Add', [b.node('MatMul', [input!, weights!], `${p}.qkv_matmul`), bias], `${p}.qkv`);
    const split = (k: number, name: string) => b.node('Reshape', [sliceLast(b, qkv, k * hidden, (k + 1) * hidden, `${p}.${name}`), b.int64s(`${p}.${name}.heads`, [0, 0, heads, headSize])], `${p}.${name}.split`);
    const q = b.transpose(split(0, 'q'), [0, 2, 1, 3], `${p}.q.t`);
    const kT = b.transpose(split(1, 'k'), [0, 2, 3, 1], `${p}.k.t`);
    const v = b.transpose(split(2, 'v'), [0, 2, 1, 3], `${p}.v.t`);
    const scale = attrFloat(node, 'scale', 0) || 1 / Math.sqrt(headSize);
    let scores = b.node('Mul', [b.node('MatMul', [q, kT], `${p}.qk`), b.scalar(scale)], `${p}.scores`);
    if (mask) {
      let keep: string;
      const maskRank = rank(mask);
      if (maskRank === 2) keep = b.node('Cast', [mask], `${p}.keep`, [attr.int('to', 9)]);
      else if (maskRank === 1 && dims(mask)[0] === dims(input!)[0]) {
        // The number of tokens in each row: keys at or past it are padding.
        const keys = positions(b, dimension(b, input!, 1, `${p}.keys`), `${p}.key_positions`);
        const ends = b.unsqueeze(b.node('Cast', [mask], `${p}.ends`, [attr.int('to', 7)]), [1], `${p}.ends.column`);
        keep = b.node('Less', [b.unsqueeze(keys, [0], `${p}.key_positions.row`), ends], `${p}.keep`);
      } else fail(node, `a mask_index of rank ${maskRank} (only raw [batch, sequence] masks and per-row token counts are supported)`);
      const filter = b.node('Where', [keep, b.scalar(0), b.scalar(attrFloat(node, 'mask_filter_value', -10000))], `${p}.mask_add`);
      scores = b.node('Add', [scores, b.unsqueeze(filter, [1, 2], `${p}.mask_add.4d`)], `${p}.masked_scores`);
    }
    const probs = b.node('Softmax', [scores], `${p}.probs`, [attr.int('axis', b.opset >= 13 ? -1 : 3)]);
    const context = b.transpose(b.node('MatMul', [probs, v], `${p}.context`), [0, 2, 1, 3], `${p}.context.t`);
    produce(b, node.outputs[0]!, b.node('Reshape', [context, b.int64s(`${p}.merge`, [0, 0, hidden])], `${p}.merged`));
  },
  /**
   * Word + position (+ segment) embeddings and their LayerNorm; the mask output is the number of
   * tokens in each row, as ONNX Runtime computes it for Attention.
   */
  EmbedLayerNormalization(b, node) {
    const [ids, segments, wordTable, positionTable, segmentTable, gamma, beta, mask, positionIds] = node.inputs;
    const p = node.name || node.outputs[0]!;
    const words = b.node('Gather', [wordTable!, ids!], `${p}.words`, [attr.int('axis', 0)]);
    const where = positionIds || positions(b, dimension(b, ids!, 1, `${p}.length`), `${p}.positions`);
    let sum = b.node('Add', [words, b.node('Gather', [positionTable!, where], `${p}.position_rows`, [attr.int('axis', 0)])], `${p}.sum_positions`);
    if (segments && segmentTable) sum = b.node('Add', [sum, b.node('Gather', [segmentTable, segments], `${p}.segment_rows`, [attr.int('axis', 0)])], `${p}.sum_segments`);
    produce(b, node.outputs[0]!, b.layerNorm(sum, gamma!, beta!, attrFloat(node, 'epsilon', 1e-12), `${p}.layernorm`));
    if (node.outputs[1]) {
      // Without a mask, ONNX Runtime's mask_index is zeros.
      const rows = () => b.node('Gather', [b.shape(ids!), b.int64s(`${p}.batch.index`, [0])], `${p}.batch`, [attr.int('axis', 0)]);
      const counts = mask ? b.reduce('ReduceSum', mask, [1], false, `${p}.token_counts`) : b.node('ConstantOfShape', [rows()], `${p}.no_mask`, [attr.tensor('value', makeTensor('', [1], new Int32Array([0])))]);
      produce(b, node.outputs[1], counts);
    }
    if (node.outputs[2]) produce(b, node.outputs[2], sum);
  },
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

/** Default-domain function ops, by op: the inferred element types give what they stand for. */
const functionOps: Record<string, (b: GraphBuilder, node: Node, elemType: (value: string) => string | undefined) => void> = {
  CastLike(b, node, elemType) {
    const like = elemType(node.inputs[1]!);
    const to = like === undefined ? undefined : dataTypeOfName(like);
    if (to === undefined) fail(node, `the element type of its second input '${node.inputs[1]}' is unknown`);
    b.nodeWithOutput('Cast', [node.inputs[0]!], node.outputs[0]!, [attr.int('to', to)], node.name || node.outputs[0]!);
  },
};

/**
 * Replaces every fused com.microsoft node that has a standard form, and every function op above; `shapes` (inferred on the model
 * as it is) give ranks. Returns how many were replaced.
 */
export function unfuse(model: Model, shapes: ShapeTable): number {
  const dims = (value: string): readonly number[] => {
    const inferred = shapes.get(value)?.dims ?? model.graph.initializers.find((t) => t.name === value)?.dims;
    if (!inferred) throw new Error(`unfuse: no shape for '${value}'`);
    return inferred;
  };
  const rank = (value: string): number => dims(value).length;
  const b = new GraphBuilder(model, 'unfused.constant');
  const elemType = (value: string) => shapes.get(value)?.elemType ?? dataTypeName(model.graph.initializers.find((t) => t.name === value)?.dataType);
  const fused = model.graph.nodes.filter((n) => n.domain === 'com.microsoft' && unfolds[n.opType] !== undefined);
  const functions = model.graph.nodes.filter((n) => isDefaultDomain(n.domain) && functionOps[n.opType] !== undefined);
  for (const node of [...fused, ...functions]) {
    model.graph.nodes = model.graph.nodes.filter((n) => n !== node);
    if (node.domain === 'com.microsoft') unfolds[node.opType]!(b, node, rank, dims);
    else functionOps[node.opType]!(b, node, elemType);
  }
  return fused.length + functions.length;
}
