/**
 * Turns Chevrotain's recognition errors into sentences: "Expected <what>, but found <what>." with
 * a "did you mean" when the offending word is close to a keyword that fits there.
 *
 * Chevrotain only lets a message provider return a string, so the provider returns a small JSON
 * record that `parse.ts` decodes into a diagnostic.
 */
import type { IParserErrorMessageProvider, IToken, TokenType } from 'chevrotain';
import { EOF } from './chevrotain.js';
import { closestMatch } from '../diagnostics/suggest.js';
import { ruleDescriptions } from './parser.js';
import * as T from './tokens.js';

export interface SyntaxProblem {
  /** Set when the parser stopped at the top level, expecting a statement. */
  readonly atTopLevel?: boolean;
  readonly expected: string;
  readonly found: string;
  readonly hint?: string;
}

/** Keywords that may start a statement, an adapter setting and a train setting. */
export const statementKeywords = ['import', 'use', 'override', 'adapter', 'place', 'train', 'target', 'seed'];
export const adapterSettingKeywords = ['size', 'reduction', 'activation', 'init', 'layernorm', 'hidden_layers', 'parallel', 'lora', 'ia3'];
export const trainSettingKeywords = ['trainable', 'head', 'loss', 'optimizer', 'schedule'];

/** A closing brace is expected when a block's settings end: say what else could have come. */
const blockContexts: Readonly<Record<string, { description: string; keywords: readonly string[] }>> = {
  adapterDeclaration: { description: ruleDescriptions.adapterSetting!, keywords: adapterSettingKeywords },
  trainBlock: { description: ruleDescriptions.trainSetting!, keywords: trainSettingKeywords },
};

export function describeToken(token: IToken): string {
  if (token.tokenType === EOF) return 'the end of the file';
  return `'${token.image}'`;
}

function label(type: TokenType): string {
  return type.LABEL ?? type.name;
}

function didYouMean(token: IToken, keywords: readonly string[]): string | undefined {
  if (token.tokenType === EOF || !/^[A-Za-z_]/.test(token.image)) return undefined;
  const match = closestMatch(token.image, keywords);
  return match !== undefined && match !== token.image ? `did you mean '${match}'?` : undefined;
}

function encode(problem: SyntaxProblem): string {
  return JSON.stringify(problem);
}

export function decodeSyntaxProblem(message: string): SyntaxProblem {
  try {
    return JSON.parse(message) as SyntaxProblem;
  } catch {
    // A message Chevrotain built itself (should not happen); keep it readable anyway.
    return { expected: 'valid syntax', found: message };
  }
}

function mismatchHint(expected: TokenType, actual: IToken): string | undefined {
  const keyword = T.keywordOf(expected);
  if (keyword !== undefined) return didYouMean(actual, [keyword]);
  if (expected === T.IntegerLiteral && actual.tokenType === T.FloatLiteral) return 'write a whole number';
  if (expected === T.StringLiteral && actual.tokenType !== EOF) return `file paths are quoted, e.g. "base.adp"`;
  if (expected === T.Identifier && T.keywordOf(actual.tokenType) !== undefined) {
    return `'${actual.image}' is a keyword; choose another name`;
  }
  return undefined;
}

export const syntaxErrorMessages: IParserErrorMessageProvider = {
  buildMismatchTokenMessage({ expected, actual, previous, ruleName }) {
    const block = blockContexts[ruleName];
    if (block && expected === T.RBrace) {
      const hint = didYouMean(actual, block.keywords);
      return encode({ expected: block.description, found: describeToken(actual), ...(hint ? { hint } : {}) });
    }
    if (expected === EOF) {
      const hint = didYouMean(actual, statementKeywords);
      return encode({ atTopLevel: true, expected: ruleDescriptions.statement!, found: describeToken(actual), ...(hint ? { hint } : {}) });
    }
    const after = previous && previous.tokenType !== EOF && previous.image ? ` after '${previous.image}'` : '';
    const hint = mismatchHint(expected, actual);
    return encode({ expected: `${label(expected)}${after}`, found: describeToken(actual), ...(hint ? { hint } : {}) });
  },

  buildNotAllInputParsedMessage({ firstRedundant }) {
    const hint = didYouMean(firstRedundant, statementKeywords);
    return encode({ atTopLevel: true, expected: ruleDescriptions.statement!, found: describeToken(firstRedundant), ...(hint ? { hint } : {}) });
  },

  buildNoViableAltMessage({ expectedPathsPerAlt, actual, previous, ruleName }) {
    const first = actual[0]!;
    const starts = expectedPathsPerAlt.flatMap((alt) => alt.map((path) => path[0])).filter((t): t is TokenType => t !== undefined);
    const keywords = starts.map(T.keywordOf).filter((k): k is string => k !== undefined);
    const description = ruleDescriptions[ruleName] ?? [...new Set(starts.map(label))].join(' or ');
    const after = previous && previous.tokenType !== EOF && previous.image ? ` after '${previous.image}'` : '';
    const hint = didYouMean(first, keywords);
    return encode({ expected: `${description}${after}`, found: describeToken(first), ...(hint ? { hint } : {}) });
  },

  buildEarlyExitMessage({ expectedIterationPaths, actual }) {
    const first = actual[0]!;
    const starts = [...new Set(expectedIterationPaths.map((p) => p[0]).filter((t): t is TokenType => t !== undefined).map(label))];
    return encode({ expected: starts.join(' or '), found: describeToken(first) });
  },
};
