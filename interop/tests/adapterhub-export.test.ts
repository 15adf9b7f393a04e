/**
 * Out to AdapterHub: adapters trained by `adapterc train` on the real MiniLM, written by `adapterc
 * export --adapterhub`, load with `model.load_adapter(folder, use_safetensors=True)` in `adapters`
 * 1.0.1 onto the same pretrained model as its Houlsby configuration (DoubleSeqBnConfig), and give
 * the logits of adapterc's exported ONNX model within 1e-4 (interop/adapterhub_export.py).
 */
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { expect, it } from 'vitest';
import { adapterc, interop, model, modelDir, outDir, readJson, runPython, sst2 } from './tier.js';

interface ExportResult {
  adapter: string;
  config: Record<string, unknown>;
  config_is_double_seq_bn: boolean;
  adapter_parameters: number;
  head_parameters: number;
  sentences: number;
  logits_max_abs_diff: number;
  logits_max_abs: number;
  same_predictions: number;
}

it('writes an adapter folder that AdapterHub loads, with the exported ONNX model\'s logits within 1e-4', () => {
  const artifacts = outDir('adapterhub-export');
  rmSync(artifacts, { recursive: true, force: true });
  adapterc(['compile', path.join(interop, 'specs/adapterhub.adp'), model('ts-opset14-fold'), '-o', artifacts]);
  const train = `${artifacts}.train.tsv`;
  writeFileSync(train, readFileSync(sst2.train, 'utf8').split('\n').slice(0, 401).join('\n') + '\n');
  adapterc(['train', artifacts, '--train', train, '--vocab', path.join(modelDir(), 'vocab.txt'), '--max-steps', '25', '--batch-size', '16']);
  const folder = `${artifacts}.adapterhub/sst2`;
  const onnx = `${artifacts}.onnx`;
  const printed = adapterc(['export', artifacts, '--adapterhub', '-o', folder]);
  expect(printed).toContain("AdapterHub adapter 'sst2' (12 adapters and the classifier head)");
  adapterc(['export', artifacts, '-o', onnx]);

  const json = `${artifacts}.adapterhub.json`;
  runPython(['adapterhub_export.py', folder, modelDir(), onnx, sst2.dev, json, '--sentences', '128']);
  const r = readJson<ExportResult>(json);
  console.log(`AdapterHub export: load_adapter gave '${r.adapter}' (${r.adapter_parameters} adapter and ${r.head_parameters} head parameters, DoubleSeqBnConfig: ${r.config_is_double_seq_bn}); logits max |diff| ${r.logits_max_abs_diff.toExponential(2)} over ${r.sentences} sentences (max |logit| ${r.logits_max_abs.toFixed(3)}), ${r.same_predictions} same predictions`);
  const summary = readJson<{ adapterParameters: number; classifierParameters: number }>(path.join(artifacts, 'summary.json'));
  expect(r.adapter).toBe('sst2');
  expect(r.config_is_double_seq_bn).toBe(true);
  expect(r.adapter_parameters).toBe(summary.adapterParameters);
  expect(r.head_parameters).toBe(summary.classifierParameters);
  expect(r.sentences).toBe(128);
  expect(r.logits_max_abs_diff).toBeLessThanOrEqual(1e-4);
  expect(r.same_predictions).toBe(128);
});
