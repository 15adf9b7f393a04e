/**
 * An independent check of what an inserted adapter computes: the site tensor h and the adapter's
 * output h' are exposed as graph outputs and run in onnxruntime-node; the adapter's weights are read
 * back from the adapted model's initializers; and h + up(f(down(LN?(h)))) is computed here in plain
 * TypeScript (float64, exact erf-based GELU) and compared with h'.
 *
 * The adapters are initialized with a larger std than the spec's 1e-2, so that their contribution
 * is of the order of h itself and GELU works in its curved region (both asserted); with std 1e-2 an
 * error inside the adapter would hide under the float rounding of h.
 */
import { describe, expect, it } from 'vitest';
import type { Activation, BlockSite } from '../../src/check/plan.js';
import { findInitializer, readFloat32, type Model } from '../../src/ir/index.js';
import type { InsertedAdapter } from '../../src/rewrite/rules/insert-adapter.js';
import { corpusPath, describeCorpus } from '../load/corpus.js';
import { seededInputs } from '../load/ort-inputs.js';
import { adaptBytes, checkedSpec, exposeOutputs, fileModel, headFor, runOutputs, syntheticModel, withInit, type TestModel } from './helpers.js';

// ---- erf, to double precision --------------------------------------------------------------------

/**
 * erf(x): the Maclaurin series 2/√π · Σ (-1)^n x^(2n+1) / (n! (2n+1)) for |x| < 3 (the largest
 * term is ~3e3, so the sum keeps ~1e-13 absolute accuracy), and 1 - erfc(x) from erfc's continued
 * fraction erfc(x) = e^(-x²)/√π · 1/(x + (1/2)/(x + 1/(x + (3/2)/(x + …)))) for |x| ≥ 3, evaluated
 * backwards from 80 terms (at x = 3 it has converged far below 1e-16).
 */
export function erf(x: number): number {
  if (Number.isNaN(x)) return NaN;
  const sign = x < 0 ? -1 : 1;
  const a = Math.abs(x);
  if (a < 3) {
    let term = a; // x^(2n+1) (-1)^n / n!
    let sum = a;
    for (let n = 1; n < 200; n++) {
      term *= (-a * a) / n;
      const next = term / (2 * n + 1);
      sum += next;
      if (Math.abs(next) < 1e-17 * Math.abs(sum)) break;
    }
    return (sign * 2 * sum) / Math.sqrt(Math.PI);
  }
  if (a > 6) return sign; // erfc(6) = 2.2e-17
  let t = a;
  for (let k = 80; k >= 1; k--) t = a + k / 2 / t;
  const erfc = Math.exp(-a * a) / Math.sqrt(Math.PI) / t;
  return sign * (1 - erfc);
}

function activate(kind: Activation, x: number): number {
  switch (kind) {
    case 'gelu':
      return 0.5 * x * (1 + erf(x / Math.SQRT2));
    case 'relu':
      return Math.max(0, x);
    case 'tanh':
      return Math.tanh(x);
    case 'swish':
    case 'silu':
      return x / (1 + Math.exp(-x));
    case 'identity':
      return x;
  }
}

describe('erf', () => {
  // Reference values (DLMF / Abramowitz-Stegun table 7.1, to 16 digits).
  const table: Array<[number, number]> = [
    [0, 0],
    [0.1, 0.1124629160182849],
    [0.5, 0.5204998778130465],
    [1, 0.8427007929497149],
    [1.5, 0.9661051464753108],
    [2, 0.9953222650189527],
    [2.5, 0.999593047982555],
    [2.9, 0.9999589021219005],
    [3, 0.9999779095030014],
    [3.5, 0.9999992569016276],
    [4, 0.9999999845827421],
    [5, 0.9999999999984626],
  ];
  it.each(table)('erf(%s) = %s', (x, value) => {
    expect(Math.abs(erf(x) - value)).toBeLessThan(1e-13);
    expect(Math.abs(erf(-x) + value)).toBeLessThan(1e-13);
  });
  it('is continuous and increasing where the two methods meet', () => {
    const below = erf(3 - 1e-9);
    const above = erf(3 + 1e-9);
    expect(above).toBeGreaterThan(below);
    expect(above - below).toBeLessThan(1e-12);
  });
});

// ---- the adapter, recomputed -------------------------------------------------------------------

