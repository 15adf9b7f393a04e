/** Specs or models that cannot be trained fail the compile with one clear message and no output. */
import { existsSync, mkdtempSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { cli } from '../helpers/cli.js';
import { corpusPath, describeCorpus } from '../load/corpus.js';
import { writeRuntimeSliceModel } from '../helpers/runtime-slice.js';
import { root } from './harness.js';

function spec(text: string): { dir: string; file: string } {
  const dir = mkdtempSync(path.join(tmpdir(), 'adapterc-untrainable-'));
  const file = path.join(dir, 'spec.adp');
  writeFileSync(file, text);
  return { dir, file };
}

/** In the shared-base layout base.data is being copied while the failing build runs: it must not be left behind either. */
async function expectFailure(specFile: string, model: string, code: string, message: RegExp, layout = 'default'): Promise<void> {
  const parent = mkdtempSync(path.join(tmpdir(), 'adapterc-out-'));
  const out = path.join(parent, 'artifacts');
  const r = await cli(['compile', specFile, model, '-o', out, '--layout', layout]);
  expect(r.code).toBe(1);
  expect(r.stderr).toContain(`error ${code}`);
  expect(r.stderr).toMatch(message);
  expect(existsSync(out)).toBe(false);
  expect(readdirSync(parent)).toEqual([]);
}

describe('a model that cannot be trained', () => {
  it('a gradient that cannot be built on a needed path (a Slice with run-time starts) names the node', async () => {
    const model = writeRuntimeSliceModel(path.join(mkdtempSync(path.join(tmpdir(), 'adapterc-slice-')), 'runtime-slice.onnx'));
    for (const layout of ['default', 'shared-base']) {
      await expectFailure(path.join(root, 'specs/houlsby.adp'), model, 'ADP3003', /The gradient of Slice \(node 'runtime_slice' \(Slice\)\) cannot be built: only constant slices with step 1 are supported/, layout);
    }
  });
});

describeCorpus('untrainable specs and models', () => {

  it("a head whose output is not [batch, labels] (the encoder's hidden states) for cross-entropy", async () => {
    const { file } = spec('adapter a {\n  size 8\n}\nplace a after ffn in layers all\ntrain {\n  head output\n  loss cross_entropy\n}\n');
    for (const layout of ['default', 'shared-base']) {
      await expectFailure(file, corpusPath('pytorch-1.13/torch_transformer_encoder_opset17.onnx'), 'ADP3004', /needs \[batch, labels\] scores, but the output 'out' .* has shape \[2, 2, 32\] \(for a batch of 2 sequences of 2 tokens\)/, layout);
    }
  });

  it('a classifier on a pooler the model does not have', async () => {
    await expectFailure(path.join(root, 'specs/houlsby.adp'), corpusPath('pytorch-1.13/torch_transformer_encoder_opset17.onnx'), 'ADP2206', /no pooler/);
  });
});
