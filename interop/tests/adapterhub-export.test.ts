/**
 * Out to AdapterHub: adapters trained by `adapterc train` on the real MiniLM, written by `adapterc
 * export --adapterhub`, load with `model.load_adapter(folder, use_safetensors=True)` in `adapters`
 * 1.0.1 onto the same pretrained model as its Houlsby configuration (DoubleSeqBnConfig), and give
 * the logits of adapterc's exported ONNX model within 1e-4 (interop/adapterhub_export.py).
 */
import { readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
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

it("translates AdapterHub config strings as `adapters` resolves them: the string and adapters' own dict give the same spec", () => {
  const configs = ['double_seq_bn', 'houlsby', "double_seq_bn[reduction_factor=6, non_linearity='gelu']", "double_seq_bn[leave_out=[0, 5], reduction_factor={'default': 12, '2': 4}]", 'seq_bn[original_ln_before=False]', 'par_bn', 'par_bn[mh_adapter=True, scaling=2.0]', 'seq_bn'];
  const dir = outDir('adapterhub-configs');
  runPython(['adapterhub_configs.py', dir, ...configs]);
  configs.forEach((config, n) => {
    const dict = path.join(dir, `${n}.json`);
    if (config === 'seq_bn') {
      // Pfeiffer's placement in AdapterHub (the model's Add + LayerNorm before and after the adapter) is refused both ways.
      for (const input of [config, dict]) expect(() => adapterc(['from-adapterhub', input, '--name', 'hub'])).toThrow(/ADP6002: The AdapterHub option original_ln_before=True/);
      return;
    }
    const strip = (text: string) => text.split('\n').filter((l) => !l.startsWith('#')).join('\n');
    expect(strip(adapterc(['from-adapterhub', dict])), config).toBe(strip(adapterc(['from-adapterhub', config, '--name', 'hub'])));
  });
  // The folder export --adapterhub wrote (above) translates back to the spec's placements: reduction 6, gelu, both sites, every layer.
  const back = adapterc(['from-adapterhub', `${outDir('adapterhub-export')}.adapterhub/sst2`]);
  expect(back).toContain('adapter sst2 {\n  reduction 6\n  activation gelu\n  init normal(std 0.02)\n}');
  expect(back).toContain('place sst2 after attention in layers all\nplace sst2 after ffn in layers all');
});

it('starts a spec from an adapter trained and saved in AdapterHub: the exported ONNX model gives its logits within 1e-4', () => {
  const folder = path.join(outDir('adapterhub-import'), 'sst2');
  rmSync(path.dirname(folder), { recursive: true, force: true });
  runPython(['adapterhub_import.py', 'train', modelDir(), sst2.train, sst2.dev, folder]);
  const spec = `${path.dirname(folder)}/from-adapterhub.adp`;
  writeFileSync(
    spec,
    `adapter sst2 {\n  reduction 6\n  activation gelu\n  init adapterhub(folder "sst2")\n}\n\ntrain {\n  trainable adapters, head\n  head classifier(labels 2, from first_token, adapterhub "sst2")\n}\n\nplace sst2 after attention in layers all\nplace sst2 after ffn in layers all\n`,
  );
  const artifacts = `${path.dirname(folder)}/artifacts`;
  adapterc(['compile', spec, model('ts-opset14-fold'), '-o', artifacts]);
  const onnx = `${path.dirname(folder)}/model.onnx`;
  adapterc(['export', artifacts, '-o', onnx]);
  const json = `${path.dirname(folder)}/compare.json`;
  runPython(['adapterhub_import.py', 'compare', modelDir(), sst2.dev, folder, onnx, json]);
  const r = readJson<{ sentences: number; logits_max_abs_diff: number; logits_max_abs: number; same_predictions: number; files: string[] }>(json);
  console.log(`AdapterHub import: ${r.files.join(', ')} trained 30 steps in adapters; compiled and exported by adapterc: logits max |diff| ${r.logits_max_abs_diff.toExponential(2)} over ${r.sentences} sentences (max |logit| ${r.logits_max_abs.toFixed(3)}), ${r.same_predictions} same predictions`);
  expect(r.files).toEqual(['adapter.safetensors', 'adapter_config.json', 'head_config.json', 'model_head.safetensors']);
  expect(r.sentences).toBe(128);
  expect(r.logits_max_abs_diff).toBeLessThanOrEqual(1e-4);
  expect(r.same_predictions).toBe(128);
  // The same folder imported whole (adapters, placements and head from its config): the same logits.
  const imported = `${path.dirname(folder)}/import.adp`;
  writeFileSync(imported, 'import "adapterhub:sst2"\n\ntrain {\n  trainable adapters, head\n}\n');
  adapterc(['compile', imported, model('ts-opset14-fold'), '-o', `${artifacts}-import`]);
  adapterc(['export', `${artifacts}-import`, '-o', `${onnx}.import.onnx`]);
  runPython(['adapterhub_import.py', 'compare', modelDir(), sst2.dev, folder, `${onnx}.import.onnx`, `${json}.import.json`]);
  expect(readJson<{ logits_max_abs_diff: number }>(`${json}.import.json`).logits_max_abs_diff).toBeLessThanOrEqual(1e-4);
  // The folder saved as a pickle only is refused, with the way to re-save it.
  renameSync(path.join(folder, 'adapter.safetensors'), path.join(folder, 'pytorch_adapter.bin'));
  expect(() => adapterc(['compile', spec, model('ts-opset14-fold'), '-o', `${artifacts}-2`])).toThrow(/ADP6003.*Python pickle/s);
});

it("exports parallel adapters as AdapterHub's ParBnConfig: load_adapter gives the exported ONNX model's logits within 1e-4", () => {
  const artifacts = outDir('adapterhub-export-parallel');
  rmSync(artifacts, { recursive: true, force: true });
  adapterc(['compile', path.join(interop, 'specs/parallel.adp'), model('ts-opset14-fold'), '-o', artifacts]);
  const train = `${artifacts}.train.tsv`;
  writeFileSync(train, readFileSync(sst2.train, 'utf8').split('\n').slice(0, 161).join('\n') + '\n');
  adapterc(['train', artifacts, '--train', train, '--vocab', modelDir(), '--max-steps', '10', '--batch-size', '16']);
  const folder = `${artifacts}.adapterhub/par`;
  adapterc(['export', artifacts, '--adapterhub', '-o', folder]);
  adapterc(['export', artifacts, '-o', `${artifacts}.onnx`]);
  const json = `${artifacts}.adapterhub.json`;
  runPython(['adapterhub_export.py', folder, modelDir(), `${artifacts}.onnx`, sst2.dev, json, '--sentences', '64']);
  const r = readJson<ExportResult>(json);
  console.log(`AdapterHub export (parallel): ${JSON.stringify(r.config)}; logits max |diff| ${r.logits_max_abs_diff.toExponential(2)} over ${r.sentences} sentences (max |logit| ${r.logits_max_abs.toFixed(3)})`);
  expect(r.config).toMatchObject({ mh_adapter: true, output_adapter: true, reduction_factor: 6, is_parallel: true, scaling: 4 });
  expect(r.logits_max_abs_diff).toBeLessThanOrEqual(1e-4);
  expect(r.same_predictions).toBe(64);
});
