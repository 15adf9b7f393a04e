/**
 * `adapterc train`: trains compiled artifacts on labelled sentences, evaluates on a dev set after
 * each epoch, and writes the best epoch's parameters as an ODTC checkpoint, a JSON log and a loss
 * chart.
 *
 *   const result = await trainArtifacts({ artifacts: 'out/', train: 'train.tsv', dev: 'dev.tsv', vocab: 'vocab.txt' });
 *
 * The runtime (`runtimes/`): by default the step model in onnxruntime-node (any current ONNX
 * Runtime); `runtime: 'ort-training'` runs the four training artifacts in ONNX Runtime 1.19.2's
 * training runtime instead. Both apply the spec's optimizer with its schedule over this run's total
 * number of steps, computed in their graphs from the step number.
 *
 * The checkpoint written at the end holds the best epoch's trainable parameters and, in the
 * default layout, the compiled checkpoint's frozen ones, copied from that file (no optimizer
 * state: training resumes with fresh moments).
 */
import { mkdirSync } from 'node:fs';
import * as path from 'node:path';
import { AdapterError, diagnostic, type Diagnostic } from '../diagnostics/index.js';
import { writeCheckpoint } from '../emit/checkpoint/index.js';
import type { LinearSchedule } from '../emit/optimizer.js';
import { makeTensor, type Tensor } from '../ir/index.js';
import type { Feeds } from '../runtime/ort-training.js';
import { openOrtTrainingRuntime } from './runtimes/ort-training.js';
import type { RuntimeName, TrainingRuntime } from './runtimes/runtime.js';
import { openStepRuntime } from './runtimes/step-model.js';
import { writeFileAtomic } from '../util/atomic-write.js';
import { streamFor, type Uint32Source } from '../util/prng.js';
import { VERSION } from '../version.js';
import { planFor, readArtifacts, type ArtifactsInfo } from './artifacts.js';
import { batchFeeds, chunk, maskBatch, shuffler, type EncodedExample, type MaskingVocabulary } from './batches.js';
import { lossChartHtml } from './chart.js';
import { readExamplesFile, readSentencesFile, type Example, type TaskKind } from './data.js';
import { accuracy, majorityBaseline, pearson, spearman } from './metrics.js';
import { describeSchedule, learningRateAt, resolveSchedule } from './schedule.js';
import type { WordPieceTokenizer } from './tokenizer.js';
import { loadTokenizer } from './vocabulary.js';

export const TRAIN_DEFAULTS = { epochs: 3, batchSize: 32, maxLength: 128, logEvery: 10 } as const;

/** The files a run writes into its output folder. */
export const TRAINED = { checkpoint: 'checkpoint', log: 'train-log.json', chart: 'loss-curve.html' } as const;

export interface TrainOptions {
  /** The folder `adapterc compile` wrote. */
  readonly artifacts: string;
  /** Training data: `label<TAB>text` lines or JSONL; for masked-LM artifacts also plain text, one sentence a line (labels ignored). */
  readonly train: string;
  /** Dev data, evaluated after each epoch; the best epoch's parameters are kept. Without it, the last. */
  readonly dev?: string;
  /** A WordPiece `vocab.txt`. */
  readonly vocab: string;
  /** The spec the artifacts were compiled from (default: the one summary.json names). */
  readonly spec?: string;
  /** Output folder (default `<artifacts>/trained`). */
  readonly out?: string;
  readonly epochs?: number;
  readonly batchSize?: number;
  /** Tokens per example including [CLS] and [SEP] (default 128, at most the position table; the model's static length if it has one). */
  readonly maxLength?: number;
  /** Stop after this many optimizer steps (the schedule then spans these steps). */
  readonly maxSteps?: number;
  /** Shuffling seed (default: the spec's seed, from the checkpoint). */
  readonly seed?: number;
  /** A progress report every this many steps (default 10). */
  readonly logEvery?: number;
  /** Relative paths are resolved against this (default: the process's working directory). */
  readonly cwd?: string;
  /** 'step-model' (default: step_model.onnx in onnxruntime-node) or 'ort-training' (ORT 1.19.2's training runtime). */
  readonly runtime?: RuntimeName;
  /** step-model: onnxruntime-node's intra-op threads (default: one per physical core). */
  readonly threads?: number;
  /** step-model: onnxruntime-node execution providers in order of preference (default: cpu). */
  readonly executionProviders?: readonly string[];
}

