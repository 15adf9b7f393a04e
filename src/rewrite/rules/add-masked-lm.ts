/**
 * Rule: add a masked-language-model head (BERT pretraining's efficient form).
 *
 *   pattern   the encoder's last hidden state, and the word embedding table the token ids index
 *   check     the model has a token-ids input that a Gather looks up in a 2-D float table
 *   rewrite   rows = Reshape(last_hidden_state, [-1, hidden])         [batch·sequence, hidden]
 *             picked = Gather(rows, mlm_positions)                      [N, hidden]
 *             mlm_logits = Gemm(picked, W[hidden, vocab], b[vocab])     [N, vocab], the only output
 *
 * `mlm_positions` (int64 [N]) is a new graph input: the masked tokens as flat indices into
 * batch × sequence (row r, token t → r·sequence + t). The loss stage adds the labels (the original
 * token ids, int64 [N]) and the cross-entropy over the N rows. The vocabulary size is the number of
 * rows of the model's word embedding table. W is drawn from normal(0, 0.02) (BERT's initializer
 * range) with the spec's seed; b starts at zero. The decoder is not tied to the embedding table.
 */
import type { Discovery } from '../../discover/index.js';
import { AdapterError, diagnostic } from '../../diagnostics/index.js';
import { addInitializer, DataType, indexGraph, makeTensor, makeValueInfo, usedNames, type Graph } from '../../ir/index.js';
import type { GraphBuilder } from '../../ir/index.js';
import { constantTensor, normalTensor } from '../init.js';
import type { AddedClassifier } from './add-classifier.js';

/** The graph input that carries the masked positions; `adapterc train` feeds it by this name. */
export const MLM_POSITIONS = 'mlm_positions';
export const MLM_LOGITS = 'mlm_logits';
export const MLM_WEIGHT = 'head.masked_lm.weight';
export const MLM_BIAS = 'head.masked_lm.bias';

/** The rows of the table the token ids are looked up in (through Casts and reshapes), if there is one. */
export function wordEmbeddingRows(graph: Graph, discovery: Discovery): number | undefined {
  const ids = discovery.inputs.find((i) => i.role === 'input_ids')?.name;
  if (ids === undefined) return undefined;
  const index = indexGraph(graph);
  const tableDims = (value: string): readonly number[] | undefined => {
    for (let v = value, depth = 0; depth < 4; depth++) {
      const t = index.initializer.get(v);
      if (t) return t.dataType === DataType.FLOAT ? t.dims : undefined;
      const p = index.producer.get(v);
      if (p?.opType === 'Constant') return p.attributes.find((a) => a.name === 'value')?.t?.dims;
      if (p?.opType !== 'Identity') return undefined;
      v = p.inputs[0]!;
    }
    return undefined;
  };
  let values = [ids];
  for (let depth = 0; depth < 4 && values.length > 0; depth++) {
    const next: string[] = [];
    for (const value of values) {
      for (const node of index.consumers.get(value) ?? []) {
        const at = node.inputs.indexOf(value);
        if (node.opType === 'Gather' && at === 1) {
          const dims = tableDims(node.inputs[0]!);
          if (dims?.length === 2 && dims[1] === discovery.hidden) return dims[0];
        }
        if (['Cast', 'Identity', 'Reshape', 'Unsqueeze', 'Squeeze', 'Flatten'].includes(node.opType) && at === 0) next.push(...node.outputs);
      }
    }
    values = next;
  }
  return undefined;
}

export function checkAddMaskedLm(graph: Graph, discovery: Discovery): string | undefined {
  if (!discovery.inputs.some((i) => i.role === 'input_ids')) return 'none of its inputs is the token ids';
  if (wordEmbeddingRows(graph, discovery) === undefined) return `no word embedding table (a float [vocabulary, ${discovery.hidden}] table that the token ids index) was found`;
  const taken = usedNames(graph);
  for (const name of [MLM_POSITIONS, MLM_LOGITS, MLM_WEIGHT, MLM_BIAS]) if (taken.has(name)) return `it already has a value named '${name}' (a masked_lm head of its own?)`;
  return undefined;
}

export function addMaskedLm(emit: GraphBuilder, discovery: Discovery, seed: number): AddedClassifier {
  const graph = emit.graph;
  const reason = checkAddMaskedLm(graph, discovery);
  // bindToModel reports this against the model file when it is given the model; this is the fallback.
  if (reason !== undefined) throw new AdapterError([diagnostic('ADP2207', { file: 'the model', reason })]);
  const vocabulary = wordEmbeddingRows(graph, discovery)!;
  const hidden = discovery.hidden;

  graph.inputs.push(makeValueInfo(MLM_POSITIONS, DataType.INT64, ['mlm_count']));
  const shape = emit.fresh('head.masked_lm.rows_shape');
  addInitializer(graph, makeTensor(shape, [2], new BigInt64Array([-1n, BigInt(hidden)])));
  const rows = emit.node('Reshape', [discovery.lastHiddenState, shape], 'head.masked_lm.rows');
  const picked = emit.node('Gather', [rows, MLM_POSITIONS], 'head.masked_lm.picked', []);
  addInitializer(graph, normalTensor(seed, MLM_WEIGHT, [hidden, vocabulary], 0.02));
  addInitializer(graph, constantTensor(MLM_BIAS, [vocabulary], 0));
  emit.nodeWithOutput('Gemm', [picked, MLM_WEIGHT, MLM_BIAS], MLM_LOGITS, [], emit.fresh('head.masked_lm.decoder'));
  graph.outputs = [makeValueInfo(MLM_LOGITS, DataType.FLOAT, ['mlm_count', vocabulary])];
  return { output: MLM_LOGITS, parameters: [MLM_WEIGHT, MLM_BIAS], parameterCount: hidden * vocabulary + vocabulary, kind: 'masked_lm' };
}
