/**
 * `adapterc export --without-head`: the encoder of masked-LM artifacts, without the head.
 *
 *   pattern   mlm_logits = Gemm(Gather(Reshape(h, [-1, hidden]), mlm_positions), W, b)  (rules/add-masked-lm.ts)
 *   rewrite   the model's only output is h, the last hidden state [batch, sequence, hidden], named
 *             `last_hidden_state` where that name is free; the head's nodes, weights and the
 *             `mlm_positions` input go
 *
 * What remains is a pretrained base that any spec compiles against again (a classifier reads the
 * first token, `head classifier(labels N, from first_token)`: the masked-LM task trains no pooler).
 */
import { AdapterError, diagnostic } from '../diagnostics/index.js';
import { DataType, indexGraph, makeValueInfo, renameValue, shapeOf, usedNames, type Model } from '../ir/index.js';
import { pruneUnused } from '../rewrite/prune.js';
import { MLM_LOGITS, MLM_POSITIONS } from '../rewrite/rules/add-masked-lm.js';

export interface HeadRemoval {
  /** The name the last hidden state goes by in the result. */
  readonly output: string;
  readonly removedNodes: number;
  readonly removedInitializers: number;
}

export function removeMaskedLmHead(model: Model, folder: string): HeadRemoval {
  const graph = model.graph;
  const index = indexGraph(graph);
  const decoder = index.producer.get(MLM_LOGITS);
  const picked = decoder?.opType === 'Gemm' ? index.producer.get(decoder.inputs[0]!) : undefined;
  const rows = picked?.opType === 'Gather' && picked.inputs[1] === MLM_POSITIONS ? index.producer.get(picked.inputs[0]!) : undefined;
  if (rows?.opType !== 'Reshape') {
    throw new AdapterError([diagnostic('ADP5068', { folder }, { file: folder }, "--without-head removes the head that 'head masked_lm' adds; export these artifacts without it")]);
  }
  let hidden = rows.inputs[0]!;
  const width = index.initializer.get(decoder!.inputs[1]!)?.dims[0];
  const ids = graph.inputs.find((i) => i.name !== MLM_POSITIONS && !index.initializer.has(i.name) && (shapeOf(i)?.length ?? 0) === 2);
  const [batch, sequence] = ids ? shapeOf(ids)! : ['batch', 'sequence'];
  graph.inputs = graph.inputs.filter((i) => i.name !== MLM_POSITIONS);
  graph.outputs = [{ name: hidden }];
  const removed = pruneUnused(graph);
  if (!usedNames(graph).has('last_hidden_state')) {
    renameValue(graph, hidden, 'last_hidden_state');
    hidden = 'last_hidden_state';
  }
  graph.outputs = [makeValueInfo(hidden, DataType.FLOAT, [batch ?? 'batch', sequence ?? 'sequence', width ?? 'hidden'])];
  return { output: hidden, removedNodes: removed.nodes, removedInitializers: removed.initializers };
}
