/**
 * A read-only view of a graph for pattern matching: producers and consumers, constants seen
 * through Identity and Cast (exporters share one initializer between layers by Identity nodes),
 * and bounded searches.
 */
import {
  attrFloat,
  attrInt,
  attrInts,
  getAttribute,
  indexGraph,
  isDefaultDomain,
  readNumbers,
  type Graph,
  type GraphIndex,
  type Node,
  type Tensor,
} from '../ir/index.js';

export class GraphView {
  readonly index: GraphIndex;

  constructor(readonly graph: Graph) {
    this.index = indexGraph(graph);
  }

  producer(value: string): Node | undefined {
    return this.index.producer.get(value);
  }

  consumers(value: string): readonly Node[] {
    return this.index.consumers.get(value) ?? [];
  }

  isGraphOutput(value: string): boolean {
    return this.index.output.has(value);
  }

  /** Follows Identity (and, if asked, Cast) back to where a value really comes from. */
  source(value: string, throughCast = false): string {
    let current = value;
    for (let guard = 0; guard < 64; guard++) {
      const p = this.producer(current);
      if (!p || !isDefaultDomain(p.domain) || !(p.opType === 'Identity' || (throughCast && p.opType === 'Cast'))) return current;
      current = p.inputs[0] ?? '';
    }
    return current;
  }

  /** The constant tensor behind a value (an initializer or a Constant node, through Identity), if any. */
  constant(value: string): Tensor | undefined {
    const from = this.source(value);
    const init = this.index.initializer.get(from);
    if (init) return init;
    const p = this.producer(from);
    if (p && p.opType === 'Constant' && isDefaultDomain(p.domain)) return getAttribute(p, 'value')?.t;
    return undefined;
  }

  /** Whether a value is computed from constants alone (a Constant, an initializer, or ops over them). */
  isConstant(value: string, depth = 8): boolean {
    if (value === '') return true;
    if (this.constant(value)) return true;
    const p = this.producer(value);
    if (!p || depth === 0) return false;
    if (p.opType === 'Constant' || p.opType === 'ConstantOfShape') return p.inputs.every((i) => this.isConstant(i, depth - 1));
    return p.inputs.length > 0 && p.inputs.every((i) => this.isConstant(i, depth - 1)) && !this.index.input.has(value);
  }

  /** Small constant's values as numbers, or undefined. */
  constantNumbers(value: string): number[] | undefined {
    const t = this.constant(value);
    if (!t) return undefined;
    try {
      return readNumbers(t);
    } catch {
      return undefined;
    }
  }

  /** Dims of a constant tensor, also through a Transpose (PyTorch transposes Linear weights in the graph). */
  constantDims(value: string): readonly number[] | undefined {
    const direct = this.constant(value)?.dims;
    if (direct) return direct;
    const p = this.producer(this.source(value));
    if (p?.opType !== 'Transpose' || !isDefaultDomain(p.domain)) return undefined;
    const inner = this.constant(p.inputs[0] ?? '')?.dims;
    if (!inner) return undefined;
    const perm = getAttribute(p, 'perm') ? attrInts(p, 'perm') : inner.map((_, i) => inner.length - 1 - i);
    return perm.map((axis) => inner[axis]!);
  }

  /**
   * Ops found walking backwards from `start` without passing `stopAt` values, graph inputs or
   * constants; at most `limit` nodes are visited.
   */
  upstreamOps(start: string, stopAt: ReadonlySet<string>, limit = 400): Node[] {
    const seen = new Set<Node>();
    const queue = [start];
    while (queue.length > 0 && seen.size < limit) {
      const value = queue.shift()!;
      if (stopAt.has(value)) continue;
      const p = this.producer(value);
      if (!p || seen.has(p)) continue;
      seen.add(p);
      for (const i of p.inputs) if (i !== '' && !this.index.initializer.has(i)) queue.push(i);
    }
    return [...seen];
  }

  /** The axes a Reduce* node reduces over, from its attribute or (opset 18+) its second input. */
  reduceAxes(node: Node): number[] | undefined {
    if (getAttribute(node, 'axes')) return attrInts(node, 'axes');
    if (node.inputs[1]) return this.constantNumbers(node.inputs[1]);
    return undefined;
  }

  attrInt(node: Node, name: string, fallback: number): number {
    return attrInt(node, name, fallback);
  }

  attrFloat(node: Node, name: string, fallback: number): number {
    return attrFloat(node, name, fallback);
  }
}
