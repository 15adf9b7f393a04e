/** Gradients of MatMul (numpy semantics, batched) and Gemm. */
import { attr, attrFloat, attrInt } from '../../ir/index.js';
import { unbroadcast, unbroadcastFrom } from '../broadcast.js';
import type { GradientContext, GradientRule } from '../rule.js';

/** x with its last two axes swapped. */
function swapLastTwo(g: GradientContext, x: string, name: string): string {
  const r = g.rank(x);
  const perm = [...Array(r).keys()];
  [perm[r - 2], perm[r - 1]] = [perm[r - 1]!, perm[r - 2]!];
  return g.b.transpose(x, perm, name);
}

/** alpha · op(x) · op(w) as a Gemm (2-D); before opset 11 its C input is required, and a scalar 0 adds nothing. */
function gemmNode(g: GradientContext, x: string, w: string, transX: boolean, transW: boolean, alpha: number, name: string): string {
  return g.b.node('Gemm', g.b.opset >= 11 ? [x, w] : [x, w, g.b.scalar(0)], name, [attr.float('alpha', alpha), attr.int('transA', transX ? 1 : 0), attr.int('transB', transW ? 1 : 0)]);
}

const matMul: GradientRule = (g, [dy]) => {
  const [a, b] = g.node.inputs as [string, string];
  const y = g.node.outputs[0]!;
  const ra = g.rank(a);
  const rb = g.rank(b);
  if (ra < 2 || rb < 2) g.fail('one-dimensional MatMul operands are not supported');
  const yDims = g.shape(y).dims;
  let da: string | undefined;
  let db: string | undefined;
  if (g.needs(0) && rb === 2) {
    // dA = dY · Bᵀ for a matrix B (a weight): Gemm with transB on dY as rows, not a Transpose of
    // B, which ONNX Runtime folds into a transposed copy of every frozen weight (a third more
    // memory than the model on BERT-base); Reshapes of rows cost nothing.
    // The rows go back to A's shape read from dY's (all but its last axis, then K), not from A's:
    // a Shape of A would keep A alive until the backward pass reaches it.
    const n = yDims[yDims.length - 1]!;
    const k = g.shape(b).dims[0]!;
    const rows = ra === 2 ? dy! : g.b.node('Reshape', [dy!, g.b.int64s(`${a}.grad.rows.shape`, [-1, n])], `${a}.grad.rows`);
    const product = gemmNode(g, rows, b, false, true, 1, `${a}.grad`);
    if (ra === 2) da = product;
    else {
      const dyShape = g.b.shape(dy!);
      const lead =
        g.b.opset >= 10
          ? g.b.node('Slice', [dyShape, g.b.int64s(`${a}.grad.lead.starts`, [0]), g.b.int64s(`${a}.grad.lead.ends`, [-1])], `${a}.grad.lead`)
          : g.b.node('Slice', [dyShape], `${a}.grad.lead`, [attr.ints('starts', [0]), attr.ints('ends', [-1])]);
      const shape = g.b.node('Concat', [lead, g.b.int64s(`${a}.grad.last`, [k])], `${a}.grad.shape`, [attr.int('axis', 0)]);
      da = g.b.node('Reshape', [product, shape], `${a}.grad`);
    }
  } else if (g.needs(0)) {
    // dA = dY · Bᵀ, summed over the batch axes A was broadcast along.
    const product = g.b.node('MatMul', [dy!, swapLastTwo(g, b, `${b}.T`)], `${a}.grad`);
    da = unbroadcastFrom(g, product, a, [...yDims.slice(0, -2), ...g.shape(a).dims.slice(-2)]);
  }
  if (g.needs(1)) {
    if (rb === 2 && ra > 2) {
      // A weight shared by every position: dB = Σ Aᵢᵀ · dYᵢ = (A as rows)ᵀ · (dY as rows).
      const k = g.shape(a).dims[ra - 1]!;
      const n = yDims[yDims.length - 1]!;
      const rowsA = g.b.node('Reshape', [a, g.b.int64s(`${a}.rows.shape`, [-1, k])], `${a}.rows`);
      const rowsDy = g.b.node('Reshape', [dy!, g.b.int64s(`${b}.grad.rows.shape`, [-1, n])], `${b}.grad.rows`);
      db = g.b.node('MatMul', [g.b.transpose(rowsA, [1, 0], `${a}.rows.T`), rowsDy], `${b}.grad`);
    } else {
      const product = g.b.node('MatMul', [swapLastTwo(g, a, `${a}.T`), dy!], `${b}.grad`);
      db = unbroadcastFrom(g, product, b, [...yDims.slice(0, -2), ...g.shape(b).dims.slice(-2)]);
    }
  }
  return [da, db];
};

/** Y = alpha · op(A) · op(B) + beta · C, op = transpose when transA / transB. */
const gemm: GradientRule = (g, [dy]) => {
  const node = g.node;
  const [a, b, c] = node.inputs as [string, string, string | undefined];
  const alpha = attrFloat(node, 'alpha', 1);
  const beta = attrFloat(node, 'beta', 1);
  const transA = attrInt(node, 'transA', 0) === 1;
  const transB = attrInt(node, 'transB', 0) === 1;
  const gemmOf = (x: string, w: string, tx: boolean, tw: boolean, name: string) => gemmNode(g, x, w, tx, tw, alpha, name);
  let da: string | undefined;
  let db: string | undefined;
  let dc: string | undefined;
  // d op(A) = alpha · dY · op(B)ᵀ;  dA = transA ? (d op(A))ᵀ : d op(A) — folded into Gemm's flags.
  if (g.needs(0)) da = transA ? gemmOf(b, dy!, transB, true, `${a}.grad`) : gemmOf(dy!, b, false, !transB, `${a}.grad`);
  // d op(B) = alpha · op(A)ᵀ · dY;  dB = transB ? (d op(B))ᵀ : d op(B).
  if (g.needs(1)) db = transB ? gemmOf(dy!, a, true, transA, `${b}.grad`) : gemmOf(a, dy!, !transA, false, `${b}.grad`);
  if (c && g.needs(2)) {
    const scaled = beta === 1 ? dy! : g.b.node('Mul', [dy!, g.b.scalar(beta)], `${c}.grad`);
    dc = unbroadcast(g, scaled, c, node.outputs[0]!);
  }
  return [da, db, dc];
};

export const linearRules: ReadonlyArray<[string, GradientRule]> = [
  ['MatMul', matMul],
  ['Gemm', gemm],
];
