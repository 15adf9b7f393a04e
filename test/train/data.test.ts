/** Reading labelled sentences: TSV with or without a header, JSONL, and errors that point at the line. */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { AdapterError, renderDiagnostics } from '../../src/diagnostics/index.js';
import { parseExamples, readExamplesFile } from '../../src/train/data.js';
import { accuracy, majorityBaseline, pearson, ranks, spearman } from '../../src/train/metrics.js';

const classification = { kind: 'classification' as const, classes: 2 };

function failure(run: () => unknown): { codes: string[]; text: string } {
  try {
    run();
  } catch (error) {
    if (!(error instanceof AdapterError)) throw error;
    return { codes: error.diagnostics.map((d) => d.code), text: renderDiagnostics(error.diagnostics, error.sources) };
  }
  throw new Error('expected an AdapterError');
}

describe('label<TAB>text files', () => {
  it('skips a header whose label is not a number, and blank lines', () => {
    const examples = parseExamples('label\tsentence\n0\ta dull film\n\n1\tgreat fun , really\n', 'x.tsv', classification);
    expect(examples).toEqual([
      { label: 0, text: 'a dull film', line: 2 },
      { label: 1, text: 'great fun , really', line: 4 },
    ]);
  });

  it('reads files without a header, with CRLF line ends, and keeps tabs inside the text', () => {
    expect(parseExamples('1\tone\r\n0\ttwo\tthree\r\n', 'x.tsv', classification).map((e) => [e.label, e.text])).toEqual([
      [1, 'one'],
      [0, 'two\tthree'],
    ]);
  });

  it('reads float labels for regression', () => {
    expect(parseExamples('score\ttext\n3.8\ta\n-0.5\tb\n1e-1\tc\n', 'stsb.tsv', { kind: 'regression' }).map((e) => e.label)).toEqual([3.8, -0.5, 0.1]);
  });

  it('points at each malformed line with file:line and the line shown', () => {
    const { codes, text } = failure(() => parseExamples('label\tsentence\n0\tfine\nno tab here\nx\tbad label\n2\tthree classes?\n0.5\thalf\n1\t   \n', 'train.tsv', classification));
    expect(codes).toEqual(['ADP5002', 'ADP5002', 'ADP5002', 'ADP5002', 'ADP5002']);
    expect(text).toContain("train.tsv:3:1 - error ADP5002: Line 3 of 'train.tsv' has no tab between the label and the text.");
    expect(text).toContain('  3 | no tab here');
    expect(text).toContain(`train.tsv:4:1 - error ADP5002: Line 4 of 'train.tsv' has the label "x", which is not a number.`);
    expect(text).toContain("train.tsv:5:1 - error ADP5002: Line 5 of 'train.tsv' has the label 2, but the model has 2 classes (0 to 1).");
    expect(text).toContain("Line 6 of 'train.tsv' has the label 0.5, but a classification label is a class index (0, 1, 2, …).");
    expect(text).toContain("Line 7 of 'train.tsv' has no text.");
  });

  it('reports at most ten malformed lines, then says there are more', () => {
    const { codes, text } = failure(() => parseExamples(Array.from({ length: 30 }, () => 'oops').join('\n'), 'big.tsv', classification));
    expect(codes.length).toBe(11);
    expect(text).toContain("'big.tsv' has more malformed lines; the first 10 are shown.");
  });

  it('refuses an empty file and an unreadable one', () => {
    expect(failure(() => parseExamples('label\tsentence\n', 'empty.tsv', classification)).codes).toEqual(['ADP5009']);
    expect(failure(() => readExamplesFile(path.join(tmpdir(), 'adapterc-no-such-file.tsv'), classification)).codes).toEqual(['ADP5001']);
  });
});

describe('JSONL files', () => {
  it('reads {"label", "text"} (or "sentence") objects', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'adapterc-data-'));
    const file = path.join(dir, 'd.jsonl');
    writeFileSync(file, '{"label": 1, "text": "good"}\n\n{"label": "0", "sentence": "bad"}\n');
    expect(readExamplesFile(file, classification)).toEqual([
      { label: 1, text: 'good', line: 1 },
      { label: 0, text: 'bad', line: 3 },
    ]);
  });

  it('points at invalid JSON and missing fields', () => {
    const { codes, text } = failure(() => parseExamples('{"label": 1, "text": "ok"}\n{"label": 1, "text": \n{"text": "no label"}\n{"label": true, "text": "x"}\n', 'd.jsonl', classification));
    expect(codes).toEqual(['ADP5002', 'ADP5002', 'ADP5002']);
    expect(text).toContain("d.jsonl:2:1 - error ADP5002: Line 2 of 'd.jsonl' is not valid JSON");
    expect(text).toContain(`Line 3 of 'd.jsonl' needs a "label" and a string "text".`);
    expect(text).toContain(`Line 4 of 'd.jsonl' has the label true, which is not a number.`);
  });
});

describe('metrics', () => {
  it('accuracy and the majority-class baseline', () => {
    expect(accuracy([1, 0, 1, 1], [1, 1, 1, 0])).toBe(0.5);
    expect(majorityBaseline([0, 1, 1, 2, 1, 0])).toEqual({ label: 1, accuracy: 0.5 });
    expect(majorityBaseline([1, 0])).toEqual({ label: 0, accuracy: 0.5 });
  });

  it("Pearson's r and Spearman's ρ with ties", () => {
    expect(pearson([1, 2, 3], [2, 4, 6])).toBeCloseTo(1, 12);
    expect(pearson([1, 2, 3], [3, 2, 1])).toBeCloseTo(-1, 12);
    expect(ranks([10, 20, 20, 5])).toEqual([2, 3.5, 3.5, 1]);
    // Monotone but not linear: ρ = 1, r < 1.
    expect(spearman([1, 2, 3, 4], [1, 8, 27, 64])).toBeCloseTo(1, 12);
    expect(pearson([1, 2, 3, 4], [1, 8, 27, 64])).toBeLessThan(0.99);
    // scipy.stats.spearmanr([1, 2, 2, 3], [1, 3, 2, 4]) = 0.9486832980505138
    expect(spearman([1, 2, 2, 3], [1, 3, 2, 4])).toBeCloseTo(0.9486832980505138, 12);
  });
});
