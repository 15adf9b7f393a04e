/**
 * Golden graphs: the canonical dump (`dumpGraph`) of every spec in specs/ applied to a
 * representative set of models, compared with test/golden/graphs/<spec>__<model>.txt. A change in
 * what the rewrite emits (node names, ops, wiring, initial values through their hashes) shows up as
 * a diff; `npm run test:update-golden` accepts an intended change.
 *
 * Two-layer models take every spec that fits them; the 12-layer model takes houlsby.adp and
 * top-layers.adp only (its dumps run to ~2,000 lines). Models without a pooler get the head
 * `classifier(from first_token)` in place of the specs' `from pooled` (ADP2206 otherwise).
 * Each dump is made twice, from two fresh decodes, and must come out the same.
 */
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { dumpGraph } from '../../src/ir/index.js';
import { corpusPath, describeCorpus } from '../load/corpus.js';
import { adaptBytes, checkedSpec, expectedErrors, fileModel, headFor, projectRoot, specNames, syntheticModel, type TestModel } from './helpers.js';

const goldenDir = path.join(projectRoot, 'test/golden/graphs');

function dumpAdapted(model: TestModel, spec: string): string {
  return dumpGraph(adaptBytes(model.bytes(), model.file, checkedSpec(spec), headFor).model);
}

function describeGolden(model: TestModel, specs: readonly string[]): void {
  describe(model.name, () => {
    // Only the specs that fit the model (apart from the head); the others are error cases, tested elsewhere.
    const fitting = specs.filter((spec) => expectedErrors(spec, model).every((code) => code === 'ADP2206'));
    it.each(fitting)('%s', async (spec) => {
      const text = dumpAdapted(model, spec);
      expect(dumpAdapted(model, spec)).toBe(text);
      await expect(text).toMatchFileSnapshot(path.join(goldenDir, `${spec}__${model.name}.txt`));
    });
  });
}

describe('golden graphs of adapted synthetic models', () => {
  describeGolden(syntheticModel('synthetic-tiny-pytorch', { style: 'pytorch' }), specNames());
  describeGolden(syntheticModel('synthetic-tiny-tf', { style: 'tf' }), specNames());
  describeGolden(syntheticModel('synthetic-tiny-ort-fused-bias-in-skip', { style: 'ort-fused', ortFused: { biasInSkipLayerNorm: true } }), specNames());
  describeGolden(syntheticModel('synthetic-12-layer-pytorch', { style: 'pytorch', layers: 12 }), ['houlsby', 'top-layers']);
});

describeCorpus('golden graphs of adapted corpus models', () => {
  describeGolden(fileModel('minibert_opset11', corpusPath('pytorch-1.13/minibert_opset11.onnx'), { layers: 2, ffn: true, pooler: true }), specNames());
  describeGolden(fileModel('torch_transformer_encoder_opset17', corpusPath('pytorch-1.13/torch_transformer_encoder_opset17.onnx'), { layers: 2, ffn: true, pooler: false }), specNames());
});
