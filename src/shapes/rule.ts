/**
 * What a shape rule sees and returns. A rule is a short function keyed by op type in one registry
 * (rules/index.ts), as gradient rules are: given its inputs' shapes (and the values of small
 * integer tensors, which exporters compute shapes with), it returns each output's shape, and the
 * output's values where they follow from known ones.
 */
import type { Node } from '../ir/index.js';
import type { Dim } from './dim.js';

export interface ValueShape {
  /** onnxruntime's name of the element type (float32, int64, bool, ...), where known. */
  readonly elemType?: string;
  readonly dims: readonly Dim[];
  /**
   * The elements, row-major, of an integer or bool tensor whose dims are constant and whose
   * elements are all known (dims of other values, and constants): shape arithmetic.
   */
  readonly values?: readonly Dim[];
  /** The value of every element, where all are one known value (ConstantOfShape's output) though their count is symbolic. */
  readonly fill?: Dim;
}

export interface ShapeContext {
  readonly node: Node;
  /** The opset of the node's domain. */
  readonly opset: number;
  /** Whether input `i` is given (not omitted). */
  has(i: number): boolean;
  shape(i: number): ValueShape;
  dims(i: number): readonly Dim[];
  rank(i: number): number;
  /** Input `i`'s elements; fails when they are known only when the model runs. `role` names the input in that message. */
  values(i: number, role: string): readonly Dim[];
  /** Input `i`'s elements as plain integers; fails when they are not constants. */
  ints(i: number, role: string): number[];
  /** Stops with an error naming this node and `reason`. */
  fail(reason: string): never;
}

/** One entry per output: undefined for an output the rule cannot describe (never read by what follows it). */
export type ShapeRule = (c: ShapeContext) => ReadonlyArray<ValueShape | undefined>;
