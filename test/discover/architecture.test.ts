/**
 * Architectures: which BERT-family architecture a graph computes and which spec of specs/ fits it
 * (src/discover/architecture.ts), and the refusal of pre-LayerNorm encoders (ADP2103). The real
 * exports of every architecture are in the interop tier (interop/tests/architectures.test.ts).
 */
import { existsSync, readFileSync } from 'node:fs';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { check } from '../../src/api/check.js';
import { checkSpecFile } from '../../src/check/check.js';
import { totalAdapterParameters } from '../../src/check/parameters.js';
import { AdapterError } from '../../src/diagnostics/index.js';
import { architectureSpecs, recognizeArchitecture } from '../../src/discover/architecture.js';
import { discover } from '../../src/discover/index.js';
import { DataType, makeTensor, makeValueInfo, type Model, type Node, type Tensor } from '../../src/ir/index.js';
import { decodeModel } from '../../src/load/index.js';
import { pruneUnused } from '../../src/rewrite/prune.js';
import { encodeSyntheticBert } from '../../src/synth/index.js';
import { root } from '../artifacts/harness.js';

const node = (opType: string, inputs: string[], outputs: string[]): Node => ({ opType, inputs, outputs, attributes: [] });
const floats = (name: string, dims: number[], seed: number): Tensor => makeTensor(name, dims, Float32Array.from({ length: dims.reduce((a, b) => a * b, 1) }, (_, i) => Math.sin(seed * 100 + i)));

/**
 * A toy encoder of 2 layers, hidden 8, with the LayerNorms before each sub-layer (pre: x + f(LN(x)),
 * then a final LayerNorm) or after the residual sum (post: LN(x + f(x)), torch.nn.TransformerEncoder's).
 */
function toyEncoder(form: 'pre' | 'post', embedding?: 'projected'): Model {
  const nodes: Node[] = [];
  const initializers: Tensor[] = [];
  let t = 0;
  const weight = (dims: number[]) => {
    const t0 = floats(`w${t}`, dims, ++t);
    initializers.push(t0);
    return t0.name!;
  };
  const layerNorm = (x: string, out: string) => {
    const g = floats(`ln${t}.g`, [8], ++t);
    const b = floats(`ln${t}.b`, [8], ++t);
    initializers.push(g, b);
    nodes.push(node('LayerNormalization', [x, g.name!, b.name!], [out]));
    return out;
  };
  let x = 'x';
  if (embedding === 'projected') {
    // ALBERT's embeddings: a LayerNorm of width 4, then a projection up to the hidden size 8.
    const g = floats('emb.ln.g', [4], 90);
    const b = floats('emb.ln.b', [4], 91);
    initializers.push(g, b, floats('emb.bias', [8], 92));
    nodes.push(node('LayerNormalization', ['x', g.name!, b.name!], ['emb.norm']), node('MatMul', ['emb.norm', weight([4, 8])], ['emb.projected']), node('Add', ['emb.projected', 'emb.bias'], ['emb.out']));
    x = 'emb.out';
  }
  for (let layer = 0; layer < 2; layer++) {
    for (const block of ['attention', 'ffn'] as const) {
      const p = `l${layer}.${block}`;
      const input = form === 'pre' ? layerNorm(x, `${p}.ln`) : x;
      if (block === 'attention') {
        nodes.push(node('MatMul', [input, weight([8, 8])], [`${p}.scores`]), node('Softmax', [`${p}.scores`], [`${p}.probs`]), node('MatMul', [`${p}.probs`, weight([8, 8])], [`${p}.out`]));
      } else {
        nodes.push(node('MatMul', [input, weight([8, 16])], [`${p}.up`]), node('Relu', [`${p}.up`], [`${p}.act`]), node('MatMul', [`${p}.act`, weight([16, 8])], [`${p}.out`]));
      }
      nodes.push(node('Add', [x, `${p}.out`], [`${p}.sum`]));
      x = form === 'pre' ? `${p}.sum` : layerNorm(`${p}.sum`, `${p}.norm`);
    }
  }
  const output = form === 'pre' ? layerNorm(x, 'last_hidden_state') : x;
  return {
    irVersion: 8,
    opsetImports: [{ domain: '', version: 17 }],
    metadata: [],
    graph: { nodes, initializers, inputs: [makeValueInfo('x', DataType.FLOAT, ['batch', 'sequence', embedding === 'projected' ? 4 : 8])], outputs: [{ name: output }], valueInfo: [] },
  };
}

