/**
 * The data every stage reports problems with. A diagnostic is one sentence with a stable code from
 * the catalogue, an optional place in a source file, and an optional hint that says how to fix it.
 */
import type { DiagnosticCode } from './catalogue.js';

/** A 1-based line and column plus the 0-based character offset they stand for. */
export interface SourcePosition {
  readonly offset: number;
  readonly line: number;
  readonly column: number;
}

/** A range of characters in one file; `end` is exclusive. */
export interface SourceSpan {
  readonly file: string;
  readonly start: SourcePosition;
  readonly end: SourcePosition;
}

export type Severity = 'error' | 'warning';

export interface Diagnostic {
  readonly code: DiagnosticCode;
  readonly severity: Severity;
  /** One sentence, ending with a full stop. */
  readonly message: string;
  /** The file the problem is in, when there is one (a spec, a model, an output folder). */
  readonly file?: string;
  /** Where in `file`, for text files. */
  readonly span?: SourceSpan;
  /** How to fix it, e.g. "did you mean 'activation'?". */
  readonly hint?: string;
}

/** Thrown by any stage for bad user input; the CLI renders its diagnostics and exits with 1. */
export class AdapterError extends Error {
  readonly diagnostics: readonly Diagnostic[];
  /** Texts of the files the diagnostics point into, for code frames. */
  readonly sources: ReadonlyMap<string, string>;

  /** `cause`: the system error behind it, where there is one (its `code`, e.g. ENOSPC, tells callers what happened). */
  constructor(diagnostics: readonly Diagnostic[], sources: ReadonlyMap<string, string> = new Map(), cause?: unknown) {
    super(diagnostics.map((d) => `${d.code}: ${d.message}`).join('\n'), cause === undefined ? undefined : { cause });
    this.name = 'AdapterError';
    this.diagnostics = diagnostics;
    this.sources = sources;
  }
}

export function hasErrors(diagnostics: readonly Diagnostic[]): boolean {
  return diagnostics.some((d) => d.severity === 'error');
}

/** Throws when `diagnostics` holds an error; returns normally otherwise. */
export function throwIfErrors(diagnostics: readonly Diagnostic[], sources?: ReadonlyMap<string, string>): void {
  if (hasErrors(diagnostics)) throw new AdapterError(diagnostics, sources);
}
