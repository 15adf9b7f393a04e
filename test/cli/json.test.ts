/**
 * `--json` on every command that produces results (issue 21): one JSON document on standard output,
 * `"ok": true` with the result, or `"ok": false` with the diagnostics when the input is bad (the
 * rendered text still on standard error). A script reads one shape whatever happens.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { writeSyntheticBertSync } from '../../src/synth/index.js';
import { root } from '../artifacts/harness.js';
import { cli } from '../helpers/cli.js';

const dir = mkdtempSync(path.join(tmpdir(), 'adapterc-json-'));
const missing = path.join(dir, 'missing');

describe('--json', () => {
  it.each([
    ['check', [`${missing}.adp`]],
    ['compile', [path.join(root, 'specs', 'houlsby.adp'), `${missing}.onnx`, '-o', path.join(dir, 'never')]],
    ['export', [missing, '-o', path.join(dir, 'never.onnx')]],
    ['fmt', [`${missing}.adp`]],
    ['from-adapterhub', ['seq_bn']],
    ['inspect', [`${missing}.onnx`]],
    ['predict', [`${missing}.onnx`, '--vocab', `${missing}.txt`, path.join(dir, 'none.txt')]],
    ['eval', [`${missing}.onnx`, '--vocab', `${missing}.txt`, '--data', `${missing}.tsv`]],
    ['train', [missing, '--train', `${missing}.tsv`, '--vocab', `${missing}.txt`]],
  ])('%s: bad input is {"ok": false, "diagnostics": [...]} on stdout, and exit 1', async (command, args) => {
    const r = await cli([command, ...args, '--json']);
    expect(r.code, r.stderr).toBe(1);
    const json = JSON.parse(r.stdout);
    expect(json.ok).toBe(false);
    expect(json.diagnostics.length).toBeGreaterThan(0);
    expect(json.diagnostics[0]).toMatchObject({ code: expect.stringMatching(/^ADP\d{4}$/), severity: 'error', message: expect.any(String) });
    expect(r.stderr).toContain(json.diagnostics[0].code);
  });

  it('compile, export, inspect, fmt and from-adapterhub print their results with "ok": true', async () => {
    const model = path.join(dir, 'tiny.onnx');
    writeSyntheticBertSync({ preset: 'tiny', seed: 1 }, model);
    const out = path.join(dir, 'out');
    const compiled = JSON.parse((await cli(['compile', path.join(root, 'specs', 'houlsby.adp'), model, '-o', out, '--json'])).stdout);
    expect(compiled).toMatchObject({ ok: true, out, summary: { layers: 2 } });
    expect(compiled.files).toContain('step_model.onnx');
    const exported = JSON.parse((await cli(['export', out, '-o', path.join(dir, 'm.onnx'), '--json'])).stdout);
    expect(exported).toMatchObject({ ok: true, kind: 'merged', out: path.join(dir, 'm.onnx') });
    const inspected = JSON.parse((await cli(['inspect', path.join(dir, 'm.onnx'), '--json'])).stdout);
    expect(inspected).toMatchObject({ ok: true, layers: 2 });
    const spec = path.join(dir, 's.adp');
    writeFileSync(spec, 'adapter a {  size 8\n}\n');
    const formatted = JSON.parse((await cli(['fmt', '--check', spec, '--json'])).stdout);
    expect(formatted.files[0]).toMatchObject({ file: spec, canonical: false, diff: expect.stringContaining('+adapter a {') });
    const translated = JSON.parse((await cli(['from-adapterhub', 'double_seq_bn', '--json'])).stdout);
    expect(translated).toMatchObject({ ok: true, config: { mh_adapter: true, non_linearity: 'swish' } });
    expect(translated.text).toContain('adapter double_seq_bn {');
  });
});
