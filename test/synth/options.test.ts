import { mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, test } from 'vitest';
import { tensorBytes } from '../../src/ir/index.js';
import { externalTensors, readModel } from '../../src/load/index.js';
import { describeSyntheticBert, PRESETS, resolveOptions, SyntheticOptionsError, writeSyntheticBertExternal, writeSyntheticBertSync, type SyntheticBertOptions } from '../../src/synth/index.js';

describe('resolveOptions', () => {
  test('defaults to a tiny dynamic-shape pytorch BERT with a 2-label classifier', () => {
    const o = resolveOptions();
    expect(o).toMatchObject({
      ...PRESETS.tiny,
      preset: null,
      style: 'pytorch',
      opset: 14,
      seqLen: null,
      batch: null,
      inputNames: { inputIds: 'input_ids', attentionMask: 'attention_mask', tokenTypeIds: 'token_type_ids' },
      inputType: 'int64',
      head: 'pooled-classifier',
      labels: 2,
      seed: 0,
      init: { std: 0.02, biases: 'normal', layerNorm: 'identity' },
      sharedInitializers: false,
    });
  });

  test('presets have the published sizes, and explicit dimensions override them', () => {
    expect(PRESETS.base).toEqual({ layers: 12, hidden: 768, heads: 12, ffn: 3072, vocab: 30522, maxPositions: 512, typeVocab: 2 });
    expect(PRESETS.large).toMatchObject({ layers: 24, hidden: 1024, heads: 16, ffn: 4096 });
    expect(resolveOptions({ preset: 'base', layers: 2 })).toMatchObject({ preset: 'base', layers: 2, hidden: 768, vocab: 30522 });
  });

  test('style-dependent defaults', () => {
    expect(resolveOptions({ style: 'pytorch-layernorm-op' }).opset).toBe(17);
    expect(resolveOptions({ style: 'tf' })).toMatchObject({ opset: 13, inputType: 'int32' });
    expect(resolveOptions({ style: 'tf', inputType: 'int64' }).inputType).toBe('int64');
    expect(resolveOptions({ style: 'ort-fused' }).ortFused).toEqual({ gelu: 'BiasGelu', biasInSkipLayerNorm: false, fusedAttention: false });
  });

  test('input naming conventions', () => {
    expect(resolveOptions({ inputNames: 'google' }).inputNames).toEqual({ inputIds: 'input_ids', attentionMask: 'input_mask', tokenTypeIds: 'segment_ids' });
    expect(resolveOptions({ inputNames: 'tf' }).inputNames.inputIds).toBe('input_ids:0');
    expect(resolveOptions({ inputNames: { inputIds: 'a', attentionMask: 'b', tokenTypeIds: 'c' } }).inputNames).toEqual({ inputIds: 'a', attentionMask: 'b', tokenTypeIds: 'c' });
  });

  const invalid: [string, SyntheticBertOptions, RegExp][] = [
    ['hidden not divisible by heads', { hidden: 30, heads: 4 }, /multiple of heads/],
    ['zero layers', { layers: 0 }, /layers must be a positive integer/],
    ['fractional ffn', { ffn: 6.5 }, /ffn must be a positive integer/],
    ['seqLen beyond positions', { seqLen: 65 }, /exceeds maxPositions/],
    ['opset too old', { opset: 10 }, /opset must be an integer in 11\.\.21/],
    ['opset too new', { opset: 22 }, /opset/],
    ['negative seed', { seed: -1 }, /seed/],
    ['fractional seed', { seed: 0.5 }, /seed/],
    ['unknown style', { style: 'onnx-script' as never }, /unknown style/],
    ['unknown preset', { preset: 'huge' as never }, /unknown preset/],
    ['unknown head', { head: 'qa' as never }, /unknown head/],
    ['ortFused options on another style', { style: 'pytorch', ortFused: { gelu: 'Gelu' } }, /only to style 'ort-fused'/],
    ['sharedInitializers with tf', { style: 'tf', sharedInitializers: true }, /does not apply to style 'tf'/],
    ['duplicate input names', { inputNames: { inputIds: 'x', attentionMask: 'x', tokenTypeIds: 'y' } }, /distinct/],
    ['output named like an input', { outputNames: { logits: 'input_ids' } }, /also an input name/],
    ['non-positive std', { init: { std: 0 } }, /init\.std/],
  ];
  test.each(invalid)('rejects %s', (_, options, message) => {
    expect(() => resolveOptions(options)).toThrow(SyntheticOptionsError);
    expect(() => resolveOptions(options)).toThrow(message);
  });
});

describe('describeSyntheticBert', () => {
  test('gives the large preset\'s parameter count without generating weights', () => {
    const start = performance.now();
    const manifest = describeSyntheticBert({ preset: 'large', head: 'none' });
    expect(manifest.parameterCount).toBe(335_141_888);
    expect(manifest.initializerBytes).toBeGreaterThan(1.34e9);
    expect(manifest.sites).toEqual({ attention: 24, ffn: 24 });
    expect(performance.now() - start).toBeLessThan(2000);
  });

  test('refuses models beyond the 2 GiB protobuf limit', () => {
    expect(() => describeSyntheticBert({ preset: 'large', layers: 48 })).toThrow(/2 GiB protobuf limit/);
  });
});

describe('writeSyntheticBertExternal', () => {
  test('writes the same model with its weights in a side file, as onnx.save does for models over 2 GiB', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'adapterc-synth-external-'));
    try {
      const options = { preset: 'tiny', seed: 4 } as const;
      writeSyntheticBertSync(options, join(dir, 'inline.onnx'));
      await writeSyntheticBertExternal(options, join(dir, 'external.onnx'));
      expect(readdirSync(dir).sort()).toEqual(['external.onnx', 'external.onnx.data', 'inline.onnx']);
      const inline = await readModel(join(dir, 'inline.onnx'));
      const external = await readModel(join(dir, 'external.onnx'));
      expect(externalTensors(external).length).toBe(external.graph.initializers.length);
      expect(external.graph.nodes).toEqual(inline.graph.nodes);
      inline.graph.initializers.forEach((t, i) => {
        const e = external.graph.initializers[i]!;
        expect([e.name, e.dims]).toEqual([t.name, t.dims]);
        expect(Buffer.from(tensorBytes(e)).equals(Buffer.from(tensorBytes(t))), t.name).toBe(true);
      });
      // The side file holds the weights back to back, nothing else.
      expect(statSync(join(dir, 'external.onnx.data')).size).toBe(inline.graph.initializers.reduce((n, t) => n + tensorBytes(t).length, 0));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
