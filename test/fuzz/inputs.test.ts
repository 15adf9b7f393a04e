/**
 * Fuzzing as tests (a longer run: `npm run fuzz`): mutated specs through `check` and `fmt`'s round
 * trip, damaged corpus models through `inspect` and `compile`, and damaged data, vocabularies and
 * checkpoints through `train` and `export`: only catalogued diagnostics, no exception (the CLI's
 * exit 2), no hang (a hang hits the test's timeout). Seeded: a failure repeats.
 */
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { fileSystemHost } from '../../src/check/check.js';
import { root } from '../artifacts/harness.js';
import { cli } from '../helpers/cli.js';
import { writeTinyTask } from '../helpers/tiny-task.js';
import { writeSyntheticBertSync } from '../../src/synth/index.js';
import { adversarialSpecs, modelOutcome, mutateModel, mutateSpec, random, specOutcome, type Outcome } from '../helpers/fuzz.js';
import { corpusEntries, corpusPath, describeCorpus } from '../load/corpus.js';

const specsDir = path.join(root, 'specs');
const specs = readdirSync(specsDir).filter((f) => f.endsWith('.adp')).map((f) => path.join(specsDir, f));

function tally(outcomes: Array<{ input: string; outcome: Outcome }>) {
  const defects = outcomes.filter((o) => o.outcome.kind === 'defect').map((o) => `${o.input}: ${(o.outcome as { what: string }).what}`);
  return { defects, refused: outcomes.filter((o) => o.outcome.kind === 'diagnostic').length, accepted: outcomes.filter((o) => o.outcome.kind === 'ok').length };
}

describe('mutated specs through check and the fmt round trip', () => {
  it('400 mutations of the checked-in specs: catalogued diagnostics or a plan, and fmt keeps the meaning', () => {
    const rng = random(7);
    const outcomes = [];
    for (let i = 0; i < 400; i++) {
      const file = specs[i % specs.length]!;
      // Checked under the spec's own name, so that its imports resolve as for the real file.
      const text = mutateSpec(readFileSync(file, 'utf8'), rng);
      outcomes.push({ input: `${path.basename(file)} mutation ${i}`, outcome: specOutcome(text, fileSystemHost, file) });
    }
    const { defects, refused, accepted } = tally(outcomes);
    expect(defects).toEqual([]);
    // The mutations are not all harmless nor all fatal.
    expect(refused).toBeGreaterThan(50);
    expect(accepted).toBeGreaterThan(20);
  });
});

describe('adversarial specs through check and the fmt round trip (issue 22)', () => {
  it('deep nesting, huge ranges, repetition, 64–256 KB of random bytes, special files, huge sizes: catalogued diagnostics, no exception, seconds each', () => {
    const scratch = mkdtempSync(path.join(tmpdir(), 'adapterc-adversarial-'));
    try {
      const outcomes = [];
      let slowest = 0;
      for (const spec of adversarialSpecs(random(22), scratch, 36, 256 << 10)) {
        const started = performance.now();
        outcomes.push({ input: spec.input, outcome: specOutcome(spec.text, fileSystemHost, spec.file) });
        slowest = Math.max(slowest, performance.now() - started);
      }
      const { defects } = tally(outcomes);
      // An exception here is what the CLI reports as exit 2 (an internal error): none may happen.
      expect(defects).toEqual([]);
      expect(slowest).toBeLessThan(10_000);
    } finally {
      rmSync(scratch, { recursive: true, force: true });
    }
  }, 120_000);
});

describeCorpus('damaged corpus models through inspect and compile', () => {
  it('48 truncated or byte-mutated models: catalogued diagnostics or artifacts, nothing else', async () => {
    const rng = random(11);
    const models = corpusEntries().filter((e) => e.runs && !e.path.includes('keras2onnx')).map((e) => readFileSync(corpusPath(e)));
    const scratch = mkdtempSync(path.join(tmpdir(), 'adapterc-fuzz-'));
    const outcomes = [];
    for (let i = 0; i < 48; i++) {
      const { bytes, how } = mutateModel(models[i % models.length]!, rng);
      outcomes.push({ input: `model ${i % models.length}, ${how}`, outcome: await modelOutcome(bytes, path.join(scratch, String(i)), path.join(specsDir, 'houlsby.adp')) });
    }
    const { defects, refused } = tally(outcomes);
    expect(defects).toEqual([]);
    expect(refused).toBeGreaterThan(10);
  }, 240_000);
});

describe('damaged data, vocabularies and checkpoints through train and export (issue 22)', () => {
  it('36 inputs: exit 0 or 1 with a catalogued diagnostic, never 2', async () => {
    const rng = random(23);
    const dir = mkdtempSync(path.join(tmpdir(), 'adapterc-fuzz-train-'));
    const task = writeTinyTask(dir);
    const model = path.join(dir, 'tiny.onnx');
    writeSyntheticBertSync({ preset: 'tiny', seed: 1 }, model);
    const artifacts = path.join(dir, 'artifacts');
    expect((await cli(['compile', path.join(specsDir, 'houlsby.adp'), model, '-o', artifacts])).code).toBe(0);
    const sources = { data: readFileSync(task.trainTsv), vocab: readFileSync(task.vocab), checkpoint: readFileSync(path.join(artifacts, 'checkpoint')) };
    const failures: string[] = [];
    for (let i = 0; i < 36; i++) {
      const which = (['data', 'vocab', 'checkpoint'] as const)[i % 3]!;
      const { bytes, how } = mutateModel(sources[which], rng);
      const damaged = path.join(dir, `damaged-${i}`);
      writeFileSync(damaged, bytes);
      const args =
        which === 'checkpoint'
          ? ['export', artifacts, '--checkpoint', damaged, '-o', path.join(dir, `out-${i}.onnx`)]
          : ['train', artifacts, '--train', which === 'data' ? damaged : task.trainTsv, '--vocab', which === 'vocab' ? damaged : task.vocab, '--max-steps', '1', '--batch-size', '8', '-o', path.join(dir, `trained-${i}`)];
      const r = await cli(args);
      if (r.code !== 0 && (r.code !== 1 || !/ ADP\d{4}: /.test(r.stderr))) failures.push(`${which} ${how}: exit ${r.code} ${r.stderr.split('\n').slice(0, 2).join(' | ')}`);
    }
    expect(failures).toEqual([]);
  }, 240_000);
});

