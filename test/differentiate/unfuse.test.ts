/**
 * ONNX Runtime's fused com.microsoft ops, rewritten into standard ops by `unfuse`: the rewrite
 * computes what the fused kernel does (onnxruntime-node runs both), and gradients through the
 * rewritten ops match central finite differences (method and tolerance in gradcheck.ts).
 */
import { afterAll, describe, expect, it } from 'vitest';
import { shapeTable } from '../../src/shapes/index.js';
import { unfuse } from '../../src/differentiate/unfuse.js';
import { attr } from '../../src/ir/index.js';
import { buildModel, caseFeeds, describeMismatches, gradCheck, msOp, op, runOnce, TOLERANCE, WorstByFamily, type CaseInput, type GradCase } from './gradcheck.js';

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

const small = (name: string, dims: CaseInput['dims']): CaseInput => ({ name, dims, values: { lo: -0.5, hi: 0.5 } });

/** A right-padded 0/1 mask over [batch, seq]: row r keeps seq - r tokens (at least one). */
const rightPadded = (seq: number) => (i: number) => (i % seq < Math.max(1, seq - Math.floor(i / seq)) ? 1 : 0);

function attention(name: string, options: { mask?: 'raw'; scale?: number; opset?: number }): FusedCase {
  const attrs = [attr.int('num_heads', 2), ...(options.scale ? [attr.float('scale', options.scale)] : [])];
  const mask: CaseInput[] = options.mask === 'raw' ? [{ name: 'mask', dims: [B, S], type: 'int32', values: rightPadded(4) }] : [];
  return {
    op: 'com.microsoft:Attention',
    name,
    opset: options.opset ?? 14,
    // Small values keep the scores moderate: a saturated softmax makes finite differences noisy (the
    // gradient of K's bias is exactly zero, softmax being shift-invariant per row).
    inputs: [small('x', [B, S, 8]), small('weights', [8, 24]), small('bias', [24]), ...mask],
    nodes: [msOp('Attention', ['x', 'weights', 'bias', ...(options.mask === 'raw' ? ['mask'] : [])], 'y', attrs)],
    outputs: ['y'],
    unfuse: true,
  };
}

const CASES: FusedCase[] = [
  {
    op: 'CastLike',
    name: "CastLike to a float input's type (torch's dynamo exporter writes these): becomes Cast",
    opset: 15,
    inputs: [p('x', [B, S, 3]), { name: 'like', dims: [1], parameter: false }],
    nodes: [op('CastLike', ['x', 'like'], 'y')],
    outputs: ['y'],
    unfuse: true,
  },
  attention('Attention [B,S,8], 2 heads, packed QKV weights and bias, no mask', {}),
  attention('Attention with a raw [batch, seq] mask (right padding)', { mask: 'raw' }),
  attention('Attention with scale 0.25 at opset 12', { mask: 'raw', scale: 0.25, opset: 12 }),
  {
    op: 'com.microsoft:EmbedLayerNormalization',
    name: 'EmbedLayerNormalization: words, positions, segments, LayerNorm',
    opset: 14,
    inputs: [
      { name: 'ids', dims: [B, S], type: 'int32', values: (i) => (i * 7) % 10 },
      { name: 'segments', dims: [B, S], type: 'int32', values: (i) => i % 2 },
      p('words', [10, 8]),
      p('positions', [8, 8]),
      p('segment_table', [2, 8]),
      { name: 'gamma', dims: [8], values: { lo: 0.5, hi: 1.5 } },
      p('beta', [8]),
    ],
    // ONNX Runtime requires the mask_index output; without a mask input it is zeros.
    nodes: [msOp('EmbedLayerNormalization', ['ids', 'segments', 'words', 'positions', 'segment_table', 'gamma', 'beta'], ['y', 'counts'], [attr.float('epsilon', 1e-5)])],
    outputs: ['y'],
    unfuse: true,
  },
  {
    op: 'com.microsoft:Attention',
    name: "EmbedLayerNormalization's token counts as Attention's mask_index (ONNX Runtime's BERT form)",
    opset: 14,
    inputs: [
      { name: 'ids', dims: [B, S], type: 'int32', values: (i) => (i * 3) % 10 },
      p('words', [10, 8]),
      p('positions', [8, 8]),
      { name: 'gamma', dims: [8], values: { lo: 0.5, hi: 1.5 } },
      p('beta', [8]),
      { name: 'mask', dims: [B, S], type: 'int32', values: rightPadded(4) },
      small('weights', [8, 24]),
      small('bias', [24]),
    ],
    nodes: [
      msOp('EmbedLayerNormalization', ['ids', '', 'words', 'positions', '', 'gamma', 'beta', 'mask'], ['embedded', 'counts'], [attr.float('epsilon', 1e-5)]),
      msOp('Attention', ['embedded', 'weights', 'bias', 'counts'], 'y', [attr.int('num_heads', 2), attr.float('mask_filter_value', -3.4028234663852886e38)]),
    ],
    outputs: ['y'],
    unfuse: true,
  },
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
      const replaced = unfuse(model, shapeTable(model, `${c.name}.onnx`));
      expect(replaced).toBe(c.nodes.length);
      expect(model.graph.nodes.filter((n) => n.domain === 'com.microsoft' || n.opType === 'CastLike')).toEqual([]);
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
