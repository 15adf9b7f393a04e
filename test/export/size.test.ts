/**
 * The paper's point: each task costs a few megabytes on a shared base. The adapters file of
 * specs/houlsby.adp on a BERT-base-shaped synthetic model (12 layers, hidden 768, 109.5 M
 * parameters, a 438 MB file) holds 2,419,202 parameters (2,379,264 in adapters, 38,400 in the
 * LayerNorms, 1,538 in the new classifier) and must stay under 10 MB. The values come from
 * `compile --inference` (the trainable parameters' initial values): their size is what training
 * would store too. Attached again, it gives back model.adapted.onnx byte for byte.
 */
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { elementCount } from '../../src/ir/index.js';
import { readModel } from '../../src/load/index.js';
import { writeSyntheticBertSync } from '../../src/synth/index.js';
import { root } from '../artifacts/harness.js';
import { cli } from '../helpers/cli.js';

describe('the houlsby adapters file of a BERT-base-shaped model', () => {
  let dir: string;
  beforeAll(() => {
    dir = mkdtempSync(path.join(tmpdir(), 'adapterc-export-base-'));
    writeSyntheticBertSync({ preset: 'base', seed: 1 }, path.join(dir, 'bert-base.onnx'));
  }, 120_000);
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('is under 10 MB and attaches back to model.adapted.onnx byte for byte', async () => {
    const base = path.join(dir, 'bert-base.onnx');
    const folder = path.join(dir, 'art');
    expect((await cli(['compile', path.join(root, 'specs', 'houlsby.adp'), base, '-o', folder, '--inference'])).code).toBe(0);
    const adapters = path.join(dir, 'houlsby.adapters');
    const r = await cli(['export', folder, '--adapters-only', '-o', adapters]);
    expect(r.code, r.stderr).toBe(0);
    const size = statSync(adapters).size;
    expect(size).toBeLessThan(10_000_000);
    const file = await readModel(adapters);
    expect(file.graph.initializers.reduce((n, t) => n + elementCount(t), 0)).toBe(2_379_264 + 38_400 + 1_538);
    // Measured: 9,687,472 bytes, 4 bytes per parameter plus about 11 kB of names and metadata.
    expect(size - 4 * (2_379_264 + 38_400 + 1_538)).toBeLessThan(20_000);

    const attached = path.join(dir, 'attached.onnx');
    const a = await cli(['export', '--base', base, '--adapters', adapters, '-o', attached]);
    expect(a.code, a.stderr).toBe(0);
    expect(readFileSync(attached).equals(readFileSync(path.join(folder, 'model.adapted.onnx')))).toBe(true);
  }, 180_000);
});
