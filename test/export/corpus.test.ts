/**
 * Export on real exports (../shared/corpus): the compiled checkpoint merges without a false
 * "another base model" (ONNX Runtime-optimized graphs are unfused for training, so the checkpoint's
 * frozen set differs from the inference model's), and an adapters file attached to the original
 * model, with a layer dropped on both sides, is the merged model byte for byte.
 */
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { expect, it } from 'vitest';
import { cli } from '../helpers/cli.js';
import { compile, root } from '../artifacts/harness.js';
import { corpusPath, describeCorpus } from '../load/corpus.js';

describeCorpus('export on corpus models', () => {
  it.each([
    ['pytorch-1.13/minibert_opset11.onnx'],
    ['ort-optimized/minibert_static_opset11_skiplayernorm.onnx'],
    ['ort-testdata/bert_toy_pytorch1.1_opset10_unsorted.onnx'],
    ['ort-testdata/tf2.1_keras2onnx_bert_mrpc_opset10.onnx'],
  ])('%s: merge, adapters file, attach, drop layer 0', async (file) => {
    const model = corpusPath(file);
    const { folder } = await compile(path.join(root, 'specs', 'houlsby.adp'), model);
    const dir = mkdtempSync(path.join(tmpdir(), 'adapterc-export-corpus-'));
    const merged = path.join(dir, 'merged.onnx');
    const adapters = path.join(dir, 'task.adapters');
    const attached = path.join(dir, 'attached.onnx');
    for (const args of [
      ['export', folder, '-o', merged, '--drop-layers', '0'],
      ['export', folder, '--adapters-only', '-o', adapters],
      ['export', '--base', model, '--adapters', adapters, '-o', attached, '--drop-layers', '0'],
    ]) {
      const r = await cli(args);
      expect(r.code, r.stderr).toBe(0);
    }
    expect(readFileSync(attached).equals(readFileSync(merged))).toBe(true);
  });
});
