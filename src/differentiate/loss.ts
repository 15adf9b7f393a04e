/**
 * The loss the training graph minimizes, appended to the forward graph as a scalar named `loss`:
 *
 *   cross_entropy  -mean_b log_softmax(logits)[b, labels[b]]    labels: int64 [batch]
 *   mse            mean((predictions - labels)²)                labels: float [batch, outputs]
 *
 * Written with standard ops that exist at every opset from 10 (LogSoftmax, Equal, Reduce*), so the
 * gradient rules cover it like any other part of the graph.
 */
import type { Loss } from '../check/plan.js';
import { AdapterError, diagnostic } from '../diagnostics/index.js';
import { attr, DataType, GraphBuilder, makeValueInfo, type Model } from '../ir/index.js';
import { TABLE_INPUT } from '../shapes/index.js';

export interface LossGraph {
  /** The scalar loss value. */
  readonly loss: string;
  /** The labels input added to the graph. */
  readonly labels: string;
}

/**
 * `output` is the head's output, `outputDims` its inferred dims ([batch, n] expected); `fixedBatch`
 * says the model's batch size is static (then the labels get the same fixed size); `batchName` is
 * the symbolic name of the head's first dim (`mlm_count` for masked-LM rows; default `batch`);
 * `file` names the model in messages.
 */
export function appendLoss(model: Model, kind: Loss, output: string, outputDims: readonly number[], file: string, fixedBatch = false, batchName = 'batch'): LossGraph {
  if (outputDims.length !== 2) {
    throw new AdapterError([
      diagnostic('ADP3004', { output, file, shape: `[${outputDims.join(', ')}] (for a batch of ${TABLE_INPUT.batch} sequences of ${TABLE_INPUT.sequence} tokens)` }, { file }, "add a classifier to the spec ('head classifier(labels N)') or keep a model whose output is [batch, labels]"),
    ]);
  }
  const b = new GraphBuilder(model, 'loss.constant');
  const n = outputDims[1]!;
  const graph = model.graph;
  const labels = b.fresh('labels');
  const batch = fixedBatch ? outputDims[0]! : batchName;
  let perExample: string;
  if (kind === 'cross_entropy') {
    graph.inputs.push(makeValueInfo(labels, DataType.INT64, [batch]));
    const logProbabilities = b.node('LogSoftmax', [output], 'loss.log_probabilities', [attr.int('axis', 1)]);
    // one_hot(labels) as labels == [0 … n-1]: Equal and Cast have CUDA kernels at every opset,
    // OneHot only from opset 11.
    const classes = b.int64s('loss.classes', [...Array(n).keys()]);
    const matches = b.node('Equal', [b.unsqueeze(labels, [1], 'loss.labels_column'), classes], 'loss.label_matches');
    const oneHot = b.node('Cast', [matches], 'loss.one_hot', [attr.int('to', DataType.FLOAT)]);
    const picked = b.node('Mul', [logProbabilities, oneHot], 'loss.picked');
    perExample = b.node('Neg', [b.reduce('ReduceSum', picked, [1], false, 'loss.log_likelihood')], 'loss.per_example');
  } else {
    graph.inputs.push(makeValueInfo(labels, DataType.FLOAT, [batch, n]));
    const error = b.node('Sub', [output, labels], 'loss.error');
    perExample = b.reduce('ReduceMean', b.node('Mul', [error, error], 'loss.squared_error'), [1], false, 'loss.per_example');
  }
  const loss = b.fresh('loss');
  b.nodeWithOutput('Identity', [b.reduce('ReduceMean', perExample, [0], false, 'loss.mean')], loss);
  return { loss, labels };
}
