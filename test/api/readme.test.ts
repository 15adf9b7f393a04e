/**
 * The library API: the README's "Use from code" example runs as it stands (in a folder with a
 * synthetic model and this repository's specs/), and each function returns data and diagnostics
 * instead of printing.
 */
import { execFileSync } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { pathToFileURL } from 'node:url';
import { describe, expect, it } from 'vitest';
import * as api from '../../src/index.js';
import { DataType, makeTensor } from '../../src/ir/index.js';
import { readModel, writeModel } from '../../src/load/index.js';
import { writeSyntheticBert } from '../../src/synth/index.js';
import { root } from '../artifacts/harness.js';

/** A folder with specs/ and model.onnx (tiny synthetic BERT), as the README's example expects. */
async function workspace(): Promise<string> {
  const dir = mkdtempSync(path.join(tmpdir(), 'adapterc-api-'));
  cpSync(path.join(root, 'specs'), path.join(dir, 'specs'), { recursive: true });
  await writeSyntheticBert({ layers: 2, hidden: 32, heads: 4, ffn: 64, vocab: 200, seed: 3 }, path.join(dir, 'model.onnx'));
  return dir;
}

describe("the README's example", () => {
  it('runs as it stands, through the package entry point', async () => {
    const readme = readFileSync(path.join(root, 'README.md'), 'utf8');
    const section = readme.slice(readme.indexOf('## Use from code'));
    const code = /```ts\n([\s\S]*?)```/.exec(section)![1]!;
    expect(code).toContain("from 'adapterc'");
    const dir = await workspace();
    // 'adapterc' is this package: the example imports its entry point's source.
    const file = path.join(dir, 'example.mts');
    writeFileSync(file, code.replace("from 'adapterc'", `from ${JSON.stringify(path.join(root, 'src/index.ts'))}`));
    // tsx's loader, from this repository (the example's folder has no node_modules).
    const tsx = pathToFileURL(path.join(root, 'node_modules/tsx/dist/loader.mjs')).href;
    const output = execFileSync(process.execPath, ['--import', tsx, file], { cwd: dir, encoding: 'utf8' });
    expect(output).toContain('valid: true; 24 adapters in a BERT-base');
    expect(output).toContain('2 layers, hidden size 32');
    expect(output).toMatch(/\d+ trainable parameters; wrote training_model\.onnx, eval_model\.onnx, optimizer_model\.onnx, checkpoint, step_model\.onnx, step_eval_model\.onnx, model\.adapted\.onnx, summary\.json/);
    expect(output).toContain('exported model.adapted.onnx (ADP5067)'); // the compiled checkpoint: initial values, untrained
    expect(existsSync(path.join(dir, 'artifacts', 'step_model.onnx'))).toBe(true);
  }, 60_000);

  it('names the entry point in package.json, with its types', () => {
    const pkg = JSON.parse(readFileSync(path.join(root, 'package.json'), 'utf8')) as { exports: Record<string, { types: string; import: string }>; types: string };
    expect(pkg.exports['.']).toEqual({ types: './dist/index.d.ts', import: './dist/index.js' });
    expect(pkg.types).toBe('./dist/index.d.ts');
    // tsc -p tsconfig.build.json (rootDir src) writes src/index.ts to dist/index.js.
    expect(existsSync(path.join(root, 'src/index.ts'))).toBe(true);
  });
});

describe('the API returns data and diagnostics, and prints nothing', () => {
  it('check: an invalid spec is ok: false with its diagnostics and sources, not an exception', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'adapterc-api-check-'));
    writeFileSync(path.join(dir, 'bad.adp'), 'adapter a {\n  size -3\n}\n');
    const result = api.check('bad.adp', { cwd: dir });
    expect(result.ok).toBe(false);
    expect(result.diagnostics.length).toBeGreaterThan(0);
    expect(result.diagnostics[0]!.code).toMatch(/^ADP1\d{3}$/);
    expect(api.renderDiagnostics(result.diagnostics, result.sources)).toContain('bad.adp:2:');
  });

  it('compile: bad input rejects with an AdapterError carrying the diagnostics; nothing is written', async () => {
    const dir = await workspace();
    const error = await api.compile({ spec: 'specs/houlsby.adp', model: 'missing.onnx', out: 'out', cwd: dir }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(api.AdapterError);
    expect((error as api.AdapterError).diagnostics[0]!.code).toMatch(/^ADP20\d\d$/);
    expect(existsSync(path.join(dir, 'out'))).toBe(false);
  });

  it('compile --inference, inspect of the artifacts, and the summary as data', async () => {
    const dir = await workspace();
    const compiled = await api.compile({ spec: 'specs/size-8.adp', model: 'model.onnx', out: 'adapted', cwd: dir, inference: true });
    expect(compiled.files).toEqual(['model.adapted.onnx', 'summary.json']);
    expect(compiled.summary.adapters.length).toBe(4);
    const full = await api.compile({ spec: 'specs/houlsby.adp', model: 'model.onnx', out: 'artifacts', cwd: dir, layout: 'shared-base' });
    expect(full.files).toContain('base.data');
    const inspected = await api.inspect('artifacts', { cwd: dir });
    expect(inspected.kind).toBe('artifacts');
    if (inspected.kind === 'artifacts') for (const c of inspected.coverage.filter((x) => x.artifact !== 'model.adapted.onnx')) expect(c.fallbacks).toEqual([]);
  }, 60_000);
});

describe('a trained parameter the model does not store as float32 (found by fuzzing)', () => {
  it('is ADP2208 naming it, not an internal error', async () => {
    const dir = await workspace();
    const model = await readModel(path.join(dir, 'model.onnx'));
    const ln = model.graph.initializers.find((t) => /LayerNorm|ln/i.test(t.name ?? '') && t.dims.length === 1)!;
    const index = model.graph.initializers.indexOf(ln);
    model.graph.initializers[index] = makeTensor(ln.name!, ln.dims, new Int8Array(ln.dims[0]!), DataType.INT8);
    await writeModel(model, path.join(dir, 'int8.onnx'));
    const error = await api.compile({ spec: 'specs/houlsby.adp', model: 'int8.onnx', out: 'out', cwd: dir }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(api.AdapterError);
    const d = (error as api.AdapterError).diagnostics[0]!;
    expect(d.code).toBe('ADP2208');
    expect(d.message).toBe(`The spec trains '${ln.name}', but it holds int8 values, and adapterc trains float32 parameters only.`);
    expect(existsSync(path.join(dir, 'out'))).toBe(false);
  }, 60_000);
});
