/**
 * LoRA and (IA)³ (issue 19) against Hugging Face PEFT on the real pretrained all-MiniLM-L6-v2:
 * adapterc's initial adapter and head values loaded into PEFT's LoraConfig / IA3Config model give
 * the same logits and first-step gradients within 1e-4 (interop/peft_parity.py). Compiled from two
 * exports: TorchScript's (query, key and value as MatMul + Add) and ONNX Runtime's fused one (one
 * packed QKV weight, updated slice by slice).
 */
import { writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { expect, it } from 'vitest';
import { adapterc, interop, model, modelDir, outDir, readJson, runPython, sst2, STYLES } from './tier.js';

interface ParityResult {
  config: string;
  parameters: { adapterc: number; peft: number };
  logits_max_abs_diff: number;
  logits_max_abs: number;
  loss: { adapterc: number; peft: number };
  gradients: { max_abs: number; 'max_rel_beyond_1e-6_abs': number; worst_parameter: string };
  gradient_max_rel_to_largest: number;
}

const cases: Array<[string, string]> = [
  ['lora', 'ts-opset14-fold'],
  ['lora', 'ort-fused'],
  ['ia3', 'ts-opset14-fold'],
  ['ia3', 'ort-fused'],
];

it.each(cases)("%s on the %s export: PEFT from adapterc's initial values gives the same logits and first-step gradients within 1e-4", (family, style) => {
  const out = outDir(`peft-${family}-${style}`);
  adapterc(['compile', path.join(interop, `specs/${family}.adp`), model(style), '-o', out]);
  const json = `${out}.json`;
  runPython(['peft_parity.py', family, out, modelDir(), sst2.train, json]);
  const r = readJson<ParityResult>(json);
  console.log(
    `PEFT ${r.config} on ${style}: ${r.parameters.adapterc} trainable parameters (PEFT ${r.parameters.peft}); logits max |diff| ${r.logits_max_abs_diff.toExponential(2)} (max |logit| ${r.logits_max_abs.toFixed(3)}); loss ${r.loss.adapterc.toFixed(6)} / ${r.loss.peft.toFixed(6)}; gradients max |diff| ${r.gradients.max_abs.toExponential(2)} (${r.gradient_max_rel_to_largest.toExponential(2)} of the largest)`,
  );
  expect(r.parameters.adapterc).toBe(r.parameters.peft);
  expect(r.logits_max_abs_diff).toBeLessThanOrEqual(1e-4);
  expect(Math.abs(r.loss.adapterc - r.loss.peft)).toBeLessThanOrEqual(1e-4 * Math.abs(r.loss.peft));
  expect(r.gradient_max_rel_to_largest).toBeLessThanOrEqual(1e-4);
  expect(r.gradients['max_rel_beyond_1e-6_abs']).toBeLessThanOrEqual(1e-4);
});

interface Summary {
  adapters: Array<{ layer: number; site: string }>;
}

// Placement on every export style users bring, and the training graphs built: LoRA on all six
// projections and (IA)³ on the rest.
it.each(STYLES)('LoRA on every projection and (IA)³ compile on the %s export of the pretrained model', (style) => {
  const spec = outDir('every-site.adp');
  writeFileSync(
    spec,
    'adapter l {\n  lora(rank 4, alpha 8)\n}\nadapter s {\n  ia3\n}\nplace l on query, value, attention_output, ffn_in, ffn_out in layers all\nplace s on key, intermediate in layers all\ntrain {\n  trainable adapters, head\n  head classifier(labels 2, from first_token)\n}\n',
  );
  const out = outDir(`every-site-${style}`);
  adapterc(['compile', spec, model(style), '-o', out]);
  const summary = readJson<Summary>(path.join(out, 'summary.json'));
  expect(summary.adapters).toHaveLength(6 * 7);
});
