/**
 * Discovery on every real export in ../shared/corpus: exactly the layers, hidden size and site
 * counts MANIFEST.json lists, layers in depth order whatever the file order, and a clear error for
 * graphs that are not BERT-style encoders.
 */
import { describe, expect, it } from 'vitest';
import { discover } from '../../src/discover/index.js';
import { AdapterError } from '../../src/diagnostics/index.js';
import { DataType, makeTensor, makeValueInfo, type Model } from '../../src/ir/index.js';
import { readModel } from '../../src/load/index.js';
import { shuffled } from '../ir/helpers.js';
import { corpusEntries, corpusPath, describeCorpus } from '../load/corpus.js';

interface ManifestFacts {
  readonly path: string;
  readonly layers: number;
  readonly hidden: number;
  readonly heads?: number;
  readonly ffn?: number;
  readonly sites: { readonly attention: number; readonly ffn: number };
}

function facts(): ManifestFacts[] {
  return corpusEntries() as unknown as ManifestFacts[];
}

describeCorpus('discovery on the corpus', () => {
  it.each(facts().map((f) => [f.path, f]))('%s: layers, hidden size and sites as the manifest says', async (_, entry) => {
    const d = discover(await readModel(corpusPath(entry.path)), entry.path);
    expect(d.layers.length).toBe(entry.layers);
    expect(d.hidden).toBe(entry.hidden);
    expect(d.layers.filter((l) => l.attention).length).toBe(entry.sites.attention);
    expect(d.layers.filter((l) => l.ffn).length).toBe(entry.sites.ffn);
    if (entry.ffn !== undefined) expect(d.ffn).toBe(entry.ffn);
    if (entry.heads !== undefined && d.heads !== undefined) expect(d.heads).toBe(entry.heads);
    // Depth order: layer i's attention sum takes layer i-1's output as its residual.
    d.layers.forEach((layer, i) => {
      expect(layer.index).toBe(i);
      if (i > 0 && layer.attention && d.layers[i - 1]!.ffn) expect(layer.attention.residual).toBe(d.layers[i - 1]!.ffn!.layerNorm.output);
      if (layer.attention && layer.ffn) expect(layer.ffn.residual).toBe(layer.attention.layerNorm.output);
    });
    // Each site is a different tensor, consumed by its residual node at the recorded input.
    const values = d.layers.flatMap((l) => [l.attention, l.ffn]).filter((s) => s !== undefined);
    expect(new Set(values.map((s) => s.value)).size).toBe(values.length);
    for (const s of values) expect(s.residualNode.inputs[s.inputIndex]).toBe(s.value);
  });

  it('finds BERT inputs under their exporters\' names', async () => {
    const squad = discover(await readModel(corpusPath('ort-testdata/pytorch1.4_bert_squad_opset10.onnx')), 'squad');
    expect(Object.fromEntries(squad.inputs.map((i) => [i.name, i.role]))).toEqual({ input_ids: 'input_ids', input_mask: 'attention_mask', segment_ids: 'token_type_ids' });
    const mini = discover(await readModel(corpusPath('pytorch-1.13/minibert_opset11.onnx')), 'mini');
    expect(mini.outputs).toEqual([{ name: 'logits', role: 'logits' }]);
    expect(mini.pooledOutput).toBeDefined();
    expect(mini.embeddingLayerNorm?.form).toBe('decomposed');
    const encoder = discover(await readModel(corpusPath('pytorch-1.13/torch_transformer_encoder_opset17.onnx')), 'enc');
    expect(encoder.embeddingLayerNorm).toBeUndefined();
    expect(encoder.outputs).toEqual([{ name: 'out', role: 'last_hidden_state' }]);
  });

  it('makes a bias folded into SkipLayerNormalization explicit', async () => {
    const d = discover(await readModel(corpusPath('ort-fused/attention_skiplayernorm_pruned_opset16.onnx')), 'fused');
    const site = d.layers[0]!.attention!;
    expect(site.foldedBias).toBe('add_qkv_weight');
    expect(site.residualNode.opType).toBe('SkipLayerNormalization');
  });

  it('keeps an MLM head\'s LayerNorm out of the layers', async () => {
    const d = discover(await readModel(corpusPath('ort-testdata/bert_toy_pytorch1.1_opset10_unsorted.onnx')), 'toy');
    expect(d.layerNorms.length).toBe(12); // embedding + 2 × 5 layers + the MLM head
    expect(d.notes.some((n) => n.includes('outside the encoder layers'))).toBe(true);
  });

  it.each(facts().filter((f) => f.layers > 1).map((f) => [f.path]))('%s: shuffled node order gives the same sites', async (path) => {
    const model = await readModel(corpusPath(path));
    const before = discover(model, path).layers.map((l) => [l.attention?.value, l.ffn?.value]);
    model.graph.nodes = shuffled(model.graph.nodes, 7);
    expect(discover(model, path).layers.map((l) => [l.attention?.value, l.ffn?.value])).toEqual(before);
  });
});

function tinyModel(nodes: Model['graph']['nodes'], initializers: Model['graph']['initializers']): Model {
  return {
    irVersion: 8,
    opsetImports: [{ domain: '', version: 17 }],
    metadata: [],
    graph: {
      name: 'g',
      nodes,
      initializers,
      inputs: [makeValueInfo('x', DataType.FLOAT, [1, 4])],
      outputs: [makeValueInfo('y', DataType.FLOAT, [1, 4])],
      valueInfo: [],
    },
  };
}

describe('graphs that are not BERT-style encoders', () => {
  const w = makeTensor('w', [4, 4], new Float32Array(16));
  const g = makeTensor('g', [4], new Float32Array(4).fill(1));

  it('a single MatMul: ADP2101 saying what was found', () => {
    const model = tinyModel([{ opType: 'MatMul', inputs: ['x', 'w'], outputs: ['y'], attributes: [] }], [w]);
    expect(() => discover(model, 'matmul.onnx')).toThrowError(AdapterError);
    try {
      discover(model, 'matmul.onnx');
    } catch (e) {
      const d = (e as AdapterError).diagnostics[0]!;
      expect(d.code).toBe('ADP2101');
      expect(d.message).toBe("'matmul.onnx' is not a BERT-style encoder: it has 0 LayerNorms and no LayerNorm fed by a residual Add of an attention or feed-forward output (its nodes: 1 MatMul).");
    }
  });

  it('a LayerNorm without a residual Add (must not match)', () => {
    const model = tinyModel(
      [
        { opType: 'MatMul', inputs: ['x', 'w'], outputs: ['h'], attributes: [] },
        { opType: 'LayerNormalization', inputs: ['h', 'g'], outputs: ['y'], attributes: [] },
      ],
      [w, g],
    );
    expect(() => discover(model, 'ln.onnx')).toThrowError(/not a BERT-style encoder: it has 1 LayerNorm and no LayerNorm fed by a residual Add/);
  });

  it('a residual Add + LayerNorm with no attention anywhere is an FFN-only stack, not mistaken for attention', () => {
    const model = tinyModel(
      [
        { opType: 'MatMul', inputs: ['x', 'w'], outputs: ['h'], attributes: [] },
        { opType: 'Add', inputs: ['x', 'h'], outputs: ['s'], attributes: [] },
        { opType: 'LayerNormalization', inputs: ['s', 'g'], outputs: ['y'], attributes: [] },
      ],
      [w, g],
    );
    // Neither operand comes out of attention, so this LayerNorm is the chain's root, not a layer.
    expect(() => discover(model, 'mlp.onnx')).toThrowError(/ADP2101/);
  });
});
