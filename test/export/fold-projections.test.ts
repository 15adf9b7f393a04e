/**
 * LoRA and (IA)³ on export (src/export/fold-projections.ts): by default folded into the weights
 * they adapt, so the exported model has no adapter nodes or parameters and computes what the model
 * with them computes; `--keep-apart` keeps them as nodes; `--drop-layers` removes them. On corpus
 * models of every projection layout: unfused MatMul + Add (PyTorch), Gemm and 2-D reshapes
 * (keras2onnx), ONNX Runtime's fused Attention (packed QKV), and torch.nn.MultiheadAttention's packed
 * in_proj MatMul. The adapters start far from identity (std 0.1) so that folding them matters.
 */
import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { decodeModel } from '../../src/load/index.js';
import { readFloat32, type Model } from '../../src/ir/index.js';
import ort from 'onnxruntime-node';
import { compile } from '../artifacts/harness.js';
import { seededInputs } from '../load/ort-inputs.js';
import { cli } from '../helpers/cli.js';
import { corpusPath, describeCorpus } from '../load/corpus.js';
import { writeSpec } from './helpers.js';

function spec(lora: string, ia3: string, std = 0.1): string {
  return `adapter l {\n  lora(rank 4, alpha 8)\n  init normal(std ${std})\n}\nadapter s {\n  ia3\n  init normal(std ${std})\n}\nplace l on ${lora} in layers all\nplace s on ${ia3} in layers all\ntrain {\n  trainable adapters, head\n  head classifier(labels 2, from first_token)\n}\n`;
}
const EVERY_SITE = spec('query, value, attention_output, ffn_in, ffn_out', 'key, intermediate');

/** [model, spec, whether removing the adapters shows in the logits on seeded inputs]. */
const MODELS: Array<[string, string, boolean]> = [
  ['pytorch-1.13/minibert_opset11.onnx', EVERY_SITE, true],
  ['ort-testdata/tf2.1_keras2onnx_bert_mrpc_opset10.onnx', EVERY_SITE, true],
  ['ort-optimized/minibert_static_opset11_skiplayernorm.onnx', EVERY_SITE, true],
  ['pytorch-1.13/torch_transformer_encoder_opset17.onnx', EVERY_SITE, true],
  // One attention layer, no FFN: LoRA on the packed query and value, (IA)³ on the packed key. Its
  // first-token logits barely follow its attention (tripling the whole packed QKV weight moves them
  // by 1.5e-3, measured; the adapters by 0 to 1e-6 on the seeded inputs), so there only the folded
  // weights are checked to differ from the original.
  ['ort-fused/attention_skiplayernorm_pruned_opset16.onnx', spec('query, value', 'key', 1), false],
];

const isAdapterNode = (model: Model) => model.graph.nodes.filter((n) => n.name?.startsWith('adapters.layer.')).length;
const adapterParameters = (model: Model) => model.graph.initializers.filter((t) => /\.(lora_A|lora_B|ia3)$/.test(t.name ?? '')).length;

describeCorpus('LoRA and (IA)³ folded into the weights on export', () => {
  describe.each(MODELS)('%s', (file, text, logitEffect) => {
    const dir = mkdtempSync(path.join(tmpdir(), 'adapterc-fold-'));
    const out = (name: string) => path.join(dir, name);
    let logits: Record<'merged' | 'apart' | 'dropped' | 'attached', Float32Array>;
    /** max |Δ| between the logits with and without the adapters, over three seeded inputs. */
    let dropEffect = 0;
    let models: Record<'merged' | 'apart' | 'dropped', Model>;

    beforeAll(async () => {
      const specFile = writeSpec(out('spec.adp'), text);
      const { folder } = await compile(specFile, corpusPath(file));
      for (const [name, flags] of [['merged', []], ['apart', ['--keep-apart']], ['dropped', ['--drop-layers', 'all']]] as const) {
        const r = await cli(['export', folder, '-o', out(`${name}.onnx`), ...flags]);
        expect(r.code, r.stderr).toBe(0);
      }
      // A per-task adapters file attached to the base model again folds the same way.
      for (const args of [
        ['export', folder, '--adapters-only', '--spec', specFile, '-o', out('task.adapters')],
        ['export', '--base', corpusPath(file), '--adapters', out('task.adapters'), '-o', out('attached.onnx')],
      ]) {
        const r = await cli(args);
        expect(r.code, r.stderr).toBe(0);
      }
      const read = (name: string) => decodeModel(new Uint8Array(readFileSync(out(`${name}.onnx`))), name);
      models = { merged: read('merged'), apart: read('apart'), dropped: read('dropped') };
      const run = async (name: string, seed = 42) => {
        const session = await ort.InferenceSession.create(out(`${name}.onnx`));
        try {
          return (await session.run(seededInputs(models.apart, seed)))[session.outputNames[0]!]!.data as Float32Array;
        } finally {
          await session.release();
        }
      };
      logits = { merged: await run('merged'), apart: await run('apart'), dropped: await run('dropped'), attached: await run('attached') };
      for (const seed of [42, 43, 44]) {
        const [a, d] = [await run('apart', seed), await run('dropped', seed)];
        dropEffect = Math.max(dropEffect, ...a.map((v, i) => Math.abs(v - d[i]!)));
      }
    });

    it('folded: no adapter nodes or parameters, and the logits of the model with them within 1e-5', () => {
      expect(isAdapterNode(models.merged)).toBe(0);
      expect(adapterParameters(models.merged)).toBe(0);
      expect(isAdapterNode(models.apart)).toBeGreaterThan(0);
      expect(adapterParameters(models.apart)).toBeGreaterThan(0);
      const scale = Math.max(1, ...[...logits.apart].map(Math.abs));
      const diff = Math.max(...logits.apart.map((v, i) => Math.abs(v - logits.merged[i]!)));
      expect(diff / scale).toBeLessThanOrEqual(1e-5);
    });

    it('an adapters file attached to the base model gives the folded model', () => {
      expect(Math.max(...logits.attached.map((v, i) => Math.abs(v - logits.merged[i]!)))).toBeLessThanOrEqual(1e-6);
    });

    it('the adapters matter: removing them (--drop-layers all) changes the logits, and folding changed weights', () => {
      expect(isAdapterNode(models.dropped)).toBe(0);
      expect(adapterParameters(models.dropped)).toBe(0);
      if (logitEffect) expect(dropEffect).toBeGreaterThan(1e-4);
      // Every folded weight differs from the weight the model without adapters reads in its place.
      const folded = models.merged.graph.initializers.filter((t) => /\.merged\.weight(\.\d+)?$/.test(t.name ?? ''));
      expect(folded.length).toBeGreaterThan(0);
      const original = new Map(models.dropped.graph.initializers.map((t) => [t.name, t]));
      for (const t of folded) {
        const reader = models.merged.graph.nodes.find((n) => n.inputs.includes(t.name!))!;
        const twin = models.dropped.graph.nodes.find((n) => n.name === reader.name)!;
        const before = twin.inputs[reader.inputs.indexOf(t.name!)]!;
        const values = original.get(before) ? readFloat32(original.get(before)!) : undefined;
        if (values && values.length === readFloat32(t).length) expect(readFloat32(t)).not.toEqual(values);
      }
    });

    // Fewer where a weight was read through a Transpose: the folded weight is stored as read.
    it('folding adds no nodes: the merged model has at most the node count of the one without adapters', () => {
      expect(models.merged.graph.nodes.length).toBeLessThanOrEqual(models.dropped.graph.nodes.length);
    });
  });
});
