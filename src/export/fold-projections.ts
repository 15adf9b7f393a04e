/**
 * LoRA and (IA)³ on export: folded into the weights they adapt, so the exported model has no extra
 * nodes and costs what the base model costs (Hu et al. 2021, §4.1), or removed (`--drop-layers`).
 *
 *   pattern   y = Add(base, s·((x·A)·B)) named `adapters.layer.L.SITE.output`   LoRA
 *             y = Mul(base, l)           named `adapters.layer.L.SITE.output`   (IA)³
 *             W' = (W + Concat(Δ…))·Concat(l…) read by a packed projection     `adapters.layer.L.qkv.*`
 *   rewrite   merge: the projection reads a new weight W + s·A·B (LoRA), W·diag(l) and b·l (an output
 *             scaled), or diag(l)·W (the FFN activation scaled, folded into the FFN out projection);
 *             remove: the projection reads W as before.
 *             Either way `base`'s producer computes y again and the adapter's nodes are pruned.
 *
 * New weights are new initializers (`adapters.layer.L.SITE.merged.weight`): exporters share one
 * weight between layers through Identity, and a shared tensor must not change for all of them.
 */
import { transposed } from '../adapterhub/safetensors.js';
import { GraphView } from '../discover/view.js';
import { attrInt, attrInts, getAttribute, makeTensor, readFloat32, readNumbers, type Graph, type Model, type Node, type Tensor } from '../ir/index.js';
import { pruneUnused } from '../rewrite/prune.js';

const PARAMETER = /^adapters\.layer\.(\d+)\.([a-z_]+)\.(lora_A|ia3)$/;

export interface FoldResult {
  /** Adapters folded into their projection's weights, as `layer/site`. */
  readonly merged: readonly string[];
  /** Adapters removed (their layers dropped). */
  readonly removed: readonly string[];
}

/** A matrix as [rows, cols] row-major float32. */
interface Matrix {
  readonly rows: number;
  readonly cols: number;
  readonly data: Float32Array;
}

/** The graph being folded, seen through discovery's GraphView (made again after each change). */
class Folder {
  private view: GraphView;

  constructor(private readonly graph: Graph) {
    this.view = new GraphView(graph);
  }

  /** The constant behind a value (through Identity), if any. */
  constant(value: string): Tensor | undefined {
    return this.view.constant(value);
  }

  /** A 2-D weight as the graph reads it, through Identity and a Transpose. */
  matrix(value: string): Matrix {
    const direct = this.constant(value);
    if (direct?.dims.length === 2) return { rows: direct.dims[0]!, cols: direct.dims[1]!, data: readFloat32(direct) };
    const p = this.producer(value);
    if (p?.opType === 'Transpose') {
      const inner = this.matrix(p.inputs[0]!);
      const perm = getAttribute(p, 'perm') ? attrInts(p, 'perm') : [1, 0];
      return perm[0] === 1 ? transpose(inner) : inner;
    }
    throw new Error(`fold: '${value}' is not a constant 2-D weight`);
  }

  numbers(value: string): number[] {
    const t = this.constant(value);
    if (!t) throw new Error(`fold: '${value}' is not a constant`);
    return readNumbers(t);
  }

  vector(value: string): Float32Array {
    const t = this.constant(value);
    if (!t) throw new Error(`fold: '${value}' is not a constant`);
    return readFloat32(t);
  }

  producer(value: string): Node | undefined {
    return this.view.producer(value);
  }

  node(name: string): Node | undefined {
    return this.graph.nodes.find((n) => n.name === name);
  }

  consumers(value: string): readonly Node[] {
    return this.view.consumers(value);
  }

  /** `base`'s producer writes `y` again; the adapter node that wrote `y`, and what only it read, go. */
  restore(adapterNode: Node, base: string): void {
    const y = adapterNode.outputs[0]!;
    const producer = this.producer(base)!;
    producer.outputs[producer.outputs.indexOf(base)] = y;
    this.graph.nodes = this.graph.nodes.filter((n) => n !== adapterNode);
    // The adapter's other nodes go now, so that the next fold sees only the model's readers of y.
    pruneUnused(this.graph);
    this.view = new GraphView(this.graph);
  }

  /** Adds `tensor` (renamed `name.2`, … if its name is taken) and makes `node` read it at input `index`. */
  replaceInput(node: Node, index: number, tensor: Tensor): void {
    let name = tensor.name!;
    for (let k = 2; this.view.index.initializer.has(name) || this.view.index.producer.has(name); k++) name = `${tensor.name}.${k}`;
    this.graph.initializers.push({ ...tensor, name });
    node.inputs[index] = name;
    this.view = new GraphView(this.graph);
  }
}

function transpose(m: Matrix): Matrix {
  return { rows: m.cols, cols: m.rows, data: transposed(m.data, m.rows, m.cols) };
}

