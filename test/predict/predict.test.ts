/**
 * `adapterc predict` and `adapterc eval` on a tiny synthetic model trained by `adapterc train`: the
 * artifacts folder and its exported ONNX model predict alike, `eval` reproduces the dev accuracy
 * (and Pearson's r) that training reported, the metrics match hand-computed values, and bad input is
 * one diagnostic (as JSON too, with --json).
 */
import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { evaluate, predict } from '../../src/api/predict.js';
import { f1, mcc } from '../../src/predict/predict.js';
import { writeSyntheticBertSync } from '../../src/synth/index.js';
import { root } from '../artifacts/harness.js';
import { cli } from '../helpers/cli.js';
import { sentences, writeTinyTask } from '../helpers/tiny-task.js';

const dir = mkdtempSync(path.join(tmpdir(), 'adapterc-predict-'));
const { vocab, trainTsv, devTsv, scores } = writeTinyTask(dir);
const classify = path.join(dir, 'classify');
const regress = path.join(dir, 'regress');


const trainedDev = (folder: string) => {
  const log = JSON.parse(readFileSync(path.join(folder, 'trained', 'train-log.json'), 'utf8'));
  return log.epochs.find((e: { epoch: number }) => e.epoch === log.bestEpoch).dev as Record<string, number>;
};

beforeAll(async () => {
  const model = path.join(dir, 'tiny.onnx');
  writeSyntheticBertSync({ preset: 'tiny', seed: 5, init: { std: 0.2 } }, model);
  for (const [spec, out, data] of [
    ['houlsby.adp', classify, [trainTsv, devTsv]],
    ['regression-stsb.adp', regress, [scores, scores]],
  ] as const) {
    const compiled = await cli(['compile', path.join(root, 'specs', spec), model, '-o', out]);
    expect(compiled.code, compiled.stderr).toBe(0);
    const trained = await cli(['train', out, '--train', data[0], '--dev', data[1], '--vocab', vocab, '--batch-size', '8', '--epochs', '2']);
    expect(trained.code, trained.stderr).toBe(0);
    expect((await cli(['export', out, '-o', `${out}.onnx`])).code).toBe(0);
  }
}, 120_000);

