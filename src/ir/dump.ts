/**
 * A canonical, human-readable text form of a model for golden tests and debugging:
 *
 *   model ir_version=7 producer="pytorch 1.13.0"
 *   opset ai.onnx=14
 *   graph "torch_jit"
 *     input input_ids: int64[batch, seq]
 *     output logits: float32[batch, 2]
 *     initializer bias: float32[32] sha256:3f2a9c0d41be
 *     initializer shape: int64[2] = [0, -1]
 *     node Gather(emb, ids) -> (e) axis=0
 *     node MatMul_3 MatMul(e, w) -> (y)
 *
 * A node line is: `node`, its name if it has one, domain::op (no domain for ONNX's own ops), its
 * inputs and outputs, and its attributes. Names are quoted only where they could be misread.
 *
 * The same graph always gives the same text, whatever the order of its nodes in the file: nodes in
 * `canonicalOrder` (each right after the producers of its inputs), attributes, initializers,
 * value_info, opsets and metadata sorted by name; graph inputs and outputs keep their order because
 * it is part of the model's interface.
 * Doc strings are left out. Tensors with up to 8 elements show their values, larger ones a prefix
 * of the sha256 of their bytes.
 */
import { Buffer, isUtf8 } from 'node:buffer';
import { attributeKind } from './attributes.js';
import { dataTypeName } from './dtype.js';
import { contentHash, elementCount, readNumbers, tensorBytes, tensorLabel } from './tensor.js';
import { canonicalOrder } from './topo.js';
import { formatValueType } from './values.js';
import { DataLocation, DataType, type Attribute, type Graph, type Model, type Node, type Preserving, type Tensor } from './types.js';

const INLINE_VALUES = 8;

export function dumpGraph(model: Model | Graph): string {
  const lines: string[] = [];
  if ('graph' in model) {
    lines.push(modelHeader(model));
    const opsets = [...model.opsetImports]
      .map((o) => `${o.domain === undefined || o.domain === '' ? 'ai.onnx' : o.domain}=${o.version ?? '?'}`)
      .sort();
    lines.push(`opset ${opsets.join(' ')}`);
    const metadata = [...model.metadata].sort((a, b) => compare(a.key ?? '', b.key ?? ''));
    for (const e of metadata) lines.push(`metadata ${quote(e.key ?? '')} = ${JSON.stringify(e.value ?? '')}`);
    dumpGraphInto(model.graph, '', lines);
  } else {
    dumpGraphInto(model, '', lines);
  }
  return lines.join('\n') + '\n';
}

function modelHeader(m: Model): string {
  const parts = ['model'];
  if (m.irVersion !== undefined) parts.push(`ir_version=${m.irVersion}`);
  const producer = [m.producerName, m.producerVersion].filter((s) => s !== undefined && s !== '').join(' ');
  if (producer !== '') parts.push(`producer=${JSON.stringify(producer)}`);
  if (m.domain) parts.push(`domain=${JSON.stringify(m.domain)}`);
  if (m.modelVersion !== undefined) parts.push(`model_version=${m.modelVersion}`);
  return parts.join(' ') + preservedNote(m);
}

function dumpGraphInto(graph: Graph, indent: string, lines: string[]): void {
  lines.push(`${indent}graph ${quote(graph.name ?? '')}${preservedNote(graph)}`);
  const inner = indent + '  ';
  for (const v of graph.inputs) lines.push(`${inner}input ${quote(v.name)}: ${formatValueType(v)}`);
  for (const v of graph.outputs) lines.push(`${inner}output ${quote(v.name)}: ${formatValueType(v)}`);
  for (const t of [...graph.initializers].sort((a, b) => compare(a.name ?? '', b.name ?? ''))) {
    lines.push(`${inner}initializer ${quote(t.name ?? '')}: ${formatTensor(t)}${preservedNote(t)}`);
  }
  for (const v of [...graph.valueInfo].sort((a, b) => compare(a.name, b.name))) {
    lines.push(`${inner}value_info ${quote(v.name)}: ${formatValueType(v)}`);
  }
  for (const node of canonicalOrder(graph)) dumpNode(node, inner, lines);
}

function dumpNode(node: Node, indent: string, lines: string[]): void {
  const op = node.domain ? `${node.domain}::${node.opType}` : node.opType;
  const name = node.name ? `${quote(node.name)} ` : '';
  const io = `(${node.inputs.map(quote).join(', ')}) -> (${node.outputs.map(quote).join(', ')})`;
  const attributes = [...node.attributes].sort((a, b) => compare(a.name, b.name));
  const subgraphs: [string, Graph][] = [];
  const shown = attributes.map((a) => `${a.name}=${formatAttribute(a, subgraphs)}`);
  lines.push(`${indent}node ${name}${op}${io}${shown.length ? ' ' + shown.join(' ') : ''}${preservedNote(node)}`);
  for (const [label, g] of subgraphs) {
    lines.push(`${indent}  ${label}:`);
    dumpGraphInto(g, indent + '    ', lines);
  }
}

