/**
 * A model whose gradient cannot be built: a synthetic 2-layer BERT whose second FFN slices its
 * activation along the sequence axis up to the run-time sequence length (Slice(x, 0, Shape(x)[1])),
 * an identity at every size whose `ends` only the running model knows. Adapters below it need the
 * gradient through it: ADP3003 names the Slice. (torch.nn.TransformerEncoder's packed q, k, v
 * slices, once the example, have offsets fixed at every size and are differentiated.)
 */
import { writeFileSync } from 'node:fs';
import { addInitializer, addNode, attr, makeTensor, sortGraph } from '../../src/ir/index.js';
import { decodeModel, encodeModel } from '../../src/load/index.js';
import { encodeSyntheticBert } from '../../src/synth/index.js';

export const RUNTIME_SLICE = 'runtime_slice';

export function writeRuntimeSliceModel(file: string): string {
  const model = decodeModel(encodeSyntheticBert({ style: 'pytorch', layers: 2, seed: 3 }), file);
  const g = model.graph;
  const ffnOut = g.nodes.find((n) => n.name === '/bert/encoder/layer.1/output/dense/MatMul');
  if (!ffnOut) throw new Error('runtime-slice: the synthetic model has no layer 1 FFN out MatMul');
  const x = ffnOut.inputs[0]!;
  addInitializer(g, makeTensor('runtime_slice.axis', [], new BigInt64Array([1n])));
  addInitializer(g, makeTensor('runtime_slice.start', [1], new BigInt64Array([0n])));
  addInitializer(g, makeTensor('runtime_slice.axes', [1], new BigInt64Array([1n])));
  addInitializer(g, makeTensor('runtime_slice.unsqueeze', [1], new BigInt64Array([0n])));
  addNode(g, { opType: 'Shape', inputs: [x], outputs: ['runtime_slice.shape'], name: 'runtime_slice.shape' });
  addNode(g, { opType: 'Gather', inputs: ['runtime_slice.shape', 'runtime_slice.axis'], outputs: ['runtime_slice.length'], name: 'runtime_slice.length', attributes: [attr.int('axis', 0)] });
  addNode(g, { opType: 'Unsqueeze', inputs: ['runtime_slice.length', 'runtime_slice.unsqueeze'], outputs: ['runtime_slice.end'], name: 'runtime_slice.end' });
  addNode(g, { opType: 'Slice', inputs: [x, 'runtime_slice.start', 'runtime_slice.end', 'runtime_slice.axes'], outputs: [RUNTIME_SLICE], name: RUNTIME_SLICE });
  ffnOut.inputs[0] = RUNTIME_SLICE;
  sortGraph(g);
  writeFileSync(file, encodeModel(model));
  return file;
}