interface Weights {
  readonly down: Float32Array;
  readonly downBias: Float32Array;
  readonly up: Float32Array;
  readonly upBias: Float32Array;
  readonly lnScale: Float32Array | undefined;
  readonly lnBias: Float32Array | undefined;
}

function weightsOf(model: Model, adapter: InsertedAdapter): Weights {
  const read = (suffix: string) => {
    const name = adapter.parameters.find((p) => p.endsWith(suffix));
    return name === undefined ? undefined : readFloat32(findInitializer(model.graph, name)!);
  };
  return {
    down: read('.down.weight')!,
    downBias: read('.down.bias')!,
    up: read('.up.weight')!,
    upBias: read('.up.bias')!,
    lnScale: read('.layernorm.weight'),
    lnBias: read('.layernorm.bias'),
  };
}

/** h + up(f(down(LN?(h)))) row by row, in float64, and the largest |down(…)| (the activation's input). */
function referenceAdapter(h: Float32Array, hidden: number, units: number, w: Weights, activation: Activation): { out: Float64Array; maxPreActivation: number } {
  expect(w.down).toHaveLength(hidden * units);
  expect(w.up).toHaveLength(units * hidden);
  const out = new Float64Array(h.length);
  const x = new Float64Array(hidden);
  const a = new Float64Array(units);
  let maxPreActivation = 0;
  for (let row = 0; row < h.length / hidden; row++) {
    const base = row * hidden;
    for (let i = 0; i < hidden; i++) x[i] = h[base + i]!;
    if (w.lnScale && w.lnBias) {
      let mean = 0;
      for (let i = 0; i < hidden; i++) mean += x[i]!;
      mean /= hidden;
      let variance = 0;
      for (let i = 0; i < hidden; i++) variance += (x[i]! - mean) ** 2;
      variance /= hidden;
      for (let i = 0; i < hidden; i++) x[i] = ((x[i]! - mean) / Math.sqrt(variance + 1e-12)) * w.lnScale[i]! + w.lnBias[i]!;
    }
    for (let j = 0; j < units; j++) {
      let s = w.downBias[j]!;
      for (let i = 0; i < hidden; i++) s += x[i]! * w.down[i * units + j]!;
      maxPreActivation = Math.max(maxPreActivation, Math.abs(s));
      a[j] = activate(activation, s);
    }
    for (let k = 0; k < hidden; k++) {
      let s = w.upBias[k]!;
      for (let j = 0; j < units; j++) s += a[j]! * w.up[j * hidden + k]!;
      out[base + k] = h[base + k]! + s;
    }
  }
  return { out, maxPreActivation };
}

/**
 * Adapts the model with `spec`, its adapters drawn from normal(std, truncate 2), exposes every
 * adapter's input and output, and compares them with the reference. `std` is chosen per model so
 * that the activation's inputs reach past ±1, where GELU is curved (asserted): the site tensors
 * of the synthetic models are ~0.05 in size, the corpus minibert's ~0.7, the ORT fragment's ~137;
 * an adapter LayerNorm brings its input to unit scale.
 */
