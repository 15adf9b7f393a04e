/**
 * parse: the first stage. Text in, a syntax tree and every syntax error out (never an exception for
 * bad input). Chevrotain recovers inside statements; when it gives up on a statement, parsing
 * resumes at the next statement keyword, so one run reports all the errors it can.
 */
import type { IRecognitionException, IToken } from 'chevrotain';
import { diagnostic, type Diagnostic } from '../diagnostics/index.js';
import type * as A from './ast.js';
import { AstBuilder } from './cst-to-ast.js';
import { AdpParser } from './parser.js';
import { decodeSyntaxProblem } from './syntax-errors.js';
import { syntaxErrorMessages } from './syntax-errors.js';
import * as T from './tokens.js';

export interface ParseResult {
  readonly spec: A.SpecFile;
  readonly diagnostics: readonly Diagnostic[];
}

/** One parser instance is reused: building it analyses the grammar, which takes milliseconds. */
let sharedParser: AdpParser | undefined;
function parser(): AdpParser {
  sharedParser ??= new AdpParser(syntaxErrorMessages);
  return sharedParser;
}

const statementStarts = new Set([T.Import, T.Use, T.Override, T.Adapter, T.Place, T.Train, T.Target, T.Seed]);

/**
 * How deep brackets may nest. The grammar recurses once per bracket (and so do the syntax tree's
 * builder and the printer), so without a bound a few thousand '(' overflow the call stack; real
 * specs nest two or three deep.
 */
export const MAX_NESTING = 32;

export function parseSpec(text: string, file: string): ParseResult {
  const builder = new AstBuilder(file);
  const diagnostics: Diagnostic[] = [];

  // A UTF-8 byte-order mark (which some Windows editors write) is not part of the text. It is
  // lexed as whitespace rather than cut off, so that offsets still count from the file's start.
  const lexed = T.adpLexer.tokenize(text.startsWith('\uFEFF') ? ` ${text.slice(1)}` : text);
  for (const e of lexed.errors) {
    const line = e.line ?? 1;
    const column = e.column ?? 1;
    const span = {
      file,
      start: { offset: e.offset, line, column },
      end: { offset: e.offset + e.length, line, column: column + e.length },
    };
    diagnostics.push(diagnostic('ADP1001', { text: text.slice(e.offset, e.offset + e.length) }, { span }, 'remove it; comments start with #'));
  }
  const tokens: IToken[] = [];
  for (const t of lexed.tokens) {
    if (t.tokenType === T.UnterminatedString) {
      diagnostics.push(diagnostic('ADP1005', {}, { span: builder.tokenSpan(t) }, 'close the string with a double quote on the same line'));
      // Parse on as if it were closed, so the statement it belongs to raises no second error.
      t.tokenType = T.StringLiteral;
      t.tokenTypeIdx = T.StringLiteral.tokenTypeIdx!;
      t.image += '"';
    }
    tokens.push(t);
  }
  const comments: A.CommentToken[] = (lexed.groups['comments'] ?? []).map((t) => ({ text: t.image.trimEnd(), span: builder.tokenSpan(t) }));

  const tooDeep = firstTooDeep(tokens);
  if (tooDeep !== undefined) {
    // Nothing is parsed: a partial syntax tree would only add errors that follow from this one.
    diagnostics.push(diagnostic('ADP1006', { limit: MAX_NESTING }, { span: builder.tokenSpan(tooDeep) }, 'close the brackets before it; values nest at most a few levels, e.g. betas (0.9, 0.999)'));
    return { spec: { file, text, statements: [], comments }, diagnostics: dedupe(diagnostics) };
  }

  const statements: A.Statement[] = [];
  const p = parser();
  let start = 0;
  while (start < tokens.length) {
    p.input = tokens.slice(start);
    const cst = p.spec();
    statements.push(...builder.statements(cst));
    let resumeAt = tokens.length;
    for (const error of p.errors) {
      diagnostics.push(syntaxDiagnostic(error, builder, file, tokens));
      if (error.name === 'NotAllInputParsedException') {
        // Skip the offending token and anything up to the next statement keyword.
        const failedAt = tokens.indexOf(error.token);
        let next = failedAt + 1;
        while (next < tokens.length && !statementStarts.has(tokens[next]!.tokenType)) next++;
        resumeAt = failedAt < 0 ? tokens.length : next;
      }
    }
    start = resumeAt;
  }

  diagnostics.push(...builder.diagnostics);
  return { spec: { file, text, statements, comments }, diagnostics: dedupe(diagnostics) };
}

/** The first bracket that opens beyond MAX_NESTING levels, if any. */
function firstTooDeep(tokens: readonly IToken[]): IToken | undefined {
  let depth = 0;
  for (const t of tokens) {
    if (t.tokenType === T.LParen || t.tokenType === T.LBrace) {
      depth++;
      if (depth > MAX_NESTING) return t;
    } else if ((t.tokenType === T.RParen || t.tokenType === T.RBrace) && depth > 0) depth--;
  }
  return undefined;
}

function syntaxDiagnostic(error: IRecognitionException, builder: AstBuilder, file: string, tokens: readonly IToken[]): Diagnostic {
  const problem = decodeSyntaxProblem(error.message);
  const atEnd = Number.isNaN(error.token.startOffset);
  // At the end of input, point just past the last token.
  const last = tokens[tokens.length - 1];
  const span = atEnd
    ? last
      ? { ...builder.tokenSpan(last), start: builder.tokenSpan(last).end }
      : { file, start: { offset: 0, line: 1, column: 1 }, end: { offset: 0, line: 1, column: 1 } }
    : builder.tokenSpan(error.token);
  const code = problem.atTopLevel ? 'ADP1003' : 'ADP1002';
  return code === 'ADP1003'
    ? diagnostic('ADP1003', { found: problem.found }, { span }, problem.hint ?? 'expected a statement (import, use, adapter, place, train, target or seed)')
    : diagnostic('ADP1002', { expected: problem.expected, found: problem.found }, { span }, problem.hint);
}

/** Recovery can report the same place twice; keep the first message per position. */
function dedupe(diagnostics: Diagnostic[]): Diagnostic[] {
  const seen = new Set<string>();
  return diagnostics
    .filter((d) => {
      const key = `${d.span?.start.offset}:${d.code}`;
      if (seen.has(key)) return false;
      seen.add(key);
      return true;
    })
    .sort((a, b) => (a.span?.start.offset ?? 0) - (b.span?.start.offset ?? 0));
}
