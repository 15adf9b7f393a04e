/** Every checked-in spec parses, checks, is in canonical form, and survives print → parse unchanged. */
import { readdirSync, readFileSync } from 'node:fs';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { checkSpecFile, checkSpecText, type CheckResult } from '../../src/check/check.js';
import { renderDiagnostics } from '../../src/diagnostics/index.js';
import { parseSpec } from '../../src/parse/parse.js';
import { printSpec } from '../../src/print/print.js';
import { fileSystemHost } from '../../src/check/check.js';

const specsDir = path.resolve(__dirname, '../../specs');

function specFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? specFiles(path.join(dir, e.name)) : e.name.endsWith('.adp') ? [path.join(dir, e.name)] : [],
  );
}

/** The plan without source positions, for comparing meanings. */
function meaning(result: CheckResult): string {
  return JSON.stringify(result.plan, (key, value) => (key === 'span' ? undefined : value));
}

const files = specFiles(specsDir).sort();

describe('specs/', () => {
  it('holds the variants the paper studies', () => {
    const names = files.map((f) => path.relative(specsDir, f));
    for (const expected of [
      'houlsby.adp', 'size-8.adp', 'size-64.adp', 'size-256.adp', 'attention-only.adp', 'ffn-only.adp', 'top-layers.adp',
      'init-1e-3.adp', 'init-identity.adp', 'tanh.adp', 'relu.adp', 'adapter-layernorm.adp', 'per-layer-sizes.adp',
      'full-finetune.adp', 'regression-stsb.adp',
    ]) {
      expect(names).toContain(expected);
    }
  });

  it.each(files.map((f) => [path.relative(specsDir, f), f]))('%s checks without problems, is canonical and round-trips', (_, file) => {
    const text = readFileSync(file, 'utf8');
    expect(text.startsWith('#'), 'each spec starts with a comment saying what it reproduces').toBe(true);
    const result = checkSpecFile(file);
    expect(renderDiagnostics(result.diagnostics, result.sources)).toBe('');
    expect(result.plan).toBeDefined();

    const printed = printSpec(parseSpec(text, file).spec);
    expect(printed, 'run `npx adapterc fmt specs/*.adp specs/base/*.adp`').toBe(text);

    // Printing a differently laid-out copy gives the canonical text and the same plan.
    const squashed = text.replace(/\n\s*/g, ' \n ').replace(/\{/g, '{ ');
    const reprinted = printSpec(parseSpec(squashed, file).spec);
    const recheck = checkSpecText(reprinted, file, fileSystemHost);
    expect(meaning(recheck)).toBe(meaning(result));
  });

  it('variants change only what they say', () => {
    const plan = (name: string) => checkSpecFile(path.join(specsDir, name)).plan!;
    expect(plan('size-8.adp').placements.map((p) => p.adapter.size)).toEqual([
      { kind: 'absolute', units: 8 },
      { kind: 'absolute', units: 8 },
    ]);
    expect(plan('attention-only.adp').placements.map((p) => p.site)).toEqual(['attention']);
    expect(plan('ffn-only.adp').placements.map((p) => p.site)).toEqual(['ffn']);
    expect(plan('init-identity.adp').adapters[0]!.init).toEqual({ kind: 'identity', std: 1e-2 });
    expect(plan('init-1e-3.adp').adapters[0]!.init).toEqual({ kind: 'normal', std: 1e-3, truncate: 2 });
    expect(plan('tanh.adp').adapters[0]!.activation).toBe('tanh');
    expect(plan('relu.adp').adapters[0]!.activation).toBe('relu');
    expect(plan('adapter-layernorm.adp').adapters[0]!.layerNorm).toBe(true);
    expect(plan('full-finetune.adp').trainable.all).toBe(true);
    expect(plan('full-finetune.adp').placements).toEqual([]);
    const regression = plan('regression-stsb.adp');
    expect(regression.loss).toBe('mse');
    expect(regression.head).toEqual({ kind: 'classifier', labels: 1, from: 'pooled' });
    expect(regression.trainable.head).toBe(true);
    const houlsby = plan('houlsby.adp');
    expect(houlsby.seed).toBe(42);
    expect(houlsby.target).toBe('cuda');
    expect(houlsby.optimizer).toEqual({ kind: 'adamw', lr: 1e-4, betas: [0.9, 0.999], eps: 1e-8, weightDecay: 0.01, noDecay: ['bias', 'layernorm'] });
    expect(houlsby.schedule).toEqual({ kind: 'linear', warmup: { fraction: 0.1 } });
  });
});