describe('predict and eval', () => {
  it('eval gives the dev accuracy training reported, from the folder and from the exported model', async () => {
    const reported = trainedDev(classify);
    for (const model of [classify, `${classify}.onnx`]) {
      const { metrics } = await evaluate({ model, vocab, data: devTsv });
      expect(metrics.kind).toBe('classification');
      if (metrics.kind === 'classification') {
        expect(metrics.examples).toBe(16);
        expect(metrics.accuracy).toBeCloseTo(reported['accuracy']!, 10);
      }
    }
    const r = await cli(['eval', classify, '--vocab', vocab, '--data', devTsv]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/dev\.tsv: 16 examples; accuracy \d+\.\d\d%, F1 \d\.\d{4}, MCC -?\d\.\d{4}/);
  });

  it("eval gives a regressor's Pearson and Spearman correlations as training reported them", async () => {
    const reported = trainedDev(regress);
    const { metrics } = await evaluate({ model: `${regress}.onnx`, vocab, data: scores });
    expect(metrics.kind).toBe('regression');
    if (metrics.kind === 'regression') {
      expect(metrics.pearson).toBeCloseTo(reported['pearson']!, 5);
      expect(metrics.spearman).toBeCloseTo(reported['spearman']!, 5);
    }
  });

  it('predict labels sentences from a file, stdin or the API, the folder and its export alike', async () => {
    const texts = sentences(6, 0).map(([, s]) => s);
    const fromFolder = await predict({ model: classify, vocab, texts });
    const fromFile = await predict({ model: `${classify}.onnx`, vocab, texts });
    expect(fromFolder.task).toBe('classification');
    fromFolder.predictions.forEach((p, i) => {
      const q = fromFile.predictions[i]!;
      expect(p.kind === 'classification' && q.kind === 'classification' && p.label === q.label).toBe(true);
      if (p.kind === 'classification' && q.kind === 'classification') {
        expect(p.scores.reduce((a, b) => a + b, 0)).toBeCloseTo(1, 6);
        p.scores.forEach((s, k) => expect(s).toBeCloseTo(q.scores[k]!, 5));
      }
    });
    const input = path.join(dir, 'sentences.txt');
    writeFileSync(input, `${texts.join('\n')}\n`);
    const printed = await cli(['predict', `${classify}.onnx`, input, '--vocab', vocab, '--labels', 'negative,positive']);
    expect(printed.code, printed.stderr).toBe(0);
    const lines = printed.stdout.trim().split('\n');
    expect(lines).toHaveLength(6);
    lines.forEach((line, i) => {
      const [label, score, text] = line.split('\t');
      const p = fromFile.predictions[i]!;
      expect(text).toBe(texts[i]);
      if (p.kind === 'classification') {
        expect(label).toBe(['negative', 'positive'][p.label]);
        expect(Number(score)).toBeCloseTo(p.scores[p.label]!, 4);
      }
    });
    const piped = await cli(['predict', classify, '--vocab', vocab, '--json'], { stdin: `${texts.join('\n')}\n` });
    expect(piped.code, piped.stderr).toBe(0);
    const json = JSON.parse(piped.stdout);
    expect(json.ok).toBe(true);
    expect(json.predictions.map((p: { label: number }) => p.label)).toEqual(fromFolder.predictions.map((p) => (p.kind === 'classification' ? p.label : -1)));
  });

  it('reads the vocabulary from a model folder: vocab.txt, else tokenizer.json', async () => {
    const folder = path.join(dir, 'hf');
    mkdirSync(folder);
    const tokens = readFileSync(vocab, 'utf8').trim().split('\n');
    writeFileSync(path.join(folder, 'tokenizer.json'), JSON.stringify({ model: { type: 'WordPiece', vocab: Object.fromEntries(tokens.map((t, i) => [t, i])) } }));
    const texts = sentences(3, 0).map(([, s]) => s);
    const a = await predict({ model: `${classify}.onnx`, vocab, texts });
    const b = await predict({ model: `${classify}.onnx`, vocab: folder, texts });
    expect(b.predictions).toEqual(a.predictions);
  });

  it('refuses bad input with one diagnostic, as JSON with --json', async () => {
    const missing = await cli(['predict', path.join(dir, 'nothing.onnx'), '--vocab', vocab, '--json'], { stdin: 'a\n' });
    expect(missing.code).toBe(1);
    expect(JSON.parse(missing.stdout)).toMatchObject({ ok: false, diagnostics: [{ code: 'ADP5101' }] });
    const long = await cli(['eval', classify, '--vocab', vocab, '--data', devTsv, '--max-length', '100000']);
    expect(long.code).toBe(1);
    expect(long.stderr).toMatch(/ADP5103: --max-length 100000 cannot be used: the model's position table has \d+ rows/);
    const labels = await cli(['predict', classify, '--vocab', vocab, '--labels', 'a,b,c'], { stdin: 'the film\n' });
    expect(labels.code).toBe(1);
    expect(labels.stderr).toContain('--labels a,b,c cannot be used: the model has 2 classes');
    const noVocab = await cli(['eval', classify, '--data', devTsv]);
    expect(noVocab.code).toBe(1);
    expect(noVocab.stderr).toContain("needs the model's vocabulary");
  });

  it('computes F1 and Matthews correlation as defined (binary and multi-class)', () => {
    // TP 2, FP 1, FN 1, TN 1: F1 = 2·2 / (2·2 + 1 + 1); MCC = (2·1 − 1·1) / √(3·3·2·2).
    expect(f1([1, 1, 0, 0, 1], [1, 0, 0, 1, 1], 2)).toBeCloseTo(4 / 6, 12);
    expect(mcc([1, 1, 0, 0, 1], [1, 0, 0, 1, 1], 2)).toBeCloseTo(1 / 6, 12);
    // sklearn's documented example: matthews_corrcoef([1, 1, 1, -1], [1, -1, 1, 1]) = -0.333… (classes 0/1 here).
    expect(mcc([1, 0, 1, 1], [1, 1, 1, 0], 2)).toBeCloseTo(-1 / 3, 12);
    // Multi-class: perfect is 1; macro F1 averages the classes' F1.
    expect(mcc([0, 1, 2, 2], [0, 1, 2, 2], 3)).toBeCloseTo(1, 12);
    expect(f1([0, 1, 2, 1], [0, 1, 2, 2], 3)).toBeCloseTo((1 + 2 / 3 + 2 / 3) / 3, 12);
  });
});
