/**
 * The step model on the real pretrained model, in Python onnxruntime's plain InferenceSession (the API
 * onnxruntime and onnxruntime-gpu 1.20+ keep), against adapterc's training artifacts in ONNX Runtime
 * 1.19.2's native training API, 50 SST-2 batches each (interop/step_model.py, whose step loop is the
 * README's Python example): the loss at every step within 1e-5 relative, the trainable parameters
 * after the last step within 1e-5 relative (‖Δ‖₂ / ‖p‖₂). Then `adapterc train` (the step model in
 * onnxruntime-node) runs the same export.
 */
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { adapterc, interop, model, modelDir, outDir, readJson, runPython, sst2, vocab } from './tier.js';

interface StepResult {
  steps: number;
  losses: { step_model: number[]; training_api: number[] };
  max_loss_rel: number;
  parameters_rel: number;
  worst_tensor: { name: string; rel: number };
  trainable_parameters: number;
}

describe.each(['ts-opset14-fold', 'ts-opset17-nofold', 'optimum'])('%s', (style) => {
  it('the step model in plain onnxruntime trains as the artifacts do in ORT 1.19.2\'s training API', () => {
    const out = outDir(`step-${style}`);
    adapterc(['compile', path.join(interop, 'specs/step.adp'), model(style), '-o', out]);
    const json = `${out}.step.json`;
    runPython(['step_model.py', out, modelDir(), sst2.train, json, '--steps', '50']);
    const r = readJson<StepResult>(json);
    console.log(`${style}: ${r.steps} steps, loss ${r.losses.step_model[0]!.toFixed(4)} → ${r.losses.step_model.at(-1)!.toFixed(4)}; losses within ${r.max_loss_rel.toExponential(1)}, parameters within ${r.parameters_rel.toExponential(1)} (worst tensor ${r.worst_tensor.name}: ${r.worst_tensor.rel.toExponential(1)})`);
    expect(r.trainable_parameters).toBeGreaterThan(500_000);
    expect(r.max_loss_rel).toBeLessThanOrEqual(1e-5);
    expect(r.parameters_rel).toBeLessThanOrEqual(1e-5);
    expect(r.losses.step_model.at(-1)!).toBeLessThan(r.losses.step_model[0]!);
  });
});

it('adapterc train runs the step model on the real model and lowers the loss', () => {
  const out = outDir('step-train');
  adapterc(['compile', path.join(interop, 'specs/houlsby.adp'), model('ts-opset14-fold'), '-o', out]);
  const printed = adapterc(['train', out, '--train', sst2.train, '--vocab', vocab, '--max-steps', '40', '--batch-size', '16', '--max-length', '64', '--log-every', '40']);
  expect(printed).toMatch(/runtime: onnxruntime-node .*step_model\.onnx/);
  const log = readJson<{ runtime: { name: string }; steps: { loss: number }[] }>(path.join(out, 'trained', 'train-log.json'));
  expect(log.runtime.name).toBe('step-model');
  const mean = (xs: { loss: number }[]) => xs.reduce((a, s) => a + s.loss, 0) / xs.length;
  expect(mean(log.steps.slice(-10))).toBeLessThan(mean(log.steps.slice(0, 10)));
});
