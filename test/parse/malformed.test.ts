/**
 * Malformed specs: each must give the intended diagnostic at the intended line and column. The
 * rendered messages are locked in test/golden/malformed-specs.txt (refresh on purpose with
 * `npm run test:update-golden`).
 */
import { describe, expect, it } from 'vitest';
import { checkSpecText } from '../../src/check/check.js';
import { renderDiagnostics } from '../../src/diagnostics/index.js';
import { memoryHost } from '../helpers/memory-host.js';

interface Case {
  readonly name: string;
  readonly text: string;
  readonly code: string;
  readonly line: number;
  readonly column: number;
  /** Text the hint must contain. */
  readonly hint?: string;
  readonly files?: Record<string, string>;
}

const adapter = 'adapter b {\n  size 64\n}\n';
const place = 'place b after attention in layers all\n';

const cases: Case[] = [
  { name: 'misspelled adapter setting', text: 'adapter b {\n  siz 64\n}\n' + place, code: 'ADP1004', line: 2, column: 3, hint: "did you mean 'size'?" },
  { name: 'misspelled activation keyword', text: 'adapter b {\n  size 64\n  activaton gelu\n}\n' + place, code: 'ADP1004', line: 3, column: 3, hint: "'activation'" },
  { name: 'float where an integer belongs', text: 'adapter b {\n  size 6.4\n}\n' + place, code: 'ADP1002', line: 2, column: 8, hint: 'whole number' },
  { name: 'misspelled statement', text: adapter + 'plcae b after attention in layers all\n', code: 'ADP1004', line: 4, column: 1, hint: "did you mean 'place'?" },
  { name: 'unclosed block', text: 'adapter b {\n  size 64\n', code: 'ADP1002', line: 2, column: 10 },
  { name: 'stray character', text: adapter + place + 'seed 4 @\n', code: 'ADP1001', line: 5, column: 8 },
  { name: 'unterminated string', text: 'import "base.adp\n' + adapter + place, code: 'ADP1005', line: 1, column: 8 },
  { name: 'zero size', text: 'adapter b {\n  size 0\n}\n' + place, code: 'ADP1103', line: 2, column: 8 },
  { name: 'negative std', text: 'adapter b {\n  size 8\n  init normal(std -1e-2)\n}\n' + place, code: 'ADP1103', line: 3, column: 19 },
  { name: 'misspelled activation', text: 'adapter b {\n  size 8\n  activation gleu\n}\n' + place, code: 'ADP1101', line: 3, column: 14, hint: "did you mean 'gelu'?" },
  { name: 'unknown adapter in placement', text: adapter + 'place bottlenek after ffn in layers all\n', code: 'ADP1104', line: 4, column: 7 },
  { name: 'adapter defined twice', text: adapter + adapter + place, code: 'ADP1105', line: 4, column: 9 },
  { name: 'size and reduction', text: 'adapter b {\n  size 8\n  reduction 12\n}\n' + place, code: 'ADP1106', line: 1, column: 9 },
  { name: 'no size', text: 'adapter b {\n  activation relu\n}\n' + place, code: 'ADP1107', line: 1, column: 9, hint: 'size 64' },
  {
    name: 'two adapters at one site',
    text: adapter + 'place b after attention in layers 0..5\nplace b after attention in layers 5..11\n',
    code: 'ADP1108',
    line: 5,
    column: 1,
  },
  { name: 'empty range', text: adapter + 'place b after ffn in layers 11..6\n', code: 'ADP1109', line: 4, column: 29, hint: '6..11' },
  {
    name: 'cross-entropy on one label',
    text: adapter + place + 'train {\n  trainable adapters, head\n  head classifier(labels 1)\n  loss cross_entropy\n}\n',
    code: 'ADP1110',
    line: 8,
    column: 3,
    hint: 'mse',
  },
  { name: 'unknown option', text: 'adapter b {\n  size 8\n  init normal(sd 1e-2)\n}\n' + place, code: 'ADP1111', line: 3, column: 15, hint: "did you mean 'std'?" },
  {
    name: 'missing required option',
    text: adapter + place + 'train {\n  trainable adapters, head\n  head classifier(from pooled)\n}\n',
    code: 'ADP1112',
    line: 7,
    column: 8,
  },
  { name: 'override of nothing', text: 'override adapter b {\n  size 8\n}\n' + place, code: 'ADP1113', line: 1, column: 18 },
  { name: 'nothing trainable', text: adapter.replace('b', 'unused') + 'target cpu\n', code: 'ADP1114', line: 1, column: 1 },
  { name: 'layer listed twice', text: adapter + 'place b after ffn in layers 0, 2, 0\n', code: 'ADP1115', line: 4, column: 35 },
  { name: 'missing import', text: 'import "missing.adp"\n' + adapter + place, code: 'ADP1201', line: 1, column: 8 },
  {
    name: 'import cycle',
    text: 'import "b.adp"\n' + adapter + place,
    files: { 'b.adp': 'import "spec.adp"\n' },
    code: 'ADP1202',
    line: 1,
    column: 8,
  },
  { name: 'import after a statement', text: adapter + 'import "x.adp"\n' + place, code: 'ADP1204', line: 4, column: 1 },
  { name: 'seed twice', text: adapter + place + 'seed 1\nseed 2\n', code: 'ADP1102', line: 6, column: 1 },
  { name: 'misspelled site', text: adapter + 'place b after attentoin in layers all\n', code: 'ADP1101', line: 4, column: 15, hint: "did you mean 'attention'?" },
  {
    name: 'warmup over 100%',
    text: adapter + place + 'train {\n  schedule linear(warmup 150%)\n}\n',
    code: 'ADP1103',
    line: 6,
    column: 26,
  },
  { name: 'one beta', text: adapter + place + 'train {\n  optimizer adamw(betas (0.9))\n}\n', code: 'ADP1103', line: 6, column: 25 },
  {
    name: 'untrained classifier',
    text: adapter + place + 'train {\n  head classifier(labels 2)\n}\n',
    code: 'ADP1119',
    line: 6,
    column: 3,
    hint: "add 'head'",
  },
  { name: 'misspelled trainable part', text: adapter + place + 'train {\n  trainable adaptrs\n}\n', code: 'ADP1101', line: 6, column: 13, hint: "did you mean 'adapters'?" },
  { name: 'layers missing', text: adapter + 'place b after ffn in layers\nseed 1\n', code: 'ADP1002', line: 5, column: 1 },
  { name: 'keyword as a name', text: 'adapter size {\n  size 8\n}\n', code: 'ADP1002', line: 1, column: 9, hint: 'keyword' },
  { name: 'seed out of range', text: adapter + place + 'seed 4294967296\n', code: 'ADP1103', line: 5, column: 6 },
  { name: 'unknown target', text: adapter + place + 'target gpu\n', code: 'ADP1101', line: 5, column: 8 },
  { name: 'brackets nested too deep', text: `adapter b {\n  size 8\n  init normal(std ${'('.repeat(40)}\n`, code: 'ADP1006', line: 3, column: 49, hint: 'close the brackets' },
  { name: 'size over the limit', text: 'adapter b {\n  size 99999999999\n}\n' + place, code: 'ADP1121', line: 2, column: 8, hint: 'use at most 65536' },
  { name: 'size on a LoRA adapter', text: 'adapter l {\n  lora(rank 4)\n  size 8\n}\nplace l on query in layers all\n', code: 'ADP1122', line: 3, column: 3, hint: 'its rank' },
  { name: 'activation on an (IA)³ adapter', text: 'adapter s {\n  ia3\n  activation relu\n}\nplace s on key in layers all\n', code: 'ADP1122', line: 3, column: 3, hint: 'one learned vector' },
  { name: 'LoRA after a sub-layer', text: 'adapter l {\n  lora(rank 4)\n}\nplace l on ffn in layers all\n', code: 'ADP1123', line: 4, column: 12, hint: 'query, key, value' },
  { name: 'bottleneck on a projection', text: adapter + 'place b after query in layers all\n', code: 'ADP1123', line: 4, column: 15, hint: 'attention, ffn' },
  { name: "LoRA placed 'after'", text: 'adapter l {\n  lora(rank 4)\n}\nplace l after value in layers all\n', code: 'ADP1124', line: 4, column: 1, hint: "place l on value" },
  { name: 'misspelt projection', text: 'adapter l {\n  lora(rank 4)\n}\nplace l on querry in layers all\n', code: 'ADP1101', line: 4, column: 12, hint: "did you mean 'query'?" },
  { name: 'import of a file that is not a spec', text: 'import "/etc/passwd"\n' + adapter + place, code: 'ADP1205', line: 1, column: 8, hint: '.adp' },
];

