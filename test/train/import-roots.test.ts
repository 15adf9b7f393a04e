/**
 * A spec compiled with `--import-root` (it imports from outside its folder tree) trains, exports an
 * adapters file and attaches it again: compile records the roots in summary.json, and train and
 * export check the spec with them (they refused it with ADP1206 before).
 */
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { expect, it } from 'vitest';
import { writeSyntheticBertSync } from '../../src/synth/index.js';
import { cli } from '../helpers/cli.js';
import { writeTinyTask } from '../helpers/tiny-task.js';

it('train and export read the spec with the import roots it was compiled with', async () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'adapterc-roots-'));
  const { vocab, trainTsv } = writeTinyTask(dir);
  const shared = path.join(dir, 'shared-specs');
  const project = path.join(dir, 'project');
  mkdirSync(shared);
  mkdirSync(project);
  writeFileSync(path.join(shared, 'base.adp'), 'adapter a {\n  size 8\n}\n\ntrain {\n  trainable adapters, head\n  head classifier(labels 2, from first_token)\n}\n');
  const spec = path.join(project, 'task.adp');
  writeFileSync(spec, `import "${path.join(shared, 'base.adp')}"\n\nplace a after ffn in layers all\n`);
  const model = path.join(dir, 'tiny.onnx');
  writeSyntheticBertSync({ preset: 'tiny', seed: 3 }, model);
  const out = path.join(dir, 'out');
  expect((await cli(['compile', spec, model, '-o', out])).stderr).toContain('ADP1206');
  const compiled = await cli(['compile', spec, model, '-o', out, '--import-root', shared]);
  expect(compiled.code, compiled.stderr).toBe(0);
  expect(JSON.parse(readFileSync(path.join(out, 'summary.json'), 'utf8')).importRoots).toEqual([shared]);
  const trained = await cli(['train', out, '--train', trainTsv, '--vocab', vocab, '--max-steps', '2', '--batch-size', '8']);
  expect(trained.code, trained.stderr).toBe(0);
  const adapters = path.join(dir, 'task.adapters');
  const exported = await cli(['export', out, '--adapters-only', '-o', adapters]);
  expect(exported.code, exported.stderr).toBe(0);
  const attached = await cli(['export', '--base', model, '--adapters', adapters, '-o', path.join(dir, 'attached.onnx')]);
  expect(attached.code, attached.stderr).toBe(0);
});
