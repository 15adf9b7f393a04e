/** The command line: help, exit codes, check and fmt. */
import { execFileSync, spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { cli } from '../helpers/cli.js';
import { writeSyntheticBertSync } from '../../src/synth/index.js';
import { VERSION } from '../../src/version.js';

const root = path.resolve(__dirname, '../..');

describe('adapterc --help and dispatch', () => {
  it('lists every command', async () => {
    const r = await cli(['--help']);
    expect(r.code).toBe(0);
    for (const c of ['check', 'fmt', 'inspect']) expect(r.stdout).toMatch(new RegExp(`^  ${c} `, 'm'));
  });

  it('gives each command its own help', async () => {
    for (const c of ['check', 'fmt', 'inspect']) {
      const r = await cli([c, '--help']);
      expect(r.code).toBe(0);
      expect(r.stdout).toContain(`Usage: adapterc ${c}`);
    }
  });

  it('suggests a near command for a typo, exit 1', async () => {
    const r = await cli(['chek', 'x.adp']);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain("did you mean 'check'?");
  });

  it('rejects unknown options with exit 1, a "did you mean", and balanced quotes', async () => {
    const r = await cli(['check', 'specs/houlsby.adp', '--jsn']);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain("error ADP4001: Unknown option '--jsn' for 'adapterc check'.");
    expect(r.stderr).toContain("help: did you mean '--json'?");
    // What train takes from the spec is said so; nothing close lists the options.
    expect((await cli(['train', 'x', '--lr', '3'])).stderr).toContain("the learning rate is the spec's (train { optimizer adamw(lr …) })");
    expect((await cli(['fmt', 'x', '--zzzzzz'])).stderr).toContain('its options are --check, --stdout');
    for (const args of [['check', 'x', '--jsn'], ['export', 'x', '--adapters'], ['train', 'x', '--vocab']]) {
      const message = (await cli(args)).stderr.split('\n')[0]!;
      expect((message.match(/'/g) ?? []).length % 2, message).toBe(0);
    }
  });

  it('keeps the version in step with package.json', () => {
    expect(VERSION).toBe(JSON.parse(readFileSync(path.join(root, 'package.json'), 'utf8')).version);
  });
});

describe('adapterc check', () => {
  it('prints the plan of a valid spec', async () => {
    const r = await cli(['check', 'specs/houlsby.adp'], root);
    expect(r.code).toBe(0);
    expect(r.stderr).toBe('');
    expect(r.stdout).toContain('specs/houlsby.adp: ok (imports specs/base/glue.adp)');
    expect(r.stdout).toMatch(/^ {2}11\s+ffn\s+bottleneck\s+64\s+gelu\s+normal\(std 0.01, truncate 2\)$/m);
    expect(r.stdout).toContain('24 × (2·d·64 + d + 64)');
    // The paper's figure for BERT-base with size 64 at both sites: 2.38 M adapter parameters.
    expect(r.stdout).toContain('d = 768   2,379,264');
  });

  it('prints JSON with --json', async () => {
    const r = await cli(['check', 'specs/top-layers.adp', '--json'], root);
    expect(r.code).toBe(0);
    const json = JSON.parse(r.stdout);
    expect(json.ok).toBe(true);
    expect(json.instances.map((i: { layer: number }) => i.layer)).toEqual([6, 6, 7, 7, 8, 8, 9, 9, 10, 10, 11, 11]);
    expect(json.parameters.adapters).toBe(12 * (2 * 768 * 64 + 768 + 64));
  });

  it('resolves layers for --layers and reports indexes past the depth with the spec position', async () => {
    const r = await cli(['check', 'specs/top-layers.adp', '--layers', '6'], root);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('specs/top-layers.adp:6:49 - error ADP2201: Layer 6 does not exist: the model has 6 layers (0..5).');
  });

  it('reports every problem of an invalid spec, exit 1, nothing on stdout', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'adapterc-check-'));
    writeFileSync(path.join(dir, 'bad.adp'), 'adapter b {\n  size 0\n  activation gleu\n}\nplace b after ffn in layers all\n');
    const r = await cli(['check', 'bad.adp'], dir);
    expect(r.code).toBe(1);
    expect(r.stdout).toBe('');
    expect(r.stderr).toContain('bad.adp:2:8 - error ADP1103');
    expect(r.stderr).toContain('bad.adp:3:14 - error ADP1101');
    const json = await cli(['check', 'bad.adp', '--json'], dir);
    expect(json.code).toBe(1);
    expect(JSON.parse(json.stdout).diagnostics.map((d: { code: string }) => d.code)).toEqual(['ADP1103', 'ADP1101']);
  });

  it('names a missing spec file', async () => {
    const r = await cli(['check', 'nope.adp'], root);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain("nope.adp - error ADP1201: Cannot read the spec file 'nope.adp'.");
  });

  it('needs exactly one spec', async () => {
    const r = await cli(['check'], root);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain("'adapterc check' takes <spec.adp>");
  });
});

describe('adapterc fmt', () => {
  it('rewrites a spec in canonical form, and --check then passes', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'adapterc-fmt-'));
    const file = path.join(dir, 's.adp');
    writeFileSync(file, '# s\nadapter  b { size 8 activation relu }\nplace b after ffn,attention in layers 0 .. 1 # two\n');
    const checked = await cli(['fmt', '--check', 's.adp'], dir);
    expect(checked.code).toBe(1);
    // --check shows what formatting would change, as a unified diff.
    expect(checked.stdout).toContain('s.adp: not in canonical form\n--- s.adp\n+++ s.adp (formatted)\n@@ -1,3 +1,7 @@\n # s\n-adapter  b { size 8 activation relu }\n-place b after ffn,attention in layers 0 .. 1 # two\n+adapter b {\n+  size 8\n+  activation relu\n+}\n+\n+place b after ffn, attention in layers 0..1  # two\n');
    const r = await cli(['fmt', 's.adp'], dir);
    expect(r.code).toBe(0);
    expect(readFileSync(file, 'utf8')).toBe('# s\nadapter b {\n  size 8\n  activation relu\n}\n\nplace b after ffn, attention in layers 0..1  # two\n');
    expect((await cli(['fmt', '--check', 's.adp'], dir)).code).toBe(0);
  });

  it('leaves a spec with syntax errors untouched', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'adapterc-fmt-'));
    const file = path.join(dir, 's.adp');
    const text = 'adapter b { size 8.5 }\n';
    writeFileSync(file, text);
    const r = await cli(['fmt', 's.adp'], dir);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('s.adp:1:18 - error ADP1002');
    expect(readFileSync(file, 'utf8')).toBe(text);
  });

  it('keeps every checked-in spec canonical', async () => {
    const r = await cli(['fmt', '--check', ...['houlsby', 'size-8', 'per-layer-sizes'].map((n) => `specs/${n}.adp`), 'specs/base/glue.adp'], root);
    expect(r.stdout).toBe('');
    expect(r.code).toBe(0);
  });
});

