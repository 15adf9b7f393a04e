/**
 * `adapterc train` end to end on SST-2 (needs ../shared): a synthetic 2-layer BERT (hidden 32),
 * the houlsby spec at a higher learning rate, 3,000 training sentences, max length 32, 2 epochs
 * (188 steps); dev accuracy must beat the dev set's majority class, and the checkpoint written must
 * load back and give the dev loss measured at its epoch.
 *
 * Two choices keep this meaningful on an untrained model in about 30 s on two cores:
 * - The base is random, so its frozen layers carry little word identity for adapters to work with
 *   (adapters alone stay at the baseline here; the paper adapts a pretrained BERT). The test's spec
 *   therefore also trains the word embeddings ('trainable …, embeddings').
 * - The model's vocabulary is bert-base-uncased's restricted to the pieces the sentences use (7k
 *   instead of 30k; training the embeddings of the full table is ten times slower). A subset of a
 *   WordPiece vocabulary tokenizes every covered word exactly as the full one (checked below), so
 *   this is the real tokenizer on the real data.
 */
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import * as ort from 'onnxruntime-node';
import { decodeCheckpoint } from '../../src/emit/checkpoint/index.js';
import { readFloat32 } from '../../src/ir/index.js';
import { loadOrtTraining } from '../../src/runtime/ort-training.js';
import { writeSyntheticBertSync } from '../../src/synth/index.js';
import { readArtifacts } from '../../src/train/artifacts.js';
import { readExamplesFile } from '../../src/train/data.js';
import { learningRateAt } from '../../src/train/schedule.js';
import { WordPieceTokenizer } from '../../src/train/tokenizer.js';
import { evaluate } from '../../src/train/train.js';
import { cli, type CliRun } from '../helpers/cli.js';
import { root } from '../artifacts/harness.js';
import { missing, sst2, vocabFile } from './paths.js';

const skip = missing(vocabFile, sst2('train'), sst2('dev'));
if (skip) console.log(`adapterc train on SST-2: ${skip}`);

interface Log {
  baseline: { accuracy: number };
  bestEpoch: number;
  settings: { totalSteps: number; batchSize: number; maxLength: number; seed: number };
  schedule: { warmupSteps: number; totalSteps: number };
  epochs: { epoch: number; step: number; dev: { loss: number; accuracy: number } }[];
  steps: { step: number; loss: number; learningRate: number }[];
}

