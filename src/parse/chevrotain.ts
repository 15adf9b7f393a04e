/**
 * Chevrotain, loaded from the single-file build its package ships. The package's entry point
 * imports lodash-es one module at a time (about 640 files): 240 ms of every `adapterc` start-up,
 * a fifth of a BERT-base compile, against 13 ms for `lib/chevrotain.mjs`, the same release
 * bundled. The package's exports map names only the entry point, so the bundle is found beside it.
 * Types still come from the package (`import type ... from 'chevrotain'`).
 */
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import * as path from 'node:path';
import { pathToFileURL } from 'node:url';
import type * as Chevrotain from 'chevrotain';

/** `lib/src/api.js` → `lib/chevrotain.mjs`; the entry point itself if a release stops shipping the bundle. */
function bundleUrl(): string {
  const entry = createRequire(import.meta.url).resolve('chevrotain');
  const bundle = path.join(path.dirname(entry), '..', 'chevrotain.mjs');
  return existsSync(bundle) ? pathToFileURL(bundle).href : pathToFileURL(entry).href;
}

const chevrotain = (await import(bundleUrl())) as typeof Chevrotain;

export const { createToken, createSyntaxDiagramsCode, CstParser, EOF, Lexer } = chevrotain;