export interface TrainEvents {
  /** One line every `logEvery` steps: epoch, step, loss, rate, examples per second. */
  readonly progress?: (line: string) => void;
  /** Setup and per-epoch results, one line each. */
  readonly message?: (line: string) => void;
  readonly warnings?: (diagnostics: readonly Diagnostic[]) => void;
}

export interface EvalResult {
  readonly examples: number;
  readonly loss: number;
  readonly accuracy?: number;
  readonly pearson?: number;
  readonly spearman?: number;
  /** Masked LM: how many masked tokens the loss and accuracy are over. */
  readonly masked?: number;
}

export interface StepRecord {
  readonly step: number;
  readonly epoch: number;
  readonly loss: number;
  readonly learningRate: number;
}

export interface EpochRecord {
  readonly epoch: number;
  /** The last optimizer step of the epoch. */
  readonly step: number;
  readonly trainLoss: number;
  readonly seconds: number;
  readonly dev?: EvalResult;
}

export interface TrainResult {
  readonly task: TaskKind;
  readonly totalSteps: number;
  readonly steps: readonly StepRecord[];
  readonly epochs: readonly EpochRecord[];
  /** The epoch whose parameters were written (1-based). */
  readonly bestEpoch: number;
  /** Classification with a dev set: always predicting the dev set's most frequent label. */
  readonly baseline?: { readonly label: number; readonly accuracy: number };
  readonly files: { readonly checkpoint: string; readonly log: string; readonly chart: string };
  readonly seconds: number;
  readonly examplesPerSecond: number;
}

function badOption(option: string, rule: string, value: unknown, hint?: string): AdapterError {
  return new AdapterError([diagnostic('ADP5008', { option, rule, value: String(value) }, undefined, hint)]);
}

function positiveInteger(option: string, value: number | undefined, fallback: number): number {
  const v = value ?? fallback;
  if (!Number.isSafeInteger(v) || v < 1) throw badOption(option, 'a positive integer', v);
  return v;
}

/** The metric that picks the best epoch: accuracy, Pearson's r for regression, the lowest loss for a masked LM. */
export function devMetric(task: TaskKind, r: EvalResult): number {
  if (task === 'masked_lm') return -r.loss;
  return (task === 'classification' ? r.accuracy : r.pearson) ?? Number.NaN;
}

export function formatEval(task: TaskKind, r: EvalResult): string {
  if (task === 'masked_lm') return `dev MLM loss ${r.loss.toFixed(4)}, masked-token accuracy ${r.accuracy!.toFixed(4)} (${r.masked} masked tokens)`;
  return task === 'classification'
    ? `dev loss ${r.loss.toFixed(4)}, accuracy ${r.accuracy!.toFixed(4)}`
    : `dev loss ${r.loss.toFixed(4)}, Pearson ${r.pearson!.toFixed(4)}, Spearman ${r.spearman!.toFixed(4)}`;
}

function duration(seconds: number): string {
  const s = Math.max(0, Math.round(seconds));
  return s >= 3600 ? `${Math.floor(s / 3600)}:${String(Math.floor(s / 60) % 60).padStart(2, '0')}:${String(s % 60).padStart(2, '0')}` : `${Math.floor(s / 60)}:${String(s % 60).padStart(2, '0')}`;
}

interface Setup {
  readonly info: ArtifactsInfo;
  /** Masked LM: which ids the masking uses. */
  readonly masking?: MaskingVocabulary;
  readonly tokenizer: WordPieceTokenizer;
  readonly maxLength: number;
  readonly batchSize: number;
}

/** How many of a file's examples were tokenized, and how many of those were cut to the max length. */
interface Tokenized {
  readonly file: string;
  seen: number;
  cut: number;
}

/**
 * Examples whose token ids are computed when a batch first needs them, then kept: a short run over
 * a large file tokenizes only what it trains on (`--max-steps 30` on SST-2's 67,349 sentences read
 * them all first: seconds of silence and the memory of every encoding). `tally` counts as it goes.
 */
