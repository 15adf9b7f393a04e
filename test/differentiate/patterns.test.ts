/**
 * The pattern matcher of the differentiate stage (src/differentiate/patterns.ts): which chains count
 * as GELU, and which must not. Its gradients are checked against finite differences with the rules
 * (rule-cases.ts); here, what it matches, and that the backward pass then reads only x.
 */
import { describe, expect, it } from 'vitest';
import { makeTensor, type Node, type Tensor } from '../../src/ir/index.js';
import { matchPattern, type PatternLookup } from '../../src/differentiate/patterns.js';

const node = (opType: string, inputs: string[], output: string): Node => ({ opType, inputs, outputs: [output], name: output, attributes: [] });

function lookup(nodes: Node[], constants: Tensor[]): PatternLookup {
  const values = new Map(constants.map((t) => [t.name!, [...new Float32Array(t.rawData!.buffer, t.rawData!.byteOffset, 1)]]));
  return { producer: new Map(nodes.flatMap((n) => n.outputs.map((o) => [o, n] as const))), constant: (v) => values.get(v) };
}

const scalars = (entries: Record<string, number>) => Object.entries(entries).map(([name, v]) => makeTensor(name, [], new Float32Array([v])));
const base = scalars({ sqrt2: Math.SQRT2, rsqrt2: Math.SQRT1_2, one: 1, half: 0.5, two: 2, point6: 0.6 });

function chain(...nodes: Node[]): { last: Node; look: PatternLookup } {
  return { last: nodes.at(-1)!, look: lookup(nodes, base) };
}

describe('GELU written with Erf', () => {
  it.each([
    ['torch.onnx: (x · (1 + erf(x / √2))) · 0.5', chain(node('Div', ['x', 'sqrt2'], 'z'), node('Erf', ['z'], 'e'), node('Add', ['e', 'one'], 'a'), node('Mul', ['x', 'a'], 'm'), node('Mul', ['m', 'half'], 'y'))],
    ['operands swapped: 0.5 · ((1 + erf(x / √2)) · x)', chain(node('Div', ['x', 'sqrt2'], 'z'), node('Erf', ['z'], 'e'), node('Add', ['one', 'e'], 'a'), node('Mul', ['a', 'x'], 'm'), node('Mul', ['half', 'm'], 'y'))],
    ['adapterc: (x · 0.5) · (1 + erf(x · 1/√2))', chain(node('Mul', ['x', 'rsqrt2'], 'z'), node('Erf', ['z'], 'e'), node('Add', ['e', 'one'], 'a'), node('Mul', ['x', 'half'], 'h'), node('Mul', ['h', 'a'], 'y'))],
  ])('matches %s', (_, { last, look }) => {
    expect(matchPattern(last, look)).toEqual({ op: 'Gelu', input: 'x' });
  });

  it.each([
    ['a factor 0.6 in place of 0.5', chain(node('Div', ['x', 'sqrt2'], 'z'), node('Erf', ['z'], 'e'), node('Add', ['e', 'one'], 'a'), node('Mul', ['x', 'a'], 'm'), node('Mul', ['m', 'point6'], 'y'))],
    ['a division by 2 in place of √2', chain(node('Div', ['x', 'two'], 'z'), node('Erf', ['z'], 'e'), node('Add', ['e', 'one'], 'a'), node('Mul', ['x', 'a'], 'm'), node('Mul', ['m', 'half'], 'y'))],
    ['erf of another value than the one multiplied', chain(node('Div', ['w', 'sqrt2'], 'z'), node('Erf', ['z'], 'e'), node('Add', ['e', 'one'], 'a'), node('Mul', ['x', 'a'], 'm'), node('Mul', ['m', 'half'], 'y'))],
    ['1 − erf in place of 1 + erf', chain(node('Div', ['x', 'sqrt2'], 'z'), node('Erf', ['z'], 'e'), node('Sub', ['one', 'e'], 'a'), node('Mul', ['x', 'a'], 'm'), node('Mul', ['m', 'half'], 'y'))],
    ['x · (1 + erf) without the 0.5', chain(node('Div', ['x', 'sqrt2'], 'z'), node('Erf', ['z'], 'e'), node('Add', ['e', 'one'], 'a'), node('Mul', ['x', 'a'], 'y'))],
  ])('does not match %s', (_, { last, look }) => {
    expect(matchPattern(last, look)).toBeUndefined();
  });
});
