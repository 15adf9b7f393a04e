/**
 * Rule: add a classification head.
 *
 *   pattern   the encoder's pooled output (tanh(dense(first token))), or its last hidden state
 *   check     `from pooled` needs a pooler in the model
 *   rewrite   logits = Gemm(x, W[hidden, labels], b[labels]), the model's only output
 *
 * For `from first_token`, x = Gather(last_hidden_state, 0, axis 1). W is drawn from normal(0, 0.02)
 * (BERT's initializer range) with the spec's seed; b starts at zero. A value already called
 * `logits` (the model's own head) is renamed out of the way; what only fed the old outputs is
 * pruned afterwards.
 */
import type { Discovery } from '../../discover/index.js';
import { addInitializer, DataType, findValueInfo, makeTensor, makeValueInfo, renameValue, shapeOf, usedNames } from '../../ir/index.js';
import { attr, type GraphBuilder, type Tensor } from '../../ir/index.js';
import { constantTensor, normalTensor } from '../init.js';

/** A head adapterc adds: a classifier, or a masked-LM head (rules/add-masked-lm.ts). */
export interface AddedClassifier {
  readonly output: string;
  /** Absent for a classifier. */
  readonly kind?: 'masked_lm';
  readonly parameters: readonly string[];
  readonly parameterCount: number;
}

export function checkAddClassifier(discovery: Discovery, from: 'pooled' | 'first_token'): string | undefined {
  if (from === 'pooled' && discovery.pooledOutput === undefined) return 'the model has no pooler (tanh of a dense layer on the first token)';
  return undefined;
}

/** `initial`: values to start from instead of drawing them (an AdapterHub folder's head). */
export function addClassifier(emit: GraphBuilder, discovery: Discovery, labels: number, from: 'pooled' | 'first_token', seed: number, initial: ReadonlyMap<string, Tensor> = new Map()): AddedClassifier {
  const reason = checkAddClassifier(discovery, from);
  if (reason !== undefined) throw new Error(`addClassifier: ${reason}`);
  const graph = emit.graph;
  if (usedNames(graph).has('logits')) renameValue(graph, 'logits', emit.fresh('model.logits'));

  let input = discovery.pooledOutput;
  if (from === 'first_token') {
    const index = emit.fresh('head.first_token.index');
    addInitializer(graph, makeTensor(index, [], new BigInt64Array([0n])));
    // A scalar index drops the sequence axis: [batch, sequence, hidden] → [batch, hidden].
    input = emit.node('Gather', [discovery.lastHiddenState, index], 'head.first_token', [attr.int('axis', 1)]);
  }
  const weight = 'head.classifier.weight';
  const bias = 'head.classifier.bias';
  // A model exported by adapterc has a classifier of its own under these names: move it aside.
  for (const name of [weight, bias]) if (usedNames(graph).has(name)) renameValue(graph, name, emit.fresh(`model.${name}`));
  addInitializer(graph, initial.get(weight) ?? normalTensor(seed, weight, [discovery.hidden, labels], 0.02));
  addInitializer(graph, initial.get(bias) ?? constantTensor(bias, [labels], 0));
  // 'logits' is free as a value now (a node may still be called that: node names are another namespace).
  const valueTaken = graph.nodes.some((n) => n.outputs.includes('logits')) || graph.inputs.some((i) => i.name === 'logits') || graph.initializers.some((t) => t.name === 'logits');
  const output = valueTaken ? emit.fresh('logits') : 'logits';
  emit.nodeWithOutput('Gemm', [input!, weight, bias], output, [], emit.fresh('head.classifier'));

  const firstInput = discovery.inputs[0] ? findValueInfo(graph, discovery.inputs[0].name) : undefined;
  const batch = (firstInput && shapeOf(firstInput)?.[0]) ?? 'batch';
  graph.outputs = [makeValueInfo(output, DataType.FLOAT, [batch, labels])];
  return { output, parameters: [weight, bias], parameterCount: discovery.hidden * labels + labels };
}
