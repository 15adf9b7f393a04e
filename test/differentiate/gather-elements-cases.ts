/**
 * Gradient-check cases for GatherElements (src/differentiate/rules/gather-elements.ts), DeBERTa's
 * relative-position gather: along the last axis, indices of the data's shape but there, repeated
 * buckets (their gradients add up), at the opset optimum exports DeBERTa-v2 with (12) and a recent one.
 */
import { attr } from '../../src/ir/index.js';
import { op, type CaseInput } from './gradcheck.js';
import type { RefusedCase, RuleCase } from './rule-cases.js';

const B = 'batch';
const S = 'seq';
const ids = (name: string, dims: CaseInput['dims'], values: (i: number) => number): CaseInput => ({ name, dims, type: 'int64', values });

export const GATHER_ELEMENTS_CASES: readonly RuleCase[] = [
  ...[12, 17].map(
    (opset): RuleCase => ({
      family: 'shape',
      op: 'GatherElements',
      name: `GatherElements along the last axis of [B,S,6] at [B,S,S] indices with repeats, at opset ${opset}`,
      opset,
      inputs: [{ name: 'x', dims: [B, S, 6] }, ids('index', [B, S, S], (i) => [0, 5, 5, 2, 3, 5, 1][i % 7]!)],
      nodes: [op('GatherElements', ['x', 'index'], 'y', [attr.int('axis', -1)])],
      outputs: ['y'],
    }),
  ),
  {
    family: 'shape',
    op: 'GatherElements',
    name: 'GatherElements with negative indices (counted from the end), axis 2 of [B,3,4], int64',
    opset: 13,
    inputs: [{ name: 'x', dims: [B, 3, 4] }, ids('index', [B, 3, 5], (i) => [-1, 0, -4, 2, -1][i % 5]!)],
    nodes: [op('GatherElements', ['x', 'index'], 'y', [attr.int('axis', 2)])],
    outputs: ['y'],
  },
];

export const GATHER_ELEMENTS_REFUSED: readonly RefusedCase[] = [
  {
    code: 'ADP3003',
    mentions: ["'gather' (GatherElements)", 'only a gather along the last axis'],
    name: 'GatherElements along an axis other than the last',
    op: 'GatherElements',
    opset: 13,
    inputs: [{ name: 'x', dims: [B, 3, 4] }, ids('index', [B, 2, 4], (i) => i % 3)],
    nodes: [op('GatherElements', ['x', 'index'], 'y', [attr.int('axis', 1)], { name: 'gather' })],
    outputs: ['y'],
  },
];