function encodeLazily(examples: readonly Example[], setup: Setup, tally: Tokenized): EncodedExample[] {
  return examples.map((e) => {
    let ids: readonly number[] | undefined;
    return {
      label: e.label,
      get ids(): readonly number[] {
        if (ids === undefined) {
          const encoded = setup.tokenizer.encode(e.text, setup.maxLength);
          ids = encoded.ids;
          tally.seen++;
          if (encoded.truncated) tally.cut++;
        }
        return ids;
      },
    };
  });
}

function truncationWarning(tally: Tokenized, setup: Setup): Diagnostic[] {
  return tally.cut === 0 ? [] : [diagnostic('ADP5012', { count: tally.cut, total: tally.seen, file: tally.file, length: setup.maxLength }, { file: tally.file }, 'raise --max-length to keep more of each sentence (slower)')];
}

/** Masked LM: every sentence encoded up front, since one without a maskable token is dropped. */
function encodeAll(examples: readonly Example[], setup: Setup, file: string, warnings: Diagnostic[]): EncodedExample[] {
  let truncated = 0;
  const out = examples.map((e) => {
    const encoded = setup.tokenizer.encode(e.text, setup.maxLength);
    if (encoded.truncated) truncated++;
    return { ids: encoded.ids, label: e.label };
  });
  if (truncated > 0) warnings.push(diagnostic('ADP5012', { count: truncated, total: examples.length, file, length: setup.maxLength }, { file }, 'raise --max-length to keep more of each sentence (slower)'));
  // A sentence without a maskable token ([CLS] [SEP] only) has nothing to predict.
  const masking = setup.masking;
  return masking === undefined ? out : out.filter((e) => e.ids.some((id) => !masking.special.has(id)));
}

/** The sequence length a batch is padded to (what masked positions count in). */
function sequenceOf(info: ArtifactsInfo, batch: readonly EncodedExample[]): number {
  return info.staticSequence ?? Math.max(...batch.map((e) => e.ids.length));
}

/** The feeds for one batch; for masked-LM, masked from `rng`, with the masked tokens' original ids (`maskedLabels`). */
function feedsFor(info: ArtifactsInfo, batch: readonly EncodedExample[], pad: number, masking: MaskingVocabulary | undefined, rng: Uint32Source | undefined): { feeds: Feeds; maskedLabels: readonly number[] } {
  if (info.task !== 'masked_lm') return { feeds: batchFeeds(batch, info.inputs, info.task, pad, shapeFor(info, batch.length)), maskedLabels: [] };
  const made = maskBatch(batch, sequenceOf(info, batch), masking!, rng!);
  return { feeds: batchFeeds(made.examples, info.inputs, info.task, pad, { ...shapeFor(info, batch.length), masked: made.masked }), maskedLabels: made.masked.labels };
}

/** The index of the highest of the `width` scores in row `row` of `data`. */
function argmaxRow(data: Float32Array, row: number, width: number): number {
  let best = 0;
  for (let c = 1; c < width; c++) if (data[row * width + c]! > data[row * width + best]!) best = c;
  return best;
}

/**
 * Masked-LM dev evaluation: each sentence masked as in training, from a stream that restarts at
 * every evaluation (the same masks each epoch, so epochs compare); the loss is the mean over all
 * masked tokens, the accuracy the share of masked tokens whose original id scores highest.
 */
export async function evaluateMaskedLm(session: Pick<TrainingRuntime, 'evalStep'>, info: ArtifactsInfo, examples: readonly EncodedExample[], pad: number, batchSize: number, masking: MaskingVocabulary, seed: number): Promise<EvalResult> {
  const rng = streamFor(seed, 'adapterc train: dev masks');
  let lossSum = 0;
  let correct = 0;
  let total = 0;
  for (const batch of chunk(examples, batchSize)) {
    const { feeds, maskedLabels } = feedsFor(info, batch, pad, masking, rng);
    const out = await session.evalStep(feeds);
    const n = maskedLabels.length;
    lossSum += (out[info.outputs[0]!]!.data as Float32Array)[0]! * n;
    const scores = out[info.outputs[1]!];
    if (scores === undefined) throw new Error(`the eval model returned no '${info.outputs[1]}' output`);
    const width = scores.dims[scores.dims.length - 1]!;
    for (let r = 0; r < n; r++) if (argmaxRow(scores.data as Float32Array, r, width) === maskedLabels[r]) correct++;
    total += n;
  }
  return { examples: examples.length, loss: lossSum / Math.max(1, total), accuracy: correct / Math.max(1, total), masked: total };
}

