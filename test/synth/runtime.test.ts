/**
 * Every style and variant loads and runs in onnxruntime-node (CPU, with com.microsoft contrib ops) on a
 * batch of two length-8 sequences, the second padded; and since all styles hold the same weights for a
 * seed, they must compute the same outputs.
 */
import { describe, expect, test } from 'vitest';
import { describeSyntheticBert, encodeSyntheticBert, type SyntheticBertOptions } from '../../src/synth/index.js';
import { allFinite, BATCH, makeFeeds, maxAbsDiff, runModel, SEQ, type Feeds, type RunResult } from './helpers.js';

const SEED = 11;
const H = 32;

async function run(options: SyntheticBertOptions, feeds?: Feeds): Promise<RunResult> {
  const full = { seed: SEED, ...options };
  return runModel(encodeSyntheticBert(full), describeSyntheticBert(full), feeds);
}

const VARIANTS: [string, SyntheticBertOptions][] = [
  ['pytorch', { style: 'pytorch' }],
  ['pytorch opset 11', { style: 'pytorch', opset: 11 }],
  ['pytorch opset 13', { style: 'pytorch', opset: 13 }],
  ['pytorch opset 18', { style: 'pytorch', opset: 18 }],
  ['pytorch opset 21', { style: 'pytorch', opset: 21 }],
  ['pytorch static [2, 8]', { style: 'pytorch', seqLen: SEQ, batch: BATCH }],
  ['pytorch static seq only', { style: 'pytorch', seqLen: SEQ }],
  ['pytorch shared initializers', { style: 'pytorch', sharedInitializers: true }],
  ['pytorch google input names', { style: 'pytorch', inputNames: 'google' }],
  ['pytorch-layernorm-op', { style: 'pytorch-layernorm-op' }],
  ['pytorch-layernorm-op opset 14 (ORT form)', { style: 'pytorch-layernorm-op', opset: 14 }],
  ['pytorch-layernorm-op opset 21', { style: 'pytorch-layernorm-op', opset: 21 }],
  ['tf', { style: 'tf' }],
  ['tf opset 11 static', { style: 'tf', opset: 11, seqLen: SEQ, batch: BATCH }],
  ['tf int64 tf-colon names', { style: 'tf', inputType: 'int64', inputNames: 'tf' }],
  ['gemm', { style: 'gemm' }],
  ['gemm opset 17 static', { style: 'gemm', opset: 17, seqLen: SEQ, batch: BATCH }],
  ['ort-fused', { style: 'ort-fused' }],
  ['ort-fused static', { style: 'ort-fused', seqLen: SEQ, batch: BATCH }],
  ['ort-fused Gelu', { style: 'ort-fused', ortFused: { gelu: 'Gelu' } }],
  ['ort-fused bias in SkipLayerNormalization', { style: 'ort-fused', ortFused: { biasInSkipLayerNorm: true } }],
  ['ort-fused Attention op', { style: 'ort-fused', ortFused: { fusedAttention: true } }],
  ['ort-fused shared initializers', { style: 'ort-fused', sharedInitializers: true }],
];

