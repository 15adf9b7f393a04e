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

export function renderDiagnostic(d: Diagnostic, sources: SourceTexts = new Map()): string {
  const place = d.span ? `${d.span.file}:${d.span.start.line}:${d.span.start.column}` : d.file;
  const head = `${place === undefined ? '' : `${place} - `}${d.severity} ${d.code}: ${d.message}`;
  const lines = [head];
  const text = d.span ? sources.get(d.span.file) : undefined;
  if (d.span && text !== undefined) lines.push('', ...codeFrame(text, d.span.start.line, d.span.start.column, d.span.end));
  if (d.hint) lines.push(`  help: ${d.hint}`);
  return lines.join('\n');
}

export function renderDiagnostics(ds: readonly Diagnostic[], sources: SourceTexts = new Map()): string {
  return ds.map((d) => renderDiagnostic(d, sources)).join('\n\n');
}

/** A frame shows at most this many characters of the line, a window around the caret, as tsc does. */
export const FRAME_WIDTH = 100;
/** Characters kept before the caret when the line is clipped. */
const BEFORE_CARET = 40;

function codeFrame(text: string, line: number, column: number, end: { line: number; column: number }): string[] {
  const sourceLines = text.split(/\r?\n/);
  const fullLine = (sourceLines[line - 1] ?? '').replace(/\t/g, ' ');
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
