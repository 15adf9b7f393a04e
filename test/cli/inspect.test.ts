/** `adapterc inspect` on real exports, and its errors for files that are not BERT models. */
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { DataType, makeTensor, makeValueInfo } from '../../src/ir/index.js';
import { encodeModel } from '../../src/load/index.js';
import { cli } from '../helpers/cli.js';
import { corpusPath, describeCorpus } from '../load/corpus.js';

describeCorpus('adapterc inspect on the corpus', () => {
  it('prints layers, sites, inputs and outputs', async () => {
    const r = await cli(['inspect', corpusPath('pytorch-1.13/minibert_opset11.onnx')]);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('encoder              2 layers, hidden size 32, 4 attention heads, FFN size 64');
    expect(r.stdout).toMatch(/^ {2}1\s+ffn\s+\/layers\.1\/out\/Add_output_0\s+Add '\/layers\.1\/Add_3'\s+decomposed → '\/layers\.1\/ln2\/Add_1_output_0'$/m);
    expect(r.stdout).toContain('inputs               input_ids (input_ids, int64[batch, seq]); attention_mask (attention_mask, int64[batch, seq]); token_type_ids (token_type_ids, int64[batch, seq])');
  });

  it('says what it could not classify', async () => {
    const r = await cli(['inspect', corpusPath('ort-fused/attention_skiplayernorm_pruned_opset16.onnx')]);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain("matmul_qkv_2_out + bias 'add_qkv_weight' (folded; made explicit when adapted)");
    expect(r.stdout).toContain('layer 0 has no FFN site');
  });

  it('prints JSON with --json', async () => {
    const r = await cli(['inspect', corpusPath('ort-testdata/tf2.1_keras2onnx_bert_mrpc_opset10.onnx'), '--json']);
    expect(r.code).toBe(0);
    const json = JSON.parse(r.stdout);
    expect(json.layers).toBe(12);
    expect(json.hidden).toBe(8);
    expect(json.sites).toHaveLength(12);
    expect(json.sites[11].ffn.tensor).toBe('tf_bert_for_sequence_classification/bert/encoder/layer_._11/output/dense/BiasAdd:0');
  });
});

describe('adapterc inspect on bad input: one message, exit 1', () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'adapterc-inspect-'));
  const matmul = encodeModel({
    irVersion: 8,
    opsetImports: [{ domain: '', version: 17 }],
    metadata: [],
    graph: {
      name: 'g',
      nodes: [{ opType: 'MatMul', inputs: ['x', 'w'], outputs: ['y'], attributes: [] }],
      initializers: [makeTensor('w', [4, 4], new Float32Array(16))],
      inputs: [makeValueInfo('x', DataType.FLOAT, [1, 4])],
      outputs: [makeValueInfo('y', DataType.FLOAT, [1, 4])],
      valueInfo: [],
    },
  });
  writeFileSync(path.join(dir, 'random.onnx'), Buffer.from(Array.from({ length: 512 }, (_, i) => (i * 7919 + 13) % 251)));
  writeFileSync(path.join(dir, 'matmul.onnx'), matmul);

  const cases: Array<[string, string, RegExp]> = [
    ['missing.onnx', 'ADP2001', /The model file '.*missing\.onnx' does not exist\./],
    ['random.onnx', 'ADP2005', /is not an ONNX model/],
    ['matmul.onnx', 'ADP2101', /is not a BERT-style encoder: it has 0 LayerNorms .* \(its nodes: 1 MatMul\)\./],
  ];
  it.each(cases)('%s → %s', async (name, code, message) => {
    const r = await cli(['inspect', name], dir);
    expect(r.code).toBe(1);
    expect(r.stdout).toBe('');
    expect(r.stderr).toContain(`error ${code}`);
    expect(r.stderr).toMatch(message);
    expect(r.stderr).toContain('help:');
  });

  it('a truncated real model → ADP2004', async () => {
    const source = path.resolve(__dirname, '../../../shared/corpus/pytorch-1.13/minibert_opset11.onnx');
    let bytes: Buffer;
    try {
      bytes = readFileSync(source);
    } catch {
      // Without the corpus, truncate a model made here instead.
      bytes = Buffer.from(matmul);
    }
    writeFileSync(path.join(dir, 'truncated.onnx'), bytes.subarray(0, Math.floor(bytes.length * 0.6)));
    const r = await cli(['inspect', 'truncated.onnx'], dir);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/error ADP200[45]/);
  });
});
