/**
 * What the backward pass keeps alive. An inference runtime runs a node where its consumer needs it,
 * so a Shape(x) in the gradient graph holds the forward value x until the backward pass reaches it.
 * `differentiate` reads such shapes from a value the backward pass keeps anyway (or a graph input):
 * no forward value may be held for its shape alone. On BERT-base that was a fifth of the step
 * model's activations (LayerNorm's input and squared deviation, in every layer).
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { readModel } from '../../src/load/index.js';
import { writeSyntheticBertSync, type SyntheticBertOptions } from '../../src/synth/index.js';
import { compile, root } from '../artifacts/harness.js';

/** Forward values (the loss's ancestors) that backward nodes read through Shape and nothing else. */
async function heldForShapeOnly(trainingModel: string): Promise<string[]> {
  const model = await readModel(trainingModel);
  const producer = new Map(model.graph.nodes.flatMap((n) => n.outputs.map((o) => [o, n] as const)));
  const forward = new Set<unknown>();
  const stack = [model.graph.outputs[0]!.name];
  while (stack.length > 0) {
    const node = producer.get(stack.pop()!);
    if (node === undefined || forward.has(node)) continue;
    forward.add(node);
    stack.push(...node.inputs.filter((i) => i !== ''));
  }
  const backward = model.graph.nodes.filter((n) => !forward.has(n));
  const isForwardValue = (v: string) => forward.has(producer.get(v));
  const readOtherwise = new Set(backward.filter((n) => n.opType !== 'Shape').flatMap((n) => n.inputs));
  return backward.filter((n) => n.opType === 'Shape' && isForwardValue(n.inputs[0]!) && !readOtherwise.has(n.inputs[0]!)).map((n) => n.inputs[0]!);
}

describe('values the backward pass holds', () => {
  const styles: Array<SyntheticBertOptions['style']> = ['pytorch', 'tf', 'ort-fused'];
  for (const style of styles) {
    it(`holds no forward value of a ${style}-style BERT for its shape alone`, async () => {
      const model = path.join(mkdtempSync(path.join(tmpdir(), 'adapterc-held-')), 'tiny.onnx');
      writeSyntheticBertSync({ preset: 'tiny', seed: 3, style }, model);
      const { folder } = await compile(path.join(root, 'specs', 'houlsby.adp'), model);
      expect(await heldForShapeOnly(path.join(folder, 'training_model.onnx'))).toEqual([]);
      expect(await heldForShapeOnly(path.join(folder, 'step_model.onnx'))).toEqual([]);
    });
  }
});
