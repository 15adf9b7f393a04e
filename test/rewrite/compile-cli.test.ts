/**
 * `adapterc compile --inference` end to end, in-process: the same spec and model give the same bytes
 * every time; a spec that does not fit the model, or an output folder that cannot be written, exits
 * with 1, says where (spec file:line:col), and leaves nothing behind.
 */
import { spawnSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { dumpGraph } from '../../src/ir/index.js';
import { readModel } from '../../src/load/index.js';
import { encodeSyntheticBert } from '../../src/synth/index.js';
import { cli } from '../helpers/cli.js';
import { writeRuntimeSliceModel } from '../helpers/runtime-slice.js';
import { corpusPath, describeCorpus } from '../load/corpus.js';
import { adaptBytes, checkedSpec, projectRoot } from './helpers.js';

const ADAPTED = 'model.adapted.onnx';
const SUMMARY = 'summary.json';

let dir: string;
let tiny: string;
let fused: string;

beforeAll(() => {
  dir = mkdtempSync(path.join(tmpdir(), 'adapterc-compile-'));
  tiny = path.join(dir, 'tiny.onnx');
  fused = path.join(dir, 'fused.onnx');
  writeFileSync(tiny, encodeSyntheticBert({ style: 'pytorch' }));
  writeFileSync(fused, encodeSyntheticBert({ style: 'ort-fused', ortFused: { biasInSkipLayerNorm: true } }));
});

afterAll(() => {
  rmSync(dir, { recursive: true, force: true });
});

/** A fresh, empty folder inside the test folder, to compile into or next to. */
function freshFolder(name: string): string {
  const folder = path.join(dir, name);
  mkdirSync(folder);
  return folder;
}

/** Entries of `folder` that look like a half-written output folder. */
function leftovers(folder: string): string[] {
  return readdirSync(folder).filter((f) => f.includes('.tmp-') || f.endsWith('.previous'));
}

/** Specs are given as `specs/….adp` relative to the project, as a user would type them. */
function compile(spec: string, model: string, out?: string) {
  return cli(['compile', spec, model, '--inference', ...(out === undefined ? [] : ['-o', out])], projectRoot);
}

describe('adapterc compile --inference is deterministic', () => {
  it.each([
    ['houlsby', 'tiny'],
    ['adapter-layernorm', 'fused'],
    ['per-layer-sizes', 'tiny'],
  ])('%s on %s: two compilations give byte-identical files', async (spec, which) => {
    const model = which === 'tiny' ? tiny : fused;
    const parent = freshFolder(`determinism-${spec}-${which}`);
    const [a, b] = [path.join(parent, 'a'), path.join(parent, 'b')];
    const first = await compile(`specs/${spec}.adp`, model, a);
    expect(first.stderr).toBe('');
    expect(first.code).toBe(0);
    expect(first.stdout).toContain(`wrote ${path.join(a, ADAPTED)}`);
    const second = await compile(`specs/${spec}.adp`, model, b);
    expect(second.code).toBe(0);
    expect(readdirSync(a).sort()).toEqual([ADAPTED, SUMMARY]);
    expect(readdirSync(b).sort()).toEqual([ADAPTED, SUMMARY]);
    expect(readFileSync(path.join(b, ADAPTED)).equals(readFileSync(path.join(a, ADAPTED)))).toBe(true);
    expect(readFileSync(path.join(b, SUMMARY)).equals(readFileSync(path.join(a, SUMMARY)))).toBe(true);
    expect(leftovers(parent)).toEqual([]);

    // The written model is the in-memory adaptation (the one the golden graphs snapshot).
    const written = await readModel(path.join(a, ADAPTED));
    expect(dumpGraph(written)).toBe(dumpGraph(adaptBytes(readFileSync(model), model, checkedSpec(spec)).model));

    // Compiling again into adapterc's own folder replaces it, with the same bytes.
    const again = await compile(`specs/${spec}.adp`, model, a);
    expect(again.code).toBe(0);
    expect(readFileSync(path.join(a, ADAPTED)).equals(readFileSync(path.join(b, ADAPTED)))).toBe(true);
    expect(leftovers(parent)).toEqual([]);
  });

  it('writes next to the model by default, as <model>.<spec>', async () => {
    const parent = freshFolder('default-out');
    const model = path.join(parent, 'm.onnx');
    writeFileSync(model, readFileSync(tiny));
    const r = await compile('specs/size-8.adp', model);
    expect(r.code).toBe(0);
    expect(readdirSync(parent).sort()).toEqual(['m.onnx', 'm.size-8']);
    const summary = JSON.parse(readFileSync(path.join(parent, 'm.size-8', SUMMARY), 'utf8'));
    expect(summary.adapterParameters).toBe(4 * (2 * 32 * 8 + 32 + 8));
  });
});

describe('adapterc compile --inference: errors exit 1, point into the spec, and write nothing', () => {
  /** Runs a compile that must fail; checks the exit code, that nothing was written, and returns stderr. */
  let failures = 0;
  async function failing(spec: string, model: string): Promise<string> {
    const parent = freshFolder(`fail-${++failures}`);
    const out = path.join(parent, 'out');
    const r = await compile(spec, model, out);
    expect(r.code).toBe(1);
    expect(r.stdout).toBe('');
    expect(existsSync(out)).toBe(false);
    expect(readdirSync(parent)).toEqual([]);
    // Nor the default output folder next to the model.
    expect(readdirSync(path.dirname(model)).filter((f) => f.startsWith(`${path.basename(model, '.onnx')}.`) && f !== path.basename(model))).toEqual([]);
    return r.stderr;
  }

  /** How often `needle` occurs in `text`. */
  const count = (text: string, needle: string) => text.split(needle).length - 1;

  it('a layer past the model depth: top-layers.adp (layers 6..11) on a 2-layer model → ADP2201, once', async () => {
    const stderr = await failing('specs/top-layers.adp', tiny);
    expect(stderr).toContain('top-layers.adp:6:49 - error ADP2201: Layer 6 does not exist: the model has 2 layers (0..1).');
    expect(stderr).toContain('  6 | place bottleneck after attention, ffn in layers 6..11');
    expect(stderr).toContain('help: use an index from 0 to 1, or -1 to -2 from the top');
    // `after attention, ffn` makes two placements of one layer list: that problem is reported once;
    // the spec's `layernorm in layers 6..11` is the second one.
    expect(stderr).toContain('top-layers.adp:9:43 - error ADP2201');
    expect(count(stderr, 'error ADP2201')).toBe(2);
  });

  it('a reduction that does not divide the hidden size → ADP2202, once', async () => {
    const spec = path.join(dir, 'reduction-5.adp');
    writeFileSync(spec, 'adapter b {\n  reduction 5\n}\n\nplace b after attention, ffn in layers all\n');
    const stderr = await failing(spec, tiny);
    expect(stderr).toMatch(/reduction-5\.adp:5:1 - error ADP2202: Reduction 5 does not divide the model's hidden size 32\./);
    expect(stderr).toContain('help: choose a factor that divides 32');
    expect(count(stderr, 'error ADP2202')).toBe(1);
  });

  it('a spec that is itself wrong → its own ADP11xx error before the model is read', async () => {
    const spec = path.join(dir, 'wrong.adp');
    writeFileSync(spec, 'adapter b {\n  size 8\n  activation gleu\n}\nplace b after ffn in layers all\n');
    const stderr = await failing(spec, tiny);
    expect(stderr).toMatch(/wrong\.adp:3:14 - error ADP1101: Unknown activation 'gleu'\./);
  });

  it('an output folder that exists and is not adapterc\'s → ADP4002, left untouched', async () => {
    const parent = freshFolder('foreign');
    const out = freshFolder('foreign/out');
    writeFileSync(path.join(out, 'notes.txt'), 'mine\n');
    const r = await compile('specs/houlsby.adp', tiny, out);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('error ADP4002');
    expect(r.stderr).toContain('it exists and is not an adapterc output folder');
    expect(readdirSync(out)).toEqual(['notes.txt']);
    expect(readFileSync(path.join(out, 'notes.txt'), 'utf8')).toBe('mine\n');
    expect(readdirSync(parent)).toEqual(['out']);
  });

  it('an output path that is a file → ADP4002, the file untouched', async () => {
    const parent = freshFolder('file-out');
    const out = path.join(parent, 'out');
    writeFileSync(out, 'a file\n');
    const r = await compile('specs/houlsby.adp', tiny, out);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('error ADP4002');
    expect(readFileSync(out, 'utf8')).toBe('a file\n');
    expect(readdirSync(parent)).toEqual(['out']);
  });

  it('an output folder whose parents do not exist: they are created', async () => {
    const out = path.join(dir, 'new-parent', 'a', 'b', 'out');
    const r = await cli(['compile', 'specs/houlsby.adp', tiny, '-o', out], projectRoot);
    expect(r.code).toBe(0);
    expect(readdirSync(out)).toContain('step_model.onnx');
  });

  it('an output path with a file among its parents → ADP4002, nothing created', async () => {
    const parent = freshFolder('file-parent');
    writeFileSync(path.join(parent, 'plain'), 'x');
    const r = await compile('specs/houlsby.adp', tiny, path.join(parent, 'plain', 'sub', 'out'));
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/error ADP4002.*is a file/s);
    expect(readdirSync(parent)).toEqual(['plain']);
  });

  it('removes what a killed compile left beside its output (its process gone), and restores an output moved aside', async () => {
    const parent = freshFolder('leftovers');
    const staging = (name: string, pid: number, marker: boolean) => {
      const folder = path.join(parent, name);
      mkdirSync(folder);
      writeFileSync(path.join(folder, 'checkpoint'), 'half-written');
      if (marker) writeFileSync(path.join(folder, '.adapterc-staging.json'), JSON.stringify({ pid, host: hostname() }));
    };
    const dead = 2 ** 22 + 12345; // above Linux's default pid_max of 4194304: no such process
    staging(`.out.tmp-${dead}-0badf00d`, dead, true);
    staging(`.out.tmp-${process.pid}-0000beef`, process.pid, true); // a live process: left alone
    staging(`.out.tmp-${dead}-00c0ffee`, dead, false); // no marker: not adapterc's
    const moved = path.join(parent, `.kept.tmp-${dead}-00abcdef.previous`);
    mkdirSync(moved);
    writeFileSync(path.join(moved, 'summary.json'), '{}');
    const r = await compile('specs/houlsby.adp', tiny, path.join(parent, 'out'));
    expect(r.code).toBe(0);
    expect(readdirSync(parent).sort()).toEqual([`.out.tmp-${dead}-00c0ffee`, `.out.tmp-${process.pid}-0000beef`, 'kept', 'out'].sort());
    expect(readdirSync(path.join(parent, 'kept'))).toEqual(['summary.json']);
    expect(readdirSync(path.join(parent, 'out'))).not.toContain('.adapterc-staging.json');
  });

  it('a full disk → ADP4002 saying so, and nothing left on it', async (context) => {
    const mount = freshFolder('full-disk');
    // A 1 MiB tmpfs: a 2.5 MB model's artifacts need more. Mounting needs root (CI and this machine have it).
    if (spawnSync('mount', ['-t', 'tmpfs', '-o', 'size=1m', 'tmpfs', mount]).status !== 0) {
      console.warn('Skipping the full-disk test: cannot mount a small tmpfs here (needs root).');
      context.skip('cannot mount a small tmpfs here (needs root)');
    }
    try {
      const model = path.join(dir, 'bigger.onnx');
      writeFileSync(model, encodeSyntheticBert({ layers: 2, hidden: 128, heads: 4, ffn: 256, vocab: 4000, seed: 5 }));
      const r = await cli(['compile', 'specs/houlsby.adp', model, '-o', path.join(mount, 'nested', 'out')], projectRoot);
      expect(r.code).toBe(1);
      expect(r.stderr).toMatch(/error ADP4002: Cannot write '.*out' because the disk holding it is full \(nothing was written\)\./);
      expect(r.stderr).not.toContain('internal error');
      expect(readdirSync(mount)).toEqual([]);
    } finally {
      spawnSync('umount', [mount]);
    }
  });

  it('an output folder in an unwritable parent → ADP4002, nothing written', async (context) => {
    const parent = freshFolder('read-only');
    chmodSync(parent, 0o555);
    let target = path.join(parent, 'out');
    try {
      // root writes through permission bits; then use a folder the kernel refuses (sysfs), if there is one.
      if (canCreateIn(parent)) {
        target = '/sys/adapterc-test-out';
        if (canCreateIn('/sys')) {
          console.warn('Skipping the unwritable-folder test: running as root and no read-only folder to write into.');
          context.skip('running as root and no read-only folder to write into');
        }
      }
      const r = await compile('specs/houlsby.adp', tiny, target);
      expect(r.code).toBe(1);
      expect(r.stderr).toMatch(/error ADP4002.*is not writable/s);
      expect(existsSync(target)).toBe(false);
      expect(readdirSync(parent)).toEqual([]);
    } finally {
      chmodSync(parent, 0o755);
    }
  });
});

/** Whether a folder can be made inside `parent` (removing it again). */
function canCreateIn(parent: string): boolean {
  const probe = path.join(parent, `.probe-${process.pid}`);
  try {
    mkdirSync(probe);
  } catch {
    return false;
  }
  rmSync(probe, { recursive: true, force: true });
  return true;
}

describeCorpus('adapterc compile --inference on a model without FFN sites', () => {
  it('ffn-only.adp on the ort-fused one-layer fragment → ADP2205 at the placement (and ADP2206 for the pooled head)', async () => {
    const model = corpusPath('ort-fused/attention_skiplayernorm_pruned_opset16.onnx');
    const parent = mkdtempSync(path.join(tmpdir(), 'adapterc-compile-fragment-'));
    try {
      const out = path.join(parent, 'out');
      const r = await compile('specs/ffn-only.adp', model, out);
      expect(r.code).toBe(1);
      expect(r.stderr).toContain('ffn-only.adp:4:1 - error ADP2205: The model has no ffn site in layer 0.');
      expect(r.stderr).toContain('  4 | place bottleneck after ffn in layers all');
      expect(r.stderr).toContain('error ADP2206');
      expect(readdirSync(parent)).toEqual([]);
    } finally {
      rmSync(parent, { recursive: true, force: true });
    }
  });
});

describe('a compile that fails after its output folder was started', () => {
  it('removes the parent folders it created', async () => {
    const root = mkdtempSync(path.join(tmpdir(), 'adapterc-parents-'));
    const model = writeRuntimeSliceModel(path.join(root, 'runtime-slice.onnx'));
    // Its gradients fail to build (ADP3003, a Slice), inside the output folder's writer.
    const r = await cli(['compile', path.join(projectRoot, 'specs/houlsby.adp'), model, '-o', path.join(root, 'never-made', 'x', 'out')], projectRoot);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('error ADP3003');
    expect(readdirSync(root)).toEqual(['runtime-slice.onnx']);
  });
});
