/**
 * Numeric equivalence (see equivalence.ts) on every corpus model that runs in onnxruntime-node,
 * for every spec in specs/.
 */
import { corpusEntries, corpusPath, describeCorpus } from '../load/corpus.js';
import { describeEquivalence } from './equivalence.js';
import { fileModel } from './helpers.js';

/** Models without a pooler, from MANIFEST.json's notes: a bare encoder and a one-layer fragment. */
const NO_POOLER = new Set(['pytorch-1.13/torch_transformer_encoder_opset17.onnx', 'ort-fused/attention_skiplayernorm_pruned_opset16.onnx']);

/**
 * The ort-fused fragment is onnxruntime test data with raw weights: its attention site reaches
 * |h| = 136 (the other models' sites stay within ~10), and an adapter's output grows with |h|, so
 * the spec's own init (std 1e-2) moves its output by 0.47 (measured). Its (b) bound is 20x wider,
 * 1.0; std 1.0 still moves it by 2.4.
 */
const SCALE: Record<string, number> = { 'ort-fused/attention_skiplayernorm_pruned_opset16.onnx': 20 };

/**
 * The same fragment ends in a SkipLayerNormalization whose sum its attention output dominates, so
 * LoRA at std 1 on the packed query and value (the values about six times larger) barely moves the
 * normalized output: 1.6e-5 measured, still 16x the 1e-6 of float noise that (a) allows.
 */
const RESCALED_MINIMUM: Record<string, number> = { 'ort-fused/attention_skiplayernorm_pruned_opset16.onnx': 5e-6 };

describeCorpus('adapted corpus models compute what the originals do (identity init), nearly (own init), and differently (std 1)', () => {
  for (const entry of corpusEntries().filter((e) => e.runs)) {
    const manifest = entry as typeof entry & { layers: number; sites: { attention: number; ffn: number } };
    const model = fileModel(entry.path, corpusPath(entry), { layers: manifest.layers, ffn: manifest.sites.ffn === manifest.layers, pooler: !NO_POOLER.has(entry.path) });
    describeEquivalence(model, { scale: SCALE[entry.path] ?? 1, ...(RESCALED_MINIMUM[entry.path] !== undefined ? { rescaledMinimum: RESCALED_MINIMUM[entry.path] } : {}) });
  }
});
