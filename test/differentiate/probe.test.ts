/**
 * The shape probe against the model itself: `probeShapes` runs a copy with zero weights and without
 * the products of its large weights (`withoutProducts`); its table must be what running the model as
 * it is, with its weights, gives for every value at the same two input sizes.
 */
import * as ort from 'onnxruntime-node';
import { describe, expect, it } from 'vitest';
import { feedFor, PROBE_RUNS, probeShapes } from '../../src/differentiate/probe.js';
import { attr, cloneModel, DataType, makeTensor, makeValueInfo, type Model, type Node, type Tensor, type ValueInfo } from '../../src/ir/index.js';
import { decodeModel, encodeModel, readModel } from '../../src/load/index.js';
import { encodeSyntheticBert, SYNTHETIC_STYLES } from '../../src/synth/index.js';
import { corpusEntries, corpusPath, describeCorpus } from '../load/corpus.js';

/** Every node output's dims at each probe size, from the model run with its own weights. */
async function reference(model: Model): Promise<Map<string, number[][]>> {
  const values = [...new Set(model.graph.nodes.flatMap((n) => n.outputs).filter((o) => o !== ''))];
  const copy = cloneModel(model);
  copy.graph.outputs = values.map((name) => ({ name }));
  const session = await ort.InferenceSession.create(encodeModel(copy));
  const initializers = new Set(model.graph.initializers.map((t) => t.name));
  const inputs = model.graph.inputs.filter((i) => !initializers.has(i.name));
  const table = new Map<string, number[][]>();
  for (const run of PROBE_RUNS) {
    const result = await session.run(Object.fromEntries(inputs.map((i) => [i.name, feedFor(ort, i, run, 2)])));
    for (const name of values) table.set(name, [...(table.get(name) ?? []), [...result[name]!.dims]]);
  }
  await session.release();
  return table;
}

/** Compares the tables; returns how many products with a large weight the probe skipped. */
async function expectProbeMatchesModel(model: Model, file: string): Promise<number> {
  const probed = await probeShapes(model, file);
  const expected = await reference(model);
  let products = 0;
  for (const [name, [first, second]] of expected) {
    const p = probed.get(name);
    expect(p, name).toBeDefined();
    expect(p!.dims, name).toEqual(first);
    expect(p!.dynamic, name).toEqual(first!.map((d, i) => second!.length !== first!.length || second![i] !== d));
  }
  // Products with a large weight (the probe's LARGE: over 1024 elements), which the probe skips.
  const large = new Set(model.graph.initializers.filter((t) => t.dims.length === 2 && t.dims.reduce((a, b) => a * b, 1) > 1024).map((t) => t.name));
  for (const n of model.graph.nodes) if ((n.opType === 'MatMul' || n.opType === 'Gemm') && large.has(n.inputs[1])) products++;
  return products;
}

describe('the shape probe gives the shapes of the model run with its weights', () => {
  for (const style of SYNTHETIC_STYLES) {
    it(`synthetic BERT, ${style} style (MatMul or Gemm products of 64 × 64 and larger weights)`, async () => {
      const file = `${style}.onnx`;
      expect(await expectProbeMatchesModel(decodeModel(encodeSyntheticBert({ layers: 2, hidden: 64, heads: 4, ffn: 128, vocab: 500, style, seed: 4 }), file), file)).toBeGreaterThan(4);
    });
  }
});

describe('the shape probe on products it rewrites in each form', () => {
  const floats = (n: number) => Float32Array.from({ length: n }, (_, i) => Math.sin(i));
  const product = (nodes: Node[], initializers: Tensor[], input: ValueInfo, output: string): Model => ({
    irVersion: 8,
    opsetImports: [{ domain: '', version: 17 }],
    metadata: [],
    graph: { nodes, initializers, inputs: [input], outputs: [{ name: output }], valueInfo: [] },
  });
  const node = (opType: string, inputs: string[], outputs: string[], attributes: Node['attributes'] = []): Node => ({ opType, inputs, outputs, attributes });

  it('Gemm with transB, a bias and beta 0.5; MatMul of a vector and of a batch of sequences', async () => {
    const gemm = product(
      [node('Gemm', ['x', 'w', 'c'], ['y'], [attr.int('transB', 1), attr.float('beta', 0.5)]), node('Relu', ['y'], ['z'])],
      [makeTensor('w', [48, 64], floats(48 * 64)), makeTensor('c', [48], floats(48))],
      makeValueInfo('x', DataType.FLOAT, ['batch', 64]),
      'z',
    );
    expect(await expectProbeMatchesModel(gemm, 'gemm.onnx')).toBe(1);
    const vector = product([node('MatMul', ['x', 'w'], ['y'])], [makeTensor('w', [64, 40], floats(64 * 40))], makeValueInfo('x', DataType.FLOAT, [64]), 'y');
    expect(await expectProbeMatchesModel(vector, 'vector.onnx')).toBe(1);
    const sequences = product([node('MatMul', ['x', 'w'], ['y'])], [makeTensor('w', [64, 40], floats(64 * 40))], makeValueInfo('x', DataType.FLOAT, ['batch', 'sequence', 64]), 'y');
    expect(await expectProbeMatchesModel(sequences, 'sequences.onnx')).toBe(1);
  });
});

// Their products mostly read weights through a Transpose, which the probe does not skip; some do not.
describeCorpus('the shape probe on corpus models', () => {
  it.each(corpusEntries().filter((e) => e.runs).map((e) => [e.path]))('%s', async (file) => {
    await expectProbeMatchesModel(await readModel(corpusPath(file)), file);
  });
});
