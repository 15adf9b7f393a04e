/** The mutation API, down to splicing an adapter-like block into a real export and running it. */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import {
  addInitializer,
  addNode,
  attr,
  consumersOf,
  createNamer,
  usedNames,
  indexGraph,
  makeTensor,
  producerOf,
  removeInitializer,
  removeNodes,
  renameValue,
  replaceUses,
  sortGraph,
  type Graph,
  type Node,
} from '../../src/ir/index.js';
import { readModel, writeModel } from '../../src/load/index.js';
import { corpusPath, describeCorpus } from '../load/corpus.js';
import { runModel, seededInputs } from '../load/ort-inputs.js';
import { diamond, node } from './helpers.js';
import { streamFor, uniformInt } from '../../src/util/prng.js';

const scratch = mkdtempSync(join(tmpdir(), 'adapterc-mutate-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

describe('mutation', () => {
  it('splices a block after a value: new nodes read it, everyone else reads the block output', () => {
    const { graph } = diamond();
    const namer = createNamer(graph);
    const out = namer.fresh('a');
    expect(out).toBe('a_1');
    const relu = producerOf(graph, 'a')!;
    const block = addNode(graph, { opType: 'Identity', inputs: ['a'], outputs: [out], name: namer.fresh('adapter') }, { after: relu });
    expect(graph.nodes.indexOf(block)).toBe(1);
    expect(replaceUses(graph, 'a', out, { except: [block] })).toBe(2);
    expect(consumersOf(graph, 'a')).toEqual([block]);
    expect(consumersOf(graph, out).map((n) => n.name)).toEqual(['add', 'neg']);
  });

  it("the namer hands out the first free 'base', 'base_1', 'base_2', ..., as a search from the start would, with names reserved in between", () => {
    const { graph } = diamond();
    const namer = createNamer(graph);
    const taken = usedNames(graph);
    const reference = (base: string) => {
      let name = base;
      for (let i = 1; name === '' || taken.has(name); i++) name = `${base}_${i}`;
      taken.add(name);
      return name;
    };
    const rng = streamFor(7, 'namer');
    for (let step = 0; step < 2000; step++) {
      const base = ['a', 'x', 'x_2', 'grad', ''][uniformInt(rng, 5)]!;
      if (uniformInt(rng, 4) === 0) {
        // Reserve a name ahead of the search: the namer must step over it.
        const reserved = `${base}_${uniformInt(rng, 40)}`;
        namer.reserve(reserved);
        taken.add(reserved);
      } else {
        expect(namer.fresh(base)).toBe(reference(base));
      }
    }
  });

  it('leaves graph outputs alone unless asked', () => {
    const { graph } = diamond();
    replaceUses(graph, 'z', 'z2');
    expect(graph.outputs[0]!.name).toBe('z');
    replaceUses(graph, 'z', 'z2', { graphOutputs: true });
    expect(graph.outputs[0]!.name).toBe('z2');
  });

  it('renames a value where it is defined and everywhere it is used', () => {
    const { graph } = diamond();
    graph.valueInfo.push({ name: 'y' });
    renameValue(graph, 'y', 'sum');
    expect(producerOf(graph, 'sum')!.name).toBe('add');
    expect(consumersOf(graph, 'sum')[0]!.name).toBe('mul');
    expect(graph.valueInfo[0]!.name).toBe('sum');
    renameValue(graph, 'b0', 'bias');
    expect(graph.initializers[0]!.name).toBe('bias');
    expect(() => renameValue(graph, 'x', 'bias')).toThrow(/already used/);
  });

  it('rewrites captured values inside subgraphs, except where a subgraph defines the name itself', () => {
    const capturing: Graph = { nodes: [node('Identity', ['a'], ['o1'])], initializers: [], inputs: [], outputs: [{ name: 'o1' }], valueInfo: [] };
    const shadowing: Graph = { nodes: [node('Identity', ['a'], ['o2'])], initializers: [], inputs: [{ name: 'a' }], outputs: [{ name: 'o2' }], valueInfo: [] };
    const ifNode: Node = { ...node('If', ['c'], ['r']), attributes: [attr.graph('then_branch', capturing), attr.graph('else_branch', shadowing)] };
    const graph: Graph = { nodes: [node('Relu', ['x'], ['a']), ifNode], initializers: [], inputs: [], outputs: [{ name: 'r' }], valueInfo: [] };
    expect(consumersOf(graph, 'a')).toEqual([ifNode]);
    expect(replaceUses(graph, 'a', 'b')).toBe(1);
    expect(capturing.nodes[0]!.inputs).toEqual(['b']);
    expect(shadowing.nodes[0]!.inputs).toEqual(['a']);
  });

  it('removes nodes and initializers, and refuses duplicates and strangers', () => {
    const { graph } = diamond();
    const neg = producerOf(graph, 'n')!;
    removeNodes(graph, [neg]);
    expect(graph.nodes.map((n) => n.name)).toEqual(['relu', 'add', 'mul']);
    expect(() => removeNodes(graph, [neg])).toThrow(/not in the graph/);
    expect(() => addInitializer(graph, makeTensor('b0', [1], new Float32Array(1)))).toThrow(/already exists/);
    expect(removeInitializer(graph, 'b0')?.name).toBe('b0');
    expect(removeInitializer(graph, 'b0')).toBeUndefined();
  });

  it('hands out names nothing uses yet', () => {
    const { graph } = diamond();
    const namer = createNamer(graph);
    const names = ['x', 'x', 'relu', 'fresh', 'fresh'].map((n) => namer.fresh(n));
    expect(names).toEqual(['x_1', 'x_2', 'relu_1', 'fresh', 'fresh_1']);
  });

  it('keeps indexGraph consistent with the scanning lookups', () => {
    const { graph } = diamond();
    const index = indexGraph(graph);
    for (const name of ['a', 'y', 'n', 'z', 'x', 'b0']) {
      expect(index.producer.get(name)).toBe(producerOf(graph, name));
      expect(index.consumers.get(name) ?? []).toEqual(consumersOf(graph, name));
    }
    expect(index.initializer.get('b0')).toBe(graph.initializers[0]);
    expect(index.input.has('x')).toBe(true);
  });
});

describeCorpus('mutating a real export', () => {
  it('splices x * 1 + 0 after every LayerNorm output of minibert and gets the same logits', async () => {
    const path = corpusPath('pytorch-1.13/minibert_opset17.onnx');
    const model = await readModel(path);
    const graph = model.graph;
    const namer = createNamer(graph);
    const one = namer.fresh('one');
    const zero = namer.fresh('zero');
    addInitializer(graph, makeTensor(one, [], new Float32Array([1])));
    addInitializer(graph, makeTensor(zero, [], new Float32Array([0])));
    const norms = graph.nodes.filter((n) => n.opType === 'LayerNormalization');
    expect(norms.length).toBeGreaterThan(0);
    for (const norm of norms) {
      const value = norm.outputs[0]!;
      const scaled = namer.fresh(`${value}_scaled`);
      const shifted = namer.fresh(`${value}_adapted`);
      // Appended at the end: sortGraph puts them in place.
      const mul = addNode(graph, { opType: 'Mul', inputs: [value, one], outputs: [scaled] });
      const add = addNode(graph, { opType: 'Add', inputs: [scaled, zero], outputs: [shifted] });
      replaceUses(graph, value, shifted, { except: [mul, add] });
    }
    sortGraph(graph);
    const copy = join(scratch, 'minibert_spliced.onnx');
    await writeModel(model, copy);
    const feeds = seededInputs(model);
    expect(await runModel(copy, feeds)).toEqual(await runModel(path, feeds));
  });
});
