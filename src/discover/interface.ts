/**
 * The model's interface: which graph input is the token ids, the attention mask, the token types
 * (under the names exporters use: input_ids, input_mask, segment_ids, input_ids:0, ...), and which
 * output is logits, the pooled output or the last hidden state.
 */
import { attrString, DataType, elemTypeOf, getAttribute, isDefaultDomain, type ValueInfo } from '../ir/index.js';
import type { InputRole, ModelInput, ModelOutput, OutputRole } from './types.js';
import type { GraphView } from './view.js';

const integerTypes = new Set<number>([DataType.INT64, DataType.INT32]);

function roleByName(name: string): InputRole | undefined {
  const n = name.toLowerCase();
  if (/token_type|segment|type_ids/.test(n)) return 'token_type_ids';
  if (/mask/.test(n)) return 'attention_mask';
  if (/position/.test(n)) return 'position_ids';
  if (/input_ids|word_ids|^input$|^ids$|^tokens?$|^src$/.test(n)) return 'input_ids';
  return undefined;
}

/** Which embedding table a value indexes into, by the table's row count. */
function gatheredTableRows(view: GraphView, value: string): number | undefined {
  for (const c of view.consumers(value)) {
    if (c.opType === 'Gather' && isDefaultDomain(c.domain) && c.inputs[1] === value) {
      const dims = view.constantDims(c.inputs[0]!);
      if (dims?.length === 2) return dims[0];
    }
  }
  return undefined;
}

export function classifyInputs(view: GraphView, inputs: readonly ValueInfo[]): ModelInput[] {
  const initializers = view.index.initializer;
  const real = inputs.filter((i) => !initializers.has(i.name));
  return real.map((input) => {
    const byName = roleByName(input.name);
    if (byName) return { name: input.name, role: byName };
    const type = elemTypeOf(input);
    if (type !== undefined && !integerTypes.has(type)) return { name: input.name, role: type === DataType.FLOAT ? 'hidden_states' : 'other' };
    // Unnamed integer inputs: a large embedding table means token ids, a tiny one token types.
    const rows = gatheredTableRows(view, input.name);
    if (rows !== undefined) return { name: input.name, role: rows <= 16 ? 'token_type_ids' : 'input_ids' };
    return { name: input.name, role: 'other' };
  });
}

export function classifyOutputs(view: GraphView, outputs: readonly ValueInfo[], lastHiddenState: string, pooled: string | undefined): ModelOutput[] {
  return outputs.map((o): ModelOutput => {
    const source = view.source(o.name);
    let role: OutputRole = 'other';
    if (source === view.source(lastHiddenState)) role = 'last_hidden_state';
    else if (pooled !== undefined && source === view.source(pooled)) role = 'pooled_output';
    else if (/logit|score|output_1$|^output$/.test(o.name.toLowerCase()) || isHeadOutput(view, source, lastHiddenState)) role = 'logits';
    return { name: o.name, role };
  });
}

/** BERT's pooler: tanh(dense(first token of the last hidden state)). */
export function findPooledOutput(view: GraphView, lastHiddenState: string): string | undefined {
  const stop = new Set<string>();
  for (const node of view.graph.nodes) {
    // ORT's optimizer fuses the pooler's dense layer and tanh into FusedGemm(activation "Tanh").
    const fusedTanh = node.opType === 'FusedGemm' && node.domain === 'com.microsoft' && getAttribute(node, 'activation') !== undefined && attrString(node, 'activation') === 'Tanh';
    if (!fusedTanh && (node.opType !== 'Tanh' || !isDefaultDomain(node.domain))) continue;
    const upstream = view.upstreamOps(node.inputs[0]!, stop, 12);
    if (upstream.some((n) => n.inputs.includes(lastHiddenState) || n.inputs.some((i) => view.source(i) === lastHiddenState))) {
      return node.outputs[0];
    }
  }
  return undefined;
}

/** A dense layer (or two) on the encoder's output: a classification, QA or MLM head. */
function isHeadOutput(view: GraphView, value: string, lastHiddenState: string): boolean {
  const upstream = view.upstreamOps(value, new Set([lastHiddenState]), 40);
  const dense = upstream.some((n) => ['MatMul', 'Gemm', 'FusedMatMul', 'FusedGemm'].includes(n.opType));
  return dense && upstream.some((n) => n.inputs.includes(lastHiddenState));
}
