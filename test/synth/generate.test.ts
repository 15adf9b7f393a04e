import { createHash } from 'node:crypto';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { onnx } from 'onnx-proto';
import { afterAll, describe, expect, test } from 'vitest';
import {
  encodeSyntheticBert,
  generateBert,
  synthesizeBert,
  writeSyntheticBert,
  writeSyntheticBertSync,
  type SyntheticBertManifest,
  type SyntheticBertOptions,
} from '../../src/synth/index.js';
import { proto } from '../../src/synth/proto.js';
import { decode, floats, initializer } from './helpers.js';

const L = 2;

/** Producers and consumers of each tensor, to follow the graph. */
function index(model: onnx.IModelProto) {
  const nodes = model.graph!.node!;
  const producer = new Map<string, onnx.INodeProto>();
  const consumers = new Map<string, onnx.INodeProto[]>();
  for (const node of nodes) {
    for (const out of node.output!) producer.set(out, node);
    for (const input of node.input!) consumers.set(input, [...(consumers.get(input) ?? []), node]);
  }
  const initializers = new Set(model.graph!.initializer!.map((t) => t.name!));
  const count = (opType: string) => nodes.filter((n) => n.opType === opType).length;
  return { nodes, producer, consumers, initializers, count };
}

function attrInt(node: onnx.INodeProto, name: string): number | undefined {
  const a = node.attribute!.find((x) => x.name === name);
  return a === undefined ? undefined : Number(a.i);
}

/** Every variant the generator supports, on the tiny preset. */
const VARIANTS: Record<string, SyntheticBertOptions> = {
  pytorch: { style: 'pytorch' },
  'pytorch opset 11 static': { style: 'pytorch', opset: 11, seqLen: 8, batch: 2 },
  'pytorch-layernorm-op': { style: 'pytorch-layernorm-op' },
  tf: { style: 'tf' },
  gemm: { style: 'gemm' },
  'gemm opset 17': { style: 'gemm', opset: 17 },
  'ort-fused': { style: 'ort-fused' },
  'ort-fused bias-in-skip attention Gelu': { style: 'ort-fused', ortFused: { biasInSkipLayerNorm: true, fusedAttention: true, gelu: 'Gelu' } },
  'pytorch shared initializers': { style: 'pytorch', sharedInitializers: true, head: 'none' },
};

