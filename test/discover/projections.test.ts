/**
 * Projection discovery (src/discover/projections.ts) on every corpus model and synthetic style:
 * each layer's query, key, value, attention output, FFN in and FFN out projections with the widths
 * the model's hidden and FFN sizes say, and the FFN's intermediate activation. Packed layouts (ONNX
 * Runtime's fused Attention, torch.nn.MultiheadAttention's in_proj) give column slices in q, k, v
 * order. Must not match: a graph where the projections cannot be told apart leaves them out.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import type { ProjectionSite } from '../../src/check/plan.js';
import { discover, type Discovery } from '../../src/discover/index.js';
import { decodeModel } from '../../src/load/index.js';
import { encodeSyntheticBert, type SyntheticBertOptions } from '../../src/synth/index.js';
import { corpusEntries, corpusPath, describeCorpus } from '../load/corpus.js';

const ATTENTION: readonly ProjectionSite[] = ['query', 'key', 'value', 'attention_output'];
const FFN: readonly ProjectionSite[] = ['ffn_in', 'ffn_out'];

function expectProjections(d: Discovery, packed: boolean): void {
  expect(d.projections).toHaveLength(d.layers.length);
  d.layers.forEach((layer, i) => {
    const p = d.projections[i]!;
    if (layer.attention) {
      for (const site of ATTENTION) expect(p[site], `layer ${i} ${site}`).toBeDefined();
      const [q, k, v, o] = ATTENTION.map((s) => p[s]!);
      expect([q.inFeatures, k.inFeatures, v.inFeatures]).toEqual([d.hidden, d.hidden, d.hidden]);
      expect(o.outFeatures).toBe(d.hidden);
      expect(new Set([q.packed !== undefined, k.packed !== undefined, v.packed !== undefined])).toEqual(new Set([packed]));
      if (packed) {
        expect([q.packed!.offset, k.packed!.offset, v.packed!.offset]).toEqual([0, q.outFeatures, q.outFeatures + k.outFeatures]);
        expect(q.node).toBe(v.node);
      } else expect(new Set([q.node, k.node, v.node, o.node]).size).toBe(4);
    }
    if (layer.ffn) {
      for (const site of FFN) expect(p[site], `layer ${i} ${site}`).toBeDefined();
      expect(p.ffn_in!.outFeatures).toBe(p.ffn_out!.inFeatures);
      expect(p.intermediate!.width).toBe(p.ffn_in!.outFeatures);
      if (d.ffn !== undefined) expect(p.ffn_in!.outFeatures).toBe(d.ffn);
    }
  });
}

const PACKED = new Set(['ort-fused/attention_skiplayernorm_pruned_opset16.onnx', 'pytorch-1.13/torch_transformer_encoder_opset17.onnx']);

describeCorpus('projections of every corpus model', () => {
  it.each(corpusEntries().map((e) => e.path))('%s', (file) => {
    const model = decodeModel(new Uint8Array(readFileSync(corpusPath(file))), file);
    expectProjections(discover(model, file), PACKED.has(file));
  });
});

describe('projections of the synthetic styles', () => {
  const styles: Array<[string, SyntheticBertOptions, boolean]> = [
    ['pytorch', { style: 'pytorch', seed: 1 }, false],
    ['tf', { style: 'tf', seed: 1 }, false],
    ['gemm', { style: 'gemm', seed: 1 }, false],
    ['ort-fused, bias in SkipLayerNormalization', { style: 'ort-fused', seed: 1, ortFused: { biasInSkipLayerNorm: true } }, false],
  ];
  it.each(styles)('%s', (_, options, packed) => {
    const model = decodeModel(encodeSyntheticBert(options), 'synthetic.onnx');
    expectProjections(discover(model, 'synthetic.onnx'), packed);
  });

  it('must not match: a layer whose scores read one projection twice has no query or key', () => {
    const model = decodeModel(encodeSyntheticBert({ style: 'pytorch', seed: 1, layers: 1 }), 'synthetic.onnx');
    // The scores MatMul reads the queries for the keys too: q and k cannot be told apart.
    const scores = model.graph.nodes.find((n) => n.opType === 'MatMul' && n.name?.includes('attention/self/MatMul') && !n.name.includes('MatMul_1'))!;
    const before = discover(model, 'synthetic.onnx').projections[0]!;
    expect(before.query && before.key).toBeDefined();
    const keyPath = scores.inputs[1]!;
    const transpose = model.graph.nodes.find((n) => n.outputs[0] === keyPath)!;
    transpose.inputs[0] = model.graph.nodes.find((n) => n.outputs[0] === scores.inputs[0])!.inputs[0]!;
    const after = discover(model, 'synthetic.onnx').projections[0]!;
    expect(after.query).toBeUndefined();
    expect(after.key).toBeUndefined();
    expect(after.attention_output).toBeDefined();
  });
});

describeCorpus('inspect reports where LoRA and (IA)³ can go', () => {
  it('text: the sites in every layer and the packed weight; JSON: each projection with its sizes', async () => {
    const { cli } = await import('../helpers/cli.js');
    const fused = await cli(['inspect', corpusPath('ort-fused/attention_skiplayernorm_pruned_opset16.onnx')]);
    expect(fused.stdout).toMatch(/LoRA \/ \(IA\)³ sites +query, key, value, attention_output in every layer; query, key and value packed in one weight per layer \(Attention/);
    const json = await cli(['inspect', corpusPath('pytorch-1.13/minibert_opset11.onnx'), '--json']);
    const parsed = JSON.parse(json.stdout) as { projections: Array<Record<string, { inFeatures?: number; outFeatures?: number; width?: number }>> };
    expect(parsed.projections).toHaveLength(2);
    expect(parsed.projections[0]!['ffn_in']).toMatchObject({ inFeatures: 32, outFeatures: 64 });
    expect(parsed.projections[0]!['intermediate']).toMatchObject({ width: 64 });
  });
});
