/**
 * Typed reading of option values (`std 1e-2`, `betas (0.9, 0.999)`, `warmup 10%`): each reader
 * returns the value or reports one ADP11xx diagnostic saying what was expected.
 */
import { diagnostic, suggestion, type Diagnostic } from '../diagnostics/index.js';
import type * as A from '../parse/ast.js';

export type Reader<T> = (value: A.Value, name: string, report: (d: Diagnostic) => void) => T | undefined;

export function describeValue(v: A.Value): string {
  switch (v.kind) {
    case 'number':
      return v.percent ? `${v.text}%` : v.text;
    case 'word':
      return `'${v.text}'`;
    case 'string':
      return `"${v.value}"`;
    case 'tuple':
      return `a list of ${v.items.length}`;
  }
}

function bad(report: (d: Diagnostic) => void, name: string, rule: string, v: A.Value, hint?: string): undefined {
  report(diagnostic('ADP1103', { name, rule, found: describeValue(v) }, { span: v.span }, hint));
  return undefined;
}

/** A plain number (no '%') for which `ok` holds. */
export function numberWhere(rule: string, ok: (n: number) => boolean, integer = false): Reader<number> {
  return (v, name, report) => {
    if (v.kind !== 'number' || v.percent || !Number.isFinite(v.value) || (integer && !v.isInteger) || !ok(v.value)) {
      return bad(report, name, rule, v);
    }
    return v.value;
  };
}

export const positiveNumber = numberWhere('a positive number', (n) => n > 0);
export const nonNegativeNumber = numberWhere('a number of at least 0', (n) => n >= 0);
export const positiveInteger = numberWhere('a positive integer', (n) => n >= 1, true);
/** Adam's betas: 0 ≤ β < 1. */
export const betaValue = numberWhere('a number from 0 up to (not including) 1', (n) => n >= 0 && n < 1);

/** One of a fixed set of names, with "did you mean" for near misses. */
export function wordFrom<W extends string>(choices: readonly W[], what: string, aliases: Readonly<Record<string, W>> = {}): Reader<W> {
  return (v, name, report) => {
    if (v.kind === 'word' && (choices as readonly string[]).includes(v.text)) return v.text as W;
    if (v.kind === 'word') {
      const alias = aliases[v.text.toLowerCase()];
      const hint = alias !== undefined ? `write '${alias}'` : suggestion(v.text, choices);
      report(diagnostic('ADP1101', { name: v.text, what }, { span: v.span }, hint));
      return undefined;
    }
    return bad(report, name, `one of ${choices.map((c) => `'${c}'`).join(', ')}`, v);
  };
}

export const stringValue: Reader<string> = (v, name, report) => (v.kind === 'string' ? v.value : bad(report, name, 'a quoted string', v));

/** A parenthesised list of exactly `length` items (or any length when undefined), each read by `item`. */
export function tupleOf<T>(item: Reader<T>, length: number | undefined, rule: string): Reader<T[]> {
  return (v, name, report) => {
    // A single value stands for a one-item list, e.g. `no_decay bias`.
    const items = v.kind === 'tuple' ? v.items : length === undefined ? [v] : undefined;
    if (items === undefined || (length !== undefined && items.length !== length)) return bad(report, name, rule, v);
    const read = items.map((i) => item(i, name, report));
    return read.every((r): r is T => r !== undefined) ? read : undefined;
  };
}

/** Warmup as a share of all steps (`10%`) or a number of steps (`500`). */
export const warmupValue: Reader<{ steps: number } | { fraction: number }> = (v, name, report) => {
  if (v.kind === 'number' && v.percent && v.value >= 0 && v.value < 100) return { fraction: v.value / 100 };
  if (v.kind === 'number' && !v.percent && v.isInteger && v.value >= 0) return { steps: v.value };
  return bad(report, name, "a number of steps (e.g. 500) or a percentage of all steps below 100% (e.g. 10%)", v);
};

/** The options a call takes: a reader each, and which are required. */
export interface CallSchema {
  readonly options: Readonly<Record<string, Reader<unknown>>>;
  readonly required?: readonly string[];
}

/**
 * Reads a call's options against its schema: unknown options (with a suggestion), options given
 * twice and missing required options are reported. Returns the values read, by option name.
 */
export function readOptions(call: A.Call, schema: CallSchema, report: (d: Diagnostic) => void): Map<string, unknown> {
  const callee = call.name.text;
  const read = new Map<string, unknown>();
  const seen = new Set<string>();
  const names = Object.keys(schema.options);
  for (const arg of call.args ?? []) {
    const option = arg.name.text;
    const reader = schema.options[option];
    if (reader === undefined) {
      const hint = names.length === 0 ? `'${callee}' takes no options; remove the parentheses` : suggestion(option, names);
      report(diagnostic('ADP1111', { option, callee }, { span: arg.name.span }, hint));
      continue;
    }
    if (seen.has(option)) {
      report(diagnostic('ADP1102', { name: option, where: `'${callee}(…)'` }, { span: arg.name.span }, 'keep one of them'));
      continue;
    }
    seen.add(option);
    const value = reader(arg.value, option, report);
    if (value !== undefined) read.set(option, value);
  }
  // After a misspelt option, "missing option" would only repeat the same problem.
  const misspelt = (call.args ?? []).some((a) => schema.options[a.name.text] === undefined);
  for (const option of misspelt ? [] : (schema.required ?? [])) {
    if (!seen.has(option)) report(diagnostic('ADP1112', { option, callee }, { span: call.span }, `write e.g. '${callee}(${option} …)'`));
  }
  return read;
}
