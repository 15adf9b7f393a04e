/**
 * Labelled sentences from a file, in one of two formats (chosen by the first non-empty line):
 *
 *   label<TAB>text       as in GLUE's SST-2 files; a first line whose label is not a number is a
 *                        header and skipped (`label<TAB>sentence`)
 *   JSONL                one object per line: {"label": 1, "text": "…"} ("sentence" is accepted
 *                        for "text")
 *
 * Labels are class indexes (non-negative integers, below the number of classes when it is known)
 * for classification, numbers for regression. Malformed lines are ADP5002 errors pointing at the
 * line (file:line:column, with the line shown); up to 10 are reported at once.
 */
import { readFileSync } from 'node:fs';
import { AdapterError, diagnostic, type Diagnostic, type SourceSpan } from '../diagnostics/index.js';

/** `masked_lm`: artifacts compiled with `head masked_lm`; the data is sentences, their labels ignored. */
export type TaskKind = 'classification' | 'regression' | 'masked_lm';

export interface Example {
  readonly label: number;
  readonly text: string;
  /** 1-based line in the file. */
  readonly line: number;
}

export interface ReadOptions {
  readonly kind: TaskKind;
  /** Classes the model has (classification): labels must be below it. */
  readonly classes?: number;
  /** What to call the file in messages (default: the path). */
  readonly name?: string;
}

const MAX_REPORTED = 10;

/** Reads a data file; throws ADP5001 (unreadable), ADP5002 (malformed lines) or ADP5009 (no examples). */
export function readExamplesFile(file: string, options: ReadOptions): Example[] {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch {
    throw new AdapterError([diagnostic('ADP5001', { path: options.name ?? file, what: 'data' }, { file: options.name ?? file }, 'check the path given to --train or --dev')]);
  }
  return parseExamples(text, options.name ?? file, options);
}