describe('pre-LayerNorm encoders', () => {
  it('are refused with ADP2103, which counts their layers and says why', () => {
    let error: unknown;
    try {
      discover(toyEncoder('pre'), 'pre.onnx');
    } catch (e) {
      error = e;
    }
    expect(error).toBeInstanceOf(AdapterError);
    const [d] = (error as AdapterError).diagnostics;
    expect(d!.code).toBe('ADP2103');
    expect(d!.message).toContain("'pre.onnx' is a pre-LayerNorm encoder (2 layers of x + f(LayerNorm(x))");
    expect(d!.message).toContain('no LayerNorm after the sum');
  });

  it('while the same layers with the LayerNorm after the sum are found: 2 layers, both sites', () => {
    const d = discover(toyEncoder('post'), 'post.onnx');
    expect(d.layers.map((l) => [l.attention?.site, l.ffn?.site])).toEqual([['attention', 'ffn'], ['attention', 'ffn']]);
  });
});

describe("an embedding LayerNorm before a projection to the hidden size (ALBERT's)", () => {
  it('is the embedding LayerNorm, not "a LayerNorm outside the encoder layers"', () => {
    const d = discover(toyEncoder('post', 'projected'), 'albert.onnx');
    expect(d.layers).toHaveLength(2);
    expect(d.embeddingLayerNorm?.output).toBe('emb.norm');
    expect(d.notes).toEqual([]);
    expect(discover(toyEncoder('post'), 'post.onnx').embeddingLayerNorm).toBeUndefined();
  });
});

describe('recognizing the architecture', () => {
  it('a synthetic BERT with token types and a pooler is BERT, and specs/bert-base/houlsby.adp fits it', () => {
    const model = decodeModel(encodeSyntheticBert({ style: 'pytorch', head: 'none' }), 'bert.onnx');
    const a = recognizeArchitecture(model, discover(model, 'bert.onnx'));
    expect(a.name).toBe('BERT');
    expect(a.evidence).toEqual(expect.arrayContaining(['token type ids', 'a pooler']));
    expect(a.specs).toEqual(['bert-base/houlsby.adp']);
  });

  it('the same BERT without its pooler output is told apart: ELECTRA or a pooler-less BERT, and a first-token spec', () => {
    const withPooler = decodeModel(encodeSyntheticBert({ style: 'pytorch', head: 'none' }), 'bert.onnx');
    const pooler = discover(withPooler, 'bert.onnx').pooledOutput!;
    // As optimum's export is: the pooler output and the nodes computing only it are gone.
    const model: Model = withPooler;
    model.graph.outputs = model.graph.outputs.filter((o) => o.name !== pooler);
    pruneUnused(model.graph);
    const d = discover(model, 'bert.onnx');
    expect(d.pooledOutput).toBeUndefined();
    const a = recognizeArchitecture(model, d);
    expect(a.name).toBe('ELECTRA, or BERT exported without its pooler output');
    expect(a.specs).toContain('bert-base/first-token.adp');
  });

  it('every spec it can name exists under specs/ and checks', () => {
    const source = readFileSync(path.join(root, 'src/discover/architecture.ts'), 'utf8');
    const named = [...new Set([...source.matchAll(/'([a-z0-9-]+\/[a-z-]+\.adp)'/g)].map((m) => m[1]!))];
    expect(named.length).toBe(13);
    for (const spec of named) {
      const file = path.join(root, 'specs', spec);
      expect(existsSync(file), spec).toBe(true);
      expect(checkSpecFile(file).diagnostics.filter((d) => d.severity === 'error'), spec).toEqual([]);
    }
  });

  it("the README's table of architecture specs: the layers, hidden size, head and adapter parameters of each", () => {
    const readme = readFileSync(path.join(root, 'README.md'), 'utf8');
    for (const entry of architectureSpecs) {
      const row = readme.split('\n').find((l) => l.startsWith(`| \`${entry.folder}/houlsby.adp\` |`));
      expect(row, entry.folder).toBeDefined();
      const cells = row!.split('|').map((c) => c.trim());
      const result = check(path.join(root, 'specs', entry.folder, 'houlsby.adp'), { layers: entry.layers, hidden: entry.hidden });
      expect(cells[3], entry.folder).toBe(`${entry.layers}, ${entry.hidden}`);
      expect(cells[4], entry.folder).toBe(entry.head === 'pooled' ? 'pooled' : 'first token');
      expect(cells[5], entry.folder).toBe(totalAdapterParameters(result.bound!).toLocaleString('en-US'));
    }
  });

  it("each architecture's houlsby.adp reads the head its table entry says, with adapters after attention and ffn in every layer", () => {
    for (const entry of architectureSpecs) {
      const plan = checkSpecFile(path.join(root, 'specs', entry.folder, 'houlsby.adp')).plan!;
      expect(plan.head, entry.folder).toMatchObject({ kind: 'classifier', from: entry.head });
      expect(plan.placements.map((p) => p.site).sort(), entry.folder).toEqual(['attention', 'ffn']);
      expect(plan.placements.every((p) => p.adapter.size.kind === 'absolute' && p.adapter.size.units === 64), entry.folder).toBe(true);
    }
  });
});