describe('the installed binary', () => {
  const bin = path.join(root, 'bin/adapterc.js');
  const built = existsSync(path.join(root, 'dist/adapterc.cjs'));

  if (!built) console.warn('Skipping the installed-binary test: dist/ is not built (npm install builds it through the prepare script).');

  it.skipIf(!built)('runs, and exits 0 / 1 as documented (skipped when dist/ is not built)', () => {
    expect(execFileSync(process.execPath, [bin, '--version'], { encoding: 'utf8' }).trim()).toBe(VERSION);
    const ok = spawnSync(process.execPath, [bin, 'check', 'specs/houlsby.adp'], { cwd: root, encoding: 'utf8' });
    expect(ok.status).toBe(0);
    const bad = spawnSync(process.execPath, [bin, 'check', 'specs/missing.adp'], { cwd: root, encoding: 'utf8' });
    expect(bad.status).toBe(1);
    expect(bad.stderr).toContain('ADP1201');
  });

  it.skipIf(!built)('compiles training artifacts from the bundle (skipped when dist/ is not built)', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'adapterc-bin-'));
    try {
      const model = path.join(dir, 'bert.onnx');
      writeSyntheticBertSync({ preset: 'tiny', seed: 2 }, model);
      const r = spawnSync(process.execPath, [bin, 'compile', 'specs/houlsby.adp', model, '-o', path.join(dir, 'out'), '--layout', 'shared-base'], { cwd: root, encoding: 'utf8' });
      expect(r.status, r.stderr).toBe(0);
      expect(readdirSync(path.join(dir, 'out')).sort()).toEqual(['base.data', 'checkpoint', 'eval_model.onnx', 'model.adapted.onnx', 'optimizer_model.onnx', 'step_eval_model.onnx', 'step_model.onnx', 'summary.json', 'training_model.onnx']);
      // train imports onnxruntime-node from code V8 restored from the cache: through the loader.
      const vocab = path.join(dir, 'vocab.txt');
      writeFileSync(vocab, `${['[PAD]', '[UNK]', '[CLS]', '[SEP]', '[MASK]', 'good', 'bad', 'film', ...Array.from({ length: 504 }, (_, i) => `w${i}`)].join('\n')}\n`);
      const data = path.join(dir, 'train.tsv');
      writeFileSync(data, '1\tgood film\n0\tbad film\n1\tgood\n0\tbad\n');
      const trained = spawnSync(process.execPath, [bin, 'train', path.join(dir, 'out'), '--train', data, '--vocab', vocab, '--max-steps', '1'], { cwd: root, encoding: 'utf8' });
      expect(trained.status, trained.stderr).toBe(0);
      expect(readdirSync(path.join(dir, 'out', 'trained'))).toContain('checkpoint');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  /** How bin/cli-bundle.js used the code cache, in a fresh process, for the bundle beside `binFolder`. */
  const cacheUse = (binFolder: string): string =>
    execFileSync(process.execPath, ['--input-type=module', '-e', `import { loadCli } from ${JSON.stringify(path.join(binFolder, 'cli-bundle.js'))}; process.stdout.write(loadCli().cache);`], { encoding: 'utf8' });

  it.skipIf(!built)('runs the bundle from the code cache the build recorded for it (skipped when dist/ is not built)', () => {
    expect(cacheUse(path.join(root, 'bin'))).toBe('accepted');
  });

  it.skipIf(!built)("raises V8's interrupt budget once the cache is read, and leaves it alone while the build records the cache (skipped when dist/ is not built)", () => {
    // The flags loadCli sets, seen by wrapping node:v8's setFlagsFromString in a fresh process.
    const flagsSet = (options: string) =>
      execFileSync(
        process.execPath,
        [
          '--input-type=module',
          '-e',
          `import v8 from 'node:v8'; const set = []; const real = v8.setFlagsFromString; v8.setFlagsFromString = (f) => (set.push(f), real(f));
           const { loadCli, INTERRUPT_BUDGET } = await import(${JSON.stringify(path.join(root, 'bin', 'cli-bundle.js'))});
           const { cache } = loadCli(${options}); process.stdout.write(JSON.stringify({ cache, set, budget: INTERRUPT_BUDGET }));`,
        ],
        { encoding: 'utf8' },
      );
    const normal = JSON.parse(flagsSet('')) as { cache: string; set: string[]; budget: number };
    expect(normal).toEqual({ cache: 'accepted', set: [`--interrupt-budget=${normal.budget}`], budget: 16 * 67_584 });
    expect(JSON.parse(flagsSet('{ recording: true }'))).toMatchObject({ cache: 'accepted', set: [] });
  });

  it.skipIf(!built)('ignores a code cache recorded for another bundle, and runs (skipped when dist/ is not built)', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'adapterc-stale-cache-'));
    try {
      for (const folder of ['bin', 'dist']) mkdirSync(path.join(dir, folder));
      for (const file of ['bin/adapterc.js', 'bin/cli-bundle.js', 'dist/adapterc.cjs.cache']) copyFileSync(path.join(root, file), path.join(dir, file));
      // The same length: V8's own check of a cache compares the source's length, not its text.
      const source = readFileSync(path.join(root, 'dist/adapterc.cjs'), 'utf8');
      writeFileSync(path.join(dir, 'dist/adapterc.cjs'), source.replace('adapterc: internal error', 'adapterc: internal fault'));
      expect(cacheUse(path.join(dir, 'bin'))).toBe('stale');
      const r = spawnSync(process.execPath, [path.join(dir, 'bin/adapterc.js'), 'check', 'specs/houlsby.adp'], { cwd: root, encoding: 'utf8' });
      expect(r.status, r.stderr).toBe(0);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

});