/** Runs the eval model over `examples`; metrics over the real rows only. */
export async function evaluate(session: Pick<TrainingRuntime, 'evalStep'>, info: ArtifactsInfo, examples: readonly EncodedExample[], pad: number, batchSize: number): Promise<EvalResult> {
  const predictions: number[] = [];
  let lossSum = 0;
  for (const batch of chunk(examples, batchSize)) {
    const out = await session.evalStep(batchFeeds(batch, info.inputs, info.task, pad, shapeFor(info, batch.length)));
    const loss = (out[info.outputs[0]!]!.data as Float32Array)[0]!;
    lossSum += loss * batch.length;
    const scores = out[info.outputs[1]!];
    if (scores === undefined) throw new Error(`the eval model returned no '${info.outputs[1]}' output`);
    const data = scores.data as Float32Array;
    const width = scores.dims.length > 1 ? scores.dims[scores.dims.length - 1]! : 1;
    for (let r = 0; r < batch.length; r++) {
      predictions.push(info.task === 'regression' ? data[r * width]! : argmaxRow(data, r, width));
    }
  }
  const labels = examples.map((e) => e.label);
  const loss = lossSum / examples.length;
  if (info.task === 'classification') return { examples: examples.length, loss, accuracy: accuracy(predictions, labels) };
  return { examples: examples.length, loss, pearson: pearson(predictions, labels), spearman: spearman(predictions, labels) };
}

function shapeFor(info: ArtifactsInfo, rows: number): { sequence?: number; rows?: number; labelWidth?: number } {
  const labelWidth = info.labels.dims[1];
  return {
    ...(info.staticSequence === undefined ? {} : { sequence: info.staticSequence }),
    ...(info.staticBatch === undefined || info.staticBatch === rows ? {} : { rows: info.staticBatch }),
    ...(labelWidth === undefined ? {} : { labelWidth }),
  };
}

