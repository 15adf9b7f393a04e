/**
 * Adding standard-ONNX subgraphs at a model's own opset, for the rewrite and differentiate stages:
 * every node and value gets a readable name (`adapters.layer.3.attention.down.output`), constants
 * become shared scalar initializers, and ops newer than the model's opset are written in older ops
 * (GELU through Erf, LayerNorm through ReduceMean; axes as attributes or inputs as the opset wants)
 * so that any ONNX Runtime build runs the result.
 */
import { addNode, createNamer, type Namer } from './mutate.js';
import { opset } from './navigate.js';
import { makeTensor } from './tensor.js';
import { attr } from './attributes.js';
import type { Attribute, Graph, Model, Node, Tensor } from './types.js';

/** Elementwise activations the builder can write at any opset. */
export type ActivationKind = 'gelu' | 'relu' | 'tanh' | 'swish' | 'silu' | 'identity';

export class GraphBuilder {
  readonly graph: Graph;
  readonly opset: number;
  private readonly namer: Namer;
  private readonly constants = new Map<number, string>();
  /** Nodes added, in order, so callers can place or report them. */
  readonly added: Node[] = [];

  private readonly shapes = new Map<string, string>();

  /** `constantPrefix` names the shared scalar constants this builder adds. */
  constructor(
    model: Model,
    private readonly constantPrefix = 'adapters.constant',
  ) {
    this.graph = model.graph;
    this.opset = opset(model) ?? 1;
    this.namer = createNamer(model.graph);
  }

  /**
   * The graph's initializer names, kept up to date as this builder adds constants, and read again
   * from the graph when something else replaced the list or changed its length: checking each new
   * constant against every initializer was a scan per constant, hundreds in a gradient graph.
   */
  private initializerNames: Set<string> | undefined;
  private initializerList: readonly Tensor[] | undefined;
  private initializerCount = -1;

  /** Adds `tensor` (its name fresh from this builder's namer) as an initializer; a name in use is a bug, thrown. */
  private addInitializer(tensor: Tensor): void {
    const list = this.graph.initializers;
    if (this.initializerNames === undefined || this.initializerList !== list || this.initializerCount !== list.length) this.initializerNames = new Set(list.map((t) => t.name ?? ''));
    if (this.initializerNames.has(tensor.name!)) throw new Error(`addInitializer: '${tensor.name}' already exists`);
    list.push(tensor);
    this.initializerNames.add(tensor.name!);
    this.initializerList = list;
    this.initializerCount = list.length;
  }

  /** A name no value, node or initializer in the graph uses yet. */
  fresh(name: string): string {
    return this.namer.fresh(name);
  }

  /** Adds a node whose output is named `output` (made unique) and returns that name. */
  node(opType: string, inputs: string[], output: string, attributes: Attribute[] = []): string {
    return this.nodeWithOutput(opType, inputs, this.fresh(output), attributes);
  }

  /** Adds a node whose output has exactly the given (free) name; the node is named `name` (default: the output). */
  nodeWithOutput(opType: string, inputs: string[], output: string, attributes: Attribute[] = [], name = output): string {
    this.added.push(addNode(this.graph, { opType, inputs, outputs: [output], name, attributes }));
    return output;
  }

  /** A float32 scalar initializer, shared by every use of the same value. */
  scalar(value: number): string {
    const existing = this.constants.get(value);
    if (existing) return existing;
    const name = this.fresh(`${this.constantPrefix}.${String(value).replace('-', 'minus_')}`);
    this.addInitializer(makeTensor(name, [], new Float32Array([value])));
    this.constants.set(value, name);
    return name;
  }

  /** An int64 1-D initializer (axes, indices, shapes). */
  int64s(name: string, values: readonly number[]): string {
    const n = this.fresh(name);
    this.addInitializer(makeTensor(n, [values.length], new BigInt64Array(values.map((v) => BigInt(v)))));
    return n;
  }

  /** A float32 1-D initializer. */
  float32s(name: string, values: readonly number[]): string {
    const n = this.fresh(name);
    this.addInitializer(makeTensor(n, [values.length], new Float32Array(values)));
    return n;
  }

  /** A float64 1-D initializer. */
  float64s(name: string, values: readonly number[]): string {
    const n = this.fresh(name);
    this.addInitializer(makeTensor(n, [values.length], new Float64Array(values)));
    return n;
  }

