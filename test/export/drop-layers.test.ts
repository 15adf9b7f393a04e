/**
 * --drop-layers against the reference: an adapted model whose dropped layers never had adapters
 * (the same spec placing them only in the other layers, compiled with the same seed, so the
 * remaining adapters have the same weights). Outputs must agree within 1e-6 in onnxruntime-node,
 * while keeping the adapters changes them by over 100 times that (the adapters are initialized large on purpose; the synthetic logits are small).
 * Dropping every layer gives back the base model. Also: folders without a checkpoint.
 */
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { writeSyntheticBertSync, type SyntheticBertOptions } from '../../src/synth/index.js';
import { root } from '../artifacts/harness.js';
import { cli } from '../helpers/cli.js';
import { maxAbsDiff, runModel, syntheticFeeds, writeSpec } from './helpers.js';

const spec = (layers: string) => `adapter b {\n  size 8\n  activation gelu\n  init normal(std 0.5)\n}\n\nplace b after attention, ffn in layers ${layers}\nseed 5\n`;

async function compileInference(specFile: string, model: string, folder: string): Promise<string> {
  const r = await cli(['compile', specFile, model, '-o', folder, '--inference']);
  if (r.code !== 0) throw new Error(r.stderr);
  return path.join(folder, 'model.adapted.onnx');
}

async function maxDiff(a: string, b: string): Promise<number> {
  const feeds = syntheticFeeds();
  const [x, y] = [await runModel(a, feeds), await runModel(b, feeds)];
  const names = Object.keys(x);
  expect(Object.keys(y).sort()).toEqual([...names].sort());
  return Math.max(...names.map((n) => maxAbsDiff(x[n]!, y[n]!)));
}

const models: Array<[string, SyntheticBertOptions]> = [
  ['pytorch', { preset: 'tiny', layers: 4, seed: 7 }],
  // The projection bias folded into SkipLayerNormalization is made explicit by the rewrite and stays so.
  ['ort-fused (bias in SkipLayerNormalization)', { preset: 'tiny', layers: 4, seed: 7, style: 'ort-fused', ortFused: { biasInSkipLayerNorm: true } }],
];

describe.each(models)('--drop-layers on a 4-layer synthetic BERT, %s', (_, options) => {
  let dir: string;
  let base: string;
  let full: string;
  let fullFolder: string;

  beforeAll(async () => {
    dir = mkdtempSync(path.join(tmpdir(), 'adapterc-drop-'));
    base = path.join(dir, 'base.onnx');
    writeSyntheticBertSync(options, base);
    fullFolder = path.join(dir, 'full');
    full = await compileInference(writeSpec(path.join(dir, 'full.adp'), spec('all')), base, fullFolder);
  });

  it.each([
    ['0..1, 3', '2'],
    ['0', '1..3'],
    ['all except 1', '1'],
    ['-1', '0..2'],
  ])('dropping %s equals adapters in layers %s only (1e-6)', async (drop, kept) => {
    const name = kept.replace(/\W+/g, '_');
    const reference = await compileInference(writeSpec(path.join(dir, `ref-${name}.adp`), spec(kept)), base, path.join(dir, `ref-${name}`));
    const exported = path.join(dir, `dropped-${name}.onnx`);
    const r = await cli(['export', fullFolder, '-o', exported, '--drop-layers', drop]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toContain('ADP5051'); // no checkpoint: the initial values, which both sides share
    expect(await maxDiff(exported, reference)).toBeLessThanOrEqual(1e-6);
    expect(await maxDiff(full, reference)).toBeGreaterThan(1e-4);
  });

  it('dropping every layer gives back the base model (1e-6)', async () => {
    const exported = path.join(dir, 'none.onnx');
    expect((await cli(['export', fullFolder, '-o', exported, '--drop-layers', 'all'])).code).toBe(0);
    expect(await maxDiff(exported, base)).toBeLessThanOrEqual(1e-6);
    expect(await maxDiff(full, base)).toBeGreaterThan(1e-4);
  });
});

describe('a folder without a checkpoint (compile --inference)', () => {
  it('exports the initial values with warning ADP5051; an adapters file from it attaches to the same model', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'adapterc-nockpt-'));
    const base = path.join(dir, 'base.onnx');
    writeSyntheticBertSync({ preset: 'tiny', seed: 3 }, base);
    const folder = path.join(dir, 'art');
    const adapted = await compileInference(path.join(root, 'specs', 'houlsby.adp'), base, folder);
    const merged = path.join(dir, 'merged.onnx');
    const r = await cli(['export', folder, '-o', merged]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toContain('warning ADP5051');
    expect(readFileSync(merged).equals(readFileSync(adapted))).toBe(true);
    // A layer without adapters in --drop-layers is a warning, not an error.
    const adapters = path.join(dir, 'task.adapters');
    expect((await cli(['export', folder, '--adapters-only', '-o', adapters])).code).toBe(0);
    const attached = path.join(dir, 'attached.onnx');
    expect((await cli(['export', '--base', base, '--adapters', adapters, '-o', attached])).code).toBe(0);
    expect(readFileSync(attached).equals(readFileSync(adapted))).toBe(true);
  });

  it('warns about listed layers that have no adapters', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'adapterc-nockpt-'));
    const base = path.join(dir, 'base.onnx');
    writeSyntheticBertSync({ preset: 'tiny', seed: 3, layers: 4 }, base);
    const folder = path.join(dir, 'art');
    await compileInference(writeSpec(path.join(dir, 'top.adp'), spec('2..3')), base, folder);
    const r = await cli(['export', folder, '-o', path.join(dir, 'out.onnx'), '--drop-layers', '1..2']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toContain('warning ADP5062: No adapters sit in layer(s) 1,');
    expect(r.stdout).toContain('dropped 2 adapter(s) in layer(s) 2');
  });
});
