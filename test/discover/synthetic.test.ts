/**
 * Discovery on the generator's styles: the sites found are exactly the ones the generator says it
 * built (its manifest is the ground truth), layer by layer.
 */
import { describe, expect, it } from 'vitest';
import { discover } from '../../src/discover/index.js';
import { decodeModel } from '../../src/load/index.js';
import { encodeSyntheticBert, synthesizeBert, type SyntheticBertOptions } from '../../src/synth/index.js';

const variants: Array<[string, SyntheticBertOptions]> = [
  ['pytorch opset 14', { style: 'pytorch' }],
  ['pytorch opset 11, static shapes', { style: 'pytorch', opset: 11, seqLen: 8, batch: 1 }],
  ['pytorch, shared initializers', { style: 'pytorch', sharedInitializers: true, init: { biases: 'zeros' } }],
  ['pytorch-layernorm-op opset 17', { style: 'pytorch-layernorm-op' }],
  ['tf (keras2onnx), google input names', { style: 'tf', inputNames: 'google' }],
  ['tf, tf input names', { style: 'tf', inputNames: 'tf', layers: 3 }],
  ['gemm opset 14', { style: 'gemm' }],
  ['gemm opset 17', { style: 'gemm', opset: 17 }],
  ['ort-fused', { style: 'ort-fused' }],
  ['ort-fused, bias in SkipLayerNormalization', { style: 'ort-fused', ortFused: { biasInSkipLayerNorm: true } }],
  ['ort-fused, fused Attention op', { style: 'ort-fused', ortFused: { fusedAttention: true } }],
  ['pytorch, 4 layers, no head', { style: 'pytorch', layers: 4, head: 'none' }],
];

describe('discovery on synthetic models', () => {
  it.each(variants)('%s', (_, options) => {
    const { manifest } = synthesizeBert(options);
    const model = decodeModel(encodeSyntheticBert(options), 'synthetic.onnx');
    const d = discover(model, 'synthetic.onnx');
    expect(d.layers.length).toBe(manifest.layers);
    expect(d.hidden).toBe(manifest.hidden);
    expect(d.ffn).toBe(manifest.ffn);
    if (d.heads !== undefined) expect(d.heads).toBe(manifest.heads);
    const found = d.layers.flatMap((l) => [l.attention, l.ffn]).filter((s) => s !== undefined);
    expect(found.map((s) => [s.layer, s.site])).toEqual(manifest.siteDetails.map((s) => [s.layer, s.kind]));
    manifest.siteDetails.forEach((truth, i) => {
      const site = found[i]!;
      if (truth.projectionOutput !== null) expect(site.value).toBe(truth.projectionOutput);
      else expect(site.foldedBias).toBe(truth.bias);
      expect(site.layerNorm.output).toBe(truth.layerNorm.output);
    });
    const roles = Object.fromEntries(d.inputs.map((i) => [i.role, i.name]));
    expect(roles['input_ids']).toBe(manifest.inputRoles.inputIds);
    expect(roles['attention_mask']).toBe(manifest.inputRoles.attentionMask);
    expect(roles['token_type_ids']).toBe(manifest.inputRoles.tokenTypeIds);
  });
});
