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

describeCorpus('adapted corpus models compute what the originals do (identity init), nearly (own init), and differently (std 1)', () => {
  for (const entry of corpusEntries().filter((e) => e.runs)) {
    const manifest = entry as typeof entry & { layers: number; sites: { attention: number; ffn: number } };
    const model = fileModel(entry.path, corpusPath(entry), { layers: manifest.layers, ffn: manifest.sites.ffn === manifest.layers, pooler: !NO_POOLER.has(entry.path) });
    describeEquivalence(model, { scale: SCALE[entry.path] ?? 1 });
  }
});
