/**
 * Gradients of elementwise ops. Binary ops broadcast (numpy rules), so each input's gradient is
 * summed back to its own shape (`unbroadcast`). y is the node's output, dy its gradient.
 */
import { attr, attrString, getAttribute } from '../../ir/index.js';
import { unbroadcast } from '../broadcast.js';
import { FLOAT_TYPES, type GradientContext, type GradientRule } from '../rule.js';

const grad = (g: GradientContext, i: number) => `${g.node.inputs[i]}.grad`;

const mul = (g: GradientContext, a: string, b: string, i: number) => g.b.node('Mul', [a, b], grad(g, i));
const y = (g: GradientContext) => g.node.outputs[0]!;
const input = (g: GradientContext, i: number) => g.node.inputs[i]!;

/** dy passed through unchanged (shape-preserving ops with one differentiable input). */
const passThrough: GradientRule = (_g, [dy]) => [dy];

/** For a unary op with derivative f'(x, y): dx = dy · f'. */
function unary(derivative: (g: GradientContext) => string): GradientRule {
  return (g, [dy]) => (g.needs(0) ? [mul(g, dy!, derivative(g), 0)] : []);
}

export const elementwiseRules: ReadonlyArray<[string, GradientRule]> = [
  ['Identity', passThrough],
  // Dropout is exported in inference mode (ratio unused); the training graph keeps it that way.
  ['Dropout', passThrough],
  [
    'Add',
    (g, [dy]) => [g.needs(0) ? unbroadcast(g, dy!, input(g, 0), y(g)) : undefined, g.needs(1) ? unbroadcast(g, dy!, input(g, 1), y(g)) : undefined],
  ],
  [
    'Sub',
    (g, [dy]) => [
      g.needs(0) ? unbroadcast(g, dy!, input(g, 0), y(g)) : undefined,
      g.needs(1) ? unbroadcast(g, g.b.node('Neg', [dy!], grad(g, 1)), input(g, 1), y(g)) : undefined,
    ],
  ],
  [
    'Mul',
    (g, [dy]) => [
      g.needs(0) ? unbroadcast(g, mul(g, dy!, input(g, 1), 0), input(g, 0), y(g)) : undefined,
      g.needs(1) ? unbroadcast(g, mul(g, dy!, input(g, 0), 1), input(g, 1), y(g)) : undefined,
    ],
  ],
  [
    'Div',
    // y = a / b:  da = dy / b,  db = -dy · y / b
    (g, [dy]) => [
      g.needs(0) ? unbroadcast(g, g.b.node('Div', [dy!, input(g, 1)], grad(g, 0)), input(g, 0), y(g)) : undefined,
      g.needs(1)
        ? unbroadcast(g, g.b.node('Neg', [g.b.node('Div', [mul(g, dy!, y(g), 1), input(g, 1)], grad(g, 1))], grad(g, 1)), input(g, 1), y(g))
        : undefined,
    ],
  ],
  [
    'Pow',
    // y = x^p with a constant exponent: dx = dy · p · x^(p-1)
    (g, [dy]) => {
      if (g.needs(1)) g.fail('only a constant exponent is supported');
      const p = g.constant(input(g, 1));
      if (!p || p.length !== 1) return g.fail('the exponent is not a constant scalar');
      const exponent = p[0]!;
      const power = exponent === 2 ? input(g, 0) : g.b.node('Pow', [input(g, 0), g.b.scalar(exponent - 1)], grad(g, 0));
      return [mul(g, dy!, g.b.node('Mul', [power, g.b.scalar(exponent)], grad(g, 0)), 0)];
    },
  ],
  ['Neg', (g, [dy]) => [g.b.node('Neg', [dy!], grad(g, 0))]],
  // y = √x: dx = dy · 0.5 / y
  ['Sqrt', unary((g) => g.b.node('Div', [g.b.scalar(0.5), y(g)], grad(g, 0)))],
  // y = 1/x: dx = -dy · y²
  ['Reciprocal', unary((g) => g.b.node('Neg', [g.b.node('Mul', [y(g), y(g)], grad(g, 0))], grad(g, 0)))],
  ['Exp', unary((g) => y(g))],
  ['Log', unary((g) => g.b.node('Reciprocal', [input(g, 0)], grad(g, 0)))],
  // erf'(x) = 2/√π · exp(-x²)
  ['Erf', unary((g) => g.b.node('Mul', [g.b.node('Exp', [g.b.node('Neg', [g.b.node('Mul', [input(g, 0), input(g, 0)], grad(g, 0))], grad(g, 0))], grad(g, 0)), g.b.scalar(2 / Math.sqrt(Math.PI))], grad(g, 0)))],
  // tanh' = 1 - y²
  ['Tanh', unary((g) => g.b.node('Sub', [g.b.scalar(1), g.b.node('Mul', [y(g), y(g)], grad(g, 0))], grad(g, 0)))],
  // σ' = y · (1 - y)
  ['Sigmoid', unary((g) => g.b.node('Mul', [y(g), g.b.node('Sub', [g.b.scalar(1), y(g)], grad(g, 0))], grad(g, 0)))],
  // relu' = 1 where x > 0
  ['Relu', unary((g) => g.b.node('Cast', [g.b.node('Greater', [input(g, 0), g.b.scalar(0)], grad(g, 0))], grad(g, 0), [attr.int('to', 1)]))],
  [
    'Cast',
    // The gradient goes back in the input's own float type; integer inputs have none.
    (g, [dy]) => {
      const to = FLOAT_TYPES[g.shape(input(g, 0)).elemType];
      return to === undefined ? [] : [g.b.node('Cast', [dy!], grad(g, 0), [attr.int('to', to)])];
    },
  ],
  [
    'Gelu',
    // The ONNX op (opset 20): gelu'(x) = Φ(x) + x·φ(x), Φ the normal CDF, φ its density.
    (g, [dy]) => {
      if (getAttribute(g.node, 'approximate') && attrString(g.node, 'approximate') !== 'none') return g.fail("only approximate='none' is supported");
      const x = input(g, 0);
      const b = g.b;
      const cdf = b.node('Mul', [b.node('Add', [b.node('Erf', [b.node('Mul', [x, b.scalar(Math.SQRT1_2)], grad(g, 0))], grad(g, 0)), b.scalar(1)], grad(g, 0)), b.scalar(0.5)], grad(g, 0));
      const density = b.node('Mul', [b.node('Exp', [b.node('Mul', [b.node('Mul', [x, x], grad(g, 0)), b.scalar(-0.5)], grad(g, 0))], grad(g, 0)), b.scalar(1 / Math.sqrt(2 * Math.PI))], grad(g, 0));
      return [mul(g, dy!, b.node('Add', [cdf, b.node('Mul', [x, density], grad(g, 0))], grad(g, 0)), 0)];
    },
  ],
  [
    'Where',
    // y = c ? a : b:  da = c ? dy : 0,  db = c ? 0 : dy
    (g, [dy]) => {
      const zero = g.b.scalar(0);
      const c = input(g, 0);
      return [
        undefined,
        g.needs(1) ? unbroadcast(g, g.b.node('Where', [c, dy!, zero], grad(g, 1)), input(g, 1), y(g)) : undefined,
        g.needs(2) ? unbroadcast(g, g.b.node('Where', [c, zero, dy!], grad(g, 2)), input(g, 2), y(g)) : undefined,
      ];
    },
  ],
  ['Expand', (g, [dy]) => [unbroadcast(g, dy!, input(g, 0), y(g))]],
  ['Sum', (g, [dy]) => g.node.inputs.map((x, i) => (g.needs(i) ? unbroadcast(g, dy!, x, y(g)) : undefined))],
];
