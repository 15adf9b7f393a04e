/**
 * The shape probe against the model itself: `probeShapes` runs a copy with zero weights and without
 * the products of its large weights (`withoutProducts`); its table must be what running the model as
 * it is, with its weights, gives for every value at the same two input sizes.
 */
import * as ort from 'onnxruntime-node';
import { describe, expect, it } from 'vitest';
import { feedFor, PROBE_RUNS, probeShapes } from '../../src/differentiate/probe.js';
import { cloneModel, type Model } from '../../src/ir/index.js';
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

// Their products mostly read weights through a Transpose, which the probe does not skip; some do not.
describeCorpus('the shape probe on corpus models', () => {
  it.each(corpusEntries().filter((e) => e.runs).map((e) => [e.path]))('%s', async (file) => {
    await expectProbeMatchesModel(await readModel(corpusPath(file)), file);
  });
});
