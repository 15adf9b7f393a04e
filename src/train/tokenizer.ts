/**
 * BERT's uncased WordPiece tokenizer (`BertTokenizer` with `do_lower_case`, as in Google's
 * `tokenization.py` and Hugging Face's `BertTokenizer`), from a `vocab.txt` (one token a line, the
 * line number is the id):
 *
 * 1. Basic tokenization: drop NUL, U+FFFD and control characters, turn whitespace into spaces, put
 *    spaces around CJK ideographs, lowercase, strip accents (NFD, then drop combining marks), split
 *    on whitespace and on every punctuation character (ASCII symbols count as punctuation).
 * 2. WordPiece: each word is split greedily into the longest vocabulary entries from the left, the
 *    pieces after the first written with `##`; a word longer than 100 characters, or one that cannot
 *    be split, becomes `[UNK]`.
 * 3. `[CLS]` pieces… `[SEP]`, truncated to the maximum length (the `[SEP]` is kept).
 *
 * Written here rather than taken from npm: the candidates either need a `tokenizer.json` rather than
 * a vocabulary file or are unmaintained, and a dependency would be one more thing to install for
 * about a hundred lines of well-specified code. The tests check ids against bert-base-uncased.
 */
import { readFileSync } from 'node:fs';
import { AdapterError, diagnostic } from '../diagnostics/index.js';

export const MAX_WORD_CHARS = 100;

export interface Encoded {
  /** `[CLS]` pieces `[SEP]`, at most `maxLength` ids. */
  readonly ids: number[];
  /** Whether pieces were dropped to fit `maxLength`. */
  readonly truncated: boolean;
}

export class WordPieceTokenizer {
  readonly vocab: ReadonlyMap<string, number>;
  readonly tokens: readonly string[];
  readonly cls: number;
  readonly sep: number;
  readonly pad: number;
  readonly unk: number;

  /** `tokens[i]` is the token with id i. Needs `[CLS]`, `[SEP]`, `[PAD]` and `[UNK]`. */
  constructor(tokens: readonly string[], file = 'vocabulary') {
    this.tokens = tokens;
    const vocab = new Map<string, number>();
    tokens.forEach((t, i) => {
      if (!vocab.has(t)) vocab.set(t, i);
    });
    this.vocab = vocab;
    const special = (name: string): number => {
      const id = vocab.get(name);
      if (id === undefined) throw new AdapterError([diagnostic('ADP5003', { file, token: name }, { file }, 'use a BERT WordPiece vocab.txt (one token per line, with [PAD], [UNK], [CLS] and [SEP])')]);
      return id;
    };
    this.pad = special('[PAD]');
    this.unk = special('[UNK]');
    this.cls = special('[CLS]');
    this.sep = special('[SEP]');
  }

  /** Reads a `vocab.txt`: one token per line, ids counting from 0 (a trailing newline is not a token). */
  static fromFile(file: string): WordPieceTokenizer {
    let text: string;
    try {
      text = readFileSync(file, 'utf8');
    } catch {
      throw new AdapterError([diagnostic('ADP5001', { path: file, what: 'vocabulary' }, { file }, 'check the path given to --vocab')]);
    }
    const lines = text.split(/\r?\n/);
    if (lines.length > 0 && lines[lines.length - 1] === '') lines.pop();
    return new WordPieceTokenizer(lines, file);
  }

  get size(): number {
    return this.tokens.length;
  }

  /** Step 1: words and punctuation marks, lowercased and without accents. */
  basicTokenize(text: string): string[] {
    const cleaned = tokenizeChineseChars(cleanText(text));
    const words: string[] = [];
    for (const raw of cleaned.split(' ')) {
      if (raw === '') continue;
      const word = stripAccents(raw.toLowerCase());
      words.push(...splitOnPunctuation(word));
    }
    return words;
  }

  /** Step 2 for one word: its WordPiece tokens, or `[UNK]`. */
  wordPiece(word: string): string[] {
    const chars = Array.from(word);
    if (chars.length > MAX_WORD_CHARS) return ['[UNK]'];
    const pieces: string[] = [];
    let start = 0;
    while (start < chars.length) {
      let end = chars.length;
      let found: string | undefined;
      while (start < end) {
        const piece = (start > 0 ? '##' : '') + chars.slice(start, end).join('');
        if (this.vocab.has(piece)) {
          found = piece;
          break;
        }
        end--;
      }
      if (found === undefined) return ['[UNK]'];
      pieces.push(found);
      start = end;
    }
    return pieces;
  }

  /** Steps 1 and 2: the text's WordPiece tokens, without `[CLS]`/`[SEP]`. */
  tokenize(text: string): string[] {
    return this.basicTokenize(text).flatMap((w) => this.wordPiece(w));
  }

  /** Token ids `[CLS]` … `[SEP]`, truncated to `maxLength` (at least 2). */
  encode(text: string, maxLength: number): Encoded {
    const pieces = this.tokenize(text).map((p) => this.vocab.get(p) ?? this.unk);
    const room = Math.max(0, maxLength - 2);
    return { ids: [this.cls, ...pieces.slice(0, room), this.sep], truncated: pieces.length > room };
  }
}

function isWhitespace(c: string): boolean {
  return c === ' ' || c === '\t' || c === '\n' || c === '\r' || /^\p{Zs}$/u.test(c);
}

function isControl(c: string): boolean {
  if (c === '\t' || c === '\n' || c === '\r') return false;
  return /^[\p{Cc}\p{Cf}]$/u.test(c);
}

/** BERT treats every non-alphanumeric ASCII character as punctuation, and Unicode's P* categories. */
function isPunctuation(c: string): boolean {
  const cp = c.codePointAt(0)!;
  if ((cp >= 33 && cp <= 47) || (cp >= 58 && cp <= 64) || (cp >= 91 && cp <= 96) || (cp >= 123 && cp <= 126)) return true;
  return /^\p{P}$/u.test(c);
}

/** The CJK Unified Ideographs blocks BERT splits into single characters (not Hangul or kana). */
function isCjk(cp: number): boolean {
  return (
    (cp >= 0x4e00 && cp <= 0x9fff) ||
    (cp >= 0x3400 && cp <= 0x4dbf) ||
    (cp >= 0x20000 && cp <= 0x2a6df) ||
    (cp >= 0x2a700 && cp <= 0x2b73f) ||
    (cp >= 0x2b740 && cp <= 0x2b81f) ||
    (cp >= 0x2b820 && cp <= 0x2ceaf) ||
    (cp >= 0xf900 && cp <= 0xfaff) ||
    (cp >= 0x2f800 && cp <= 0x2fa1f)
  );
}

function cleanText(text: string): string {
  let out = '';
  for (const c of text) {
    const cp = c.codePointAt(0)!;
    if (cp === 0 || cp === 0xfffd || isControl(c)) continue;
    out += isWhitespace(c) ? ' ' : c;
  }
  return out;
}

function tokenizeChineseChars(text: string): string {
  let out = '';
  for (const c of text) out += isCjk(c.codePointAt(0)!) ? ` ${c} ` : c;
  return out;
}

function stripAccents(word: string): string {
  return word.normalize('NFD').replace(/\p{Mn}/gu, '');
}

function splitOnPunctuation(word: string): string[] {
  const out: string[] = [];
  let current = '';
  for (const c of word) {
    if (isPunctuation(c)) {
      if (current !== '') out.push(current);
      out.push(c);
      current = '';
    } else current += c;
  }
  if (current !== '') out.push(current);
  return out;
}
