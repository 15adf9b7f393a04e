/** `adapterc train`: trains compiled artifacts on labelled sentences (the step model in onnxruntime-node, or ORT 1.19.2's training runtime). */
import * as path from 'node:path';
import { AdapterError, diagnostic, renderDiagnostics } from '../../diagnostics/index.js';
import { TRAIN_DEFAULTS, TRAINED, trainArtifacts } from '../../train/train.js';
import type { RuntimeName } from '../../train/runtimes/runtime.js';
import { expectPositionals, parseCommandArgs } from '../args.js';
import { jsonOption, okJson } from '../json.js';
import { ExitCode, processIo, type CliIo, type Command } from '../io.js';

const help = `Usage: adapterc train <artifacts> --train <file> --vocab <vocab.txt> [--dev <file>] [options]

Trains the artifacts 'adapterc compile' wrote. By default it runs their step model
(step_model.onnx: forward, loss, gradients and the optimizer update in standard ONNX) in
onnxruntime-node, native, on all cores; '--runtime ort-training' runs the four ORT training
artifacts in ONNX Runtime 1.19.2's training runtime instead (onnxruntime-web's training build,
WebAssembly, one thread; its AdamW decays no_decay parameters too). It tokenizes the sentences with BERT's uncased WordPiece tokenizer,
batches them with padding and attention masks, shuffles each epoch from the spec's seed, and
applies the spec's optimizer and learning rate with its schedule (linear warmup, then linear decay
to zero over the run's steps, computed inside the optimizer graph). After each epoch it evaluates
the dev set (accuracy, or Pearson and Spearman for regression) and keeps the best epoch.

Data files: 'label<TAB>text' lines (a first line whose label is not a number is a header, as in
GLUE's TSV files) or JSONL ({"label": 1, "text": "..."}). Labels are class indexes when the
artifacts classify (cross-entropy, int64 labels), numbers when they regress (mse, float labels).
Artifacts compiled with 'head masked_lm' train as a masked language model on sentences (plain
text lines too; labels ignored): 15% of each batch's non-special tokens are picked from the seed
(80% [MASK], 10% a random token, 10% unchanged); dev reports the MLM loss and masked-token
accuracy, and the epoch with the lowest dev MLM loss is kept.

Writes into <artifacts>/trained/ (or --out):
  ${TRAINED.checkpoint.padEnd(16)} the best epoch's parameters, an ONNX Runtime ODTC checkpoint that loads in
                   place of the compiled one (no optimizer state: training resumes with fresh moments)
  ${TRAINED.log.padEnd(16)} settings, per-step loss and learning rate, per-epoch dev results
  ${TRAINED.chart.padEnd(16)} the loss curve, one self-contained page to open in a browser

Options:
  --train FILE       training data (required)
  --vocab PATH       the model's WordPiece vocab.txt (one token per line), or the model's folder
                     holding vocab.txt or tokenizer.json (required)
  --dev FILE         dev data, evaluated after each epoch; without it the last epoch is kept
  --spec FILE        the spec the artifacts were compiled from, for its schedule (default: the one
                     summary.json names, looked up from here and from the artifacts folder)
  -o, --out DIR      where to write (default: <artifacts>/trained)
  --epochs N         passes over the training data (default ${TRAIN_DEFAULTS.epochs})
  --batch-size N     examples per step (default ${TRAIN_DEFAULTS.batchSize}, or the model's static batch size)
  --max-length N     tokens per example with [CLS] and [SEP] (default ${TRAIN_DEFAULTS.maxLength}, at most the
                     model's position table; the model's static length if it has one)
  --max-steps N      stop after N optimizer steps; the schedule then spans N steps
  --seed N           shuffling seed (default: the spec's seed)
  --log-every N      a progress line every N steps, to stderr (default ${TRAIN_DEFAULTS.logEvery})
  --json             print the result (epochs, dev figures, files written) as JSON on stdout,
                     the rest on stderr (errors as JSON too)
  --runtime R        'step-model' (default) or 'ort-training'
  --threads N        step-model: onnxruntime-node's threads (default: one per physical core)
  --execution-provider LIST
                     step-model: onnxruntime-node execution providers in order of preference,
                     comma-separated, e.g. 'cuda,cpu' (default: cpu; the build must have them)
  -h, --help         show this help

Exit codes: 0 trained, 1 bad artifacts, data, vocabulary or option (nothing written), 2 internal error.`;

function integerOption(values: Readonly<Record<string, unknown>>, name: string): number | undefined {
  const raw = values[name];
  if (raw === undefined) return undefined;
  const text = String(raw).trim();
  if (!/^\d+$/.test(text)) throw new AdapterError([diagnostic('ADP5008', { option: name, rule: 'a whole number', value: text }, undefined, `run 'adapterc train --help' for its options`)]);
  return Number(text);
}

