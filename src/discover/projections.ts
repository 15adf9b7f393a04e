/**
 * The projections inside each layer, for LoRA and (IA)³: attention's query, key and value, its
 * output projection, the feed-forward block's in and out projections, and the FFN's intermediate
 * activation (the out projection's input). Found by structure, not by name:
 *
 * - the attention output and FFN out projections are the MatMul/Gemm behind the two adapter sites;
 * - the FFN in projection is the one projection upstream of the FFN out projection's input, before
 *   the block's input (the attention LayerNorm's output);
 * - in attention, the context MatMul (Softmax's consumer, two computed operands) reads the values
 *   as its second operand, and the scores MatMul (upstream of Softmax) reads the queries first and
 *   the keys second; each traces back to one projection of the block's input. ONNX Runtime's fused
 *   Attention packs the three into one weight [hidden, 3·hidden]: each is then a column slice.
 *
 * A projection is a MatMul, Gemm or com.microsoft FusedMatMul with one constant 2-D weight (seen
 * through Identity and Transpose). What cannot be found is left out; placing an adapter there is
 * then ADP2205, naming the layer and site.
 */
import { attrInt, attrInts, getAttribute, isDefaultDomain, type Node } from '../ir/index.js';
import type { ProjectionSite } from '../check/plan.js';
import type { AdapterSite, LayerProjections, PackedSlice, Projection, TransformerLayer } from './types.js';
import type { GraphView } from './view.js';

const projectionOps = new Set(['MatMul', 'Gemm', 'FusedMatMul']);

/** The weight input of a projection node and its [in, out] sizes, or undefined when `node` is not one. */
function projectionShape(view: GraphView, node: Node): { weight: string; data: string; inFeatures: number; outFeatures: number } | undefined {
  if (!projectionOps.has(node.opType)) return undefined;
  if (node.opType === 'FusedMatMul' && node.domain !== 'com.microsoft') return undefined;
  if (node.opType !== 'FusedMatMul' && !isDefaultDomain(node.domain)) return undefined;
  const [a, b] = node.inputs;
  if (!a || !b || view.isConstant(a)) return undefined;
  const dims = view.constantDims(b);
  if (dims?.length !== 2) return undefined;
  let [rows, cols] = dims as [number, number];
  if (node.opType === 'Gemm') {
    if (attrInt(node, 'transA', 0) !== 0) return undefined;
    if (attrInt(node, 'transB', 0) !== 0) [rows, cols] = [cols, rows];
  }
  if (node.opType === 'FusedMatMul' && (attrInt(node, 'transA', 0) !== 0 || attrInt(node, 'transB', 0) !== 0)) return undefined;
  return { weight: b, data: a, inFeatures: rows, outFeatures: cols };
}

/**
 * The projection's result after its bias: the Add of a constant that follows a MatMul (a Gemm
 * includes it). LoRA may add to either; (IA)³ must scale the biased value, as PEFT does.
 */
function biased(view: GraphView, node: Node): string {
  const out = node.outputs[0]!;
  if (node.opType === 'Gemm') return out;
  const users = view.consumers(out);
  if (users.length !== 1 || view.isGraphOutput(out)) return out;
  const add = users[0]!;
  if (add.opType !== 'Add' || !isDefaultDomain(add.domain)) return out;
  const other = add.inputs[0] === out ? add.inputs[1] : add.inputs[0];
  return other !== undefined && view.constantDims(other)?.length === 1 ? add.outputs[0]! : out;
}

function project(view: GraphView, site: ProjectionSite, layer: number, node: Node): Projection | undefined {
  const shape = projectionShape(view, node);
  if (!shape) return undefined;
  return { site, layer, node, input: shape.data, output: biased(view, node), weight: shape.weight, inFeatures: shape.inFeatures, outFeatures: shape.outFeatures, packed: undefined };
}

/** The projection node behind a sub-layer's output (through bias Adds, Reshapes and Transposes). */
function projectionBehind(view: GraphView, value: string): Node | undefined {
  let current = value;
  for (let guard = 0; guard < 6; guard++) {
    const p = view.producer(current);
    if (!p) return undefined;
    if (projectionShape(view, p)) return p;
    if (p.opType === 'Add') current = p.inputs.find((i) => !view.isConstant(i)) ?? '';
    else if (p.opType === 'Reshape' || p.opType === 'Transpose' || p.opType === 'Identity') current = p.inputs[0]!;
    else return undefined;
  }
  return undefined;
}

