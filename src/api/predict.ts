/**
 * `predict` and `evaluate`: a trained model (an exported ONNX file, or an artifacts folder with its
 * trained checkpoint) on text, in onnxruntime-node. `predict` labels sentences (with every class's
 * probability) or scores them (regression); `evaluate` compares with labelled data: accuracy, F1 and
 * Matthews' correlation, or Pearson's and Spearman's correlations.
 */
import { openPredictor, type Predictor } from '../predict/model.js';
import { evaluatePredictions, predictTexts, type Metrics, type Prediction } from '../predict/predict.js';
import { loadTokenizer } from '../train/vocabulary.js';
import { AdapterError, diagnostic } from '../diagnostics/index.js';
import { parseSentences, readExamplesFile } from '../train/data.js';
import { readFileSync } from 'node:fs';
import { inputPath } from './paths.js';

interface Common {
  /** An ONNX model (`adapterc export` writes one) or an artifacts folder. */
  readonly model: string;
  /** vocab.txt, or the model's folder holding vocab.txt or tokenizer.json. */
  readonly vocab: string;
  readonly batchSize?: number;
  /** Tokens per text, [CLS] and [SEP] included (default 128, or the model's position table if shorter). */
  readonly maxLength?: number;
  /** What relative paths are resolved against (default: the process's working directory). */
  readonly cwd?: string;
}

export interface PredictOptions extends Common {
  /** The sentences; or `input`: a file of them (plain text, label<TAB>text, or JSONL with "text"). */
  readonly texts?: readonly string[];
  readonly input?: string;
}

export interface PredictResult {
  readonly predictions: ReadonlyArray<Prediction & { readonly text: string }>;
  readonly task: Predictor['task'];
  readonly classes: number;
  /** The model, and for a folder the checkpoint its values came from. */
  readonly source: string;
}

export interface EvaluateOptions extends Common {
  /** Labelled data: label<TAB>text or JSONL ({"label": …, "text": …}), as `adapterc train` reads. */
  readonly data: string;
}

export interface EvaluateResult {
  readonly metrics: Metrics;
  readonly source: string;
  readonly data: string;
}

async function withPredictor<T>(options: Common, use: (p: Predictor, tokenizer: ReturnType<typeof loadTokenizer>) => Promise<T>): Promise<T> {
  const tokenizer = loadTokenizer(inputPath(options.cwd, options.vocab));
  const predictor = await openPredictor(inputPath(options.cwd, options.model));
  try {
    return await use(predictor, tokenizer);
  } finally {
    await predictor.release();
  }
}

export async function predict(options: PredictOptions): Promise<PredictResult> {
  let texts = options.texts;
  if (texts === undefined) {
    if (options.input === undefined) throw new AdapterError([diagnostic('ADP4001', { text: 'predict needs the sentences: texts, or an input file.' }, undefined, 'pass texts or input')]);
    const file = inputPath(options.cwd, options.input);
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
    } catch {
      throw new AdapterError([diagnostic('ADP5001', { path: options.input, what: 'sentences' }, { file: options.input }, 'check the path')]);
    }
    texts = parseSentences(text, options.input).map((e) => e.text);
  }
  const sentences = texts;
  return withPredictor(options, async (predictor, tokenizer) => {
    const predictions = await predictTexts(predictor, tokenizer, sentences, options);
    return { predictions: predictions.map((p, i) => ({ ...p, text: sentences[i]! })), task: predictor.task, classes: predictor.classes, source: predictor.source };
  });
}

export async function evaluate(options: EvaluateOptions): Promise<EvaluateResult> {
  return withPredictor(options, async (predictor, tokenizer) => {
    const classes = predictor.task === 'classification' ? predictor.classes : undefined;
    const examples = readExamplesFile(inputPath(options.cwd, options.data), { kind: predictor.task, ...(classes === undefined ? {} : { classes }), name: options.data });
    const predictions = await predictTexts(predictor, tokenizer, examples.map((e) => e.text), options);
    return { metrics: evaluatePredictions(predictions, examples.map((e) => e.label), predictor.classes), source: predictor.source, data: options.data };
  });
}
