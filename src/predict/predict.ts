/**
 * Sentences in, predictions out: tokenized with the model's WordPiece vocabulary, batched as
 * `adapterc train` batches them, run in onnxruntime-node. Classification gives the argmax label and
 * every class's softmax probability; regression the value. `evaluatePredictions` scores them against
 * labels with GLUE's metrics.
 */
import { AdapterError, diagnostic } from '../diagnostics/index.js';
import { batchFeeds, chunk } from '../train/batches.js';
import { accuracy, pearson, spearman } from '../train/metrics.js';
import type { WordPieceTokenizer } from '../train/tokenizer.js';
import { feedType } from '../runtime/ort-training.js';
import type { Predictor } from './model.js';
import { importOnnxruntimeNode } from '../util/import-module.js';

export const PREDICT_DEFAULTS = { batchSize: 32, maxLength: 128 } as const;

export type Prediction =
  | { readonly kind: 'classification'; readonly label: number; readonly scores: readonly number[]; readonly truncated: boolean }
  | { readonly kind: 'regression'; readonly value: number; readonly truncated: boolean };

export interface PredictOptions {
  readonly batchSize?: number;
  /** Tokens per text, [CLS] and [SEP] included (default: 128, or the model's position table if shorter). */
  readonly maxLength?: number;
}

/** The token length texts are cut to: the option, checked against the model's position table. */
export function maxLengthFor(predictor: Predictor, given: number | undefined): number {
  const limit = predictor.positions;
  if (given === undefined) return Math.min(PREDICT_DEFAULTS.maxLength, limit ?? PREDICT_DEFAULTS.maxLength);
  if (!Number.isInteger(given) || given < 3) throw new AdapterError([diagnostic('ADP5103', { option: 'max-length', value: String(given), reason: 'it must be a whole number of tokens, at least 3 ([CLS], one token, [SEP])' }, undefined, 'give e.g. --max-length 128')]);
  if (limit !== undefined && given > limit) throw new AdapterError([diagnostic('ADP5103', { option: 'max-length', value: String(given), reason: `the model's position table has ${limit} rows` }, undefined, `give at most --max-length ${limit}`)]);
  return given;
}

function softmax(row: Float32Array): number[] {
  const max = Math.max(...row);
  const exps = Array.from(row, (v) => Math.exp(v - max));
  const sum = exps.reduce((a, b) => a + b, 0);
  return exps.map((e) => e / sum);
}

export async function predictTexts(predictor: Predictor, tokenizer: WordPieceTokenizer, texts: readonly string[], options: PredictOptions = {}): Promise<Prediction[]> {
  const ort = await importOnnxruntimeNode();
  const maxLength = maxLengthFor(predictor, options.maxLength);
  const batchSize = options.batchSize ?? PREDICT_DEFAULTS.batchSize;
  if (!Number.isInteger(batchSize) || batchSize < 1) throw new AdapterError([diagnostic('ADP5103', { option: 'batch-size', value: String(batchSize), reason: 'it must be a whole number of at least 1' }, undefined, 'give e.g. --batch-size 32')]);
  const staticRows = predictor.inputs.find((i) => i.role === 'input_ids')?.dims[0];
  const staticSequence = predictor.inputs.find((i) => i.role === 'input_ids')?.dims[1];
  const out: Prediction[] = [];
  for (const batch of chunk(texts.map((t, i) => ({ t, i })), staticRows ?? batchSize)) {
    const encoded = batch.map(({ t }) => tokenizer.encode(t, staticSequence ?? maxLength));
    const feeds = batchFeeds(
      encoded.map((e) => ({ ids: e.ids, label: 0 })),
      predictor.inputs,
      predictor.task,
      tokenizer.pad,
      { ...(staticRows === undefined ? {} : { rows: staticRows }), ...(staticSequence === undefined ? {} : { sequence: staticSequence }) },
    );
    const tensors = Object.fromEntries(Object.entries(feeds).map(([name, f]) => [name, new ort.Tensor(feedType(f) as 'int64', f.data as BigInt64Array, [...f.dims])]));
    const result = (await predictor.session.run(tensors))[predictor.output]!;
    const values = result.data as Float32Array;
    const width = predictor.task === 'classification' ? predictor.classes : 1;
    batch.forEach((_, r) => {
      const truncated = encoded[r]!.truncated;
      const row = values.subarray(r * width, (r + 1) * width);
      if (predictor.task === 'regression') out.push({ kind: 'regression', value: row[0]!, truncated });
      else {
        const scores = softmax(row);
        out.push({ kind: 'classification', label: scores.indexOf(Math.max(...scores)), scores, truncated });
      }
    });
  }
  return out;
}

export type Metrics =
  | { readonly kind: 'classification'; readonly examples: number; readonly accuracy: number; readonly f1: number; readonly mcc: number }
  | { readonly kind: 'regression'; readonly examples: number; readonly pearson: number; readonly spearman: number };

/**
 * GLUE's metrics: accuracy, F1 (of class 1 with two classes, as GLUE reports MRPC and QQP; the macro
 * average over classes with more) and Matthews' correlation (its multi-class form, Gorodkin's, with
 * more than two); Pearson's r and Spearman's ρ for regression.
 */
export function evaluatePredictions(predictions: readonly Prediction[], labels: readonly number[], classes: number): Metrics {
  if (predictions.every((p) => p.kind === 'regression')) {
    const values = predictions.map((p) => (p.kind === 'regression' ? p.value : Number.NaN));
    return { kind: 'regression', examples: labels.length, pearson: pearson(values, labels), spearman: spearman(values, labels) };
  }
  const predicted = predictions.map((p) => (p.kind === 'classification' ? p.label : -1));
  return { kind: 'classification', examples: labels.length, accuracy: accuracy(predicted, labels), f1: f1(predicted, labels, classes), mcc: mcc(predicted, labels, classes) };
}

function f1For(predicted: readonly number[], labels: readonly number[], positive: number): number {
  let tp = 0;
  let fp = 0;
  let fn = 0;
  predicted.forEach((p, i) => {
    if (p === positive && labels[i] === positive) tp++;
    else if (p === positive) fp++;
    else if (labels[i] === positive) fn++;
  });
  return tp === 0 ? 0 : (2 * tp) / (2 * tp + fp + fn);
}

export function f1(predicted: readonly number[], labels: readonly number[], classes: number): number {
  if (classes <= 2) return f1For(predicted, labels, 1);
  return Array.from({ length: classes }, (_, c) => f1For(predicted, labels, c)).reduce((a, b) => a + b, 0) / classes;
}

/** Matthews' correlation; for K classes Gorodkin's R_K (the same number as sklearn's matthews_corrcoef). */
export function mcc(predicted: readonly number[], labels: readonly number[], classes: number): number {
  const n = labels.length;
  const t = new Array<number>(classes).fill(0);
  const p = new Array<number>(classes).fill(0);
  let correct = 0;
  labels.forEach((l, i) => {
    t[l] = (t[l] ?? 0) + 1;
    const q = predicted[i]!;
    if (q >= 0 && q < classes) p[q] = (p[q] ?? 0) + 1;
    if (q === l) correct++;
  });
  const tp = t.reduce((a, tk, k) => a + tk * p[k]!, 0);
  const numerator = correct * n - tp;
  const denominator = Math.sqrt(n * n - p.reduce((a, v) => a + v * v, 0)) * Math.sqrt(n * n - t.reduce((a, v) => a + v * v, 0));
  return denominator === 0 ? 0 : numerator / denominator;
}
