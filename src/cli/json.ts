/**
 * `--json` on every command that produces results: the result on standard output as one JSON
 * document with `"ok": true`, or, on bad input, `{ "ok": false, "diagnostics": [...] }` (the
 * rendered diagnostics still go to standard error), so that a script reads one shape either way.
 */
import { DIAGNOSTIC_LIMIT, type Diagnostic } from '../diagnostics/index.js';

export const jsonOption = { json: { type: 'boolean' } } as const;

export function diagnosticJson(d: Diagnostic) {
  return {
    code: d.code,
    severity: d.severity,
    message: d.message,
    ...(d.file === undefined ? {} : { file: d.file }),
    ...(d.span === undefined ? {} : { line: d.span.start.line, column: d.span.start.column }),
    ...(d.hint === undefined ? {} : { hint: d.hint }),
  };
}

export function okJson(result: object): string {
  return JSON.stringify({ ok: true, ...result }, null, 2);
}

/** The first DIAGNOSTIC_LIMIT diagnostics and how many more there were, as the text output does. */
export function diagnosticsJson(ds: readonly Diagnostic[]) {
  const omitted = ds.length - DIAGNOSTIC_LIMIT;
  return { diagnostics: ds.slice(0, DIAGNOSTIC_LIMIT).map(diagnosticJson), ...(omitted > 0 ? { omitted } : {}) };
}

export function failureJson(diagnostics: readonly Diagnostic[]): string {
  return JSON.stringify({ ok: false, ...diagnosticsJson(diagnostics) }, null, 2);
}
