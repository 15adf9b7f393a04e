/** The checks that need the model's shape: depth, hidden size, sites. */
import { describe, expect, it } from 'vitest';
import { bindPlan } from '../../src/check/bind.js';
import { checkSpecText } from '../../src/check/check.js';
import { adapterParameterCount, totalAdapterParameters } from '../../src/check/parameters.js';
import { memoryHost } from '../helpers/memory-host.js';

function plan(text: string) {
  const result = checkSpecText(text, 'spec.adp', memoryHost({}));
  expect(result.diagnostics.filter((d) => d.severity === 'error')).toEqual([]);
  return result.plan!;
}

const adapter = 'adapter b {\n  size 8\n}\n';

describe('bindPlan', () => {
  it('resolves all, ranges, lists, except and negative indexes', () => {
    const p = plan(adapter + 'place b after attention in layers all except 0..1, -1\nplace b after ffn in layers -2..-1, 0\n');
    const bound = bindPlan(p, { layers: 6, hidden: 32 }).bound!;
    const at = (site: string) => bound.instances.filter((i) => i.site === site).map((i) => i.layer);
    expect(at('attention')).toEqual([2, 3, 4]);
    expect(at('ffn')).toEqual([0, 4, 5]);
  });

  it('mixed-sign ranges mean "from layer a up to the n-th from the top"', () => {
    const bound = bindPlan(plan(adapter + 'place b after ffn in layers 1..-2\n'), { layers: 5, hidden: 32 }).bound!;
    expect(bound.instances.map((i) => i.layer)).toEqual([1, 2, 3]);
    const empty = bindPlan(plan(adapter + 'place b after ffn in layers 3..-3\n'), { layers: 4, hidden: 32 });
    expect(empty.diagnostics.map((d) => [d.code, d.message])).toEqual([['ADP2203', 'The layer range 3..-3 is empty for a model with 4 layers.']]);
  });

  it('rejects a layer past the model depth, pointing at the spec', () => {
    const r = bindPlan(plan(adapter + 'place b after ffn in layers 6..11\n'), { layers: 2, hidden: 32 });
    expect(r.bound).toBeUndefined();
    expect(r.diagnostics.map((d) => `${d.code} ${d.span!.start.line}:${d.span!.start.column} ${d.message}`)).toEqual([
      'ADP2201 4:29 Layer 6 does not exist: the model has 2 layers (0..1).',
    ]);
  });

  it('rejects a reduction that does not divide the hidden size', () => {
    const p = plan('adapter b {\n  reduction 12\n}\nplace b after ffn in layers all\n');
    expect(bindPlan(p, { layers: 2, hidden: 768 }).bound!.instances[0]!.units).toBe(64);
    const r = bindPlan(p, { layers: 2, hidden: 32 });
    expect(r.diagnostics.map((d) => d.message)).toEqual(["Reduction 12 does not divide the model's hidden size 32."]);
  });

  it('finds two adapters at one site once negative indexes are resolved', () => {
    const p = plan(adapter + 'place b after ffn in layers 0..2\nplace b(size 4) after ffn in layers -1\n');
    expect(bindPlan(p, { layers: 4, hidden: 32 }).diagnostics).toEqual([]);
    const r = bindPlan(p, { layers: 3, hidden: 32 });
    expect(r.diagnostics.map((d) => `${d.code} ${d.message}`)).toEqual(['ADP2204 Two adapters are placed after ffn in layer 2.']);
  });

  it('reports a site the model lacks', () => {
    const p = plan(adapter + 'place b after attention, ffn in layers all\n');
    const r = bindPlan(p, { layers: 1, hidden: 16, hasSite: (_, site) => site === 'attention' });
    expect(r.diagnostics.map((d) => d.message)).toEqual(['The model has no ffn site in layer 0.']);
  });

  it('counts parameters as the paper does', () => {
    const p = plan('adapter b {\n  size 64\n}\nplace b after attention, ffn in layers all\n');
    const bound = bindPlan(p, { layers: 12, hidden: 768 }).bound!;
    expect(totalAdapterParameters(bound)).toBe(2_379_264);
    expect(adapterParameterCount({ hiddenLayers: 2, layerNorm: true }, 8, 32)).toBe(32 * 8 + 8 + (8 * 8 + 8) + 8 * 32 + 32 + 64);
  });
});