describe('pooled-classifier head', () => {
  let reference: Float32Array | null = null;

  test.each(VARIANTS)('%s: runs, logits [2, 2] finite, same as the pytorch style', async (_, options) => {
    const { outputs } = await run(options);
    expect(Object.keys(outputs)).toEqual(['logits']);
    const logits = outputs.logits!;
    expect(logits.dims).toEqual([BATCH, 2]);
    expect(allFinite(logits.data)).toBe(true);
    // Not degenerate: the two sequences get different logits.
    expect(Math.abs(logits.data[0]! - logits.data[2]!) + Math.abs(logits.data[1]! - logits.data[3]!)).toBeGreaterThan(1e-4);
    reference ??= logits.data;
    expect(maxAbsDiff(logits.data, reference)).toBeLessThan(1e-5);
  });

  test('ort-fused FastGelu (tanh approximation) stays close to exact GELU', async () => {
    const exact = (await run({ style: 'pytorch' })).outputs.logits!.data;
    const fast = (await run({ style: 'ort-fused', ortFused: { gelu: 'FastGelu' } })).outputs.logits!.data;
    expect(maxAbsDiff(exact, fast)).toBeLessThan(1e-3);
  });

  test('padding is masked: padded token ids do not matter, valid ones do', async () => {
    for (const style of ['pytorch', 'tf', 'ort-fused'] as const) {
      const feeds = makeFeeds(512);
      const base = (await run({ style }, feeds)).outputs.logits!.data;
      const repadded = { ...feeds, ids: feeds.ids.map((id, i) => (feeds.mask[i] === 0 ? 7 : id)) };
      expect(maxAbsDiff((await run({ style }, repadded)).outputs.logits!.data, base)).toBeLessThan(1e-6);
      const edited = { ...feeds, ids: feeds.ids.map((id, i) => (i === SEQ + 2 ? (id % 500) + 3 : id)) };
      const changed = (await run({ style }, edited)).outputs.logits!.data;
      // ~1e-5 with BERT's 0.02 init at hidden 32 (float32 noise is ~1e-9 here).
      expect(Math.abs(changed[2]! - base[2]!) + Math.abs(changed[3]! - base[3]!)).toBeGreaterThan(1e-6);
      expect(maxAbsDiff(changed.subarray(0, 2), base.subarray(0, 2))).toBeLessThan(1e-7);
    }
  });

  test('different seeds give different outputs; more labels give more logits', async () => {
    const a = (await run({ seed: 1 })).outputs.logits!.data;
    const b = (await run({ seed: 2 })).outputs.logits!.data;
    expect(maxAbsDiff(a, b)).toBeGreaterThan(1e-4);
    expect((await run({ labels: 5 })).outputs.logits!.dims).toEqual([BATCH, 5]);
  });
});

describe('none head', () => {
  let reference: Float32Array | null = null;
  const styles: [string, SyntheticBertOptions][] = [
    ['pytorch', { style: 'pytorch' }],
    ['pytorch-layernorm-op', { style: 'pytorch-layernorm-op' }],
    ['tf', { style: 'tf' }],
    ['gemm', { style: 'gemm' }],
    ['ort-fused', { style: 'ort-fused' }],
    ['ort-fused all fusions', { style: 'ort-fused', ortFused: { fusedAttention: true, biasInSkipLayerNorm: true, gelu: 'Gelu' } }],
  ];

  test.each(styles)('%s: last_hidden_state [2, 8, 32] normalized per token, pooler_output [2, 32], same across styles', async (_, options) => {
    const { outputs } = await run({ ...options, head: 'none', init: { layerNorm: 'perturbed' } });
    expect(Object.keys(outputs).sort()).toEqual(['last_hidden_state', 'pooler_output']);
    const hidden = outputs.last_hidden_state!;
    const pooled = outputs.pooler_output!;
    expect(hidden.dims).toEqual([BATCH, SEQ, H]);
    expect(pooled.dims).toEqual([BATCH, H]);
    expect(allFinite(hidden.data) && allFinite(pooled.data)).toBe(true);
    // Each token's vector is LayerNorm output: std close to 1 (gamma ~ 1), so not degenerate.
    const token = hidden.data.subarray(0, H);
    const mean = token.reduce((a, v) => a + v, 0) / H;
    const std = Math.sqrt(token.reduce((a, v) => a + (v - mean) ** 2, 0) / H);
    expect(std).toBeGreaterThan(0.8);
    expect(std).toBeLessThan(1.2);
    expect(pooled.data.every((v) => Math.abs(v) < 1)).toBe(true);
    reference ??= hidden.data;
    expect(maxAbsDiff(hidden.data, reference)).toBeLessThan(1e-4);
  });
});
