/** A model exported by adapterc (with adapterc's classifier) can be the base of a new task. */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { expect, it } from 'vitest';
import { readModel } from '../../src/load/index.js';
import { writeSyntheticBertSync } from '../../src/synth/index.js';
import { compile, root, specWithRate } from '../artifacts/harness.js';
import { cli } from '../helpers/cli.js';

it('compiles a classifier spec against a model that already has adapterc\'s classifier', async () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'adapterc-recompile-'));
  const model = path.join(dir, 'bert.onnx');
  writeSyntheticBertSync({ preset: 'tiny', seed: 5 }, model);
  const { folder } = await compile(specWithRate('full-finetune.adp', 1e-3), model);
  const exported = path.join(dir, 'exported.onnx');
  expect((await cli(['export', folder, '-o', exported])).code).toBe(0);

  const again = path.join(dir, 'again');
  const r = await cli(['compile', path.join(root, 'specs/houlsby.adp'), exported, '-o', again]);
  expect(r.code, r.stderr).toBe(0);
  const adapted = await readModel(path.join(again, 'model.adapted.onnx'));
  // The new head is the model's output; the exported model's classifier was pruned with its output.
  expect(adapted.graph.outputs.map((o) => o.name)).toEqual(['logits']);
  expect(adapted.graph.initializers.filter((t) => t.name === 'head.classifier.weight')).toHaveLength(1);
});
