/** `head masked_lm` in the checker: what it means, and the combinations it refuses. */
import { describe, expect, it } from 'vitest';
import { checkSpecText } from '../../src/check/check.js';
import { describeHead } from '../../src/check/describe.js';
import { memoryHost } from '../helpers/memory-host.js';

const check = (text: string) => checkSpecText(text, 'spec.adp', memoryHost({}));
const errors = (text: string) => check(text).diagnostics.filter((d) => d.severity === 'error').map((d) => [d.code, d.message, d.span?.start.line]);

describe('head masked_lm', () => {
  it('plans a masked-LM head under cross-entropy, by default and when written out', () => {
    for (const loss of ['', '  loss cross_entropy\n']) {
      const result = check(`train {\n  trainable all\n  head masked_lm\n${loss}}\n`);
      expect(result.diagnostics).toEqual([]);
      expect(result.plan!.head).toEqual({ kind: 'masked_lm' });
      expect(result.plan!.loss).toBe('cross_entropy');
      expect(describeHead(result.plan!.head)).toMatch(/^masked_lm/);
    }
  });

  it('refuses mse: a masked LM predicts token ids (ADP1110)', () => {
    expect(errors('train {\n  trainable all\n  head masked_lm\n  loss mse\n}\n')).toEqual([['ADP1110', "Loss 'mse' does not fit the head masked_lm.", 4]]);
  });

  it('refuses a head nothing trains (ADP1120)', () => {
    const spec = 'adapter b {\n  size 8\n}\nplace b after ffn in layers all\ntrain {\n  trainable adapters, layernorm\n  head masked_lm\n}\n';
    expect(errors(spec)).toEqual([['ADP1120', 'The new masked_lm head would never be trained.', 7]]);
    expect(errors(spec.replace('adapters, layernorm', 'adapters, head'))).toEqual([]);
  });

  it('takes no options (ADP1111), and a misspelt head name gets a suggestion (ADP1101)', () => {
    expect(errors('train {\n  trainable all\n  head masked_lm(vocab 100)\n}\n').map((e) => e[0])).toEqual(['ADP1111']);
    const misspelt = check('train {\n  trainable all\n  head masked_ml\n}\n').diagnostics;
    expect(misspelt.map((d) => d.code)).toEqual(['ADP1101']);
    expect(misspelt[0]!.hint).toContain('masked_lm');
  });
});