describe('structure of each style', () => {
  test('pytorch: decomposed Pow/Sqrt/Div LayerNorm, bias-first MatMul + Add, Erf GELU, Gather/Tanh pooler', () => {
    const g = index(generateBert({ style: 'pytorch' }));
    expect(g.count('LayerNormalization')).toBe(0);
    expect(g.count('Pow')).toBe(2 * L + 1);
    expect(g.count('Sqrt')).toBe(2 * L + 1);
    expect(g.count('Erf')).toBe(L);
    expect(g.count('Softmax')).toBe(L);
    expect(g.count('MatMul')).toBe(8 * L);
    expect(g.count('Gemm')).toBe(2);
    expect(g.count('Tanh')).toBe(1);
    expect(g.count('Constant')).toBeGreaterThan(0);
    const add = g.producer.get('/bert/encoder/layer.0/attention/self/query/Add_output_0')!;
    expect(add.input![0]).toBe('bert.encoder.layer.0.attention.self.query.bias');
    expect(g.producer.get(add.input![1]!)!.opType).toBe('MatMul');
  });

  test('pytorch-layernorm-op: one LayerNormalization per LayerNorm, nothing decomposed', () => {
    const g = index(generateBert({ style: 'pytorch-layernorm-op' }));
    expect(g.count('LayerNormalization')).toBe(2 * L + 1);
    expect(g.count('Pow') + g.count('Sqrt') + g.count('ReduceMean')).toBe(0);
  });

  test('tf: Sqrt/Reciprocal/Mul LayerNorm, Tensordot dense (2-D MatMul, Reshape, bias-second Add), int32 inputs sorted by name', () => {
    const { model, manifest } = synthesizeBert({ style: 'tf' });
    const g = index(model);
    expect(g.count('Reciprocal')).toBe(2 * L + 1);
    expect(g.count('Pow') + g.count('Div')).toBe(0);
    expect(g.count('Constant')).toBe(0);
    expect(manifest.inputNames).toEqual(['attention_mask', 'input_ids', 'token_type_ids']);
    expect(manifest.inputs.every((i) => i.elemType === 'int32')).toBe(true);
    for (const site of manifest.siteDetails) {
      const biasAdd = g.producer.get(site.projectionOutput!)!;
      expect(biasAdd.opType).toBe('Add');
      expect(biasAdd.input![1]).toBe(site.bias);
      const reshape = g.producer.get(biasAdd.input![0]!)!;
      expect(reshape.opType).toBe('Reshape');
      const matmul = g.producer.get(reshape.input![0]!)!;
      expect(matmul.opType).toBe('MatMul');
      expect(matmul.input![1]).toBe(site.weight);
      expect(g.producer.get(matmul.input![0]!)!.opType).toBe('Reshape');
    }
  });

  test('gemm: every dense layer is Reshape -> Gemm(transB=1) -> Reshape', () => {
    const { model, manifest } = synthesizeBert({ style: 'gemm' });
    const g = index(model);
    expect(g.count('Gemm')).toBe(6 * L + 2);
    expect(g.count('MatMul')).toBe(2 * L);
    for (const site of manifest.siteDetails) {
      expect(site.weightLayout).toBe('out-in');
      const reshapeBack = g.producer.get(site.projectionOutput!)!;
      expect(reshapeBack.opType).toBe('Reshape');
      const gemm = g.producer.get(reshapeBack.input![0]!)!;
      expect(gemm.opType).toBe('Gemm');
      expect(attrInt(gemm, 'transB')).toBe(1);
      expect(gemm.input!.slice(1)).toEqual([site.weight, site.bias]);
      expect(g.producer.get(gemm.input![0]!)!.opType).toBe('Reshape');
    }
  });

  test('ort-fused: SkipLayerNormalization with the residual folded, BiasGelu, FusedMatMul, FusedGemm pooler', () => {
    const { model, manifest } = synthesizeBert({ style: 'ort-fused' });
    const g = index(model);
    expect(g.count('SkipLayerNormalization')).toBe(2 * L + 1);
    expect(g.count('BiasGelu')).toBe(L);
    expect(g.count('FusedMatMul')).toBe(L);
    expect(g.count('FusedGemm')).toBe(1);
    expect(g.count('Erf') + g.count('ReduceMean')).toBe(0);
    expect(model.opsetImport).toContainEqual(expect.objectContaining({ domain: 'com.microsoft' }));
    for (const site of manifest.siteDetails) {
      const skip = g.producer.get(site.layerNorm.output)!;
      expect(skip.opType).toBe('SkipLayerNormalization');
      expect(skip.domain).toBe('com.microsoft');
      expect(skip.input!.slice(0, 4)).toEqual([site.projectionOutput, site.residual, site.layerNorm.gamma, site.layerNorm.beta]);
    }
  });

  test('ort-fused options: bias as SkipLayerNormalization input 5, Attention op, Gelu / FastGelu', () => {
    const { model, manifest } = synthesizeBert({ style: 'ort-fused', ortFused: { biasInSkipLayerNorm: true, fusedAttention: true, gelu: 'Gelu' } });
    const g = index(model);
    expect(g.count('Attention')).toBe(L);
    expect(g.count('Softmax') + g.count('FusedMatMul')).toBe(0);
    expect(g.count('Gelu')).toBe(L);
    expect(initializer(model, 'Attention_0_qkv_weight').dims!.map(Number)).toEqual([32, 96]);
    for (const site of manifest.siteDetails) {
      expect(site.projectionOutput).toBeNull();
      const skip = g.producer.get(site.layerNorm.output)!;
      expect(skip.input).toHaveLength(5);
      expect(skip.input![4]).toBe(site.bias);
      expect(g.producer.get(skip.input![0]!)!.input![1]).toBe(site.weight);
    }
    expect(index(generateBert({ style: 'ort-fused', ortFused: { gelu: 'FastGelu' } })).count('FastGelu')).toBe(L);
  });

  test('opset-dependent spellings: Unsqueeze axes attribute below 13, input from 13; ReduceMean axes input from 18', () => {
    const axesAttr = (m: onnx.IModelProto, op: string) => index(m).nodes.filter((n) => n.opType === op).every((n) => n.attribute!.some((a) => a.name === 'axes'));
    expect(axesAttr(generateBert({ opset: 11 }), 'Unsqueeze')).toBe(true);
    expect(axesAttr(generateBert({ opset: 13 }), 'Unsqueeze')).toBe(false);
    expect(axesAttr(generateBert({ opset: 17 }), 'ReduceMean')).toBe(true);
    expect(axesAttr(generateBert({ opset: 18 }), 'ReduceMean')).toBe(false);
    expect(generateBert({ opset: 11 }).irVersion).toBe(6);
    expect(generateBert({ opset: 17, style: 'pytorch-layernorm-op' }).irVersion).toBe(8);
  });

  test('static shapes fold the shape computations to constants', () => {
    const g = index(generateBert({ seqLen: 8, batch: 2 }));
    expect(g.count('Shape')).toBe(0);
    expect(g.count('Range')).toBe(0);
    const model = generateBert({ seqLen: 8 });
    const dims = model.graph!.input![0]!.type!.tensorType!.shape!.dim!;
    expect(dims[0]!.dimParam).toBe('batch_size');
    expect(Number(dims[1]!.dimValue)).toBe(8);
  });

  test('sharedInitializers: one tensor for all identity LayerNorms, Identity nodes first, as torch.onnx', () => {
    const { model, manifest } = synthesizeBert({ style: 'pytorch', sharedInitializers: true, head: 'none' });
    const g = index(model);
    const identities = g.nodes.slice(0, 4 * L);
    expect(identities.every((n) => n.opType === 'Identity')).toBe(true);
    expect(new Set(identities.map((n) => n.input![0]))).toEqual(new Set(['embeddings.LayerNorm.weight', 'embeddings.LayerNorm.bias']));
    const gammas = manifest.siteDetails.map((s) => s.layerNorm.gamma);
    expect(new Set(gammas).size).toBe(2 * L);
    for (const gamma of gammas) expect(g.producer.get(gamma)!.opType).toBe('Identity');
    expect(manifest.parameterCount).toBe(describeCount({ style: 'pytorch', head: 'none' }) - 4 * L * 32);
    // ORT's optimizer drops the Identity nodes: every LayerNorm reads the shared initializer.
    const fused = synthesizeBert({ style: 'ort-fused', sharedInitializers: true });
    expect(new Set(fused.manifest.siteDetails.map((s) => s.layerNorm.gamma))).toEqual(new Set(['bert.embeddings.LayerNorm.weight']));
  });
});