/** s · A·B. */
function product(a: Matrix, b: Matrix, s: number): Matrix {
  const data = new Float32Array(a.rows * b.cols);
  for (let i = 0; i < a.rows; i++) {
    for (let k = 0; k < a.cols; k++) {
      const aik = a.data[i * a.cols + k]! * s;
      if (aik === 0) continue;
      for (let j = 0; j < b.cols; j++) data[i * b.cols + j] += aik * b.data[k * b.cols + j]!;
    }
  }
  return { rows: a.rows, cols: b.cols, data };
}

/** The projection behind `base`: [a bias Add of a constant after] a MatMul or Gemm with a constant weight. */
function projectionOf(f: Folder, base: string): { node: Node; bias: { node: Node; index: number } | undefined } {
  let node = f.producer(base);
  let bias: { node: Node; index: number } | undefined;
  if (node?.opType === 'Add') {
    const k = node.inputs.findIndex((i) => f.constant(i) !== undefined);
    if (k >= 0) {
      bias = { node, index: k };
      node = f.producer(node.inputs[1 - k]!);
    }
  }
  if (!node || (node.opType !== 'MatMul' && node.opType !== 'Gemm')) throw new Error(`fold: no projection computes '${base}'`);
  if (node.opType === 'Gemm' && node.inputs[2]) bias = { node, index: 2 };
  return { node, bias };
}

/** The weight of a MatMul or Gemm as [in, out], and how to store a new one in the node's layout. */
function weightOf(f: Folder, node: Node): { weight: Matrix; store: (m: Matrix, name: string) => Tensor } {
  const transposed = node.opType === 'Gemm' && attrInt(node, 'transB', 0) !== 0;
  const read = f.matrix(node.inputs[1]!);
  const weight = transposed ? transpose(read) : read;
  const store = (m: Matrix, name: string) => {
    const out = transposed ? transpose(m) : m;
    return makeTensor(name, [out.rows, out.cols], out.data);
  };
  return { weight, store };
}

function addInto(target: Matrix, delta: Matrix, columnOffset = 0): void {
  for (let r = 0; r < delta.rows; r++) for (let c = 0; c < delta.cols; c++) target.data[r * target.cols + columnOffset + c] += delta.data[r * delta.cols + c]!;
}

function loraDelta(f: Folder, prefix: string): Matrix {
  const a = f.matrix(`${prefix}.lora_A`);
  const b = f.matrix(`${prefix}.lora_B`);
  const scaled = f.node(`${prefix}.lora.scaled`);
  const s = scaled ? f.vector(scaled.inputs[1]!)[0]! : 1;
  return product(a, b, s);
}

/** Folds (or removes) one unpacked adapter at `prefix`, whose output node is `${prefix}.output`. */
function foldOne(f: Folder, prefix: string, kind: 'lora_A' | 'ia3', merge: boolean): boolean {
  const output = f.node(`${prefix}.output`);
  if (!output) return false;
  const base = output.inputs[0]!;
  if (merge && kind === 'lora_A') {
    const { node } = projectionOf(f, base);
    const { weight, store } = weightOf(f, node);
    const merged = { ...weight, data: Float32Array.from(weight.data) };
    addInto(merged, loraDelta(f, prefix));
    f.replaceInput(node, 1, store(merged, `${prefix}.merged.weight`));
  } else if (merge && prefix.endsWith('.intermediate')) {
    // diag(l)·W for every projection reading the activation: row r of W [in, out] times l[r].
    const l = f.vector(output.inputs[1]!);
    for (const reader of [...f.consumers(output.outputs[0]!)]) {
      if ((reader.opType !== 'MatMul' && reader.opType !== 'Gemm') || reader.inputs[0] !== output.outputs[0]) throw new Error(`fold: ${prefix} feeds a ${reader.opType}, not a projection`);
      const { weight, store } = weightOf(f, reader);
      const data = Float32Array.from(weight.data, (v, i) => v * l[Math.floor(i / weight.cols)]!);
      f.replaceInput(reader, 1, store({ ...weight, data }, `${prefix}.merged.weight`));
    }
  } else if (merge) {
    // W·diag(l) and b·l: column c of W [in, out] and b[c] times l[c].
    const l = f.vector(output.inputs[1]!);
    const { node, bias } = projectionOf(f, base);
    const { weight, store } = weightOf(f, node);
    f.replaceInput(node, 1, store({ ...weight, data: Float32Array.from(weight.data, (v, i) => v * l[i % weight.cols]!) }, `${prefix}.merged.weight`));
    if (bias) {
      const b = f.vector(bias.node.inputs[bias.index]!);
      f.replaceInput(bias.node, bias.index, makeTensor(`${prefix}.merged.bias`, [b.length], b.map((v, i) => v * l[i]!)));
    }
  }
  f.restore(output, base);
  return true;
}

