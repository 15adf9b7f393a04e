/**
 * Untrusted input (issue 22): specs written to break the checker, each from a one-line
 * reproduction, must end in catalogued diagnostics, in time and memory that grow with the spec's
 * size, and must not let a spec read or hang on files outside its folders.
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { check } from '../../src/api/check.js';
import { checkSpecText } from '../../src/check/check.js';
import { DIAGNOSTIC_LIMIT, renderDiagnostics } from '../../src/diagnostics/index.js';
import { random } from '../helpers/fuzz.js';
import { memoryHost } from '../helpers/memory-host.js';

const adapter = 'adapter a { size 8 }\n';
const codes = (text: string) => checkSpecText(text, 'spec.adp', memoryHost({})).diagnostics.map((d) => d.code);

describe('deep nesting (item 1)', () => {
  it('5,000 open brackets are one ADP1006, not a stack overflow', () => {
    const result = checkSpecText(`adapter a { size 8 init normal(std ${'('.repeat(5000)}`, 'spec.adp', memoryHost({}));
    expect(result.diagnostics.map((d) => d.code)).toEqual(['ADP1006']);
    // 'normal(' and '{' open two levels; the 31st '(' after them (column 36 + 30) is the 33rd.
    expect(result.diagnostics[0]!.span!.start.column).toBe(36 + 30);
  });
  it('as deep as a real spec nests is fine', () => {
    expect(codes(`${adapter}place a after ffn in layers all\ntrain { optimizer adamw(betas (0.9, 0.999)) }\n`)).toEqual([]);
  });
});

describe('huge layer ranges stay ranges (item 2)', () => {
  for (const layers of ['0..99999999999', 'all except 0..99999999999', '-99999999999..-1', '0, 5..99999999999, 7']) {
    it(`'${layers}' is checked at once`, () => {
      const started = performance.now();
      const result = check(write(`${adapter}place a after attention in layers ${layers}\n`));
      expect(performance.now() - started).toBeLessThan(2000);
      expect(result.ok).toBe(false);
      expect(result.diagnostics.map((d) => d.code).every((c) => ['ADP2201', 'ADP1114', 'ADP1115', 'ADP2203'].includes(c))).toBe(true);
    });
  }
  it('repeats inside huge ranges are still found', () => {
    expect(codes(`${adapter}place a after ffn in layers 0..99999999999, 99999999998\n`)).toContain('ADP1115');
  });
});

describe('repetition (item 3)', () => {
  it('1,000 copies of one placement give 999 ADP1108, each naming the first line', () => {
    const result = checkSpecText(adapter + 'place a after ffn in layers all\n'.repeat(1000), 'spec.adp', memoryHost({}));
    expect(result.diagnostics.length).toBe(999);
    expect(new Set(result.diagnostics.map((d) => d.code))).toEqual(new Set(['ADP1108']));
    expect(result.diagnostics.every((d) => d.hint!.includes('line 2'))).toBe(true);
  });
  it('overlaps are still found between lists, excepts and open ranges', () => {
    expect(codes(`${adapter}place a after ffn in layers 0, 4..6\nplace a after ffn in layers all except 0..5\n`)).toEqual(['ADP1108']);
    expect(codes(`${adapter}place a after ffn in layers 0..3\nplace a after ffn in layers all except 0..3\n`)).toEqual([]);
    expect(codes(`${adapter}place a after ffn in layers 0..3\nplace a after attention in layers 0..3\n`)).toEqual([]);
  });
  it('checking time grows linearly: 8 times the placements take far less than 64 times as long', () => {
    const time = (n: number) => {
      const text = adapter + 'place a after ffn in layers all\n'.repeat(n);
      const started = performance.now();
      const r = checkSpecText(text, 'spec.adp', memoryHost({}));
      renderDiagnostics(r.diagnostics, r.sources);
      return performance.now() - started;
    };
    time(500); // warm up
    const small = Math.max(time(500), 5);
    const large = time(4000);
    expect(large / small).toBeLessThan(32);
  });
  it('prints the first 50 diagnostics and counts the rest', () => {
    const result = checkSpecText(adapter + 'place a after ffn in layers all\n'.repeat(1000), 'spec.adp', memoryHost({}));
    const rendered = renderDiagnostics(result.diagnostics, result.sources);
    expect(rendered.match(/error ADP1108/g)!.length).toBe(DIAGNOSTIC_LIMIT);
    expect(rendered.endsWith('… and 949 more (949 errors) not shown; fix the first ones and run again.')).toBe(true);
  });
  it('1 MB of random bytes: bounded time and output', () => {
    const rng = random(22);
    const bytes = Buffer.from(Uint8Array.from({ length: 1 << 20 }, () => Math.floor(rng() * 256)));
    const started = performance.now();
    const result = checkSpecText(bytes.toString('utf8'), 'spec.adp', memoryHost({}));
    const rendered = renderDiagnostics(result.diagnostics, result.sources);
    expect(performance.now() - started).toBeLessThan(20_000);
    expect(result.plan).toBeUndefined();
    expect(rendered.length).toBeLessThan(64 * 1024);
  }, 30_000);
});

describe('sizes are bounded before anything is allocated (item 4)', () => {
  it.each([
    ['adapter a { size 99999999999 }\nplace a after ffn in layers all\n', 'size'],
    ['adapter a { size 8 hidden_layers 1000 }\nplace a after ffn in layers all\n', 'hidden_layers'],
    [`${adapter}place a(size 100000) after ffn in layers all\n`, 'size'],
    [`${adapter}place a after ffn in layers all\ntrain {\n  trainable adapters, head\n  head classifier(labels 99999999999)\n}\n`, 'labels'],
  ])('%j: ADP1121 naming the limit', (text, name) => {
    const result = checkSpecText(text, 'spec.adp', memoryHost({}));
    const d = result.diagnostics.find((x) => x.code === 'ADP1121');
    expect(d?.message).toMatch(new RegExp(`^'${name}' is \\d+, more than the limit of \\d+\\.$`));
  });
  it('ADP2209: more parameters than the limit for the model, with the memory they take', () => {
    const result = check(write('adapter a { size 20000 }\nplace a after ffn in layers all\n'), { layers: 2, hidden: 32 });
    expect(result.ok).toBe(false);
    const d = result.diagnostics.find((x) => x.code === 'ADP2209')!;
    expect(d.message).toBe('The adapters and head add 2600064 parameters (9.9 MiB of float32 weights, about 40 MiB with gradients and AdamW state to train), more than the limit of 1048576 for a model of 2 layers and hidden size 32.');
  });
  it('ADP2210: a warning when the bottleneck is not narrower than the hidden size', () => {
    const result = check(write('adapter a { size 64 }\nplace a after ffn in layers all\n'), { layers: 2, hidden: 32 });
    expect(result.ok).toBe(true);
    expect(result.diagnostics.map((d) => [d.code, d.message])).toEqual([['ADP2210', "Adapter 'a' has a bottleneck of 64 units, not smaller than the model's hidden size 32 (a reduction factor of 0.5)."]]);
  });
});

const scratch = mkdtempSync(path.join(tmpdir(), 'adapterc-untrusted-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));
let written = 0;
function write(text: string, name = `spec${written++}.adp`, folder = scratch): string {
  mkdirSync(folder, { recursive: true });
  const file = path.join(folder, name);
  writeFileSync(file, text);
  return file;
}

describe('imports read only spec files in the spec folder tree (items 5, 6)', () => {
  const importing = (target: string, extra: { importRoots?: string[] } = {}) => {
    const folder = path.join(scratch, `imports${written++}`);
    const file = write(`import "${target}"\n${adapter}place a after ffn in layers all\n`, 'main.adp', folder);
    return check(file, extra);
  };
  it('/etc/passwd is not a spec (ADP1205), and nothing of it is shown', () => {
    const result = importing('/etc/passwd');
    expect(result.diagnostics.map((d) => d.code)).toEqual(['ADP1205']);
    expect(result.sources.has('/etc/passwd')).toBe(false);
    expect(renderDiagnostics(result.diagnostics, result.sources)).not.toContain('root:');
  });
  it('a .adp file above the spec folder is outside the import roots (ADP1206)', () => {
    write(`${adapter}`, 'outside.adp');
    const result = importing('../outside.adp');
    expect(result.diagnostics.map((d) => d.code)).toEqual(['ADP1206']);
    expect(result.diagnostics[0]!.hint).toContain('--import-root');
  });
  it('a symbolic link inside the tree to a file outside it is refused too', () => {
    const outside = write('adapter b { size 8 }\n', 'secret.adp');
    const folder = path.join(scratch, `linked${written++}`);
    mkdirSync(folder);
    symlinkSync(outside, path.join(folder, 'lib.adp'));
    writeFileSync(path.join(folder, 'main.adp'), `import "lib.adp"\n${adapter}place a after ffn in layers all\n`);
    expect(check(path.join(folder, 'main.adp')).diagnostics.map((d) => d.code)).toEqual(['ADP1206']);
  });
  it('importRoots names more folders', () => {
    const lib = path.join(scratch, `lib${written++}`);
    write('adapter b { size 8 }\n', 'lib.adp', lib);
    const result = importing(path.join(lib, 'lib.adp'), { importRoots: [lib] });
    expect(result.diagnostics.filter((d) => d.severity === 'error')).toEqual([]);
  });
  it('a FIFO named .adp is "not a regular file" (ADP1207), without hanging', () => {
    const folder = path.join(scratch, `fifo${written++}`);
    mkdirSync(folder);
    execFileSync('mkfifo', [path.join(folder, 'pipe.adp')]);
    writeFileSync(path.join(folder, 'main.adp'), `import "pipe.adp"\n${adapter}place a after ffn in layers all\n`);
    const result = check(path.join(folder, 'main.adp'));
    expect(result.diagnostics.map((d) => [d.code, d.message])).toEqual([['ADP1207', `Cannot read the spec file '${path.join(folder, 'pipe.adp')}' because it is not a regular file.`]]);
  });
  it('/dev/zero as the spec itself is refused the same way', () => {
    expect(check('/dev/zero').diagnostics.map((d) => d.code)).toEqual(['ADP1207']);
  });
  it('a code frame shows only the line of the error, clipped', () => {
    const long = `${'#'.repeat(5000)}\nadapter a { size 0 }\nplace a after ffn in layers all\n# secret line\n`;
    const result = checkSpecText(long, 'spec.adp', memoryHost({}));
    const rendered = renderDiagnostics(result.diagnostics, result.sources);
    expect(rendered).not.toContain('secret');
    expect(rendered).not.toContain('#'.repeat(101));
  });
});

describe('a byte-order mark (item 10)', () => {
  it('is accepted at the start of a spec, and columns stay as editors show them', () => {
    expect(codes(`\uFEFF${adapter}place a after ffn in layers all\n`)).toEqual([]);
    const result = checkSpecText(`\uFEFFadapter a { size 0 }\nplace a after ffn in layers all\n`, 'spec.adp', memoryHost({}));
    expect(result.diagnostics.map((d) => [d.code, d.span!.start.line])).toEqual([['ADP1103', 1]]);
  });
});
