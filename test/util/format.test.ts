import { describe, expect, it } from 'vitest';
import { groupDigits } from '../../src/util/format.js';

describe('groupDigits', () => {
  it("writes integers as toLocaleString('en-US') does", () => {
    const values = [0, 1, 12, 999, 1000, 1001, 99_999, 100_000, 1_000_000, 109_482_240, 2 ** 53 - 1, -1, -1000, -1_234_567];
    for (let k = 1; k < 1e15; k *= 7) values.push(k, k + 1, -k);
    for (const n of values) expect(groupDigits(n)).toBe(n.toLocaleString('en-US'));
  });

  it('leaves what is not a safe integer to toLocaleString', () => {
    for (const n of [1.5, 1234.5678, 2 ** 60, Number.NaN]) expect(groupDigits(n)).toBe(n.toLocaleString('en-US'));
  });
});
