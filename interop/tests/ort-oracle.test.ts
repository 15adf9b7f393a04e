/**
 * Oracle 1, ONNX Runtime's own gradient builder (onnxruntime-training 1.19.2's generate_artifacts) on
 * adapterc's adapted model, both artifact sets run in ORT's native Python training API: the loss and
 * every trainable gradient of a batch within 1e-4 relative (1e-6 absolute), and the trainable
 * parameters after 20 AdamW steps within 1e-4 (interop/ort_oracle.py). ORT's builder cannot build
 * three of today's export styles: it has no gradient for the dynamo exporter's CastLike or the
 * transformer optimizer's SkipLayerNormalization, and its LayerNormalization gradient needs the mean
 * and inverse-std outputs that opset-17 exports leave out. For those the tests check that it refuses,
 * and exports.test.ts that adapterc's artifacts from them train exactly like the others.
 */
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { adapterc, interop, model, modelDir, outDir, readJson, runPython, sst2 } from './tier.js';

interface Compared { max_abs: number; 'max_rel_beyond_1e-6_abs': number; worst_parameter: string }
interface Refused {
  ort_refused?: string;
}

interface OracleResult extends Refused {
  trainable_parameters: number;
  initial_parameters: Compared;
  loss: { adapterc: number; ort: number; rel: number };
  gradients: Compared;
  parameters_after_steps: Compared;
  training_graph_nodes: { adapterc: number; ort: number };
  median_step_seconds: { adapterc: number; ort: number };
}

function oracle(style: string): OracleResult {
  const out = outDir(`oracle-${style}`);
  adapterc(['compile', path.join(interop, 'specs/adapterhub.adp'), model(style), '-o', out]);
  adapterc(['compile', '--inference', path.join(interop, 'specs/adapterhub.adp'), model(style), '-o', `${out}.inference`]);
  const json = `${out}.oracle.json`;
  runPython(['ort_oracle.py', out, path.join(`${out}.inference`, 'model.adapted.onnx'), modelDir(), sst2.train, json, '--steps', '20']);
  return readJson<OracleResult>(json);
}

describe.each(['ts-opset14-fold', 'ts-opset14-nofold', 'optimum'])('%s', (style) => {
  it('agrees with ONNX Runtime\'s generate_artifacts: loss, gradients, 20 AdamW steps', () => {
    const r = oracle(style);
    expect(r.ort_refused).toBeUndefined();
    console.log(`${style}: loss ${r.loss.adapterc} vs ${r.loss.ort}; gradients max |diff| ${r.gradients.max_abs.toExponential(2)}; after 20 steps max |diff| ${r.parameters_after_steps.max_abs.toExponential(2)}; training graph nodes ${r.training_graph_nodes.adapterc} (adapterc) / ${r.training_graph_nodes.ort} (ORT); median step ${(r.median_step_seconds.adapterc * 1000).toFixed(0)} / ${(r.median_step_seconds.ort * 1000).toFixed(0)} ms`);
    expect(r.trainable_parameters).toBe(595_970);
    expect(r.initial_parameters.max_abs).toBe(0);
    expect(r.loss.rel).toBeLessThanOrEqual(1e-4);
    expect(r.gradients['max_rel_beyond_1e-6_abs']).toBeLessThanOrEqual(1e-4);
    expect(r.parameters_after_steps.max_abs).toBeLessThanOrEqual(1e-4);
  });
});

describe.each([
  ['dynamo', 'no gradient for CastLike', /The gradient builder has not been registered: CastLike/],
  ['ort-fused', 'no gradient for SkipLayerNormalization', /The gradient builder has not been registered: SkipLayerNormalization/],
  ['ts-opset17-fold', "LayerNormalization's gradient needs outputs the export leaves out", /GradientBuilderBase::O\(size_t, bool\) const i < node_->OutputDefs\(\)\.size\(\) was false/],
])('%s', (style, why, message) => {
  it(`is refused by ONNX Runtime's gradient builder (${why}), not by adapterc`, () => {
    expect(oracle(style).ort_refused).toMatch(message);
  });
});
