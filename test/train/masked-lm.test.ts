/**
 * Masked-language-model pretraining end to end: `head masked_lm` compiles (for CUDA, no fallback) on
 * the tiny synthetic model and on a corpus model; `adapterc train` masks sentences and lowers the MLM
 * loss in onnxruntime-web; `export --without-head` gives a base that a classifier spec compiles
 * against. Also the masking itself (rates, determinism, positions) and the sentence reader.
 */
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { readModel } from '../../src/load/index.js';
import { writeSyntheticBertSync } from '../../src/synth/index.js';
import { maskBatch, type MaskingVocabulary } from '../../src/train/batches.js';
import { parseSentences } from '../../src/train/data.js';
import { streamFor } from '../../src/util/prng.js';
import { root } from '../artifacts/harness.js';
import { cli } from '../helpers/cli.js';
import { corpusPath, describeCorpus } from '../load/corpus.js';

const dir = mkdtempSync(path.join(tmpdir(), 'adapterc-mlm-'));
const vocab = path.join(dir, 'vocab.txt');
const model = path.join(dir, 'tiny.onnx');
const pretrainSpec = path.join(dir, 'pretrain.adp');
const artifacts = path.join(dir, 'pretrain');
const words = ['good', 'great', 'fun', 'bad', 'dull', 'awful', 'the', 'film', 'is', 'a', 'movie', 'very', 'not'];

function sentence(i: number): string {
  return `the ${['film', 'movie'][i % 2]} is ${i % 4 === 0 ? 'very ' : ''}${['good', 'great', 'fun', 'bad', 'dull', 'awful'][i % 6]} .`;
}

beforeAll(async () => {
  const tokens = ['[PAD]', '[UNK]', '[CLS]', '[SEP]', '[MASK]', '.', ...words];
  while (tokens.length < 512) tokens.push(`tok${tokens.length}`);
  writeFileSync(vocab, `${tokens.join('\n')}\n`);
  // Plain text for training, label<TAB>text (labels ignored) for dev.
  writeFileSync(path.join(dir, 'train.txt'), `${Array.from({ length: 64 }, (_, i) => sentence(i)).join('\n')}\n`);
  writeFileSync(path.join(dir, 'dev.tsv'), `label\tsentence\n${Array.from({ length: 24 }, (_, i) => `${i % 2}\t${sentence(i + 1)}`).join('\n')}\n`);
  writeFileSync(pretrainSpec, 'train {\n  trainable all\n  head masked_lm\n  optimizer adamw(lr 2e-3, weight_decay 0.01)\n}\n\nseed 3\n');
  writeSyntheticBertSync({ preset: 'tiny', seed: 5, init: { std: 0.2 } }, model);
  const r = await cli(['compile', pretrainSpec, model, '-o', artifacts]);
  expect(r.code, r.stderr).toBe(0);
}, 60_000);

