/**
 * Subgraphs differentiated as one op. Exporters write some functions as chains of elementwise ops;
 * differentiating each op of the chain keeps every intermediate value alive for the backward pass,
 * and those values keep ONNX Runtime from fusing the chain into one kernel in the forward pass.
 * A pattern here names the chain's input; the driver then gives its output's gradient straight to
 * that input, by the function's own derivative, and the chain's inner values get no gradient (their
 * own rules still run for any other path that reaches them).
 *
 * One pattern so far: GELU written with Erf, as torch.onnx exports nn.GELU below opset 20 and as
 * adapterc writes adapter activations, 0.5 · x · (1 + erf(x / √2)) in any operand order, with the
 * division by √2 or a multiplication by 1/√2. Measured on BERT-base (bench/step.ts), it keeps two
 * fewer [tokens, FFN] tensors per layer and lets ORT fuse the forward GELU.
 */
import type { Node } from '../ir/index.js';

export interface PatternLookup {
  readonly producer: ReadonlyMap<string, Node>;
  /** The numbers of a constant input (initializer or Constant node), if it is one. */
  constant(value: string): number[] | undefined;
}

export interface MatchedPattern {
  /** Which function the chain computes; its derivative is the registry's rule for this op. */
  readonly op: 'Gelu';
  /** The chain's input x: the node's output is f(x). */
  readonly input: string;
}

const close = (a: number | undefined, b: number) => a !== undefined && Math.abs(a - b) <= 1e-4 * Math.abs(b);

function isScalar(look: PatternLookup, value: string, expected: number): boolean {
  const numbers = look.constant(value);
  return numbers !== undefined && numbers.length === 1 && close(numbers[0], expected);
}

/** The operands of a binary `op` node producing `value`. */
function operands(look: PatternLookup, value: string, op: string): [string, string] | undefined {
  const node = look.producer.get(value);
  return node?.opType === op && (node.domain ?? '') === '' && node.inputs.length === 2 ? [node.inputs[0]!, node.inputs[1]!] : undefined;
}

/** The other operand of a commutative binary node when one operand satisfies `test`. */
function other(pair: [string, string] | undefined, test: (v: string) => boolean): string | undefined {
  if (pair === undefined) return undefined;
  if (test(pair[0])) return pair[1];
  if (test(pair[1])) return pair[0];
  return undefined;
}

/** Whether `value` is 1 + erf(x / √2) for this x. */
function isOnePlusErf(look: PatternLookup, value: string, x: string): boolean {
  const erfOut = other(operands(look, value, 'Add'), (v) => isScalar(look, v, 1));
  const erf = erfOut === undefined ? undefined : look.producer.get(erfOut);
  if (erf?.opType !== 'Erf' || (erf.domain ?? '') !== '') return false;
  const scaled = erf.inputs[0]!;
  const divided = operands(look, scaled, 'Div');
  if (divided !== undefined) return divided[0] === x && isScalar(look, divided[1], Math.SQRT2);
  return other(operands(look, scaled, 'Mul'), (v) => isScalar(look, v, Math.SQRT1_2)) === x;
}

/** x, when `node` computes 0.5 · x · (1 + erf(x / √2)). */
function erfGelu(node: Node, look: PatternLookup): string | undefined {
  if (node.opType !== 'Mul' || (node.domain ?? '') !== '' || node.inputs.length !== 2) return undefined;
  const [p, q] = node.inputs as [string, string];
  // (x · (1 + erf)) · 0.5
  const product = isScalar(look, q, 0.5) ? p : isScalar(look, p, 0.5) ? q : undefined;
  if (product !== undefined) {
    const pair = operands(look, product, 'Mul');
    if (pair !== undefined) {
      if (isOnePlusErf(look, pair[1], pair[0])) return pair[0];
      if (isOnePlusErf(look, pair[0], pair[1])) return pair[1];
    }
  }
  // (x · 0.5) · (1 + erf)
  for (const [half, rest] of [[p, q], [q, p]] as const) {
    const x = other(operands(look, half, 'Mul'), (v) => isScalar(look, v, 0.5));
    if (x !== undefined && isOnePlusErf(look, rest, x)) return x;
  }
  return undefined;
}

/** The pattern `node` ends, if any. */
export function matchPattern(node: Node, look: PatternLookup): MatchedPattern | undefined {
  const x = erfGelu(node, look);
  return x === undefined ? undefined : { op: 'Gelu', input: x };
}
