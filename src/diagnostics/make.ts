import { catalogue, type DiagnosticCode, type MessageArgs } from './catalogue.js';
import type { Diagnostic, SourceSpan } from './diagnostic.js';

/** Where a diagnostic points: a span in a text file, or just a file (a model, a folder). */
export type Location = { readonly span: SourceSpan } | { readonly file: string } | undefined;

/** Builds a diagnostic from the catalogue entry `code`. */
export function diagnostic<C extends DiagnosticCode>(
  code: C,
  args: MessageArgs<C>,
  location?: Location,
  hint?: string,
): Diagnostic {
  const entry = catalogue[code] as { severity: Diagnostic['severity']; message: (a: MessageArgs<C>) => string };
  const where =
    location === undefined ? {} : 'span' in location ? { file: location.span.file, span: location.span } : { file: location.file };
  return { code, severity: entry.severity, message: entry.message(args), ...where, ...(hint === undefined ? {} : { hint }) };
}
