/**
 * A task a tiny synthetic BERT learns in a few steps, with a made-up vocabulary (no shared files):
 * the label says whether a sentence's adjective is a positive or a negative one. Shared by the
 * train and predict tests.
 */
import { writeFileSync } from 'node:fs';
import * as path from 'node:path';

const WORDS = ['good', 'great', 'fun', 'bad', 'dull', 'awful', 'the', 'film', 'is', 'a', 'movie', 'very', 'not'];

/** `count` labelled sentences, labels alternating from `offset`. */
export function sentences(count: number, offset: number): [number, string][] {
  return Array.from({ length: count }, (_, i) => {
    const label = (i + offset) % 2;
    const word = label === 1 ? ['good', 'great', 'fun'][i % 3]! : ['bad', 'dull', 'awful'][i % 3]!;
    return [label, `the ${['film', 'movie'][i % 2]} is ${i % 4 === 0 ? 'very ' : ''}${word} .`];
  });
}

export interface TinyTaskFiles {
  readonly vocab: string;
  readonly trainTsv: string;
  readonly devTsv: string;
  /** Regression targets (JSONL). */
  readonly scores: string;
}

/** Writes the vocabulary (512 tokens, the tiny model's table: the specials, the words, filler) and the data into `dir`. */
export function writeTinyTask(dir: string): TinyTaskFiles {
  const files = { vocab: path.join(dir, 'vocab.txt'), trainTsv: path.join(dir, 'train.tsv'), devTsv: path.join(dir, 'dev.tsv'), scores: path.join(dir, 'scores.jsonl') };
  const tokens = ['[PAD]', '[UNK]', '[CLS]', '[SEP]', '[MASK]', '.', ...WORDS];
  while (tokens.length < 512) tokens.push(`tok${tokens.length}`);
  writeFileSync(files.vocab, `${tokens.join('\n')}\n`);
  writeFileSync(files.trainTsv, `label\tsentence\n${sentences(48, 0).map(([l, s]) => `${l}\t${s}`).join('\n')}\n`);
  writeFileSync(files.devTsv, `${sentences(16, 1).map(([l, s]) => `${l}\t${s}`).join('\n')}\n`);
  writeFileSync(files.scores, sentences(40, 0).map(([l, s], i) => JSON.stringify({ label: l * 4 + (i % 3) * 0.25, text: s })).join('\n'));
  return files;
}