/** Parses the text of a data file (see the module comment). */
export function parseExamples(text: string, file: string, options: ReadOptions): Example[] {
  const lines = text.replace(/^\uFEFF/, '').split(/\r?\n/);
  const firstLine = lines.findIndex((l) => l.trim() !== '') + 1;
  const first = lines[firstLine - 1];
  const jsonl = first !== undefined && first.trimStart().startsWith('{');
  const examples: Example[] = [];
  const problems: Diagnostic[] = [];
  const fail = (line: number, column: number, length: number, problem: string, hint: string) => {
    if (problems.length < MAX_REPORTED) problems.push(diagnostic('ADP5002', { problem }, { span: lineSpan(file, line, column, length) }, hint));
    else if (problems.length === MAX_REPORTED) problems.push(diagnostic('ADP5002', { problem: `'${file}' has more malformed lines; the first ${MAX_REPORTED} are shown` }, { file }, 'fix those and run again'));
  };
  lines.forEach((raw, index) => {
    const line = index + 1;
    if (raw.trim() === '') return;
    let labelValue: unknown;
    let textValue: string;
    const labelColumn = 1;
    let labelLength = raw.length;
    if (jsonl) {
      let parsed: unknown;
      try {
        parsed = JSON.parse(raw);
      } catch (error) {
        fail(line, 1, raw.length, `Line ${line} of '${file}' is not valid JSON (${error instanceof Error ? error.message : String(error)})`, 'write one object per line: {"label": 1, "text": "…"}');
        return;
      }
      const record = typeof parsed === 'object' && parsed !== null && !Array.isArray(parsed) ? (parsed as Record<string, unknown>) : undefined;
      const t = record?.['text'] ?? record?.['sentence'];
      if (record === undefined || !('label' in record) || typeof t !== 'string') {
        fail(line, 1, raw.length, `Line ${line} of '${file}' needs a "label" and a string "text"`, 'write one object per line: {"label": 1, "text": "…"}');
        return;
      }
      labelValue = record['label'];
      textValue = t;
    } else {
      const tab = raw.indexOf('\t');
      if (tab < 0) {
        fail(line, 1, raw.length, `Line ${line} of '${file}' has no tab between the label and the text`, 'write label<TAB>text, one example per line');
        return;
      }
      const label = raw.slice(0, tab).trim();
      labelLength = Math.max(1, tab);
      textValue = raw.slice(tab + 1);
      if (line === firstLine && !/^[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$/.test(label)) return; // a header such as `label<TAB>sentence`
      labelValue = label;
    }
    const value = typeof labelValue === 'number' ? labelValue : typeof labelValue === 'string' && labelValue.trim() !== '' ? Number(labelValue) : Number.NaN;
    if (!Number.isFinite(value)) {
      fail(line, labelColumn, labelLength, `Line ${line} of '${file}' has the label ${JSON.stringify(labelValue ?? '')}, which is not a number`, options.kind === 'classification' ? 'labels are class indexes 0, 1, …' : 'labels are numbers');
      return;
    }
    if (options.kind === 'classification') {
      if (!Number.isInteger(value) || value < 0) {
        fail(line, labelColumn, labelLength, `Line ${line} of '${file}' has the label ${value}, but a classification label is a class index (0, 1, 2, …)`, 'the artifacts classify (their loss is cross-entropy); use a regression spec (loss mse) for real-valued labels');
        return;
      }
      if (options.classes !== undefined && value >= options.classes) {
        fail(line, labelColumn, labelLength, `Line ${line} of '${file}' has the label ${value}, but the model has ${options.classes} classes (0 to ${options.classes - 1})`, 'check the data, or compile a head with more labels');
        return;
      }
    }
    if (textValue.trim() === '') {
      fail(line, labelColumn, raw.length, `Line ${line} of '${file}' has no text`, 'write label<TAB>text, one example per line');
      return;
    }
    examples.push({ label: value, text: textValue, line });
  });
  if (problems.length > 0) throw new AdapterError(problems, new Map([[file, text]]));
  if (examples.length === 0) throw new AdapterError([diagnostic('ADP5009', { file }, { file }, 'write one example per line: label<TAB>text, or {"label": …, "text": …}')]);
  return examples;
}

function lineSpan(file: string, line: number, column: number, length: number): SourceSpan {
  return { file, start: { offset: 0, line, column }, end: { offset: 0, line, column: column + Math.max(1, length) } };
}

/**
 * Sentences for masked-language-model training, from a file in one of three formats (chosen by the
 * first non-empty line): JSONL ("text" or "sentence"; any "label" ignored), `label<TAB>text` (the
 * label column ignored; a first line whose label is not a number is a header and skipped), or plain
 * text, one sentence per line. Every sentence gets label 0.
 */
export function readSentencesFile(file: string, name = file): Example[] {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch {
    throw new AdapterError([diagnostic('ADP5001', { path: name, what: 'data' }, { file: name }, 'check the path given to --train or --dev')]);
  }
  return parseSentences(text, name);
}

export function parseSentences(text: string, file: string): Example[] {
  const lines = text.replace(/^\uFEFF/, '').split(/\r?\n/);
  const firstLine = lines.findIndex((l) => l.trim() !== '') + 1;
  const first = lines[firstLine - 1] ?? '';
  if (first.trimStart().startsWith('{')) {
    // Reuse the labelled reader's checks, with the label made optional.
    const withLabels = lines.map((l) => {
      if (l.trim() === '') return l;
      try {
        const record = JSON.parse(l) as unknown;
        if (typeof record === 'object' && record !== null && !Array.isArray(record)) return JSON.stringify({ ...record, label: 0 });
      } catch {
        // parseExamples reports it with the line
      }
      return l;
    });
    return parseExamples(withLabels.join('\n'), file, { kind: 'regression' }).map((e) => ({ ...e, label: 0 }));
  }
  const tsv = first.includes('\t');
  const examples: Example[] = [];
  lines.forEach((raw, index) => {
    const line = index + 1;
    if (raw.trim() === '') return;
    let sentence = raw;
    if (tsv) {
      const tab = raw.indexOf('\t');
      if (line === firstLine && !/^[-+]?(\d+\.?\d*|\.\d+)([eE][-+]?\d+)?$/.test(raw.slice(0, Math.max(0, tab)).trim())) return; // a header
      sentence = tab < 0 ? raw : raw.slice(tab + 1);
    }
    if (sentence.trim() !== '') examples.push({ label: 0, text: sentence, line });
  });
  if (examples.length === 0) throw new AdapterError([diagnostic('ADP5009', { file }, { file }, 'write one sentence per line (plain text, label<TAB>text, or {"text": …})')]);
  return examples;
}
