/**
 * What a gradient rule sees and returns. A rule is a short function keyed by op type in one
 * registry (rules/index.ts): given the gradients of a node's outputs, it adds the nodes computing
 * the gradients of its inputs and returns one name per input (undefined where there is none, or
 * where the input does not need one).
 */
import { AdapterError, diagnostic } from '../diagnostics/index.js';
import { DataType, nodeLabel, type GraphBuilder, type Node } from '../ir/index.js';
import type { ShapeTable, TableValue } from '../shapes/index.js';

/** onnxruntime's names of the float element types (as inferred) → ONNX DataType: the types gradients flow in. */
export const FLOAT_TYPES: Readonly<Record<string, number>> = { float32: DataType.FLOAT, float64: DataType.DOUBLE, float16: DataType.FLOAT16, bfloat16: DataType.BFLOAT16 };

export interface GradientContext {
  readonly node: Node;
  readonly b: GraphBuilder;
  /** Whether input `i` needs a gradient (it depends on a trainable parameter). */
  needs(i: number): boolean;
  /** Inferred shape of a value (a node output or graph input), or of a constant initializer. */
  shape(value: string): TableValue;
  rank(value: string): number;
  /** The numbers in a constant input (an initializer or Constant node), if it is one. */
  constant(value: string): number[] | undefined;
  /** A name for a new gradient value, e.g. `layers.0.o.weight.grad`. */
  name(base: string): string;
  /** Stops with an ADP3003 error explaining why this node's gradient cannot be built. */
  fail(reason: string): never;
}

/** dY: one gradient per output (undefined for outputs nothing downstream differentiates). */
export type GradientRule = (g: GradientContext, dY: ReadonlyArray<string | undefined>) => ReadonlyArray<string | undefined>;

export function failure(node: Node, reason: string): never {
  throw new AdapterError([diagnostic('ADP3003', { op: node.opType, node: nodeLabel(node), reason })]);
}

export type { ShapeTable };