/**
 * The projections found walking back from `value` to the block's input `stop`, not passing any
 * MatMul (the scores and context products, and the projections themselves, end a path).
 */
function projectionsUpstream(view: GraphView, value: string, stop: string, limit = 200): Node[] {
  const found = new Set<Node>();
  const seen = new Set<string>();
  const queue = [value];
  while (queue.length > 0 && seen.size < limit) {
    const v = queue.shift()!;
    if (v === stop || seen.has(v)) continue;
    seen.add(v);
    const p = view.producer(v);
    if (!p) continue;
    if (projectionShape(view, p)) {
      found.add(p);
      continue;
    }
    if (isActivationProduct(view, p) || p.opType === 'Softmax' || attentionFused.has(p.opType)) continue;
    for (const i of dataInputs(view, p)) queue.push(i);
  }
  return [...found];
}

const attentionFused = new Set(['Attention', 'MultiHeadAttention', 'PackedAttention', 'GroupQueryAttention']);

/** The one projection upstream of `value`, or undefined when there are none or several. */
function single(view: GraphView, value: string | undefined, stop: string): Node | undefined {
  if (value === undefined) return undefined;
  const found = projectionsUpstream(view, value, stop);
  return found.length === 1 ? found[0] : undefined;
}

/** Nodes between `value` and `stop`, nearest first, of the given op types. */
function upstreamOfType(view: GraphView, value: string, stop: string, types: ReadonlySet<string>): Node[] {
  const found: Node[] = [];
  const seen = new Set<string>();
  const queue = [value];
  while (queue.length > 0 && seen.size < 400) {
    const v = queue.shift()!;
    if (v === stop || seen.has(v)) continue;
    seen.add(v);
    const p = view.producer(v);
    if (!p) continue;
    if (types.has(p.opType) && !found.includes(p)) found.push(p);
    for (const i of dataInputs(view, p)) queue.push(i);
  }
  return found;
}

/** A MatMul (or ONNX Runtime's FusedMatMul) of two computed operands: attention's scores or context product. */
function isActivationProduct(view: GraphView, node: Node): boolean {
  const matmul = (node.opType === 'MatMul' && isDefaultDomain(node.domain)) || (node.opType === 'FusedMatMul' && node.domain === 'com.microsoft');
  return matmul && node.inputs.length === 2 && node.inputs.every((i) => !view.isConstant(i));
}

/**
 * The computed inputs whose values flow into a node's output. Some inputs give only a shape or a
 * type (dynamo exports scale the keys by a factor computed from the queries' shape, via CastLike).
 */
function dataInputs(view: GraphView, node: Node): string[] {
  const data = dataOperands[node.opType];
  const inputs = data === undefined ? node.inputs : node.inputs.slice(0, data);
  return inputs.filter((i) => i !== '' && !view.isConstant(i));
}

/** How many leading inputs carry values; the rest are shapes, indices of axes, or a type to match. */
const dataOperands: Readonly<Record<string, number>> = { Shape: 0, Size: 0, ConstantOfShape: 0, CastLike: 1, Reshape: 1, Expand: 1, Slice: 1, Tile: 1, Squeeze: 1, Unsqueeze: 1 };

function attentionProjections(view: GraphView, layer: number, site: AdapterSite, output: Projection): Partial<Record<ProjectionSite, Projection>> {
  const stop = site.residual;
  // ONNX Runtime's fused Attention: packed [hidden, 3·hidden] weights, sliced by qkv_hidden_sizes.
  const fused = upstreamOfType(view, output.input, stop, attentionFused)[0];
  if (fused) {
    if (fused.opType !== 'Attention' || fused.domain !== 'com.microsoft') return {};
    const dims = view.constantDims(fused.inputs[1] ?? '');
    if (dims?.length !== 2) return {};
    const [inFeatures, total] = dims as [number, number];
    const sizes = getAttribute(fused, 'qkv_hidden_sizes') ? attrInts(fused, 'qkv_hidden_sizes') : [total / 3, total / 3, total / 3];
    return packedSlices(layer, fused, fused.inputs[0]!, inFeatures, sizes, { node: fused, index: 1 }, fused.inputs[2] ? { node: fused, index: 2 } : undefined);
  }
  const products = new Set(['MatMul', 'FusedMatMul']);
  const context = upstreamOfType(view, output.input, stop, products).find((n) => isActivationProduct(view, n));
  if (!context) return {};
  const scores = upstreamOfType(view, context.inputs[0]!, stop, products).find((n) => isActivationProduct(view, n));
  if (!scores) return {};
  const nodes = { query: single(view, scores.inputs[0], stop), key: single(view, scores.inputs[1], stop), value: single(view, context.inputs[1], stop) };
  // torch.nn.MultiheadAttention: one in_proj MatMul [in, 3·in] whose output is sliced into q, k, v.
  if (nodes.query && nodes.query === nodes.key && nodes.key === nodes.value) {
    const shape = projectionShape(view, nodes.query);
    if (!shape || nodes.query.opType !== 'MatMul' || shape.outFeatures !== 3 * shape.inFeatures || !readsBlockInput(view, shape.data, stop)) return {};
    const third = shape.inFeatures;
    return packedSlices(layer, nodes.query, shape.data, shape.inFeatures, [third, third, third], { node: nodes.query, index: 1 }, biasOf(view, nodes.query));
  }
  const found: Partial<Record<ProjectionSite, Projection>> = {};
  for (const name of ['query', 'key', 'value'] as const) {
    const node = nodes[name];
    const projection = node && project(view, name, layer, node);
    if (projection && readsBlockInput(view, projection.input, stop)) found[name] = projection;
  }
  // Three different projections, or none: a shared one means the structure was misread.
  const distinct = new Set(Object.values(found).map((p) => p.node));
  return distinct.size === Object.keys(found).length ? found : {};
}

