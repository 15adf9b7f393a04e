/** `adapterc predict` and `adapterc eval`: a trained model on sentences, in onnxruntime-node. */
import { readFileSync } from 'node:fs';
import { evaluate, predict, type PredictResult } from '../../api/predict.js';
import { AdapterError, diagnostic } from '../../diagnostics/index.js';
import { parseSentences } from '../../train/data.js';
import { parseCommandArgs } from '../args.js';
import { ExitCode, type CliIo, type Command } from '../io.js';
import { jsonOption, okJson } from '../json.js';

const shared = `  --vocab PATH       the model's vocab.txt, or its folder (vocab.txt or tokenizer.json) (required)
  --batch-size N     sentences per run (default 32)
  --max-length N     tokens per sentence, [CLS] and [SEP] included (default 128, or the model's
                     position table if shorter); longer sentences are cut
  --json             print the result (or the errors) as JSON
  -h, --help         show this help`;

const predictHelp = `Usage: adapterc predict <model.onnx | artifacts> --vocab PATH [FILE | -] [--labels NAMES] [--json]

Labels sentences with a trained classifier (or scores them with a regressor): an ONNX model
('adapterc export' writes one; any BERT classifier export works) or an artifacts folder (its
adapted model with the trained checkpoint's values). Sentences come from FILE, or from standard
input when FILE is '-' or absent: plain text (one per line), label<TAB>text (the label column is
ignored), or JSONL with "text" (or "sentence"). Runs in onnxruntime-node on the CPU.

Prints one line per sentence: the label, its probability, and the sentence (tab-separated);
for a regressor, the value and the sentence.

Options:
  --labels NAMES     names for the classes, in order: --labels negative,positive
${shared}

Exit codes: 0 ok, 1 bad input (nothing printed), 2 internal error.`;

const evalHelp = `Usage: adapterc eval <model.onnx | artifacts> --vocab PATH --data FILE [--json]

Scores a trained model on labelled sentences (label<TAB>text, or JSONL {"label": …, "text": …},
as 'adapterc train' reads them): for a classifier, accuracy, F1 (of class 1 with two classes, as
GLUE reports it; the macro average with more) and Matthews' correlation; for a regressor,
Pearson's and Spearman's correlations. Runs in onnxruntime-node on the CPU.

Options:
  --data FILE        the labelled sentences (required)
${shared}

Exit codes: 0 ok, 1 bad input, 2 internal error.`;

const options = { vocab: { type: 'string' }, 'batch-size': { type: 'string' }, 'max-length': { type: 'string' }, ...jsonOption } as const;

function usage(command: string, text: string): AdapterError {
  return new AdapterError([diagnostic('ADP4001', { text }, undefined, `run 'adapterc ${command} --help' for its usage`)]);
}

function wholeNumber(name: string, value: unknown): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!/^\d+$/.test(String(value))) throw new AdapterError([diagnostic('ADP5103', { option: name, value: String(value), reason: 'it is not a whole number' }, undefined, `give a number, e.g. --${name} 32`)]);
  return n;
}

function common(command: string, values: Record<string, unknown>, io: CliIo) {
  const vocab = values['vocab'] as string | undefined;
  if (vocab === undefined) throw usage(command, `'adapterc ${command}' needs the model's vocabulary: --vocab vocab.txt (or the model's folder).`);
  const batchSize = wholeNumber('batch-size', values['batch-size']);
  const maxLength = wholeNumber('max-length', values['max-length']);
  return { vocab, cwd: io.cwd, ...(batchSize === undefined ? {} : { batchSize }), ...(maxLength === undefined ? {} : { maxLength }) };
}

function predictionLines(result: PredictResult, names: readonly string[] | undefined): string[] {
  return result.predictions.map((p) => {
    const text = p.text.replace(/[\t\r\n]+/g, ' ');
    if (p.kind === 'regression') return `${p.value.toFixed(4)}\t${text}`;
    return `${names?.[p.label] ?? p.label}\t${p.scores[p.label]!.toFixed(4)}\t${text}`;
  });
}

