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

function codeFrame(text: string, line: number, column: number, end: { line: number; column: number }): string[] {
  const sourceLines = text.split(/\r?\n/);
  const lineText = (sourceLines[line - 1] ?? '').replace(/\t/g, ' ');
  const gutter = String(line).length;
  // Underline to the end of the span on this line (at least one caret).
  const lastColumn = end.line === line ? end.column : lineText.length + 1;
  const width = Math.max(1, Math.min(lastColumn, lineText.length + 1) - column);
  return [
    `  ${String(line).padStart(gutter)} | ${lineText}`,
    `  ${' '.repeat(gutter)} | ${' '.repeat(Math.max(0, column - 1))}${'^'.repeat(width)}`,
  ];
}
