/**
 * Every gradient rule of the registry checked against central finite differences on tiny graphs
 * (rule-cases.ts; the method and its tolerance are explained in gradcheck.ts), and the cases where a
 * rule must refuse (ADP3003) or where no rule exists (ADP3001).
 */
import { afterAll, describe, expect, it } from 'vitest';
import { gradientRules } from '../../src/differentiate/rules/index.js';
import { adapterErrorOf, describeMismatches, differentiateCase, gradCheck, TOLERANCE, WorstByFamily } from './gradcheck.js';
import { OFF_PATH_CASE, REFUSED_CASES, RULE_CASES, type Family } from './rule-cases.js';

const worst = new WorstByFamily();
afterAll(() => console.log(`Gradient checks of the rules (relative error, tolerance ${TOLERANCE}):\n${worst.summary()}`));

describe('every registered gradient rule has a gradient-check case', () => {
  it('covers each op type of the registry', () => {
    const covered = new Set(RULE_CASES.filter((c) => !c.bug).map((c) => c.op));
    const missing = [...gradientRules.keys()].filter((op) => !covered.has(op));
    expect(missing, `registered ops without a gradient-check case in test/differentiate/rule-cases.ts`).toEqual([]);
  });

  it('names only registered ops', () => {
    expect(RULE_CASES.map((c) => c.op).filter((op) => !gradientRules.has(op))).toEqual([]);
  });
});

const families: Family[] = ['elementwise', 'linear', 'reduce', 'shape', 'normalization'];
for (const family of families) {
  describe(`${family} rules match central finite differences`, () => {
    for (const c of RULE_CASES.filter((r) => r.family === family)) {
      const check = async () => {
        const result = await gradCheck(c);
        expect(result.lossAgreement, 'the loss graph computes Σ y·W').toBeLessThan(1e-4);
        expect(result.checked).toBeGreaterThan(0);
        expect(result.mismatches, describeMismatches(result)).toEqual([]);
        worst.record(family, c.name, result);
      };
      // A case with `bug` set exposes a known bug in its rule (described there); it fails until fixed.
      if (c.bug) it.fails(`${c.op}: ${c.name} [known bug: ${c.bug}]`, check);
      else it(`${c.op}: ${c.name}`, check);
    }
  });
}

describe('differentiation stops where it cannot build a gradient', () => {
  for (const c of REFUSED_CASES) {
    it(`${c.code} for ${c.name}`, async () => {
      const errors = await adapterErrorOf(() => differentiateCase(c));
      expect(errors.map((e) => e.code)).toEqual([c.code]);
      for (const text of c.mentions) expect(errors[0]!.message).toContain(text);
    });
  }

  it('but not for an op without a rule off the gradient path', async () => {
    const result = await gradCheck(OFF_PATH_CASE);
    expect(result.mismatches, describeMismatches(result)).toEqual([]);
  });
});
