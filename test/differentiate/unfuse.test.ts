/**
 * ONNX Runtime's fused com.microsoft ops, rewritten into standard ops by `unfuse`: the rewrite
 * computes what the fused kernel does (onnxruntime-node runs both), and gradients through the
 * rewritten ops match central finite differences (method and tolerance in gradcheck.ts).
 */
import { afterAll, describe, expect, it } from 'vitest';
import { probeShapes } from '../../src/differentiate/probe.js';
import { unfuse } from '../../src/differentiate/unfuse.js';
import { attr } from '../../src/ir/index.js';
import { buildModel, caseFeeds, describeMismatches, gradCheck, msOp, runOnce, TOLERANCE, WorstByFamily, type CaseInput, type GradCase } from './gradcheck.js';

const B = 'batch';
const S = 'seq';
const p = (name: string, dims: CaseInput['dims']): CaseInput => ({ name, dims });

interface FusedCase extends GradCase {
  /** Set when the case exposes a bug: it runs as `it.fails` (gradient check only) and this says what is wrong. */
  readonly bug?: string;
}

function skipLayerNorm(opset: number, options: { bias?: boolean; beta?: boolean; sumOutput?: boolean }): FusedCase {
  const beta = options.beta ?? true;
  const inputs = ['input', 'skip', 'gamma', beta ? 'beta' : '', ...(options.bias ? ['bias'] : [])];
  return {
    op: 'com.microsoft:SkipLayerNormalization',
    name: `SkipLayerNormalization at opset ${opset} (${opset >= 17 ? 'LayerNormalization op' : 'decomposed LayerNorm'}), ${options.bias ? 'with' : 'without'} the bias input${beta ? '' : ', without beta'}${options.sumOutput ? ', its input+skip+bias sum output used' : ''}`,
    opset,
    inputs: [p('input', [B, S, 6]), p('skip', [B, S, 6]), { name: 'gamma', dims: [6], values: { lo: 0.5, hi: 1.5 } }, ...(beta ? [p('beta', [6])] : []), ...(options.bias ? [p('bias', [6])] : [])],
    nodes: [msOp('SkipLayerNormalization', inputs, options.sumOutput ? ['y', '', '', 'sum'] : ['y'], [attr.float('epsilon', 1e-5)])],
    outputs: options.sumOutput ? ['y', 'sum'] : ['y'],
    unfuse: true,
  };
}