export const predictCommand: Command = {
  name: 'predict',
  summary: 'label sentences with a trained model (ONNX file or artifacts folder) in onnxruntime-node',
  help: predictHelp,
  async run(argv, io) {
    const { values, positionals } = parseCommandArgs('predict', argv, { ...options, labels: { type: 'string' } });
    const json = values['json'] === true;
    if (positionals.length < 1 || positionals.length > 2) throw usage('predict', `'adapterc predict' takes a model (or artifacts folder) and optionally a file of sentences, but was given ${positionals.length === 0 ? 'nothing' : positionals.length}.`);
    const [model, file] = positionals as [string, string | undefined];
    const base = { model, ...common('predict', values, io) };
    const names = (values['labels'] as string | undefined)?.split(',').map((n) => n.trim());
    const result =
      file === undefined || file === '-'
        ? await predict({ ...base, texts: parseSentences(readStdin(io), '<stdin>').map((e) => e.text) })
        : await predict({ ...base, input: file });
    if (names !== undefined && result.task === 'classification' && names.length !== result.classes) {
      throw new AdapterError([diagnostic('ADP5103', { option: 'labels', value: names.join(','), reason: `the model has ${result.classes} classes` }, undefined, `give ${result.classes} names`)]);
    }
    if (json) {
      io.stdout(okJson({ model: result.source, task: result.task, ...(names ? { labels: names } : {}), predictions: result.predictions.map((p) => (p.kind === 'regression' ? { text: p.text, value: p.value, truncated: p.truncated } : { text: p.text, label: names?.[p.label] ?? p.label, scores: p.scores, truncated: p.truncated })) }));
      return ExitCode.ok;
    }
    io.stdout(predictionLines(result, names).join('\n'));
    const cut = result.predictions.filter((p) => p.truncated).length;
    if (cut > 0) io.stderr(`${cut} of ${result.predictions.length} sentences were longer than --max-length and were cut`);
    return ExitCode.ok;
  },
};

export const evalCommand: Command = {
  name: 'eval',
  summary: 'score a trained model on labelled sentences (accuracy, F1, MCC; Pearson, Spearman)',
  help: evalHelp,
  async run(argv, io) {
    const { values, positionals } = parseCommandArgs('eval', argv, { ...options, data: { type: 'string' } });
    const json = values['json'] === true;
    if (positionals.length !== 1) throw usage('eval', `'adapterc eval' takes one model (or artifacts folder), but was given ${positionals.length === 0 ? 'nothing' : positionals.length}.`);
    const data = values['data'] as string | undefined;
    if (data === undefined) throw usage('eval', "'adapterc eval' needs labelled sentences: --data dev.tsv.");
    const result = await evaluate({ model: positionals[0]!, data, ...common('eval', values, io) });
    const m = result.metrics;
    if (json) {
      io.stdout(okJson({ model: result.source, data, metrics: m }));
      return ExitCode.ok;
    }
    const figures = m.kind === 'classification' ? [`accuracy ${(m.accuracy * 100).toFixed(2)}%`, `F1 ${m.f1.toFixed(4)}`, `MCC ${m.mcc.toFixed(4)}`] : [`Pearson ${m.pearson.toFixed(4)}`, `Spearman ${m.spearman.toFixed(4)}`];
    io.stdout(`${data}: ${m.examples} examples; ${figures.join(', ')}\n  model ${result.source}`);
    return ExitCode.ok;
  },
};

function readStdin(io: CliIo): string {
  if (io.stdin !== undefined) return io.stdin();
  try {
    return readFileSync(0, 'utf8');
  } catch {
    throw new AdapterError([diagnostic('ADP5001', { path: '<stdin>', what: 'sentences' }, undefined, 'pipe sentences in, or give a file')]);
  }
}
