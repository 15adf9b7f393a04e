/** The parser's grammar as Chevrotain syntax diagrams (an HTML page). */
import { createSyntaxDiagramsCode } from './chevrotain.js';
import { AdpParser } from './parser.js';
import { syntaxErrorMessages } from './syntax-errors.js';

export function syntaxDiagramsHtml(): string {
  const parser = new AdpParser(syntaxErrorMessages);
  return createSyntaxDiagramsCode(parser.getSerializedGastProductions(), { resourceBase: 'https://unpkg.com/chevrotain@11.2.0/diagrams/' });
}

/** Rule names of the parser, for keeping grammar/adp.ebnf in step. */
export function parserRuleNames(): string[] {
  return Object.keys(new AdpParser(syntaxErrorMessages).getGAstProductions());
}
