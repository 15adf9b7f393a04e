/**
 * Property tests: random token sequences and random bytes never crash or hang the parser or the
 * checker, and every failure comes back as diagnostics with a position inside the text.
 */
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { checkSpecText } from '../../src/check/check.js';
import { parseSpec } from '../../src/parse/parse.js';
import { memoryHost } from '../helpers/memory-host.js';

const words = [
  'import', 'use', 'override', 'adapter', 'place', 'after', 'in', 'layers', 'layer', 'all', 'except', 'train', 'target', 'seed',
  'size', 'reduction', 'activation', 'init', 'layernorm', 'hidden_layers', 'trainable', 'head', 'loss', 'optimizer', 'schedule',
  'b', 'gelu', 'normal', 'std', 'attention', 'ffn', 'classifier', 'labels', 'adamw', 'lr', 'cuda', 'x_1',
  '0', '-1', '64', '6..11', '1e-2', '0.5', '10%', '"base.adp"', '"', '{', '}', '(', ')', ',', '..', '%', '#c\n', '\n', '@', '-', '.',
];

function assertWellFormed(text: string): void {
  const parsed = parseSpec(text, 'fuzz.adp');
  for (const d of parsed.diagnostics) {
    expect(d.code).toMatch(/^ADP1\d{3}$/);
    expect(d.span).toBeDefined();
    expect(d.span!.start.offset).toBeGreaterThanOrEqual(0);
    expect(d.span!.start.offset).toBeLessThanOrEqual(text.length);
    expect(d.message.length).toBeGreaterThan(0);
  }
  const checked = checkSpecText(text, 'fuzz.adp', memoryHost({ 'base.adp': 'adapter a {\n  size 4\n}\n' }));
  // Either a plan or at least one error, never both.
  expect(checked.plan === undefined).toBe(checked.diagnostics.some((d) => d.severity === 'error'));
}

describe('parser robustness', () => {
  it('random token sequences give diagnostics, never exceptions', () => {
    fc.assert(
      fc.property(fc.array(fc.constantFrom(...words), { maxLength: 60 }), fc.array(fc.constantFrom(' ', '\n', ''), { maxLength: 60 }), (tokens, gaps) => {
        assertWellFormed(tokens.map((t, i) => t + (gaps[i] ?? ' ')).join(''));
      }),
      { numRuns: 1500 },
    );
  });

  it('random strings and bytes give diagnostics, never exceptions', () => {
    fc.assert(
      fc.property(fc.oneof(fc.string({ maxLength: 200 }), fc.uint8Array({ maxLength: 200 }).map((b) => Buffer.from(b).toString('latin1'))), (text) => {
        assertWellFormed(text);
      }),
      { numRuns: 1500 },
    );
  });

  it('mutations of a valid spec give diagnostics, never exceptions', () => {
    const valid = 'adapter b {\n  size 64\n  activation gelu\n  init normal(std 1e-2, truncate 2)\n}\nplace b after attention, ffn in layers all except 0..2\ntrain {\n  trainable adapters, layernorm in layers 6..11, head\n  head classifier(labels 2, from pooled)\n  optimizer adamw(lr 1e-4, betas (0.9, 0.999))\n}\nseed 42\n';
    fc.assert(
      fc.property(fc.nat(valid.length), fc.nat(5), fc.constantFrom(...words, ''), (at, cut, insert) => {
        assertWellFormed(valid.slice(0, at) + insert + valid.slice(Math.min(valid.length, at + cut)));
      }),
      { numRuns: 2000 },
    );
  });

  it('a large garbage input terminates with diagnostics (a hang would hit the test timeout)', () => {
    const garbage = '} ) , .. % 1 foo '.repeat(3000);
    const parsed = parseSpec(garbage, 'big.adp');
    expect(parsed.diagnostics.length).toBeGreaterThan(0);
  });
});