describe('head masked_lm on the tiny synthetic model', () => {
  it('compiles for CUDA: positions and labels inputs, [N, vocabulary] scores, the head trains', async () => {
    const summary = JSON.parse(readFileSync(path.join(artifacts, 'summary.json'), 'utf8')) as { inputs: string[]; outputs: string[]; newHead: string; classifierParameters: number; trainable: string[] };
    expect(summary.inputs).toEqual(['input_ids', 'attention_mask', 'token_type_ids', 'mlm_positions', 'labels']);
    expect(summary.outputs).toEqual(['loss', 'mlm_logits']);
    expect(summary.newHead).toBe('masked_lm');
    expect(summary.classifierParameters).toBe(32 * 512 + 512);
    expect(summary.trainable).toEqual(expect.arrayContaining(['head.masked_lm.weight', 'head.masked_lm.bias']));
    const evalModel = await readModel(path.join(artifacts, 'eval_model.onnx'));
    const ops = evalModel.graph.nodes.map((n) => n.opType);
    expect(ops).toEqual(expect.arrayContaining(['Reshape', 'Gather', 'Gemm', 'LogSoftmax']));
    // The pooler and the model's own classifier are gone: nothing reads the pooled output.
    expect(ops.includes('Tanh')).toBe(false);
  });

  it('adapterc train masks sentences and lowers the MLM loss; the checkpoint, log and chart are written', async () => {
    const r = await cli(['train', artifacts, '--train', path.join(dir, 'train.txt'), '--dev', path.join(dir, 'dev.tsv'), '--vocab', vocab, '--batch-size', '16', '--epochs', '6', '--max-length', '16']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain('masked language model, 64 training sentences, 24 dev');
    expect(r.stdout).toContain('masking 15% of the non-special tokens (80% [MASK], 10% a random token, 10% unchanged) per batch');
    const dev = [...r.stdout.matchAll(/dev MLM loss (\d+\.\d+), masked-token accuracy (\d\.\d+) \((\d+) masked tokens\)/g)].map((m) => ({ loss: Number(m[1]), accuracy: Number(m[2]), masked: Number(m[3]) }));
    expect(dev.length).toBe(6);
    // The same dev masks every epoch: 15% of each batch's non-special tokens.
    expect(new Set(dev.map((d) => d.masked)).size).toBe(1);
    expect(dev[0]!.masked).toBeGreaterThan(10);
    // Untrained, the loss is about ln(512) = 6.24; it must fall clearly.
    expect(dev[0]!.loss).toBeGreaterThan(5);
    expect(dev.at(-1)!.loss).toBeLessThan(dev[0]!.loss - 0.5);
    const log = JSON.parse(readFileSync(path.join(artifacts, 'trained', 'train-log.json'), 'utf8')) as { task: string; steps: { loss: number }[]; bestEpoch: number };
    expect(log.task).toBe('masked_lm');
    expect(log.steps.length).toBe(24);
    const mean = (xs: { loss: number }[]) => xs.reduce((a, s) => a + s.loss, 0) / xs.length;
    expect(mean(log.steps.slice(-4))).toBeLessThan(mean(log.steps.slice(0, 4)) - 0.5);
    expect(readFileSync(path.join(artifacts, 'trained', 'loss-curve.html'), 'utf8')).toContain('masked-token accuracy');
  }, 60_000);

  it('export --without-head writes the encoder, which a classifier spec compiles against', async () => {
    const base = path.join(dir, 'base.onnx');
    const r = await cli(['export', artifacts, '-o', base, '--without-head']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain("without    the masked_lm head (3 nodes, 3 initializers removed); output 'last_hidden_state'");
    const exported = await readModel(base);
    expect(exported.graph.inputs.map((i) => i.name)).toEqual(['input_ids', 'attention_mask', 'token_type_ids']);
    expect(exported.graph.outputs.map((o) => o.name)).toEqual(['last_hidden_state']);
    const spec = path.join(dir, 'finetune.adp');
    writeFileSync(spec, `import "${path.join(root, 'specs', 'base', 'glue.adp')}"\n\nplace bottleneck after attention, ffn in layers all\n\ntrain {\n  head classifier(labels 2, from first_token)\n}\n`);
    const compiled = await cli(['compile', spec, base, '-o', path.join(dir, 'finetune')]);
    expect(compiled.code, compiled.stderr).toBe(0);
    // Artifacts without a masked_lm head have nothing to remove.
    const refused = await cli(['export', path.join(dir, 'finetune'), '-o', path.join(dir, 'x.onnx'), '--without-head']);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain('ADP5068');
  }, 60_000);
});

describeCorpus('head masked_lm on a corpus model', () => {
  it('pytorch-1.13/minibert_opset11.onnx compiles with adapters and the head, for CUDA', async () => {
    const spec = path.join(dir, 'adapters-mlm.adp');
    writeFileSync(spec, `import "${path.join(root, 'specs', 'houlsby.adp')}"\n\ntrain {\n  head masked_lm\n}\n`);
    const r = await cli(['compile', spec, corpusPath('pytorch-1.13/minibert_opset11.onnx'), '-o', path.join(dir, 'minibert-mlm')]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/new masked_lm head +\d/);
    const summary = JSON.parse(readFileSync(path.join(dir, 'minibert-mlm', 'summary.json'), 'utf8')) as { inputs: string[]; outputs: string[] };
    expect(summary.inputs).toContain('mlm_positions');
    expect(summary.outputs).toEqual(['loss', 'mlm_logits']);
  }, 60_000);
});

describe('masking', () => {
  const vocabulary: MaskingVocabulary = { mask: 4, special: new Set([0, 2, 3]), replacements: Array.from({ length: 95 }, (_, i) => i + 5) };
  // [CLS] … [SEP] with ids 5..: 40 sentences of 12 tokens, padded to 14.
  const examples = Array.from({ length: 40 }, (_, r) => ({ ids: [2, ...Array.from({ length: 10 }, (_, t) => 5 + ((r * 10 + t) % 90)), 3], label: 0 }));

  it('picks 15% of the non-special tokens, 80% [MASK] / 10% random / 10% unchanged, and labels them with the original ids', () => {
    const { examples: masked, masked: picked } = maskBatch(examples, 14, vocabulary, streamFor(1, 'test'));
    expect(picked.positions.length).toBe(Math.round(0.15 * 400));
    expect([...picked.positions].sort((a, b) => a - b)).toEqual(picked.positions);
    let asMask = 0;
    let kept = 0;
    picked.positions.forEach((p, k) => {
      const [r, t] = [Math.floor(p / 14), p % 14];
      expect(t).toBeGreaterThanOrEqual(1);
      expect(t).toBeLessThanOrEqual(10);
      expect(picked.labels[k]).toBe(examples[r]!.ids[t]);
      if (masked[r]!.ids[t] === 4) asMask++;
      else if (masked[r]!.ids[t] === examples[r]!.ids[t]) kept++;
    });
    expect(asMask / picked.positions.length).toBeGreaterThan(0.6);
    expect(asMask / picked.positions.length).toBeLessThan(0.95);
    expect(kept).toBeLessThan(picked.positions.length - asMask);
    // Only the picked positions change.
    let changed = 0;
    masked.forEach((e, r) => e.ids.forEach((id, t) => id !== examples[r]!.ids[t] && changed++));
    expect(changed).toBeLessThanOrEqual(picked.positions.length);
  });

  it('is deterministic for a seed and masks something in a one-word batch', () => {
    const a = maskBatch(examples, 14, vocabulary, streamFor(9, 'x'));
    const b = maskBatch(examples, 14, vocabulary, streamFor(9, 'x'));
    expect(a).toEqual(b);
    expect(maskBatch([{ ids: [2, 7, 3], label: 0 }], 3, vocabulary, streamFor(9, 'x')).masked).toEqual({ positions: [1], labels: [7] });
  });
});

describe('sentences for masked-LM training', () => {
  it('reads plain text, label<TAB>text (header skipped, labels ignored) and JSONL', () => {
    expect(parseSentences('one two\n\nthree\n', 'a.txt').map((e) => e.text)).toEqual(['one two', 'three']);
    expect(parseSentences('label\tsentence\n1\tgood film\n0\tbad\n', 'a.tsv').map((e) => [e.text, e.label])).toEqual([
      ['good film', 0],
      ['bad', 0],
    ]);
    expect(parseSentences('{"text": "a b"}\n{"sentence": "c", "label": 3}\n', 'a.jsonl').map((e) => e.text)).toEqual(['a b', 'c']);
    expect(() => parseSentences('\n\n', 'empty.txt')).toThrow(/holds no examples/);
  });
});
