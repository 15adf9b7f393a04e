/** The diagnostic catalogue: stable codes, one-sentence messages, no dead entries. */
import { readdirSync, readFileSync } from 'node:fs';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { catalogue, type DiagnosticCode } from '../../src/diagnostics/catalogue.js';
import { closestMatch, editDistance } from '../../src/diagnostics/suggest.js';

const srcDir = path.resolve(__dirname, '../../src');
function sources(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? sources(path.join(dir, e.name)) : e.name.endsWith('.ts') ? [readFileSync(path.join(dir, e.name), 'utf8')] : [],
  );
}

describe('diagnostic catalogue', () => {
  it('uses codes ADPnnnn grouped by stage', () => {
    for (const code of Object.keys(catalogue)) expect(code).toMatch(/^ADP[1-6]\d{3}$/);
  });

  it('has no entry that nothing emits', () => {
    const text = sources(srcDir)
      .filter((s) => !s.includes('export const catalogue'))
      .join('\n');
    const unused = (Object.keys(catalogue) as DiagnosticCode[]).filter((code) => !text.includes(`'${code}'`));
    expect(unused).toEqual([]);
  });
});

describe('did you mean', () => {
  it('measures typos as edits, a swap counting once', () => {
    expect(editDistance('size', 'siz')).toBe(1);
    expect(editDistance('gelu', 'gleu')).toBe(1);
    expect(editDistance('abc', 'abc')).toBe(0);
  });

  it('suggests only plausible matches', () => {
    expect(closestMatch('activaton', ['size', 'activation'])).toBe('activation');
    expect(closestMatch('zzz', ['size', 'activation'])).toBeUndefined();
  });
});
