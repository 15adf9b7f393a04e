/**
 * Shape rules the BERT-family architectures beyond BERT need (interop/tests/architectures.test.ts):
 * CumSum (RoBERTa's and MPNet's position ids count the non-padding tokens) and GatherElements
 * (DeBERTa's disentangled attention gathers its relative-position scores).
 */
import { describe, expect, it } from 'vitest';
import { attr, DataType, makeTensor, makeValueInfo, type Model, type Node } from '../../src/ir/index.js';
import { dims as d, inferShapes } from '../../src/shapes/index.js';

const node = (opType: string, inputs: string[], outputs: string[], attributes: Node['attributes'] = []): Node => ({ opType, inputs, outputs, attributes });
const model = (nodes: Node[], inputs: Model['graph']['inputs'], outputs: string[]): Model => ({
  irVersion: 8,
  opsetImports: [{ domain: '', version: 17 }],
  metadata: [],
  graph: { nodes, initializers: [makeTensor('axis', [], BigInt64Array.from([1n]))], inputs, outputs: outputs.map((name) => ({ name })), valueInfo: [] },
});
const show = (m: Model, value: string) => inferShapes(m, 'm.onnx').get(value)!.dims.map(d.toString);

describe('shape rules for the architectures beyond BERT', () => {
  it("CumSum: the input's shape (RoBERTa's position ids: cumsum(input_ids != pad) over the sequence)", () => {
    const ids = makeValueInfo('input_ids', DataType.INT64, ['batch', 'sequence']);
    const m = model([node('CumSum', ['input_ids', 'axis'], ['positions'])], [ids], ['positions']);
    expect(show(m, 'positions')).toEqual([d.BATCH, d.SEQUENCE]);
  });

  it("GatherElements: the indices' shape, not the data's (DeBERTa: scores [b, h, s, 2k] gathered at [b, h, s, s])", () => {
    const scores = makeValueInfo('scores', DataType.FLOAT, ['batch', 4, 'sequence', 16]);
    const index = makeValueInfo('index', DataType.INT64, ['batch', 4, 'sequence', 'sequence']);
    const m = model([node('GatherElements', ['scores', 'index'], ['gathered'], [attr.int('axis', -1)])], [scores, index], ['gathered']);
    expect(show(m, 'gathered')).toEqual([d.BATCH, '4', d.SEQUENCE, d.SEQUENCE]);
  });
});
