/**
 * Every token of the .adp language, in one list. Keywords are their own token types (so the parser
 * and its syntax diagrams name them), and every keyword also belongs to the `Name` category so that
 * option names and values such as `no_decay (bias, layernorm)` may reuse a keyword's spelling.
 */
import type { TokenType } from 'chevrotain';
import { createToken, Lexer } from './chevrotain.js';

// Categories (never matched directly).
export const Name = createToken({ name: 'Name', pattern: Lexer.NA, label: 'a name' });
export const NumberLiteral = createToken({ name: 'NumberLiteral', pattern: Lexer.NA, label: 'a number' });
/** Every token that cannot start a statement: what an unknown statement may run on with. */
export const NotStatementStart = createToken({ name: 'NotStatementStart', pattern: Lexer.NA, label: 'anything but a statement' });

export const WhiteSpace = createToken({ name: 'WhiteSpace', pattern: /[ \t\r\n]+/, group: Lexer.SKIPPED });
export const Comment = createToken({ name: 'Comment', pattern: /#[^\n\r]*/, group: 'comments' });

export const Identifier = createToken({
  name: 'Identifier',
  pattern: /[A-Za-z_][A-Za-z0-9_]*/,
  categories: [Name, NotStatementStart],
  label: 'a name',
});

const statementKeywords = new Set(['import', 'use', 'override', 'adapter', 'place', 'train', 'target', 'seed']);

function keyword(word: string): TokenType {
  return createToken({
    name: keywordTokenName(word),
    pattern: new RegExp(word),
    longer_alt: Identifier,
    categories: statementKeywords.has(word) ? [Name] : [Name, NotStatementStart],
    label: `'${word}'`,
  });
}

export function keywordTokenName(word: string): string {
  return `Kw_${word}`;
}

// Statement keywords.
export const Import = keyword('import');
export const Use = keyword('use');
export const Override = keyword('override');
export const Adapter = keyword('adapter');
export const Place = keyword('place');
export const After = keyword('after');
export const On = keyword('on');
export const In = keyword('in');
export const Layers = keyword('layers');
export const Layer = keyword('layer');
export const All = keyword('all');
export const Except = keyword('except');
export const Train = keyword('train');
export const Target = keyword('target');
export const Seed = keyword('seed');
// Adapter settings.
export const Size = keyword('size');
export const Reduction = keyword('reduction');
export const Activation = keyword('activation');
export const Init = keyword('init');
export const LayerNorm = keyword('layernorm');
export const HiddenLayers = keyword('hidden_layers');
export const Parallel = keyword('parallel');
export const Lora = keyword('lora');
export const Ia3 = keyword('ia3');
// Train settings.
export const Trainable = keyword('trainable');
export const Head = keyword('head');
export const Loss = keyword('loss');
export const Optimizer = keyword('optimizer');
export const Schedule = keyword('schedule');

// Numbers carry their sign so that `-1..-3` and `-6` lex as single numbers. A float needs digits on
// both sides of the dot, which keeps the range operator in `6..11` intact.
export const FloatLiteral = createToken({
  name: 'FloatLiteral',
  pattern: /-?(?:\d+\.\d+(?:[eE][+-]?\d+)?|\d+[eE][+-]?\d+)/,
  categories: [NumberLiteral, NotStatementStart],
  label: 'a number',
});
export const IntegerLiteral = createToken({ name: 'IntegerLiteral', pattern: /-?\d+/, categories: [NumberLiteral, NotStatementStart], label: 'an integer' });
export const StringLiteral = createToken({ name: 'StringLiteral', pattern: /"[^"\n\r]*"/, categories: [NotStatementStart], label: 'a quoted string' });
/** Never accepted by the parser: lexed only so that a missing closing quote gets its own message. */
export const UnterminatedString = createToken({ name: 'UnterminatedString', pattern: /"[^"\n\r]*/, label: 'an unterminated string' });

export const DotDot = createToken({ name: 'DotDot', pattern: /\.\./, categories: [NotStatementStart], label: "'..'" });
export const Percent = createToken({ name: 'Percent', pattern: /%/, categories: [NotStatementStart], label: "'%'" });
export const Comma = createToken({ name: 'Comma', pattern: /,/, categories: [NotStatementStart], label: "','" });
export const LBrace = createToken({ name: 'LBrace', pattern: /\{/, categories: [NotStatementStart], label: "'{'" });
export const RBrace = createToken({ name: 'RBrace', pattern: /\}/, categories: [NotStatementStart], label: "'}'" });
export const LParen = createToken({ name: 'LParen', pattern: /\(/, categories: [NotStatementStart], label: "'('" });
export const RParen = createToken({ name: 'RParen', pattern: /\)/, categories: [NotStatementStart], label: "')'" });

export const keywordTokens: readonly TokenType[] = [
  Import, Use, Override, Adapter, Place, After, On, In, Layers, Layer, All, Except, Train, Target, Seed,
  Size, Reduction, Activation, Init, LayerNorm, HiddenLayers, Parallel, Lora, Ia3, Trainable, Head, Loss, Optimizer, Schedule,
];

/**
 * Order matters where patterns overlap: longer keywords before their prefixes (`init` before `in`),
 * keywords before Identifier, floats before integers.
 */
export const allTokens: readonly TokenType[] = [
  WhiteSpace,
  Comment,
  ...[...keywordTokens].sort((a, b) => (keywordOf(b)?.length ?? 0) - (keywordOf(a)?.length ?? 0)),
  Identifier,
  FloatLiteral,
  IntegerLiteral,
  StringLiteral,
  UnterminatedString,
  DotDot,
  Percent,
  Comma,
  LBrace,
  RBrace,
  LParen,
  RParen,
  Name,
  NumberLiteral,
  NotStatementStart,
];

/** The keyword a token type stands for, e.g. 'place'; undefined for other tokens. */
export function keywordOf(type: TokenType): string | undefined {
  return type.name.startsWith('Kw_') ? type.name.slice(3) : undefined;
}

/**
 * The lexer. Chevrotain's checks of the token definitions (patterns that can never match, duplicates,
 * a tenth of every start-up) are skipped here; test/parse/grammar.test.ts runs them on these tokens.
 */
export const adpLexer = new Lexer([...allTokens], { positionTracking: 'full', ensureOptimizations: false, skipValidations: true });