const CASES: FusedCase[] = [
  skipLayerNorm(14, {}),
  skipLayerNorm(14, { bias: true }),
  skipLayerNorm(14, { bias: true, beta: false }),
  skipLayerNorm(17, { bias: true, sumOutput: true }),
  skipLayerNorm(17, {}),
  {
    op: 'com.microsoft:Gelu',
    name: 'Gelu at opset 14 (unfused to the Erf form)',
    opset: 14,
    inputs: [p('x', [B, S, 4])],
    nodes: [msOp('Gelu', ['x'], 'y')],
    outputs: ['y'],
    unfuse: true,
  },
  {
    op: 'com.microsoft:Gelu',
    name: 'Gelu at opset 20 (unfused to the ONNX Gelu op)',
    opset: 20,
    inputs: [p('x', [B, S, 4])],
    nodes: [msOp('Gelu', ['x'], 'y')],
    outputs: ['y'],
    unfuse: true,
  },
  {
    op: 'com.microsoft:BiasGelu',
    name: 'BiasGelu of [B,S,4] and a bias [4]',
    opset: 14,
    inputs: [p('x', [B, S, 4]), p('bias', [4])],
    nodes: [msOp('BiasGelu', ['x', 'bias'], 'y')],
    outputs: ['y'],
    unfuse: true,
  },
  {
    op: 'com.microsoft:FastGelu',
    name: 'FastGelu with a bias',
    opset: 14,
    inputs: [p('x', [B, S, 4]), p('bias', [4])],
    nodes: [msOp('FastGelu', ['x', 'bias'], 'y')],
    outputs: ['y'],
    unfuse: true,
  },
  {
    op: 'com.microsoft:FastGelu',
    name: 'FastGelu without a bias',
    opset: 11,
    inputs: [p('x', [B, 4])],
    nodes: [msOp('FastGelu', ['x'], 'y')],
    outputs: ['y'],
    unfuse: true,
  },
  {
    op: 'com.microsoft:FusedMatMul',
    name: 'FusedMatMul [B,S,4] by [5,4] with transB and alpha 0.5',
    opset: 14,
    inputs: [p('a', [B, S, 4]), p('b', [5, 4])],
    nodes: [msOp('FusedMatMul', ['a', 'b'], 'y', [attr.int('transB', 1), attr.float('alpha', 0.5)])],
    outputs: ['y'],
    unfuse: true,
  },
  {
    op: 'com.microsoft:FusedMatMul',
    name: 'FusedMatMul [B,4,3] by [4,5] with transA (attention-style batched operand)',
    opset: 13,
    inputs: [p('a', [B, 4, 3]), p('b', [4, 5])],
    nodes: [msOp('FusedMatMul', ['a', 'b'], 'y', [attr.int('transA', 1)])],
    outputs: ['y'],
    unfuse: true,
  },
  {
    op: 'com.microsoft:FusedGemm',
    name: 'FusedGemm with activation Tanh, transB, alpha 0.8, beta 1.2, C [5]',
    opset: 13,
    inputs: [p('a', [B, 3]), p('b', [5, 3]), p('c', [5])],
    nodes: [msOp('FusedGemm', ['a', 'b', 'c'], 'y', [attr.string('activation', 'Tanh'), attr.int('transB', 1), attr.float('alpha', 0.8), attr.float('beta', 1.2)])],
    outputs: ['y'],
    unfuse: true,
  },
  {
    op: 'com.microsoft:FusedGemm',
    name: 'FusedGemm with activation Sigmoid at opset 10 (C required by Gemm)',
    opset: 10,
    inputs: [p('a', [B, 3]), p('b', [3, 5]), p('c', [1, 5])],
    nodes: [msOp('FusedGemm', ['a', 'b', 'c'], 'y', [attr.string('activation', 'Sigmoid')])],
    outputs: ['y'],
    unfuse: true,
  },
];

/** The unfused graph's outputs agree with the fused kernels' to this (absolute, on values of order 1). */
const FORWARD_TOLERANCE = 1e-5;

const worst = new WorstByFamily();
let worstForward = { diff: 0, name: '' };
afterAll(() =>
  console.log(
    `Unfused com.microsoft ops: forward max |unfused - fused| ${worstForward.diff.toExponential(2)} (${worstForward.name}); gradients (tolerance ${TOLERANCE}):\n${worst.summary()}`,
  ),
);

describe('unfused com.microsoft ops compute what the fused kernels do', () => {
  for (const c of CASES) {
    it(`${c.op}: ${c.name}`, async () => {
      const { feeds } = caseFeeds(c);
      const fused = await runOnce(buildModel(c), feeds, c.outputs);
      const model = buildModel(c);
      const replaced = unfuse(model, await probeShapes(model, `${c.name}.onnx`));
      expect(replaced).toBe(1);
      expect(model.graph.nodes.filter((n) => n.domain === 'com.microsoft')).toEqual([]);
      const unfused = await runOnce(model, feeds, c.outputs);
      c.outputs.forEach((name, j) => {
        const [a, b] = [fused[j]!, unfused[j]!];
        expect(b.length, name).toBe(a.length);
        let diff = 0;
        for (let i = 0; i < a.length; i++) diff = Math.max(diff, Math.abs(a[i]! - b[i]!));
        if (diff > worstForward.diff) worstForward = { diff, name: c.name };
        expect(diff, `${name}: max |unfused - fused|`).toBeLessThanOrEqual(FORWARD_TOLERANCE);
      });
    });
  }
});

describe('gradients through unfused com.microsoft ops match central finite differences', () => {
  for (const c of CASES) {
    const check = async () => {
      const result = await gradCheck(c);
      expect(result.mismatches, describeMismatches(result)).toEqual([]);
      worst.record(c.op, c.name, result);
    };
    if (c.bug) it.fails(`${c.op}: ${c.name} [known bug: ${c.bug}]`, check);
    else it(`${c.op}: ${c.name}`, check);
  }
});
