/** The canonical text dump: its format, and that it depends on nothing but the model's content. */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { attr, DataType, dumpGraph, formatFloat32, makeTensor, sortGraph, type Model } from '../../src/ir/index.js';
import { decodeModel, encodeModel } from '../../src/load/index.js';
import { corpusEntries, corpusPath, describeCorpus, UNSORTED_MODEL } from '../load/corpus.js';
import { diamond, shuffled } from './helpers.js';

function richModel(): Model {
  const model = diamond();
  model.producerName = 'test';
  model.producerVersion = '1.0';
  model.opsetImports.push({ domain: 'com.microsoft', version: 1 });
  model.metadata.push({ key: 'b', value: '2' }, { key: 'a', value: '1' });
  const relu = model.graph.nodes[0]!;
  relu.attributes.push(attr.float('alpha', 1e-12), attr.ints('axes', [-1, 2n ** 63n - 1n]), attr.string('mode', 'constant'));
  model.graph.initializers.push(makeTensor('big', [3, 4], new Float32Array(12).fill(0.5)), makeTensor('shape', [2], new BigInt64Array([0n, -1n])));
  model.graph.nodes.push({
    opType: 'FusedThing',
    domain: 'com.microsoft',
    inputs: ['z', '', 'shape'],
    outputs: ['w'],
    attributes: [attr.tensor('value', makeTensor('', [], new Float32Array([2])))],
  });
  model.graph.outputs.push({ name: 'w', type: { tensor: { elemType: DataType.FLOAT } } });
  return model;
}

describe('dumpGraph', () => {
  it('prints every part of the model readably', () => {
    expect(dumpGraph(richModel())).toBe(
      [
        'model ir_version=8 producer="test 1.0"',
        'opset ai.onnx=13 com.microsoft=1',
        'metadata a = "1"',
        'metadata b = "2"',
        'graph diamond',
        '  input x: float32[batch, 4]',
        '  output z: float32[batch, 4]',
        '  output w: float32[...]',
        '  initializer b0: float32[4] = [1, 2, 3, 4]',
        '  initializer big: float32[3, 4] sha256:' + dumpHash(),
        '  initializer shape: int64[2] = [0, -1]',
        '  node relu Relu(x) -> (a) alpha=1e-12 axes=[-1, 9223372036854775807] mode="constant"',
        '  node neg Neg(a) -> (n)',
        '  node add Add(a, b0) -> (y)',
        '  node mul Mul(n, y) -> (z)',
        '  node com.microsoft::FusedThing(z, "", shape) -> (w) value=float32[] = 2',
        '',
      ].join('\n'),
    );
  });

  it('is the same for any order of nodes, initializers, attributes and metadata', () => {
    const reference = dumpGraph(richModel());
    for (let seed = 1; seed <= 10; seed++) {
      const model = richModel();
      model.graph.nodes = shuffled(model.graph.nodes, seed);
      model.graph.initializers = shuffled(model.graph.initializers, seed);
      model.metadata = shuffled(model.metadata, seed);
      model.opsetImports = shuffled(model.opsetImports, seed);
      for (const n of model.graph.nodes) n.attributes = shuffled(n.attributes, seed);
      expect(dumpGraph(model)).toBe(reference);
    }
  });

  it('survives an encode/decode round trip unchanged', () => {
    const model = richModel();
    expect(dumpGraph(decodeModel(encodeModel(model), 'rich.onnx'))).toBe(dumpGraph(model));
  });

  it('prints float32 values in their shortest form', () => {
    expect(formatFloat32(Math.fround(0.1))).toBe('0.1');
    expect(formatFloat32(Math.fround(1e-12))).toBe('1e-12');
    expect(formatFloat32(-0.5)).toBe('-0.5');
    expect(formatFloat32(Number.NEGATIVE_INFINITY)).toBe('-Infinity');
  });
});

/** The sha256 prefix of twelve float32 0.5s, as the dump prints it. */
function dumpHash(): string {
  return createHash('sha256').update(new Uint8Array(new Float32Array(12).fill(0.5).buffer)).digest('hex').slice(0, 12);
}

describeCorpus('dumps of corpus models', () => {
  it('are deterministic and independent of node order', () => {
    for (const entry of corpusEntries()) {
      const bytes = readFileSync(corpusPath(entry));
      const model = decodeModel(bytes, entry.path);
      const dump = dumpGraph(model);
      expect(dumpGraph(decodeModel(bytes, entry.path)), entry.path).toBe(dump);
      model.graph.nodes = shuffled(model.graph.nodes, 3);
      expect(dumpGraph(model), entry.path).toBe(dump);
      expect(dump).not.toContain('<unreadable');
    }
  });

  it('of the unsorted model equals that of its sorted version', () => {
    const model = decodeModel(readFileSync(corpusPath(UNSORTED_MODEL)), UNSORTED_MODEL);
    const dump = dumpGraph(model);
    sortGraph(model.graph);
    expect(dumpGraph(model)).toBe(dump);
  });
});