describe.skipIf(skip !== undefined)('adapterc train on SST-2', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'adapterc-train-'));
  const trainFile = path.join(dir, 'train-3000.tsv');
  const vocab = path.join(dir, 'vocab.txt');
  const folder = path.join(dir, 'artifacts');
  let run: CliRun;
  let log: Log;
  let full: WordPieceTokenizer;

  beforeAll(async () => {
    writeFileSync(trainFile, readFileSync(sst2('train'), 'utf8').split('\n').slice(0, 3001).join('\n') + '\n');
    full = WordPieceTokenizer.fromFile(vocabFile);
    const used = new Set(['[PAD]', '[UNK]', '[CLS]', '[SEP]', '[MASK]']);
    for (const file of [trainFile, sst2('dev')]) for (const e of readExamplesFile(file, { kind: 'classification' })) for (const p of full.tokenize(e.text)) used.add(p);
    const tokens = full.tokens.filter((t) => used.has(t));
    writeFileSync(vocab, `${tokens.join('\n')}\n`);

    const model = path.join(dir, 'bert.onnx');
    writeSyntheticBertSync({ preset: 'tiny', vocab: tokens.length, hidden: 32, layers: 2, heads: 4, ffn: 64, maxPositions: 64, seed: 3, init: { std: 0.2 } }, model);
    const spec = path.join(dir, 'spec.adp');
    writeFileSync(spec, `import "${path.join(root, 'specs', 'houlsby.adp')}"\n\ntrain {\n  trainable adapters, layernorm, head, embeddings\n  optimizer adamw(lr 3e-3, weight_decay 0.01)\n}\n`);
    const compiled = await cli(['compile', spec, model, '-o', folder]);
    expect(compiled.code, compiled.stderr).toBe(0);

    const started = performance.now();
    run = await cli(['train', folder, '--train', trainFile, '--dev', sst2('dev'), '--vocab', vocab, '--max-length', '32', '--epochs', '2', '--log-every', '25']);
    console.log(`adapterc train: ${((performance.now() - started) / 1000).toFixed(1)} s\n${run.stdout}`);
    expect(run.code, run.stderr).toBe(0);
    log = JSON.parse(readFileSync(path.join(folder, 'trained', 'train-log.json'), 'utf8')) as Log;
  }, 180_000);

  it('tokenizes with the restricted vocabulary exactly as with the full one', () => {
    const small = WordPieceTokenizer.fromFile(vocab);
    for (const e of readExamplesFile(sst2('dev'), { kind: 'classification' }).slice(0, 200)) expect(small.tokenize(e.text)).toEqual(full.tokenize(e.text));
  });

  it('beats the majority-class baseline on the dev set', () => {
    const best = log.epochs.find((e) => e.epoch === log.bestEpoch)!;
    expect(log.baseline.accuracy).toBeCloseTo(444 / 872, 6);
    expect(best.dev.accuracy).toBeGreaterThan(log.baseline.accuracy + 0.05);
    expect(run.stdout).toMatch(/kept epoch \d \(dev accuracy 0\.\d{4}, majority baseline 0\.5092\)/);
  });

  it('runs the spec schedule: 10% linear warmup, then linear decay to zero, at lr 3e-3', () => {
    expect(log.settings).toMatchObject({ totalSteps: 188, batchSize: 32, maxLength: 32, seed: 42 });
    expect(log.schedule).toMatchObject({ warmupSteps: 19, totalSteps: 188 });
    for (const s of log.steps) expect(s.learningRate).toBeCloseTo(learningRateAt(s.step, 3e-3, { kind: 'linear', warmupSteps: 19, totalSteps: 188 }), 12);
    expect(Math.max(...log.steps.map((s) => s.learningRate))).toBeCloseTo(3e-3, 12);
  });

  it('prints plain progress lines to stderr: step, loss, speed', () => {
    const progress = run.stderr.split('\n').filter((l) => l.startsWith('epoch '));
    expect(progress.length).toBe(Math.floor(188 / 25) + 1); // every 25 steps and the last
    for (const line of progress) expect(line).toMatch(/^epoch [12]\/2 {2}step +\d+\/188 {2}loss \d\.\d{4} \(mean of last \d+: \d\.\d{4}\) {2}lr \d\.\d{2}e-\d {2}\d+ ex\/s {2}eta \d+:\d\d$/);
    expect(run.stderr).not.toMatch(/[\r\u001b]/);
  });

  it('writes a loss chart that needs nothing else to open', () => {
    const html = readFileSync(path.join(folder, 'trained', 'loss-curve.html'), 'utf8');
    expect(html).toMatch(/^<!doctype html>/);
    expect(html).toContain('<svg');
    expect(html).not.toMatch(/<script|src=|href=|url\(/);
  });

  it('writes a checkpoint that loads back and gives the dev loss of its epoch', async () => {
    const info = readArtifacts(folder);
    const trainedBytes = new Uint8Array(readFileSync(path.join(folder, 'trained', 'checkpoint')));
    const trained = decodeCheckpoint(trainedBytes);
    const original = info.checkpoint;
    expect(trained.trainable.map((t) => t.name)).toEqual(original.trainable.map((t) => t.name));
    expect(trained.frozen.map((t) => t.name)).toEqual(original.frozen.map((t) => t.name));
    trained.frozen.forEach((t, i) => expect(Buffer.from(t.rawData!).equals(Buffer.from(original.frozen[i]!.rawData!))).toBe(true));
    expect(trained.trainable.some((t, i) => !Buffer.from(t.rawData!).equals(Buffer.from(original.trainable[i]!.rawData!)))).toBe(true);
    expect(Number(trained.properties.ints['trained_epoch'])).toBe(log.bestEpoch);
    expect(trained.properties.strings['spec']).toBe(original.properties.strings['spec']);

    const ort = await loadOrtTraining();
    const session = await ort.createSession({ checkpoint: trainedBytes, trainingModel: info.files.training, evalModel: info.files.eval });
    try {
      const tokenizer = WordPieceTokenizer.fromFile(vocab);
      const dev = readExamplesFile(sst2('dev'), { kind: 'classification', classes: 2 }).map((e) => ({ ids: tokenizer.encode(e.text, 32).ids, label: e.label }));
      const result = await evaluate(session, info, dev, tokenizer.pad, 32);
      const best = log.epochs.find((e) => e.epoch === log.bestEpoch)!;
      expect(result.loss).toBeCloseTo(best.dev.loss, 6);
      expect(result.accuracy).toBe(best.dev.accuracy);
    } finally {
      await session.release();
    }
  });

  it('exports, from that checkpoint, a model whose logits are the step eval model\'s with the trained parameters', async () => {
    const exported = path.join(dir, 'trained.onnx');
    const r = await cli(['export', folder, '-o', exported]);
    expect(r.code, r.stderr).toBe(0);
    const info = readArtifacts(folder);
    const trained = decodeCheckpoint(new Uint8Array(readFileSync(path.join(folder, 'trained', 'checkpoint'))));
    const ids = BigInt64Array.from({ length: 4 * 8 }, (_, i) => BigInt(i % 8 === 0 ? 2 : i % 8 === 7 ? 3 : 5 + ((i * 13) % 200)));
    const batch = { input_ids: new ort.Tensor('int64', ids, [4, 8]), attention_mask: new ort.Tensor('int64', new BigInt64Array(32).fill(1n), [4, 8]), token_type_ids: new ort.Tensor('int64', new BigInt64Array(32), [4, 8]) };
    const model = await ort.InferenceSession.create(exported);
    const stepEval = await ort.InferenceSession.create(path.join(folder, 'step_eval_model.onnx'));
    const parameters = Object.fromEntries(trained.trainable.map((t) => [t.name!, new ort.Tensor('float32', readFloat32(t), t.dims)]));
    const want = (await stepEval.run({ ...batch, labels: new ort.Tensor('int64', new BigInt64Array(4), [4]), ...parameters }))[info.outputs[1]!]!.data as Float32Array;
    const got = (await model.run(batch))[info.outputs[1]!]!.data as Float32Array;
    expect(got.reduce((m, v, i) => Math.max(m, Math.abs(v - want[i]!)), 0)).toBeLessThan(1e-5);
  });
});
