/**
 * `npm run fuzz`: the property tests' inputs (test/fuzz/), many more of them. Mutated specs go
 * through `check` and `fmt`'s round trip; truncated and byte-mutated corpus models (and the
 * synthetic BERT) through `inspect` and `compile`. Prints what was tried, the diagnostics by code,
 * and every defect (an exception, an uncatalogued code, a fmt round trip that changes meaning),
 * each with the seed and index that repeat it. Exits 1 if there was a defect.
 *
 * Adversarial specs (deep nesting, huge ranges, repetition, 64 KB–1 MB of random bytes, special
 * files as imports, huge sizes) go through `check` and `fmt` too, each timed.
 *
 *   npm run fuzz -- [--specs 20000] [--adversarial 300] [--models 1000] [--seed 1]
 */
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { fileSystemHost } from '../src/check/check.js';
import { encodeSyntheticBert } from '../src/synth/index.js';
import { adversarialSpecs, modelOutcome, mutateModel, mutateSpec, random, specOutcome, type Outcome } from '../test/helpers/fuzz.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const { values } = parseArgs({ options: { specs: { type: 'string', default: '20000' }, adversarial: { type: 'string', default: '300' }, models: { type: 'string', default: '1000' }, seed: { type: 'string', default: '1' } } });
const seed = Number(values.seed);

class Tally {
  readonly counts = { ok: 0, diagnostic: 0, defect: 0 };
  readonly codes = new Map<string, number>();
  readonly defects: string[] = [];
  add(input: string, o: Outcome): void {
    this.counts[o.kind]++;
    if (o.kind === 'diagnostic') for (const c of o.codes) this.codes.set(c, (this.codes.get(c) ?? 0) + 1);
    if (o.kind === 'defect') this.defects.push(`${input}: ${o.what}`);
  }
  print(what: string, tried: number, seconds: number): void {
    console.log(`${what}: ${tried} inputs in ${seconds.toFixed(1)} s; accepted ${this.counts.ok}, refused with diagnostics ${this.counts.diagnostic}, defects ${this.counts.defect}`);
    console.log(`  diagnostics by code: ${[...this.codes].sort(([a], [b]) => a.localeCompare(b)).map(([c, n]) => `${c} ${n}`).join(', ') || '(none)'}`);
    for (const d of this.defects) console.log(`  DEFECT ${d}`);
  }
}

const specsDir = path.join(root, 'specs');
const specFiles = readdirSync(specsDir).filter((f) => f.endsWith('.adp')).map((f) => path.join(specsDir, f));
const specs = new Tally();
let started = performance.now();
const specRng = random(seed);
for (let i = 0; i < Number(values.specs); i++) {
  const file = specFiles[i % specFiles.length]!;
  specs.add(`seed ${seed}, spec input ${i} (${path.basename(file)})`, specOutcome(mutateSpec(readFileSync(file, 'utf8'), specRng), fileSystemHost, file));
}
specs.print('specs (check, fmt round trip)', Number(values.specs), (performance.now() - started) / 1000);

const hostile = new Tally();
started = performance.now();
const adversarialScratch = mkdtempSync(path.join(tmpdir(), 'adapterc-fuzz-'));
let slowest = { ms: 0, input: '' };
try {
  for (const spec of adversarialSpecs(random(seed + 2), adversarialScratch, Number(values.adversarial))) {
    const t = performance.now();
    hostile.add(`seed ${seed}, ${spec.input} (${spec.text.length} characters)`, specOutcome(spec.text, fileSystemHost, spec.file));
    const ms = performance.now() - t;
    if (ms > slowest.ms) slowest = { ms, input: spec.input };
  }
} finally {
  rmSync(adversarialScratch, { recursive: true, force: true });
}
hostile.print('adversarial specs (check, fmt round trip)', Number(values.adversarial), (performance.now() - started) / 1000);
console.log(`  slowest: ${slowest.input}, ${(slowest.ms / 1000).toFixed(2)} s`);

const corpus = path.resolve(root, '../shared/corpus');
const models: Array<{ name: string; bytes: Uint8Array }> = [{ name: 'synthetic BERT', bytes: encodeSyntheticBert({ layers: 2, hidden: 32, heads: 4, ffn: 64, vocab: 200, seed: 1 }) }];
try {
  const manifest = JSON.parse(readFileSync(path.join(corpus, 'MANIFEST.json'), 'utf8')) as { models: Array<{ path: string }> };
  for (const m of manifest.models) models.push({ name: m.path, bytes: readFileSync(path.join(corpus, m.path)) });
} catch {
  console.log(`(no corpus at ${corpus}: the synthetic BERT only)`);
}
const scratch = mkdtempSync(path.join(tmpdir(), 'adapterc-fuzz-'));
const damaged = new Tally();
started = performance.now();
const modelRng = random(seed + 1);
try {
  for (let i = 0; i < Number(values.models); i++) {
    const model = models[i % models.length]!;
    const { bytes, how } = mutateModel(model.bytes, modelRng);
    damaged.add(`seed ${seed}, model input ${i} (${model.name}, ${how})`, await modelOutcome(bytes, path.join(scratch, 'case'), path.join(specsDir, 'houlsby.adp')));
    rmSync(path.join(scratch, 'case'), { recursive: true, force: true });
  }
} finally {
  rmSync(scratch, { recursive: true, force: true });
}
damaged.print(`models (inspect, compile; ${models.length} sources)`, Number(values.models), (performance.now() - started) / 1000);
process.exitCode = specs.defects.length + hostile.defects.length + damaged.defects.length > 0 ? 1 : 0;