/** What users look for among train's options but the spec sets (the artifacts are compiled from it). */
const fromSpec = (what: string) => `the ${what} is the spec's (train { ${what === 'learning rate' ? 'optimizer adamw(lr …)' : what === 'schedule' ? 'schedule …' : 'optimizer …'} }): change it there and compile again`;
const ELSEWHERE: Readonly<Record<string, string>> = { lr: fromSpec('learning rate'), 'learning-rate': fromSpec('learning rate'), schedule: fromSpec('schedule'), optimizer: fromSpec('optimizer'), 'weight-decay': fromSpec('optimizer') };

export const trainCommand: Command = {
  name: 'train',
  summary: 'train compiled artifacts on label<TAB>text or JSONL data; keeps the best epoch as a checkpoint',
  help,
  async run(argv: readonly string[], io: CliIo): Promise<ExitCode> {
    const { values, positionals } = parseCommandArgs('train', argv, {
      train: { type: 'string' },
      dev: { type: 'string' },
      vocab: { type: 'string' },
      spec: { type: 'string' },
      out: { type: 'string', short: 'o' },
      epochs: { type: 'string' },
      'batch-size': { type: 'string' },
      'max-length': { type: 'string' },
      'max-steps': { type: 'string' },
      seed: { type: 'string' },
      'log-every': { type: 'string' },
      runtime: { type: 'string' },
      threads: { type: 'string' },
      'execution-provider': { type: 'string' },
      ...jsonOption,
    }, ELSEWHERE);
    const json = values['json'] === true;
    const [artifacts] = expectPositionals('train', positionals, ['artifacts']);
    for (const required of ['train', 'vocab'] as const) {
      if (values[required] === undefined) {
        throw new AdapterError([diagnostic('ADP4001', { text: `'adapterc train' needs --${required} <file>.` }, undefined, `run 'adapterc train --help' for its options`)]);
      }
    }
    // On a terminal the progress line rewrites itself; elsewhere (logs, pipes, tests) each is a plain line.
    const tty = io === processIo && process.stderr.isTTY === true;
    let pending = 0;
    const endProgress = () => {
      if (pending > 0) process.stderr.write('\n');
      pending = 0;
    };
    const progress = (line: string) => {
      if (!tty) return io.stderr(line);
      const width = Math.max(20, (process.stderr.columns ?? 120) - 1);
      const shown = line.length > width ? line.slice(0, width) : line;
      process.stderr.write(`\r${shown.padEnd(pending)}`);
      pending = shown.length;
    };
    const str = (name: string) => (values[name] === undefined ? undefined : String(values[name]));
    const optional = <K extends string, V>(key: K, value: V | undefined) => (value === undefined ? {} : ({ [key]: value } as Record<K, V>));
    const result = await trainArtifacts(
      {
        artifacts: artifacts!,
        train: str('train')!,
        vocab: str('vocab')!,
        cwd: io.cwd,
        ...optional('dev', str('dev')),
        ...optional('spec', str('spec')),
        ...optional('out', str('out')),
        ...optional('epochs', integerOption(values, 'epochs')),
        ...optional('batchSize', integerOption(values, 'batch-size')),
        ...optional('maxLength', integerOption(values, 'max-length')),
        ...optional('maxSteps', integerOption(values, 'max-steps')),
        ...optional('seed', integerOption(values, 'seed')),
        ...optional('logEvery', integerOption(values, 'log-every')),
        ...optional('runtime', str('runtime') as RuntimeName | undefined),
        ...optional('threads', integerOption(values, 'threads')),
        ...optional('executionProviders', str('execution-provider')?.split(',').map((p) => p.trim()).filter((p) => p !== '')),
      },
      {
        progress,
        message: (line) => {
          endProgress();
          // With --json, standard output holds the JSON document alone.
          (json ? io.stderr : io.stdout)(line);
        },
        warnings: (ds) => {
          endProgress();
          io.stderr(renderDiagnostics(ds));
        },
      },
    );
    endProgress();
    if (json) {
      const { steps, ...rest } = result;
      io.stdout(okJson({ ...rest, steps: steps.length }));
      return ExitCode.ok;
    }
    const best = result.epochs.find((e) => e.epoch === result.bestEpoch)!;
    const rel = (p: string) => path.relative(io.cwd, p) || '.';
    const metric =
      best.dev === undefined
        ? ''
        : result.task === 'masked_lm'
          ? ` (dev MLM loss ${best.dev.loss.toFixed(4)}, masked-token accuracy ${best.dev.accuracy!.toFixed(4)})`
          : result.task === 'classification' ? ` (dev accuracy ${best.dev.accuracy!.toFixed(4)}${result.baseline ? `, majority baseline ${result.baseline.accuracy.toFixed(4)}` : ''})` : ` (dev Pearson ${best.dev.pearson!.toFixed(4)}, Spearman ${best.dev.spearman!.toFixed(4)})`;
    io.stdout(
      [
        `kept epoch ${result.bestEpoch}${metric}; ${result.totalSteps} steps in ${result.seconds.toFixed(1)} s, ${result.examplesPerSecond.toFixed(0)} training examples/s`,
        `wrote ${rel(result.files.checkpoint)}, ${rel(result.files.log)}, ${rel(result.files.chart)}`,
      ].join('\n'),
    );
    return ExitCode.ok;
  },
};
