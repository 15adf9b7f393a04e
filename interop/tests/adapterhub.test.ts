/**
 * Oracle 2, AdapterHub (`adapters` 1.0.1) with DoubleSeqBnConfig (Houlsby: after attention and FFN,
 * before each residual Add + LayerNorm) of the same size and activation, started from adapterc's
 * initial adapter and head weights: the same batches, AdamW, constant rate, dropout off. Per-step
 * losses agree within 1e-3 relative over 50 steps, and dev accuracy on SST-2's 872 sentences after
 * 300 steps within 0.5 points (interop/adapterhub.py).
 */
import * as path from 'node:path';
import { expect, it } from 'vitest';
import { adapterc, interop, model, modelDir, outDir, readJson, runPython, sst2 } from './tier.js';

interface AdapterHubResult {
  initial_logits_max_abs_diff: number;
  step_loss_max_rel_diff: number;
  step_losses: { adapterc: number[]; adapterhub: number[] };
  dev_accuracy: { adapterc: number; adapterhub: number };
  dev_examples: number;
  training_seconds: { adapterc: number; adapterhub: number };
}

it('trains like AdapterHub: 50 step losses within 1e-3, dev accuracy within 0.5 points', () => {
  const out = outDir('adapterhub');
  adapterc(['compile', path.join(interop, 'specs/adapterhub.adp'), model('ts-opset14-fold'), '-o', out]);
  const json = `${out}.json`;
  runPython(['adapterhub.py', out, modelDir(), sst2.train, sst2.dev, json, '--steps', '50', '--train-steps', '300']);
  const r = readJson<AdapterHubResult>(json);
  console.log(`AdapterHub: initial logits max |diff| ${r.initial_logits_max_abs_diff.toExponential(2)}; 50 step losses max relative diff ${r.step_loss_max_rel_diff.toExponential(2)}; dev accuracy after 300 steps ${(r.dev_accuracy.adapterc * 100).toFixed(2)} (adapterc) / ${(r.dev_accuracy.adapterhub * 100).toFixed(2)} (AdapterHub); training ${r.training_seconds.adapterc.toFixed(1)} s / ${r.training_seconds.adapterhub.toFixed(1)} s`);
  expect(r.initial_logits_max_abs_diff).toBeLessThanOrEqual(1e-4);
  expect(r.step_losses.adapterc).toHaveLength(50);
  expect(r.step_loss_max_rel_diff).toBeLessThanOrEqual(1e-3);
  expect(r.dev_examples).toBe(872);
  expect(Math.abs(r.dev_accuracy.adapterc - r.dev_accuracy.adapterhub)).toBeLessThanOrEqual(0.005);
  // Training did something: above the majority class (50.9% of SST-2 dev).
  expect(r.dev_accuracy.adapterc).toBeGreaterThan(0.6);
});

interface ParallelResult {
  parameters: { adapterc: number; adapterhub: number };
  logits_max_abs_diff: number;
  loss: { adapterc: number; adapterhub: number };
  gradients: { max_abs: number; 'max_rel_beyond_1e-6_abs': number; worst_parameter: string };
  gradient_max_rel_to_largest: number;
}

it("parallel adapters (issue 19): AdapterHub's ParBnConfig from adapterc's initial weights gives the same logits and first-step gradients within 1e-4", () => {
  const out = outDir('adapterhub-parallel');
  adapterc(['compile', path.join(interop, 'specs/parallel.adp'), model('ts-opset14-fold'), '-o', out]);
  const json = `${out}.json`;
  runPython(['adapterhub_parallel.py', out, modelDir(), sst2.train, json]);
  const r = readJson<ParallelResult>(json);
  console.log(`AdapterHub ParBnConfig: ${r.parameters.adapterc} trainable parameters (AdapterHub ${r.parameters.adapterhub}); logits max |diff| ${r.logits_max_abs_diff.toExponential(2)}; loss ${r.loss.adapterc.toFixed(6)} / ${r.loss.adapterhub.toFixed(6)}; gradients max |diff| ${r.gradients.max_abs.toExponential(2)} (${r.gradient_max_rel_to_largest.toExponential(2)} of the largest; worst relative beyond 1e-6 absolute ${r.gradients['max_rel_beyond_1e-6_abs'].toExponential(2)} in ${r.gradients.worst_parameter})`);
  expect(r.parameters.adapterc).toBe(r.parameters.adapterhub);
  expect(r.logits_max_abs_diff).toBeLessThanOrEqual(1e-4);
  expect(Math.abs(r.loss.adapterc - r.loss.adapterhub)).toBeLessThanOrEqual(1e-4 * Math.abs(r.loss.adapterhub));
  expect(r.gradient_max_rel_to_largest).toBeLessThanOrEqual(1e-4);
  expect(r.gradients['max_rel_beyond_1e-6_abs']).toBeLessThanOrEqual(1e-4);
});