function formatAttribute(a: Attribute, subgraphs: [string, Graph][]): string {
  if (a.refAttrName !== undefined) return `@${a.refAttrName}`;
  switch (attributeKind(a)) {
    case 'float':
      return formatFloat32(a.f ?? 0);
    case 'int':
      return String(a.i ?? 0n);
    case 'string':
      return formatBytes(a.s ?? new Uint8Array(0));
    case 'tensor':
      return a.t ? formatTensor(a.t) : '?';
    case 'graph':
      if (a.g) subgraphs.push([a.name, a.g]);
      return `graph ${quote(a.g?.name ?? '')}`;
    case 'floats':
      return `[${(a.floats ?? []).map(formatFloat32).join(', ')}]`;
    case 'ints':
      return `[${(a.ints ?? []).join(', ')}]`;
    case 'strings':
      return `[${(a.strings ?? []).map(formatBytes).join(', ')}]`;
    case 'tensors':
      return `[${(a.tensors ?? []).map(formatTensor).join(', ')}]`;
    case 'graphs':
      (a.graphs ?? []).forEach((g, i) => subgraphs.push([`${a.name}[${i}]`, g]));
      return `[${(a.graphs ?? []).map((g) => `graph ${quote(g.name ?? '')}`).join(', ')}]`;
    case 'other':
      return a.type === undefined ? '[]' : `<type ${a.type}>`;
  }
}

/** `float32[2, 3] sha256:…`, or `int64[2] = [0, -1]` for small numeric tensors. */
function formatTensor(t: Tensor): string {
  const head = `${dataTypeName(t.dataType)}[${t.dims.join(', ')}]`;
  if (t.dataLocation === DataLocation.EXTERNAL && t.rawData === undefined) {
    const location = t.externalData?.find((e) => e.key === 'location')?.value ?? '?';
    return `${head} external(${JSON.stringify(location)})`;
  }
  try {
    if (t.dataType === DataType.STRING) return `${head} sha256:${contentHash(t)}`;
    if (elementCount(t) <= INLINE_VALUES) {
      const values = smallTensorValues(t);
      return `${head} = ${t.dims.length === 0 ? values[0] : `[${values.join(', ')}]`}`;
    }
    return `${head} sha256:${contentHash(t)}`;
  } catch (error) {
    // A dump must show broken tensors rather than fail on them.
    return `${head} <unreadable ${tensorLabel(t)}: ${error instanceof Error ? error.message : String(error)}>`;
  }
}

/** The values of a small tensor as text: floats as float32, 64-bit integers exactly. */
function smallTensorValues(t: Tensor): string[] {
  if (t.dataType === DataType.INT64 || t.dataType === DataType.UINT64) {
    const bytes = tensorBytes(t);
    const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    const signed = t.dataType === DataType.INT64;
    return Array.from({ length: elementCount(t) }, (_, i) => String(signed ? view.getBigInt64(i * 8, true) : view.getBigUint64(i * 8, true)));
  }
  const floating = t.dataType === DataType.FLOAT || t.dataType === DataType.FLOAT16 || t.dataType === DataType.BFLOAT16;
  return readNumbers(t).map((v) => (floating ? formatFloat32(v) : String(v)));
}

/** The shortest decimal that reads back as the same float32 (1e-12, not 9.999999960041972e-13). */
export function formatFloat32(value: number): string {
  if (!Number.isFinite(value)) return String(value);
  const target = Math.fround(value);
  for (let digits = 1; digits <= 9; digits++) {
    const text = target.toPrecision(digits);
    if (Math.fround(Number(text)) === target) return String(Number(text));
  }
  return String(target);
}

function formatBytes(bytes: Uint8Array): string {
  const buffer = Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  return isUtf8(buffer) ? JSON.stringify(buffer.toString('utf8')) : `0x${buffer.toString('hex')}`;
}

/** Names print bare unless they could be misread (empty, spaces, punctuation of the dump). */
function quote(name: string): string {
  return /^[^\s,()"=[\]]+$/.test(name) ? name : JSON.stringify(name);
}

function preservedNote(message: Preserving): string {
  const fields = message.preserved;
  if (fields === undefined || fields.length === 0) return '';
  return ` +preserved(${[...new Set(fields.map((f) => f.field))].sort((a, b) => a - b).join(', ')})`;
}

/** Code-unit order, independent of the locale. */
function compare(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
