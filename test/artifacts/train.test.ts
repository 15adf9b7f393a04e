/**
 * The artifacts end to end in ONNX Runtime's training runtime: the houlsby spec (at a learning rate
 * that shows learning within 30 steps) on a synthetic model and on corpus models, and full
 * fine-tuning. Each run: the session is created, 30 steps halve the loss, every frozen parameter is
 * bit-identical afterwards, the trainable count is the one the summary printed, and the eval model
 * returns the loss and the outputs.
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { writeSyntheticBertSync } from '../../src/synth/index.js';
import { corpusPath, describeCorpus } from '../load/corpus.js';
import { compile, specWithRate, train, type TrainingRun } from './harness.js';

function expectLearnedAndFrozen(run: TrainingRun, trainableParameters: number): void {
  expect(run.trainableCount).toBe(trainableParameters);
  expect(run.losses[run.losses.length - 1]!).toBeLessThan(run.losses[0]! / 2);
  // Trainable parameters come first in the parameter order; the frozen rest must not move at all.
  const frozenBefore = run.before.subarray(run.trainableCount);
  const frozenAfter = run.after.subarray(run.trainableCount);
  expect(Buffer.from(frozenAfter.buffer, frozenAfter.byteOffset, frozenAfter.byteLength).equals(Buffer.from(frozenBefore.buffer, frozenBefore.byteOffset, frozenBefore.byteLength))).toBe(true);
  const trainableBefore = run.before.subarray(0, run.trainableCount);
  const trainableAfter = run.after.subarray(0, run.trainableCount);
  expect(trainableAfter.some((v, i) => v !== trainableBefore[i])).toBe(true);
  expect(run.evalOutputs).toEqual(['loss', 'logits']);
  expect(Number.isFinite(run.evalLoss)).toBe(true);
}

describe('houlsby on a synthetic BERT, in ONNX Runtime training', () => {
  let model: string;
  beforeAll(() => {
    model = path.join(mkdtempSync(path.join(tmpdir(), 'adapterc-synth-')), 'tiny.onnx');
    writeSyntheticBertSync({ preset: 'tiny', seed: 3 }, model);
  });

  it('trains adapters only: loss halves in 30 steps, frozen weights untouched', async () => {
    const { folder, summary } = await compile(specWithRate('houlsby.adp', 1e-2), model);
    expectLearnedAndFrozen(await train(folder), summary.trainableParameters);
  });

  it('a model with a static batch size and sequence length (labels take the fixed batch size)', async () => {
    const fixed = path.join(mkdtempSync(path.join(tmpdir(), 'adapterc-static-')), 'static.onnx');
    writeSyntheticBertSync({ preset: 'tiny', seed: 3, seqLen: 8, batch: 4 }, fixed);
    const { folder, summary } = await compile(specWithRate('houlsby.adp', 1e-2), fixed);
    expectLearnedAndFrozen(await train(folder), summary.trainableParameters);
  });

  it('full fine-tuning (trainable all) trains too', async () => {
    const { folder, summary } = await compile(specWithRate('full-finetune.adp', 1e-3), model);
    const run = await train(folder);
    expect(run.trainableCount).toBe(summary.trainableParameters);
    expect(run.losses[run.losses.length - 1]!).toBeLessThan(run.losses[0]! / 2);
  });
});

describeCorpus('houlsby on corpus models, in ONNX Runtime training', () => {
  it.each([
    ['pytorch-1.13/minibert_opset11.onnx'],
    ['ort-optimized/minibert_static_opset11_skiplayernorm.onnx'],
    ['ort-testdata/bert_toy_pytorch1.1_opset10_unsorted.onnx'],
  ])('%s', async (file) => {
    const { folder, summary } = await compile(specWithRate('houlsby.adp', 1e-2), corpusPath(file));
    expectLearnedAndFrozen(await train(folder), summary.trainableParameters);
  });

  it('ort-testdata/tf2.1_keras2onnx_bert_mrpc_opset10.onnx trains, more slowly', async () => {
    // Its weights are random slices 8 wide through 12 layers; measured at lr 1e-2 the loss goes
    // 0.693 → 0.62 in 30 steps (its gradients match finite differences: test/differentiate).
    const { folder, summary } = await compile(specWithRate('houlsby.adp', 1e-2), corpusPath('ort-testdata/tf2.1_keras2onnx_bert_mrpc_opset10.onnx'));
    const run = await train(folder);
    expect(run.trainableCount).toBe(summary.trainableParameters);
    expect(run.losses[run.losses.length - 1]!).toBeLessThan(run.losses[0]! - 0.03);
    const frozen = (a: Float32Array) => Buffer.from(a.buffer, a.byteOffset + run.trainableCount * 4, a.byteLength - run.trainableCount * 4);
    expect(frozen(run.after).equals(frozen(run.before))).toBe(true);
  });
});
