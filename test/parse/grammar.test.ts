/** grammar/adp.ebnf and the Chevrotain parser describe the same language. */
import { readFileSync } from 'node:fs';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { parserRuleNames, syntaxDiagramsHtml } from '../../src/parse/diagrams.js';
import { keywordOf, keywordTokens, allTokens } from '../../src/parse/tokens.js';
import { Lexer } from '../../src/parse/chevrotain.js';
import { AdpParser } from '../../src/parse/parser.js';
import { syntaxErrorMessages } from '../../src/parse/syntax-errors.js';

const grammarDir = path.resolve(__dirname, '../../grammar');
const ebnf = readFileSync(path.join(grammarDir, 'adp.ebnf'), 'utf8');
/** The EBNF without its comments. */
const rules = ebnf.replace(/\(\*[\s\S]*?\*\)/g, '');

describe('grammar/adp.ebnf', () => {
  it('defines exactly the parser rules', () => {
    const defined = [...rules.matchAll(/^([a-zA-Z]+)\s*=/gm)].map((m) => m[1]!);
    expect(new Set(defined).size).toBe(defined.length);
    expect([...defined].sort()).toEqual([...parserRuleNames()].sort());
  });

  it('uses only rules it defines', () => {
    const defined = new Set([...rules.matchAll(/^([a-zA-Z]+)\s*=/gm)].map((m) => m[1]!));
    const terminals = new Set(['NAME', 'IDENTIFIER', 'INTEGER', 'NUMBER', 'STRING']);
    const bodies = rules.replace(/"[^"]*"|'[^']*'|\?[^?]*\?/g, ' ').replace(/^([a-zA-Z]+)\s*=/gm, ' ');
    for (const [word] of bodies.matchAll(/[A-Za-z]+/g)) {
      expect(defined.has(word) || terminals.has(word), `${word} is used but not defined`).toBe(true);
    }
  });

  it('quotes exactly the keyword tokens', () => {
    const quotedWords = new Set([...rules.matchAll(/"([a-z_][a-z0-9_]*)"/g)].map((m) => m[1]!));
    expect([...quotedWords].sort()).toEqual(keywordTokens.map((t) => keywordOf(t)!).sort());
  });
});

describe('grammar/adp-diagrams.html', () => {
  it('is current (regenerate with `npm run grammar:diagrams`)', () => {
    expect(readFileSync(path.join(grammarDir, 'adp-diagrams.html'), 'utf8')).toBe(syntaxDiagramsHtml());
  });
});

describe("Chevrotain's own checks, which parsing skips (start-up time)", () => {
  it('the tokens: no pattern that cannot match, no duplicates', () => {
    const lexer = new Lexer([...allTokens], { positionTracking: 'full', ensureOptimizations: false, deferDefinitionErrorsHandling: true });
    expect(lexer.lexerDefinitionErrors).toEqual([]);
  });

  it('the grammar: no ambiguity, no left recursion (the analysis throws on any)', () => {
    expect(() => new AdpParser(syntaxErrorMessages, true)).not.toThrow();
  });
});
