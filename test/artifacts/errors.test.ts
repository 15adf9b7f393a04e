/** Specs or models that cannot be trained fail the compile with one clear message and no output. */
import { existsSync, mkdtempSync, readdirSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { expect, it } from 'vitest';
import { cli } from '../helpers/cli.js';
import { corpusPath, describeCorpus } from '../load/corpus.js';
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

describeCorpus('untrainable specs and models', () => {
  it('a gradient that cannot be built on a needed path (a Slice with run-time starts) names the node', async () => {
    const { file } = spec(`# adapters in every layer of torch's TransformerEncoder\nimport "${path.join(root, 'specs/base/glue.adp')}"\nplace bottleneck after attention, ffn in layers all\ntrain {\n  head classifier(labels 2, from first_token)\n}\n`);
    for (const layout of ['default', 'shared-base']) {
      await expectFailure(file, corpusPath('pytorch-1.13/torch_transformer_encoder_opset17.onnx'), 'ADP3003', /The gradient of Slice \(node '\/enc\/layers\.1\/self_attn\/Slice_2' \(Slice\)\) cannot be built: only constant slices with step 1 are supported/, layout);
    }
  });

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
