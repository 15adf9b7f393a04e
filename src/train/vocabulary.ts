/**
 * The tokenizer for a model: `--vocab` names a BERT WordPiece vocab.txt, or a Hugging Face model or
 * tokenizer folder holding one (vocab.txt, else tokenizer.json's WordPiece vocabulary, the file
 * `tokenizers` saves; its ids are the token order).
 */
import { existsSync, readFileSync, statSync } from 'node:fs';
import * as path from 'node:path';
import { AdapterError, diagnostic } from '../diagnostics/index.js';
import { WordPieceTokenizer } from './tokenizer.js';

export function loadTokenizer(given: string): WordPieceTokenizer {
  if (existsSync(given) && statSync(given).isDirectory()) {
    const vocab = path.join(given, 'vocab.txt');
    if (existsSync(vocab)) return WordPieceTokenizer.fromFile(vocab);
    const json = path.join(given, 'tokenizer.json');
    if (existsSync(json)) return fromTokenizerJson(json);
    throw new AdapterError([diagnostic('ADP5001', { path: given, what: 'vocabulary' }, { file: given }, 'give a vocab.txt, or the model folder holding vocab.txt or tokenizer.json')]);
  }
  if (path.basename(given) === 'tokenizer.json') return fromTokenizerJson(given);
  return WordPieceTokenizer.fromFile(given);
}

function fromTokenizerJson(file: string): WordPieceTokenizer {
  let json: { model?: { type?: unknown; vocab?: unknown } };
  try {
    json = JSON.parse(readFileSync(file, 'utf8')) as typeof json;
  } catch {
    throw new AdapterError([diagnostic('ADP5001', { path: file, what: 'vocabulary' }, { file }, 'give a vocab.txt, or a tokenizer.json that tokenizers saved')]);
  }
  const vocab = json.model?.vocab;
  if (json.model?.type !== 'WordPiece' || typeof vocab !== 'object' || vocab === null || Array.isArray(vocab)) {
    throw new AdapterError([diagnostic('ADP5102', { file, reason: `its model is ${String(json.model?.type ?? 'missing')}, not WordPiece` }, { file }, "adapterc tokenizes with BERT's WordPiece: give the model's vocab.txt")]);
  }
  const tokens: string[] = [];
  for (const [token, id] of Object.entries(vocab as Record<string, unknown>)) if (typeof id === 'number' && Number.isInteger(id) && id >= 0) tokens[id] = token;
  // Ids without a token (gaps) become tokens no text produces.
  return new WordPieceTokenizer(Array.from(tokens, (t, i) => t ?? `[unused-id-${i}]`), file);
}