/** Folds (or removes) the packed update of layer `layer` (update-packed.ts), if there is one. */
function foldPacked(f: Folder, graph: Graph, layer: number, merge: boolean): boolean {
  const name = `adapters.layer.${layer}.qkv`;
  const loraWeight = `${name}.lora.weight`;
  const ia3Weight = `${name}.ia3.weight`;
  const finalWeight = [ia3Weight, loraWeight].find((v) => f.producer(v) !== undefined);
  if (!finalWeight) return false;
  const reader = graph.nodes.find((n) => n.inputs.includes(finalWeight))!;
  const weightIndex = reader.inputs.indexOf(finalWeight);
  const original = f.producer(loraWeight)?.inputs[0] ?? f.producer(ia3Weight)!.inputs[0]!;
  const biasNode = graph.nodes.find((n) => n.inputs.includes(`${name}.ia3.bias`));
  const originalBias = f.producer(`${name}.ia3.bias`)?.inputs[0];
  if (!merge) {
    reader.inputs[weightIndex] = original;
    if (biasNode && originalBias) biasNode.inputs[biasNode.inputs.indexOf(`${name}.ia3.bias`)] = originalBias;
    return true;
  }
  const w = f.matrix(original);
  const merged = { ...w, data: Float32Array.from(w.data) };
  // Column offsets of the slices, from the Concat that lays them out.
  const layout = (concat: string): Map<string, number> => {
    const offsets = new Map<string, number>();
    let offset = 0;
    for (const part of f.producer(concat)?.inputs ?? [concat]) {
      offsets.set(part, offset);
      const shapeNode = f.producer(part);
      const width = shapeNode?.opType === 'ConstantOfShape' ? f.numbers(shapeNode.inputs[0]!).at(-1) : undefined;
      offset += width ?? (part.endsWith('.ia3') ? f.vector(part).length : f.matrix(`${part.replace(/\.lora\.(scaled|delta)$/, '')}.lora_B`).cols);
    }
    return offsets;
  };
  if (f.producer(loraWeight)) {
    for (const [part, offset] of layout(f.producer(loraWeight)!.inputs[1]!)) {
      const m = /^(adapters\.layer\.\d+\.[a-z]+)\.lora\.(scaled|delta)$/.exec(part);
      if (m) addInto(merged, loraDelta(f, m[1]!), offset);
    }
  }
  let scale: Float32Array | undefined;
  if (f.producer(ia3Weight)) {
    scale = new Float32Array(w.cols).fill(1);
    for (const [part, offset] of layout(f.producer(ia3Weight)!.inputs[1]!)) if (part.endsWith('.ia3')) scale.set(f.vector(part), offset);
    for (let i = 0; i < merged.data.length; i++) merged.data[i]! *= scale[i % w.cols]!;
  }
  f.replaceInput(reader, weightIndex, makeTensor(`${name}.merged.weight`, [w.rows, w.cols], merged.data));
  if (scale && biasNode && originalBias) {
    const b = f.vector(originalBias);
    f.replaceInput(biasNode, biasNode.inputs.indexOf(`${name}.ia3.bias`), makeTensor(`${name}.merged.bias`, [b.length], b.map((v, i) => v * scale![i]!)));
  }
  return true;
}

/**
 * Folds every LoRA and (IA)³ adapter of `model` into its weights (`merge`), except those of
 * `dropLayers`, which are removed. Bottleneck adapters are left alone.
 */
export function foldProjectionAdapters(model: Model, merge: boolean, dropLayers: ReadonlySet<number> = new Set()): FoldResult {
  const graph = model.graph;
  const f = new Folder(graph);
  const found = new Map<number, Map<string, 'lora_A' | 'ia3'>>();
  for (const t of graph.initializers) {
    const m = PARAMETER.exec(t.name ?? '');
    if (!m) continue;
    const layer = Number(m[1]);
    found.set(layer, (found.get(layer) ?? new Map()).set(m[2]!, m[3] as 'lora_A' | 'ia3'));
  }
  const merged: string[] = [];
  const removed: string[] = [];
  for (const [layer, sites] of [...found].sort((a, b) => a[0] - b[0])) {
    const drop = dropLayers.has(layer);
    // Kept apart: nothing to do unless the layer's adapters go.
    if (!merge && !drop) continue;
    const packed = foldPacked(f, graph, layer, !drop);
    // LoRA before (IA)³: a LoRA on the FFN out projection reads the (IA)³-scaled activation, so its
    // update is folded into W first, and diag(l) then scales W + ΔW together.
    for (const [site, kind] of [...sites].sort((a, b) => (a[1] === b[1] ? 0 : a[1] === 'lora_A' ? -1 : 1))) {
      const folded = foldOne(f, `adapters.layer.${layer}.${site}`, kind, !drop) || packed;
      if (!folded) continue;
      (drop ? removed : merged).push(`${layer}/${site}`);
    }
  }
  if (merged.length + removed.length > 0) pruneUnused(graph);
  return { merged, removed };
}
