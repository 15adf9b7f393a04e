/**
 * A small helper for adding standard-ONNX subgraphs at a model's own opset: every node and value
 * gets a name under one prefix (`adapters.layer.3.attention.`), constants become shared scalar
 * initializers, and ops newer than the model's opset are written in older ops (GELU through Erf,
 * LayerNorm through ReduceMean) so that any ONNX Runtime build runs the result.
 */
import {
  addInitializer,
  addNode,
  AttributeType,
  createNamer,
  makeTensor,
  opset,
  type Attribute,
  type Graph,
  type Model,
  type Namer,
  type Node,
} from '../ir/index.js';
import type { Activation } from '../check/plan.js';

export function intsAttribute(name: string, values: readonly number[]): Attribute {
  return { name, ints: values.map((v) => BigInt(v)), type: AttributeType.INTS };
}
export function intAttribute(name: string, value: number): Attribute {
  return { name, i: BigInt(value), type: AttributeType.INT };
}
export function floatAttribute(name: string, value: number): Attribute {
  return { name, f: value, type: AttributeType.FLOAT };
}

export class Emitter {
  readonly graph: Graph;
  readonly opset: number;
  private readonly namer: Namer;
  private readonly constants = new Map<number, string>();
  /** Nodes added, in order, so callers can place or report them. */
  readonly added: Node[] = [];

  constructor(model: Model) {
    this.graph = model.graph;
    this.opset = opset(model) ?? 1;
    this.namer = createNamer(model.graph);
  }

  /** A name no value, node or initializer in the graph uses yet. */
  fresh(name: string): string {
    return this.namer.fresh(name);
  }

  /** Adds a node whose output is named `output` (made unique) and returns that name. */
  node(opType: string, inputs: string[], output: string, attributes: Attribute[] = []): string {
    return this.nodeWithOutput(opType, inputs, this.fresh(output), attributes);
  }

  /** Adds a node whose output has exactly the given (free) name. */
  nodeWithOutput(opType: string, inputs: string[], output: string, attributes: Attribute[] = []): string {
    this.added.push(addNode(this.graph, { opType, inputs, outputs: [output], name: output, attributes }));
    return output;
  }

  /** A float32 scalar initializer, shared by every use of the same value. */
  scalar(value: number): string {
    const existing = this.constants.get(value);
    if (existing) return existing;
    const name = this.fresh(`adapters.constant.${String(value).replace('-', 'minus_')}`);
    addInitializer(this.graph, makeTensor(name, [], new Float32Array([value])));
    this.constants.set(value, name);
    return name;
  }

  /** An int64 1-D initializer (axes, indices, shapes). */
  int64s(name: string, values: readonly number[]): string {
    const n = this.fresh(name);
    addInitializer(this.graph, makeTensor(n, [values.length], new BigInt64Array(values.map((v) => BigInt(v)))));
    return n;
  }

  activation(kind: Activation, x: string, prefix: string): string {
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
    if (this.opset >= 17) return this.node('LayerNormalization', [x, scale, bias], `${prefix}.output`, [intAttribute('axis', -1), floatAttribute('epsilon', epsilon)]);
    const reduce = (input: string, name: string) =>
      this.opset >= 18
        ? this.node('ReduceMean', [input, this.int64s(`${prefix}.axes`, [-1])], name)
        : this.node('ReduceMean', [input], name, [intsAttribute('axes', [-1])]);
    const centered = this.node('Sub', [x, reduce(x, `${prefix}.mean`)], `${prefix}.centered`);
    const variance = reduce(this.node('Mul', [centered, centered], `${prefix}.squared`), `${prefix}.variance`);
    const std = this.node('Sqrt', [this.node('Add', [variance, this.scalar(epsilon)], `${prefix}.variance_eps`)], `${prefix}.std`);
    const normalized = this.node('Div', [centered, std], `${prefix}.normalized`);
    return this.node('Add', [this.node('Mul', [normalized, scale], `${prefix}.scaled`), bias], `${prefix}.output`);
  }
}
