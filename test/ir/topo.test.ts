/** Topological and canonical orders, on hand-made graphs and on the corpus (one export is unsorted). */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { AdapterError } from '../../src/diagnostics/index.js';
import {
  attr,
  canonicalOrder,
  isTopologicallySorted,
  sortGraph,
  topologicalOrder,
  valuesReadBy,
  type Graph,
  type Node,
} from '../../src/ir/index.js';
import { decodeModel } from '../../src/load/index.js';
import { corpusEntries, corpusPath, describeCorpus, UNSORTED_MODEL } from '../load/corpus.js';
import { diamond, node, shuffled } from './helpers.js';

/** Every node reads only values produced before it (or not produced by any node). */
function expectTopological(graph: Graph, order: readonly Node[]): void {
  expect(new Set(order)).toEqual(new Set(graph.nodes));
  expect(order.length).toBe(graph.nodes.length);
  const producers = new Set(graph.nodes.flatMap((n) => n.outputs));
  const seen = new Set<string>();
  for (const n of order) {
    for (const name of valuesReadBy(n)) if (producers.has(name)) expect(seen.has(name), `${n.name} reads ${name} too early`).toBe(true);
    n.outputs.forEach((o) => seen.add(o));
  }
}

describe('topologicalOrder', () => {
  it('keeps a sorted graph exactly as it is', () => {
    const { graph } = diamond();
    expect(topologicalOrder(graph)).toEqual(graph.nodes);
    expect(isTopologicallySorted(graph)).toBe(true);
  });

  it('sorts any shuffle, preferring file order among ready nodes', () => {
    const { graph } = diamond();
    for (let seed = 0; seed < 20; seed++) {
      const g = { ...graph, nodes: shuffled(graph.nodes, seed) };
      expectTopological(g, topologicalOrder(g));
    }
    // Neg before Add in the file: both are ready after Relu, so Neg goes first.
    const [relu, add, neg, mul] = graph.nodes;
    const g = { ...graph, nodes: [mul!, neg!, add!, relu!] };
    expect(topologicalOrder(g).map((n) => n.name)).toEqual(['relu', 'neg', 'add', 'mul']);
  });

  it('orders a node after the producers of values its subgraphs capture', () => {
    const branch: Graph = { nodes: [node('Identity', ['late'], ['out'])], initializers: [], inputs: [], outputs: [{ name: 'out' }], valueInfo: [] };
    const ifNode: Node = { ...node('If', ['cond'], ['r'], 'if'), attributes: [attr.graph('then_branch', branch), attr.graph('else_branch', branch)] };
    const graph: Graph = { nodes: [ifNode, node('Relu', ['x'], ['late'], 'producer')], initializers: [], inputs: [], outputs: [{ name: 'r' }], valueInfo: [] };
    expect(topologicalOrder(graph).map((n) => n.name)).toEqual(['producer', 'if']);
    expect(canonicalOrder(graph).map((n) => n.name)).toEqual(['producer', 'if']);
  });

  it('reports a cycle as ADP2012', () => {
    const graph: Graph = {
      nodes: [node('Relu', ['b'], ['a'], 'first'), node('Relu', ['a'], ['b'], 'second')],
      initializers: [],
      inputs: [],
      outputs: [{ name: 'b' }],
      valueInfo: [],
    };
    for (const order of [topologicalOrder, canonicalOrder]) {
      const error = (() => {
        try {
          order(graph);
        } catch (e) {
          return e;
        }
      })();
      expect(error).toBeInstanceOf(AdapterError);
      expect((error as AdapterError).diagnostics[0]!.code).toBe('ADP2012');
    }
  });
});

describe('canonicalOrder', () => {
  it('does not depend on the order of the nodes', () => {
    const { graph } = diamond();
    const reference = canonicalOrder(graph);
    expectTopological(graph, reference);
    for (let seed = 0; seed < 20; seed++) expect(canonicalOrder({ ...graph, nodes: shuffled(graph.nodes, seed) })).toEqual(reference);
  });

  it('includes nodes no output depends on', () => {
    const { graph } = diamond();
    graph.nodes.push(node('Relu', ['x'], ['dead'], 'dead'));
    expect(canonicalOrder(graph).map((n) => n.name)).toEqual(['relu', 'neg', 'add', 'mul', 'dead']);
  });
});

describeCorpus('ordering corpus models', () => {
  it(`sorts ${UNSORTED_MODEL}, which is not sorted`, () => {
    const model = decodeModel(readFileSync(corpusPath(UNSORTED_MODEL)), UNSORTED_MODEL);
    expect(isTopologicallySorted(model.graph)).toBe(false);
    const order = topologicalOrder(model.graph);
    expectTopological(model.graph, order);
    sortGraph(model.graph);
    expect(isTopologicallySorted(model.graph)).toBe(true);
    expect(model.graph.nodes).toEqual(order);
  });

  it('leaves the sorted ones alone, and finds a canonical order for all', () => {
    for (const entry of corpusEntries()) {
      const { graph } = decodeModel(readFileSync(corpusPath(entry)), entry.path);
      if (entry.path !== UNSORTED_MODEL) expect(topologicalOrder(graph), entry.path).toEqual(graph.nodes);
      const canonical = canonicalOrder(graph);
      expectTopological(graph, canonical);
      expect(canonicalOrder({ ...graph, nodes: shuffled(graph.nodes, 7) })).toEqual(canonical);
    }
  });
});