  /** An int64 scalar initializer. */
  int64Scalar(name: string, value: number): string {
    const n = this.fresh(name);
    this.addInitializer(makeTensor(n, [], new BigInt64Array([BigInt(value)])));
    return n;
  }

  /** Shape(x), made once per value. */
  shape(x: string): string {
    const existing = this.shapes.get(x);
    if (existing) return existing;
    const made = this.node('Shape', [x], `${x}.shape`);
    this.shapes.set(x, made);
    return made;
  }

  /** A Reduce* op over `axes`: axes are an attribute before opset 13 (ReduceSum) / 18 (the others), an input after. */
  reduce(op: 'ReduceSum' | 'ReduceMean' | 'ReduceMax', x: string, axes: readonly number[], keepdims: boolean, name: string): string {
    const axesAsInput = this.opset >= (op === 'ReduceSum' ? 13 : 18);
    if (axesAsInput) return this.node(op, [x, this.int64s(`${name}.axes`, axes)], name, [attr.int('keepdims', keepdims ? 1 : 0)]);
    return this.node(op, [x], name, [attr.ints('axes', axes), attr.int('keepdims', keepdims ? 1 : 0)]);
  }

  /** Unsqueeze / Squeeze: axes an attribute before opset 13, an input from it. */
  unsqueeze(x: string, axes: readonly number[], name: string): string {
    if (this.opset >= 13) return this.node('Unsqueeze', [x, this.int64s(`${name}.axes`, axes)], name);
    return this.node('Unsqueeze', [x], name, [attr.ints('axes', axes)]);
  }

  transpose(x: string, perm: readonly number[], name: string): string {
    return this.node('Transpose', [x], name, [attr.ints('perm', perm)]);
  }

  /** A float32 tensor of zeros shaped like `like` (at run time). */
  zerosLike(like: string, name: string): string {
    return this.node('ConstantOfShape', [this.shape(like)], name, [attr.tensor('value', makeTensor('', [1], new Float32Array([0])))]);
  }

  activation(kind: ActivationKind, x: string, prefix: string): string {
    switch (kind) {
      case 'identity':
        return x;
      case 'relu':
        return this.node('Relu', [x], `${prefix}.relu`);
      case 'tanh':
        return this.node('Tanh', [x], `${prefix}.tanh`);
      case 'swish':
      case 'silu':
        return this.node('Mul', [x, this.node('Sigmoid', [x], `${prefix}.sigmoid`)], `${prefix}.swish`);
      case 'gelu':
        if (this.opset >= 20) return this.node('Gelu', [x], `${prefix}.gelu`);
        // gelu(x) = 0.5 · x · (1 + erf(x / √2)), the exact form (not the tanh approximation).
        {
          const scaled = this.node('Mul', [x, this.scalar(Math.SQRT1_2)], `${prefix}.gelu.scaled`);
          const erf = this.node('Erf', [scaled], `${prefix}.gelu.erf`);
          const onePlusErf = this.node('Add', [erf, this.scalar(1)], `${prefix}.gelu.one_plus_erf`);
          const halfX = this.node('Mul', [x, this.scalar(0.5)], `${prefix}.gelu.half_x`);
          return this.node('Mul', [halfX, onePlusErf], `${prefix}.gelu`);
        }
    }
  }

  /** LayerNorm over the last axis: the op from opset 17, decomposed below it. */
  layerNorm(x: string, scale: string, bias: string, epsilon: number, prefix: string): string {
    if (this.opset >= 17) return this.node('LayerNormalization', [x, scale, bias], `${prefix}.output`, [attr.int('axis', -1), attr.float('epsilon', epsilon)]);
    const reduce = (input: string, name: string) => this.reduce('ReduceMean', input, [-1], true, name);
    const centered = this.node('Sub', [x, reduce(x, `${prefix}.mean`)], `${prefix}.centered`);
    const variance = reduce(this.node('Mul', [centered, centered], `${prefix}.squared`), `${prefix}.variance`);
    const std = this.node('Sqrt', [this.node('Add', [variance, this.scalar(epsilon)], `${prefix}.variance_eps`)], `${prefix}.std`);
    const normalized = this.node('Div', [centered, std], `${prefix}.normalized`);
    return this.node('Add', [this.node('Mul', [normalized, scale], `${prefix}.scaled`), bias], `${prefix}.output`);
  }
}