function describeCount(options: SyntheticBertOptions): number {
  return synthesizeBert(options).manifest.parameterCount;
}

/** BERT's parameter count in closed form. */
function bertParameters(d: { vocab: number; maxPositions: number; typeVocab: number; hidden: number; ffn: number; layers: number }, labels: number | null): number {
  const { vocab: V, maxPositions: P, typeVocab: T, hidden: H, ffn: F, layers } = d;
  const embeddings = (V + P + T) * H + 2 * H;
  const layer = 4 * (H * H + H) + (H * F + F) + (F * H + H) + 4 * H;
  const pooler = H * H + H;
  return embeddings + layers * layer + pooler + (labels === null ? 0 : H * labels + labels);
}

describe('manifest', () => {
  test.each(Object.entries(VARIANTS))('%s: sites, names and counts match the graph', (_, options) => {
    const { model, manifest } = synthesizeBert(options);
    const g = index(model);
    const names = (t: string) => g.initializers.has(t) || g.producer.has(t);
    expect(manifest.sites).toEqual({ attention: L, ffn: L });
    expect(manifest.siteDetails.map((s) => `${s.layer}:${s.kind}`)).toEqual(['0:attention', '0:ffn', '1:attention', '1:ffn']);
    expect(manifest.nodeCount).toBe(g.nodes.length);
    expect(manifest.initializerCount).toBe(g.initializers.size);
    expect(Object.values(manifest.operators).reduce((a, n) => a + n, 0)).toBe(g.nodes.length);
    expect(manifest.inputNames).toEqual(model.graph!.input!.map((i) => i.name));
    expect(manifest.outputNames).toEqual(model.graph!.output!.map((o) => o.name));
    // Shared initializers store the 4 L identity LayerNorm vectors of the layers once (in the embeddings').
    expect(manifest.parameterCount).toBe(bertParameters(manifest, manifest.labels) - (options.sharedInitializers ? 4 * L * manifest.hidden : 0));

    let previous: string | null = null;
    for (const site of manifest.siteDetails) {
      for (const t of [site.weight, site.bias, site.layerNorm.gamma, site.layerNorm.beta]) expect(names(t), t).toBe(true);
      // The residual is the sublayer's input: the previous LayerNorm's output.
      if (previous !== null) expect(site.residual).toBe(previous);
      expect(g.producer.has(site.layerNorm.output)).toBe(true);
      if (site.projectionOutput !== null) {
        expect(g.producer.has(site.projectionOutput)).toBe(true);
        // The projection output feeds the residual Add (or SkipLayerNormalization) and nothing else.
        const users = g.consumers.get(site.projectionOutput)!;
        expect(users).toHaveLength(1);
        expect(users[0]!.input).toContain(site.residual);
      }
      previous = site.layerNorm.output;
    }
    if (manifest.head === 'none') expect(previous).toBe('last_hidden_state');
  });

  test('parameter count matches the closed form, for both heads', () => {
    expect(describeCount({})).toBe(bertParameters(resolveTiny(), 2));
    expect(describeCount({ head: 'none' })).toBe(bertParameters(resolveTiny(), null));
    expect(describeCount({ labels: 5, layers: 3 })).toBe(bertParameters({ ...resolveTiny(), layers: 3 }, 5));
  });
});