function run(c: Case) {
  return checkSpecText(c.text, 'spec.adp', memoryHost(c.files ?? {}));
}

describe('malformed specs', () => {
  it('has at least 20 cases', () => {
    expect(cases.length).toBeGreaterThanOrEqual(20);
  });

  it.each(cases)('$name → $code at $line:$column', (c) => {
    const result = run(c);
    expect(result.plan).toBeUndefined();
    const match = result.diagnostics.find((d) => d.code === c.code);
    expect(match, JSON.stringify(result.diagnostics.map((d) => `${d.code} ${d.span?.start.line}:${d.span?.start.column} ${d.message}`))).toBeDefined();
    expect({ line: match!.span?.start.line, column: match!.span?.start.column }).toEqual({ line: c.line, column: c.column });
    if (c.hint) expect(match!.hint).toContain(c.hint);
    // One sentence each.
    for (const d of result.diagnostics) expect(d.message).toMatch(/^[A-Z'].*\.$/);
  });

  it('renders every case as file:line:col, message, code frame and hint (golden)', async () => {
    const rendered = cases.map((c) => {
      const result = run(c);
      return `=== ${c.name}\n${renderDiagnostics(result.diagnostics, result.sources)}\n`;
    });
    await expect(rendered.join('\n')).toMatchFileSnapshot('../golden/malformed-specs.txt');
  });

  it('reports several syntax errors in one run', () => {
    const text = 'adapter b {\n  siz 64\n  activaton gelu\n  size 6.4\n}\nplcae b after attention in layers all\nplace b after attention in layers\ntrain { trainable adaptrs }\nseed "x"\n';
    const result = checkSpecText(text, 'spec.adp', memoryHost({}));
    const lines = result.diagnostics.map((d) => d.span?.start.line);
    expect(lines).toEqual([2, 3, 4, 6, 8, 9]);
  });
});
