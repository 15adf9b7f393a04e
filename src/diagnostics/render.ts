/**
 * Renders diagnostics the way the TypeScript compiler does:
 *
 *   specs/bad.adp:3:8 - error ADP1103: 'size' must be a positive integer, but is 0.
 *
 *     3 |   size 0
 *       |        ^
 *     help: write the bottleneck width, e.g. 'size 64'
 */
import type { Diagnostic } from './diagnostic.js';

/** Source texts by file name, for code frames. Files not in it are rendered without a frame. */
export type SourceTexts = ReadonlyMap<string, string>;

export function renderDiagnostic(d: Diagnostic, sources: SourceTexts = new Map(), lines: LineIndex = new LineIndex()): string {
  const place = d.span ? `${d.span.file}:${d.span.start.line}:${d.span.start.column}` : d.file;
  const head = `${place === undefined ? '' : `${place} - `}${d.severity} ${d.code}: ${d.message}`;
  const out = [head];
  const text = d.span ? sources.get(d.span.file) : undefined;
  if (d.span && text !== undefined) out.push('', ...codeFrame(lines.line(text, d.span.start.line), d.span.start.line, d.span.start.column, d.span.end));
  if (d.hint) out.push(`  help: ${d.hint}`);
  return out.join('\n');
}

/**
 * At most this many diagnostics are printed, as compilers do: past the first few dozen, more
 * errors only repeat the first ones' cause, and a garbage input (random bytes) would otherwise
 * print hundreds of megabytes. What is left out is counted in one closing line.
 */
export const DIAGNOSTIC_LIMIT = 50;

export function renderDiagnostics(ds: readonly Diagnostic[], sources: SourceTexts = new Map(), limit = DIAGNOSTIC_LIMIT): string {
  const lines = new LineIndex();
  const shown = ds.slice(0, limit).map((d) => renderDiagnostic(d, sources, lines));
  const rest = ds.slice(limit);
  if (rest.length > 0) shown.push(omittedLine(rest));
  return shown.join('\n\n');
}

/** `… and 949 more (940 errors, 9 warnings) not shown; fix the first ones and run again.` */
export function omittedLine(rest: readonly Diagnostic[]): string {
  const errors = rest.filter((d) => d.severity === 'error').length;
  const warnings = rest.length - errors;
  const parts = [errors > 0 ? `${errors} error${errors === 1 ? '' : 's'}` : '', warnings > 0 ? `${warnings} warning${warnings === 1 ? '' : 's'}` : ''].filter(Boolean);
  return `… and ${rest.length} more (${parts.join(', ')}) not shown; fix the first ones and run again.`;
}

/**
 * The lines of each source text, split once per rendering rather than once per diagnostic
 * (which made thousands of diagnostics on one large file quadratic).
 */
export class LineIndex {
  private readonly split = new Map<string, readonly string[]>();
  line(text: string, line: number): string {
    let lines = this.split.get(text);
    if (!lines) this.split.set(text, (lines = text.split(/\r?\n/)));
    return lines[line - 1] ?? '';
  }
}

/** A frame shows at most this many characters of the line, a window around the caret, as tsc does. */
export const FRAME_WIDTH = 100;
/** Characters kept before the caret when the line is clipped. */
const BEFORE_CARET = 40;

function codeFrame(sourceLine: string, line: number, column: number, end: { line: number; column: number }): string[] {
  // Only the error's own line is shown, clipped below: never more of a file than that.
  // Control characters (a spec of random bytes, an escape sequence) would act on the terminal.
  const fullLine = sourceLine.replace(/\t/g, ' ').replace(/[\u0000-\u001f\u007f-\u009f]/g, '\uFFFD');
  const gutter = String(line).length;
  // Underline to the end of the span on this line (at least one caret).
  const lastColumn = end.line === line ? end.column : fullLine.length + 1;
  let width = Math.max(1, Math.min(lastColumn, fullLine.length + 1) - column);
  // A long line is clipped to a window around the caret, '…' marking what is left out.
  let lineText = fullLine;
  let caret = column - 1;
  if (fullLine.length > FRAME_WIDTH) {
    const start = Math.max(0, Math.min(caret - BEFORE_CARET, fullLine.length - FRAME_WIDTH));
    const stop = start + FRAME_WIDTH;
    lineText = `${start > 0 ? '…' : ''}${fullLine.slice(start, stop)}${stop < fullLine.length ? '…' : ''}`;
    caret = caret - start + (start > 0 ? 1 : 0);
    width = Math.max(1, Math.min(width, stop - (column - 1)));
  }
  return [
    `  ${String(line).padStart(gutter)} | ${lineText}`,
    `  ${' '.repeat(gutter)} | ${' '.repeat(Math.max(0, caret))}${'^'.repeat(width)}`,
  ];
}
