/** Where the shared data lives, and a skip reason when it is absent (CI copies ../shared beside the clone). */
import { existsSync } from 'node:fs';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
export const shared = path.resolve(root, '..', 'shared');
export const vocabFile = path.join(shared, 'data', 'vocab', 'bert-base-uncased.txt');
export const sst2 = (split: 'train' | 'dev' | 'test') => path.join(shared, 'data', 'sst2', `${split}.tsv`);

/** undefined when the files exist; otherwise the reason to print when skipping. */
export function missing(...files: string[]): string | undefined {
  const absent = files.filter((f) => !existsSync(f));
  return absent.length === 0 ? undefined : `skipped: ${absent.join(', ')} not found (the shared data folder beside the project)`;
}
