/**
 * The shared corpus of real BERT exports (../shared/corpus, described by its MANIFEST.json). Tests
 * that need it skip, saying why, when the folder is absent.
 */
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, it } from 'vitest';

export interface CorpusEntry {
  readonly path: string;
  readonly opset: number;
  readonly runs: boolean;
  readonly style: readonly string[];
  /** Inputs and the exporter's outputs for them, relative to the corpus folder. */
  readonly expected?: string;
}

const projectRoot = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
export const corpusDir = resolve(projectRoot, '../shared/corpus');
const manifestPath = join(corpusDir, 'MANIFEST.json');

export const corpusAvailable = existsSync(manifestPath);

/** Why corpus tests are skipped, for their names and a console line. */
export const corpusSkipReason = `the model corpus is not at ${manifestPath}`;

if (!corpusAvailable) console.warn(`Skipping corpus tests: ${corpusSkipReason}.`);

export function corpusEntries(): CorpusEntry[] {
  if (!corpusAvailable) return [];
  const manifest = JSON.parse(readFileSync(manifestPath, 'utf8')) as { models: CorpusEntry[] };
  return manifest.models;
}

export function corpusPath(entry: CorpusEntry | string): string {
  return join(corpusDir, typeof entry === 'string' ? entry : entry.path);
}

export const UNSORTED_MODEL = 'ort-testdata/bert_toy_pytorch1.1_opset10_unsorted.onnx';

/**
 * `describe` for corpus tests. Without the corpus the suite is a single test, skipped on that
 * condition, whose name and a printed line give the reason.
 */
export function describeCorpus(name: string, body: () => void): void {
  if (corpusAvailable) {
    describe(name, body);
    return;
  }
  console.warn(`Skipping '${name}': ${corpusSkipReason}.`);
  describe(name, () => it.skipIf(!corpusAvailable)(`skipped: ${corpusSkipReason}`, () => {}));
}