async function checkAgainstReference(model: TestModel, spec: string, activation: Activation, std: number): Promise<void> {
  const { model: adapted, discovery, adaptation } = adaptBytes(model.bytes(), model.file, checkedSpec(spec), (plan, d) => headFor(withInit(plan, { kind: 'normal', std, truncate: 2 }), d));
  expect(adaptation.adapters.length).toBeGreaterThan(0);
  const inputs = adaptation.adapters.map((adapter) => {
    // The adapter's output is Add(h, up(…)); h is what it reads.
    const add = adapted.graph.nodes.find((n) => n.outputs[0] === adapter.output)!;
    expect(add.opType).toBe('Add');
    const site = discovery.layers[adapter.layer]![adapter.site as BlockSite]!;
    // The residual node now reads the adapter's output where it read the site tensor.
    expect(site.residualNode.inputs[site.inputIndex]).toBe(adapter.output);
    // Without a folded bias the adapter reads the discovered site tensor itself.
    if (site.foldedBias === undefined) expect(add.inputs[0]).toBe(site.value);
    return add.inputs[0]!;
  });
  // For folded biases: the raw projection and its bias, to check h = projection + bias.
  const folded = adaptation.adapters.map((a) => discovery.layers[a.layer]![a.site as BlockSite]!).filter((s) => s.foldedBias !== undefined);
  const names = [...inputs, ...adaptation.adapters.map((a) => a.output), ...folded.map((s) => s.value)];
  exposeOutputs(adapted, names);
  const values = await runOutputs(adapted, seededInputs(adapted), names);
  const n = adaptation.adapters.length;

  let maxPreActivation = 0;
  adaptation.adapters.forEach((adapter, i) => {
    const where = `layer ${adapter.layer} ${adapter.site}`;
    const h = values[i]!;
    const actual = values[n + i]!;
    const expected = referenceAdapter(h, discovery.hidden, adapter.units, weightsOf(adapted, adapter), activation);
    maxPreActivation = Math.max(maxPreActivation, expected.maxPreActivation);
    let worst = 0;
    let effect = 0;
    let size = 0;
    for (let k = 0; k < h.length; k++) {
      worst = Math.max(worst, Math.abs(actual[k]! - expected.out[k]!) / (1 + Math.abs(expected.out[k]!)));
      effect = Math.max(effect, Math.abs(actual[k]! - h[k]!));
      size = Math.max(size, Math.abs(h[k]!));
    }
    // float32 in ORT against float64 here: 1e-5, relative where values exceed 1 (measured: ≤ 2e-7).
    expect(worst, where).toBeLessThanOrEqual(1e-5);
    // Not vacuous: the adapter moves h by at least 100 times the tolerance.
    expect(effect, where).toBeGreaterThan(100 * 1e-5 * (1 + size));
  });
  if (activation !== 'relu') expect(maxPreActivation).toBeGreaterThan(1);

  folded.forEach((site, i) => {
    const projection = values[2 * n + i]!;
    const bias = readFloat32(findInitializer(adapted.graph, site.foldedBias!)!);
    const index = adaptation.adapters.findIndex((a) => a.layer === site.layer && a.site === site.site);
    const h = values[index]!;
    for (let k = 0; k < h.length; k++) expect(Math.abs(h[k]! - (projection[k]! + bias[k % bias.length]!))).toBeLessThanOrEqual(1e-5 * (1 + Math.abs(h[k]!)));
  });
}

describe('adapters compute h + up(f(down(h))), checked against a plain TypeScript reference', () => {
  const pytorch = syntheticModel('synthetic-pytorch', { style: 'pytorch' });
  it('GELU through Erf (opset 14), every adapter of houlsby.adp', () => checkAgainstReference(pytorch, 'houlsby', 'gelu', 5));
  it('the Gelu op (opset 20)', () => checkAgainstReference(syntheticModel('synthetic-pytorch-20', { style: 'pytorch', opset: 20 }), 'houlsby', 'gelu', 5));
  it('tanh', () => checkAgainstReference(pytorch, 'tanh', 'tanh', 5));
  it('ReLU', () => checkAgainstReference(pytorch, 'relu', 'relu', 5));
  it('a LayerNorm on the adapter input, decomposed (opset 14)', () => checkAgainstReference(pytorch, 'adapter-layernorm', 'gelu', 0.3));
  it('a LayerNorm on the adapter input, the LayerNormalization op (opset 17)', () =>
    checkAgainstReference(syntheticModel('synthetic-layernorm-op', { style: 'pytorch-layernorm-op' }), 'adapter-layernorm', 'gelu', 0.3));
  it('sizes per layer (16 and 256)', () => checkAgainstReference(pytorch, 'per-layer-sizes', 'gelu', 5));
  it('a projection bias folded into SkipLayerNormalization, made explicit (ort-fused)', () =>
    checkAgainstReference(syntheticModel('synthetic-ort-fused', { style: 'ort-fused', ortFused: { biasInSkipLayerNorm: true } }), 'houlsby', 'gelu', 5));
});

describeCorpus('the adapter reference check on real exports', () => {
  it('pytorch-1.13/minibert_opset11.onnx, houlsby.adp', () =>
    checkAgainstReference(fileModel('minibert', corpusPath('pytorch-1.13/minibert_opset11.onnx'), { layers: 2, ffn: true, pooler: true }), 'houlsby', 'gelu', 0.5));
  it('the ort-fused fragment (bias folded into SkipLayerNormalization), attention-only.adp', () =>
    checkAgainstReference(
      fileModel('fragment', corpusPath('ort-fused/attention_skiplayernorm_pruned_opset16.onnx'), { layers: 1, ffn: false, pooler: false }),
      'attention-only',
      'gelu',
      0.01,
    ));
});