function resolveTiny() {
  return { vocab: 512, maxPositions: 64, typeVocab: 2, hidden: 32, ffn: 64, layers: 2 };
}

describe('determinism and encoding', () => {
  const dir = mkdtempSync(join(tmpdir(), 'synth-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  test('same options => byte-identical output (pinned: a change here changes every synthetic model)', () => {
    const a = encodeSyntheticBert({ seed: 42 });
    const b = encodeSyntheticBert({ seed: 42 });
    expect(Buffer.compare(a, b)).toBe(0);
    expect(createHash('sha256').update(a).digest('hex')).toBe(PINNED_TINY_SHA256);
  });

  test('the streamed encoding is the ModelProto that generateBert returns', () => {
    for (const options of Object.values(VARIANTS)) {
      const streamed = proto.ModelProto.encode(decode(encodeSyntheticBert(options))).finish();
      const direct = proto.ModelProto.encode(generateBert(options)).finish();
      expect(Buffer.compare(streamed, direct)).toBe(0);
    }
  });

  test('writeSyntheticBert and writeSyntheticBertSync write exactly the encoded bytes, leaving no temp file', async () => {
    const options: SyntheticBertOptions = { style: 'tf', seed: 5 };
    const expected = encodeSyntheticBert(options);
    const asyncManifest: SyntheticBertManifest = await writeSyntheticBert(options, join(dir, 'a.onnx'));
    writeSyntheticBertSync(options, join(dir, 'b.onnx'));
    expect(Buffer.compare(readFileSync(join(dir, 'a.onnx')), expected)).toBe(0);
    expect(Buffer.compare(readFileSync(join(dir, 'b.onnx')), expected)).toBe(0);
    expect(asyncManifest.style).toBe('tf');
    expect(readdirSync(dir).sort()).toEqual(['a.onnx', 'b.onnx']);
  });

  test('a failed write removes its temp file', async () => {
    const failing = mkdtempSync(join(tmpdir(), 'synth-fail-'));
    try {
      // Renaming the finished temp file onto a directory fails, after the data was written.
      mkdirSync(join(failing, 'taken'));
      await expect(writeSyntheticBert({}, join(failing, 'taken'))).rejects.toThrow();
      expect(() => writeSyntheticBertSync({}, join(failing, 'taken'))).toThrow();
      expect(readdirSync(failing)).toEqual(['taken']);
    } finally {
      rmSync(failing, { recursive: true, force: true });
    }
  });

  test('different seeds give different weights and the same graph', () => {
    const a = generateBert({ seed: 1 });
    const b = generateBert({ seed: 2 });
    expect(a.graph!.node).toEqual(b.graph!.node);
    for (const t of a.graph!.initializer!) {
      const other = initializer(b, t.name!);
      const same = Buffer.compare(Buffer.from(t.rawData!), Buffer.from(other.rawData!)) === 0;
      // Constant-initialized LayerNorms are equal; every random tensor differs.
      const constant = floats(t).every((v) => v === floats(t)[0]);
      expect(same, t.name!).toBe(constant);
    }
  });

  test('weights look like BERT init: N(0, 0.02) weights, LayerNorm gamma 1 beta 0; perturbed and zero-bias options', () => {
    const model = generateBert({ seed: 3 });
    const word = floats(initializer(model, 'bert.embeddings.word_embeddings.weight'));
    const std = Math.sqrt(word.reduce((a, v) => a + v * v, 0) / word.length);
    expect(std).toBeCloseTo(0.02, 3);
    expect(floats(initializer(model, 'bert.encoder.layer.0.output.LayerNorm.weight')).every((v) => v === 1)).toBe(true);
    expect(floats(initializer(model, 'bert.encoder.layer.0.output.LayerNorm.bias')).every((v) => v === 0)).toBe(true);
    expect(floats(initializer(model, 'bert.encoder.layer.0.output.dense.bias')).some((v) => v !== 0)).toBe(true);

    const perturbed = generateBert({ seed: 3, init: { layerNorm: 'perturbed', biases: 'zeros', std: 0.05 } });
    const gamma = floats(initializer(perturbed, 'bert.encoder.layer.0.output.LayerNorm.weight'));
    expect(gamma.every((v) => Math.abs(v - 1) < 0.3) && gamma.some((v) => v !== 1)).toBe(true);
    expect(floats(initializer(perturbed, 'bert.encoder.layer.0.output.dense.bias')).every((v) => v === 0)).toBe(true);
  });

  test('every style holds the same weights for a seed, in its own layout', () => {
    const H = 32;
    const pytorch = synthesizeBert({ style: 'pytorch', seed: 9 });
    const query = floats(initializer(pytorch.model, 'onnx::MatMul_1000')); // [in, out]
    const tf = generateBert({ style: 'tf', seed: 9 });
    expect(floats(initializer(tf, 'tf_bert_for_sequence_classification/bert/encoder/layer_._0/attention/self/query/Tensordot/ReadVariableOp:0'))).toEqual(query);
    const gemm = floats(initializer(generateBert({ style: 'gemm', seed: 9 }), 'bert.encoder.layer.0.attention.self.query.weight')); // [out, in]
    const fused = floats(initializer(generateBert({ style: 'ort-fused', seed: 9, ortFused: { fusedAttention: true } }), 'Attention_0_qkv_weight')); // [in, 3 out]
    for (let i = 0; i < H; i++) {
      for (let j = 0; j < H; j++) {
        expect(gemm[j * H + i]).toBe(query[i * H + j]);
        expect(fused[i * 3 * H + j]).toBe(query[i * H + j]);
      }
    }
    const site = pytorch.manifest.siteDetails[3]!;
    const tfSite = synthesizeBert({ style: 'tf', seed: 9 }).manifest.siteDetails[3]!;
    expect(floats(initializer(tf, tfSite.bias))).toEqual(floats(initializer(pytorch.model, site.bias)));
  });
});

/** SHA-256 of encodeSyntheticBert({ seed: 42 }); regenerate deliberately when the generator's output changes. */
const PINNED_TINY_SHA256 = 'a4697aacc88f7ac832e28c8c61badfa2c1d6156f7ebd785af740a23745718bcf';
