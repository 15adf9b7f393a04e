/**
 * BERT's uncased WordPiece tokenizer against bert-base-uncased's own ids (read off its vocab.txt:
 * id = line number − 1), and its rules on a small vocabulary that needs no shared files.
 */
import { describe, expect, it } from 'vitest';
import { WordPieceTokenizer } from '../../src/train/tokenizer.js';
import { missing, vocabFile } from './paths.js';

const skip = missing(vocabFile);
if (skip) console.log(`tokenizer against bert-base-uncased: ${skip}`);

describe.skipIf(skip !== undefined)('WordPiece with bert-base-uncased', () => {
  const tokenizer = skip ? undefined! : WordPieceTokenizer.fromFile(vocabFile);
  const ids = (text: string, max = 128) => tokenizer.encode(text, max).ids;

  it('reads the 30,522 tokens and the special ids', () => {
    expect(tokenizer.size).toBe(30522);
    expect([tokenizer.pad, tokenizer.unk, tokenizer.cls, tokenizer.sep]).toEqual([0, 100, 101, 102]);
  });

  it.each([
    ['hello world', [101, 7592, 2088, 102]],
    ['Hello, World!', [101, 7592, 1010, 2088, 999, 102]],
    // Greedy longest match from the left: with this vocabulary, "una" is the longest known prefix
    // (Google's README shows un ##aff ##able for a toy vocabulary; bert-base-uncased gives this).
    ['unaffable', [101, 14477, 20961, 3468, 102]],
    ['embeddings', [101, 7861, 8270, 4667, 2015, 102]],
    ['strawberries', [101, 13137, 20968, 102]],
    ["isn't", [101, 3475, 1005, 1056, 102]],
    ['Café NAÏVE', [101, 7668, 15743, 102]], // lowercased, accents stripped
    ['中国', [101, 1746, 1799, 102]], // CJK ideographs are tokens of their own
    ['hugging\tface\u0000 \u00a0', [101, 17662, 2227, 102]], // tabs and no-break spaces split, NUL dropped
    ['jim henson was a puppeteer', [101, 3958, 27227, 2001, 1037, 13997, 11510, 102]],
    ['$5 co-op', [101, 1002, 1019, 2522, 1011, 6728, 102]],
    ['☃', [101, 100, 102]], // no piece covers it
    [`${'x'.repeat(101)} x`, [101, 100, 1060, 102]], // longer than 100 characters
  ])('%j → %j', (text, expected) => {
    expect(ids(text)).toEqual(expected);
  });

  it('writes pieces after the first with ##', () => {
    expect(tokenizer.tokenize('unaffable embeddings')).toEqual(['una', '##ffa', '##ble', 'em', '##bed', '##ding', '##s']);
  });

  it('truncates to the maximum length, keeping [CLS] and [SEP]', () => {
    expect(tokenizer.encode('hello world', 3)).toEqual({ ids: [101, 7592, 102], truncated: true });
    expect(tokenizer.encode('hello world', 4)).toEqual({ ids: [101, 7592, 2088, 102], truncated: false });
  });
});

describe('WordPiece rules on a small vocabulary', () => {
  const tokenizer = new WordPieceTokenizer(['[PAD]', '[UNK]', '[CLS]', '[SEP]', 'un', '##aff', '##able', 'runn', '##ing', ',', 'a']);

  it('splits greedily, longest first', () => {
    expect(tokenizer.tokenize('unaffable, running')).toEqual(['un', '##aff', '##able', ',', 'runn', '##ing']);
    expect(tokenizer.encode('unaffable', 10).ids).toEqual([2, 4, 5, 6, 3]);
  });

  it('maps a word with an unknown piece to [UNK] as a whole', () => {
    expect(tokenizer.tokenize('unaffablex a')).toEqual(['[UNK]', 'a']);
  });

  it('refuses a vocabulary without the special tokens', () => {
    expect(() => new WordPieceTokenizer(['[PAD]', '[UNK]', 'a'], 'tiny.txt')).toThrow(/ADP5003|\[CLS\]/);
  });
});