export async function trainArtifacts(options: TrainOptions, events: TrainEvents = {}): Promise<TrainResult> {
  const started = performance.now();
  const cwd = options.cwd ?? process.cwd();
  const resolve = (p: string) => path.resolve(cwd, p);
  const say = (line: string) => events.message?.(line);
  const warnings: Diagnostic[] = [];

  const folder = resolve(options.artifacts);
  const info = readArtifacts(folder);
  const { plan, file: specFile } = planFor(info, cwd, options.spec);
  const tokenizer = loadTokenizer(resolve(options.vocab));
  if (info.vocabularyRows !== undefined && tokenizer.size > info.vocabularyRows) {
    throw new AdapterError([diagnostic('ADP5004', { file: options.vocab, size: tokenizer.size, rows: info.vocabularyRows }, { file: options.vocab }, "use the vocabulary the model was trained with (its ids must index the model's embedding table)")]);
  }

  const epochs = positiveInteger('epochs', options.epochs, TRAIN_DEFAULTS.epochs);
  const logEvery = positiveInteger('log-every', options.logEvery, TRAIN_DEFAULTS.logEvery);
  let batchSize = positiveInteger('batch-size', options.batchSize, info.staticBatch ?? TRAIN_DEFAULTS.batchSize);
  if (info.staticBatch !== undefined && batchSize !== info.staticBatch) throw badOption('batch-size', `${info.staticBatch} (the model's inputs have a static batch size)`, batchSize);
  batchSize = info.staticBatch ?? batchSize;
  let maxLength: number;
  if (info.staticSequence !== undefined) {
    if (options.maxLength !== undefined && options.maxLength !== info.staticSequence) throw badOption('max-length', `${info.staticSequence} (the model's inputs have a static sequence length)`, options.maxLength);
    maxLength = info.staticSequence;
  } else {
    maxLength = options.maxLength ?? Math.min(TRAIN_DEFAULTS.maxLength, info.positionRows ?? TRAIN_DEFAULTS.maxLength);
    if (!Number.isSafeInteger(maxLength) || maxLength < 2) throw badOption('max-length', 'an integer of at least 2 ([CLS] and [SEP])', maxLength);
    if (info.positionRows !== undefined && maxLength > info.positionRows) throw badOption('max-length', `at most ${info.positionRows} (the model's position embeddings)`, maxLength);
  }
  const maxSteps = options.maxSteps === undefined ? undefined : positiveInteger('max-steps', options.maxSteps, 1);
  const seed = options.seed ?? info.seed;
  if (!Number.isSafeInteger(seed) || seed < 0) throw badOption('seed', 'a non-negative integer', seed);
  const masking = info.task === 'masked_lm' ? maskingVocabulary(tokenizer, options.vocab) : undefined;
  const setup: Setup = { info, tokenizer, maxLength, batchSize, ...(masking === undefined ? {} : { masking }) };

  const readOptions = { kind: info.task, ...(info.classes === undefined ? {} : { classes: info.classes }) };
  const read = (file: string): Example[] => (info.task === 'masked_lm' ? readSentencesFile(resolve(file), file) : readExamplesFile(resolve(file), { ...readOptions, name: file }));
  const tallies: Tokenized[] = [];
  const encode = (file: string): EncodedExample[] => {
    if (masking !== undefined) return encodeAll(read(file), setup, file, warnings);
    const tally: Tokenized = { file, seen: 0, cut: 0 };
    tallies.push(tally);
    return encodeLazily(read(file), setup, tally);
  };
  const trainExamples = encode(options.train);
  const devExamples = options.dev === undefined ? undefined : encode(options.dev);
  if (warnings.length > 0) events.warnings?.(warnings);
  const dropLast = info.staticBatch !== undefined;
  const batchesPerEpoch = dropLast ? Math.floor(trainExamples.length / batchSize) : Math.ceil(trainExamples.length / batchSize);
  if (batchesPerEpoch === 0) throw badOption('batch-size', `at most the ${trainExamples.length} training examples (the model's batch size is static)`, batchSize);
  const totalSteps = Math.min(epochs * batchesPerEpoch, maxSteps ?? Number.POSITIVE_INFINITY);
  const runEpochs = Math.ceil(totalSteps / batchesPerEpoch);

  const schedule: LinearSchedule | undefined = resolveSchedule(plan.schedule, totalSteps);
  const runtimeName = options.runtime ?? 'step-model';
  if (runtimeName !== 'step-model' && runtimeName !== 'ort-training') throw badOption('runtime', "'step-model' or 'ort-training'", runtimeName);
  if (options.threads !== undefined) positiveInteger('threads', options.threads, 1);

  const baseline = devExamples !== undefined && info.task === 'classification' ? majorityBaseline(devExamples.map((e) => e.label)) : undefined;
  say(`training ${path.relative(cwd, folder) || '.'} (spec ${path.relative(cwd, specFile)}): ${info.task === 'masked_lm' ? 'masked language model' : info.task}, ${trainExamples.length} training ${info.task === 'masked_lm' ? 'sentences' : 'examples'}${devExamples ? `, ${devExamples.length} dev` : ''}`);
  if (masking !== undefined) say(`  masking ${MASKING_TEXT} per batch`);
  say(`  ${runEpochs} epoch(s) of ${batchesPerEpoch} batches of ${batchSize}, ${totalSteps} steps; max length ${maxLength}; seed ${seed}`);
  say(`  ${plan.optimizer.kind} lr ${plan.optimizer.lr}, schedule ${describeSchedule(plan.schedule, schedule)}`);
  if (baseline !== undefined) say(`  dev majority-class baseline: accuracy ${baseline.accuracy.toFixed(4)} (always ${baseline.label})`);

  const session =
    runtimeName === 'ort-training'
      ? await openOrtTrainingRuntime(info, plan, schedule)
      : await openStepRuntime(info, {
          totalSteps,
          ...(options.threads === undefined ? {} : { threads: options.threads }),
          ...(options.executionProviders === undefined ? {} : { executionProviders: options.executionProviders }),
        });
  say(`  runtime: ${session.description}`);
  if (session.warnings.length > 0) events.warnings?.(session.warnings);
  try {

    const shuffle = shuffler(seed);
    const maskRng = masking === undefined ? undefined : streamFor(seed, 'adapterc train: masks');
    const steps: StepRecord[] = [];
    const epochRecords: EpochRecord[] = [];
    let best: { epoch: number; metric: number; parameters: Map<string, Float32Array>; record: EpochRecord } | undefined;
    let step = 0;
    let trainSeconds = 0;
    let examplesSeen = 0;
    let window = { at: performance.now(), examples: 0, losses: [] as number[] };
    const devBatch = batchSize;

    for (let epoch = 1; epoch <= runEpochs; epoch++) {
      const epochStart = performance.now();
      const order = shuffle(trainExamples.length).map((i) => trainExamples[i]!);
      let lossSum = 0;
      let lossCount = 0;
      for (const batch of chunk(order, batchSize, dropLast)) {
        if (step >= totalSteps) break;
        step++;
        const stepStart = performance.now();
        const { feeds } = feedsFor(info, batch, tokenizer.pad, masking, maskRng);
        const loss = await session.trainStep(feeds, step);
        if (!Number.isFinite(loss)) throw new AdapterError([diagnostic('ADP5011', { value: String(loss), step }, undefined, 'lower the learning rate in the spec, or check the labels')]);
        trainSeconds += (performance.now() - stepStart) / 1000;
        examplesSeen += batch.length;
        const learningRate = learningRateAt(step, plan.optimizer.lr, schedule);
        steps.push({ step, epoch, loss, learningRate });
        lossSum += loss;
        lossCount++;
        window.examples += batch.length;
        window.losses.push(loss);
        if (step % logEvery === 0 || step === totalSteps) {
          const now = performance.now();
          const speed = window.examples / Math.max(1e-9, (now - window.at) / 1000);
          const mean = window.losses.reduce((a, b) => a + b, 0) / window.losses.length;
          const eta = ((totalSteps - step) * batchSize) / Math.max(1e-9, speed);
          events.progress?.(
            `epoch ${epoch}/${runEpochs}  step ${String(step).padStart(String(totalSteps).length)}/${totalSteps}  loss ${loss.toFixed(4)} (mean of last ${window.losses.length}: ${mean.toFixed(4)})  lr ${learningRate.toExponential(2)}  ${speed.toFixed(0)} ex/s  eta ${duration(eta)}`,
          );
          window = { at: performance.now(), examples: 0, losses: [] };
        }
      }
      const dev =
        devExamples === undefined
          ? undefined
          : masking !== undefined
            ? await evaluateMaskedLm(session, info, devExamples, tokenizer.pad, devBatch, masking, seed)
            : await evaluate(session, info, devExamples, tokenizer.pad, devBatch);
      const record: EpochRecord = { epoch, step, trainLoss: lossSum / Math.max(1, lossCount), seconds: (performance.now() - epochStart) / 1000, ...(dev === undefined ? {} : { dev }) };
      epochRecords.push(record);
      const metric = dev === undefined ? epoch : devMetric(info.task, dev);
      const improved = best === undefined || metric > best.metric || (Number.isNaN(best.metric) && !Number.isNaN(metric));
      if (improved) best = { epoch, metric, parameters: await session.trainable(), record };
      say(`epoch ${epoch}/${runEpochs}: train loss ${record.trainLoss.toFixed(4)}${dev === undefined ? '' : `, ${formatEval(info.task, dev)}`}${improved && dev !== undefined ? '  (best so far)' : ''}  [${record.seconds.toFixed(1)} s]`);
    }

    // Said once per file, over the examples the run tokenized (all of them after a full epoch).
    const cut = tallies.flatMap((t) => truncationWarning(t, setup));
    if (cut.length > 0) events.warnings?.(cut);

    const out = options.out === undefined ? path.join(folder, 'trained') : resolve(options.out);
    try {
      mkdirSync(out, { recursive: true });
    } catch {
      throw new AdapterError([diagnostic('ADP4002', { path: out, reason: 'the folder cannot be created' }, { file: out }, 'choose a writable folder with --out')]);
    }
    const files = { checkpoint: path.join(out, TRAINED.checkpoint), log: path.join(out, TRAINED.log), chart: path.join(out, TRAINED.chart) };
    const kept = best!;
    const tensor = (t: Tensor) => makeTensor(t.name!, t.dims, kept.parameters.get(t.name!)!);
    const props = info.checkpoint.properties;
    const dev = kept.record.dev;
    await writeCheckpoint(files.checkpoint, {
      trainable: info.checkpoint.trainable.map(tensor),
      // Unchanged: copied from the compiled checkpoint.
      frozen: info.checkpoint.frozen,
      properties: {
        ints: { ...props.ints, trained_epoch: kept.epoch, trained_steps: kept.record.step },
        floats: {
          ...props.floats,
          ...(dev === undefined ? {} : { dev_loss: dev.loss }),
          ...(dev?.accuracy === undefined ? {} : { dev_accuracy: dev.accuracy }),
          ...(dev?.pearson === undefined ? {} : { dev_pearson: dev.pearson, dev_spearman: dev.spearman! }),
        },
        strings: { ...props.strings, trained_by: `adapterc ${VERSION} train` },
      },
    });

    const seconds = (performance.now() - started) / 1000;
    const result: TrainResult = {
      task: info.task,
      totalSteps,
      steps,
      epochs: epochRecords,
      bestEpoch: kept.epoch,
      ...(baseline === undefined ? {} : { baseline }),
      files,
      seconds,
      examplesPerSecond: examplesSeen / Math.max(1e-9, trainSeconds),
    };
    const log = {
      adapterc: VERSION,
      artifacts: folder,
      spec: specFile,
      train: { file: resolve(options.train), examples: trainExamples.length },
      ...(options.dev === undefined ? {} : { dev: { file: resolve(options.dev), examples: devExamples!.length } }),
      vocab: resolve(options.vocab),
      task: info.task,
      settings: { epochs: runEpochs, batchSize, maxLength, totalSteps, seed, ...(maxSteps === undefined ? {} : { maxSteps }) },
      runtime: { name: runtimeName, description: session.description },
      optimizer: plan.optimizer,
      schedule: { spec: plan.schedule, ...(schedule === undefined ? {} : { warmupSteps: schedule.warmupSteps, totalSteps: schedule.totalSteps }) },
      ...(baseline === undefined ? {} : { baseline }),
      epochs: epochRecords,
      bestEpoch: kept.epoch,
      checkpoint: files.checkpoint,
      seconds,
      examplesPerSecond: result.examplesPerSecond,
      steps,
    };
    writeFileAtomic(files.log, `${JSON.stringify(log, null, 1)}\n`);
    const notes = [
      `${path.basename(folder)}: ${info.task}, ${trainExamples.length} training examples, ${totalSteps} steps of ${batchSize}, ${plan.optimizer.kind} lr ${plan.optimizer.lr}, schedule ${describeSchedule(plan.schedule, schedule)}.`,
      ...(baseline === undefined ? [] : [`Dev majority-class baseline: accuracy ${baseline.accuracy.toFixed(4)}.`]),
      `Kept epoch ${kept.epoch}. adapterc ${VERSION}, ${new Date().toISOString()}.`,
    ];
    const chartEpochs = epochRecords.map((e) => ({
      epoch: e.epoch,
      step: e.step,
      trainLoss: e.trainLoss,
      best: e.epoch === kept.epoch,
      ...(e.dev === undefined
        ? {}
        : {
            devLoss: e.dev.loss,
            devMetric: info.task === 'regression' ? `Pearson ${e.dev.pearson!.toFixed(4)}, Spearman ${e.dev.spearman!.toFixed(4)}` : `${info.task === 'masked_lm' ? 'masked-token ' : ''}accuracy ${e.dev.accuracy!.toFixed(4)}`,
          }),
    }));
    writeFileAtomic(files.chart, lossChartHtml(`adapterc train: loss curve`, steps, chartEpochs, notes));
    return result;
  } finally {
    await session.release();
  }
}

const MASKING_TEXT = '15% of the non-special tokens (80% [MASK], 10% a random token, 10% unchanged)';

/** The ids masking needs: [MASK], the specials never masked, and the ordinary tokens random replacements come from. */
function maskingVocabulary(tokenizer: WordPieceTokenizer, file: string): MaskingVocabulary {
  const mask = tokenizer.vocab.get('[MASK]');
  if (mask === undefined) throw new AdapterError([diagnostic('ADP5003', { file, token: '[MASK]' }, { file }, 'masked-LM training replaces tokens by [MASK]; use a BERT WordPiece vocab.txt that has it')]);
  const replacements = tokenizer.tokens.map((t, id) => (/^\[.*\]$/.test(t) ? -1 : id)).filter((id) => id >= 0);
  return { mask, special: new Set([tokenizer.cls, tokenizer.sep, tokenizer.pad]), replacements };
}
