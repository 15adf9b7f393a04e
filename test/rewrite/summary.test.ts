/**
 * The summary's figures against the paper's: houlsby.adp on a BERT-base-shaped model (synthetic,
 * 12 layers, hidden 768, 109,482,240 parameters with the pooler) adds 2,379,264 adapter parameters,
 * "2.38 M", about 2.2% of the base model (Houlsby et al. 2019, Section 3.1). The real rewrite runs
 * once on the full-size model (~3 s to generate); the other specs' counts come from binding alone.
 */
import { beforeAll, describe, expect, it } from 'vitest';
import { bindPlan } from '../../src/check/bind.js';
import { totalAdapterParameters } from '../../src/check/parameters.js';
import { discover } from '../../src/discover/index.js';
import { elementCount, findInitializer, type Model } from '../../src/ir/index.js';
import { decodeModel } from '../../src/load/index.js';
import { adaptModel, bindToModel } from '../../src/rewrite/rewrite.js';
import { renderSummary, summarize, type AdaptationSummary } from '../../src/rewrite/summary.js';
import { encodeSyntheticBert } from '../../src/synth/index.js';
import { checkedSpec } from './helpers.js';

const BERT_BASE = 109_482_240;
const d = 768;

describe('houlsby.adp on a BERT-base-shaped model', () => {
  let model: Model;
  let summary: AdaptationSummary;

  beforeAll(() => {
    // head 'none': the encoder and pooler only, i.e. bert-base-uncased's own parameters.
    model = decodeModel(encodeSyntheticBert({ preset: 'base', head: 'none' }), 'bert-base.onnx');
    const discovery = discover(model, 'bert-base.onnx');
    const spec = checkedSpec('houlsby');
    const adaptation = adaptModel(model, discovery, bindToModel(spec.plan, discovery, spec.sources, 'bert-base.onnx'));
    const sizes = new Map(model.graph.initializers.map((t) => [t.name ?? '', elementCount(t)]));
    summary = summarize(adaptation, sizes, 'specs/houlsby.adp', 'bert-base.onnx');
  }, 60_000);

  it("adds the paper's 2.38 M adapter parameters, ~2.2% of BERT-base", () => {
    expect(summary.layers).toBe(12);
    expect(summary.hidden).toBe(d);
    expect(summary.baseParameters).toBe(BERT_BASE);
    // 24 adapters of 2·d·m + d + m with m = 64.
    expect(summary.adapters).toHaveLength(24);
    for (const a of summary.adapters) expect([a.size, a.parameters]).toEqual([64, 2 * d * 64 + d + 64]);
    expect(summary.adapterParameters).toBe(2_379_264);
    expect(summary.adapterParameters / summary.baseParameters).toBeGreaterThan(0.0215);
    expect(summary.adapterParameters / summary.baseParameters).toBeLessThan(0.0225);
    expect(renderSummary(summary)).toContain('adapters             2.38 M parameters (2.17% of the base model)');
  });

  it('counts the other trainable parameters: LayerNorms and the new classifier', () => {
    // 12 layers × 2 LayerNorms + the embedding LayerNorm, each gamma and beta of d.
    expect(summary.extraParameters).toEqual([{ kind: 'layernorm', tensors: 50, parameters: 25 * 2 * d }]);
    expect(summary.classifierParameters).toBe(d * 2 + 2);
    const trainable = 2_379_264 + 25 * 2 * d + d * 2 + 2;
    expect(summary.trainableParameters).toBe(trainable);
    expect(summary.trainableShare).toBeCloseTo(trainable / BERT_BASE, 12);
    expect(renderSummary(summary)).toContain(`trainable            2.42 M parameters, ${((trainable / BERT_BASE) * 100).toFixed(2)}% of the base model's 109.48 M`);
  });

  it('lists trainable tensors that exist in the adapted model and add up to the trainable count', () => {
    const total = summary.trainable.reduce((n, name) => {
      const tensor = findInitializer(model.graph, name);
      expect(tensor, name).toBeDefined();
      return n + elementCount(tensor!);
    }, 0);
    expect(new Set(summary.trainable).size).toBe(summary.trainable.length);
    expect(total).toBe(summary.trainableParameters);
  });
});

describe('adapter parameters of every paper variant at BERT-base size (binding only)', () => {
  const shape = { layers: 12, hidden: d };
  const perAdapter = (m: number, extra = 0) => 2 * d * m + d + m + extra;
  const cases: Array<[string, number]> = [
    ['houlsby', 24 * perAdapter(64)],
    ['size-64', 24 * perAdapter(64)],
    ['size-8', 24 * perAdapter(8)],
    ['size-256', 24 * perAdapter(256)],
    ['attention-only', 12 * perAdapter(64)],
    ['ffn-only', 12 * perAdapter(64)],
    ['top-layers', 1_189_632],
    ['adapter-layernorm', 24 * perAdapter(64, 2 * d)],
    ['per-layer-sizes', 2 * perAdapter(16) + 22 * perAdapter(256)],
    ['full-finetune', 0],
  ];
  it.each(cases)('%s: %i', (spec, expected) => {
    const { bound, diagnostics } = bindPlan(checkedSpec(spec).plan, shape);
    expect(diagnostics).toEqual([]);
    expect(totalAdapterParameters(bound!)).toBe(expected);
  });
});