/** The constant operand of the bias Add after a MatMul, as a place to read it from. */
function biasOf(view: GraphView, node: Node): { node: Node; index: number } | undefined {
  const out = node.outputs[0]!;
  const after = biased(view, node);
  if (after === out) return undefined;
  const add = view.producer(after)!;
  return { node: add, index: add.inputs[0] === out ? 1 : 0 };
}

/** The query, key and value as column slices of one packed projection, in that order. */
function packedSlices(layer: number, node: Node, input: string, inFeatures: number, sizes: readonly number[], weight: PackedSlice['weight'], bias: PackedSlice['bias']): Partial<Record<ProjectionSite, Projection>> {
  const total = sizes.reduce((a, b) => a + b, 0);
  const found: Partial<Record<ProjectionSite, Projection>> = {};
  let offset = 0;
  (['query', 'key', 'value'] as const).forEach((name, i) => {
    const width = sizes[i]!;
    found[name] = { site: name, layer, node, input, output: '', weight: weight.node.inputs[weight.index]!, inFeatures, outFeatures: width, packed: { offset, total, weight, bias } };
    offset += width;
  });
  return found;
}

function ffnProjections(view: GraphView, layer: number, site: AdapterSite, output: Projection): Pick<LayerProjections, 'ffn_in' | 'intermediate'> {
  const intermediate = { value: output.input, width: output.inFeatures, consumer: output.node };
  const node = single(view, output.input, site.residual);
  const projection = node && project(view, 'ffn_in', layer, node);
  return { ffn_in: projection && projection.outFeatures === output.inFeatures ? projection : undefined, intermediate };
}

/** Whether `value` is the block's input `stop`, or a reshaping of it (TensorFlow exports flatten to 2-D first; torch.nn.MultiheadAttention works sequence-first). */
function readsBlockInput(view: GraphView, value: string, stop: string): boolean {
  let current = value;
  for (let guard = 0; guard < 8; guard++) {
    if (view.source(current, true) === view.source(stop, true)) return true;
    const p = view.producer(view.source(current, true));
    if (!p || !reshapingOps.has(p.opType)) return false;
    current = p.inputs[0] ?? '';
  }
  return false;
}

const reshapingOps = new Set(['Reshape', 'Flatten', 'Squeeze', 'Unsqueeze', 'Transpose']);

/** Every layer's projections, by layer index (empty records where nothing was found). */
export function findProjections(view: GraphView, layers: readonly TransformerLayer[]): LayerProjections[] {
  return layers.map((l) => {
    const found: { -readonly [K in keyof LayerProjections]?: LayerProjections[K] } = {};
    // Each sub-layer's output projection, then what lies upstream of it.
    const blocks = [
      [l.attention, 'attention_output', attentionProjections],
      [l.ffn, 'ffn_out', ffnProjections],
    ] as const;
    for (const [site, name, upstream] of blocks) {
      if (!site) continue;
      const node = projectionBehind(view, site.adapter?.input ?? site.value);
      const output = node && project(view, name, l.index, node);
      if (!output) continue;
      found[name] = output;
      Object.assign(found, upstream(view, l.index, site, output));
    }
    return found;
  });
}
