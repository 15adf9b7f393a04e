/**
 * Writes grammar/adp-diagrams.html, Chevrotain's railroad diagrams of the parser's grammar.
 * Run with `npm run grammar:diagrams` after changing src/parse/parser.ts; a test checks the file
 * is current.
 */
import { writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { syntaxDiagramsHtml } from '../src/parse/diagrams.js';

const target = fileURLToPath(new URL('../grammar/adp-diagrams.html', import.meta.url));
writeFileSync(target, syntaxDiagramsHtml());
console.log(`wrote ${target}`);
