/**
 * `target cuda` made real: every node of the emitted models is looked up in ONNX Runtime's CUDA
 * kernel registrations by its domain, the model's opset for that domain and the element types
 * flowing into it. A node without a matching kernel would run on the CPU with copies to and from
 * the GPU around it, which can make a GPU training step many times slower without anyone noticing.
 */
import { dataTypeName, isDefaultDomain, nodeLabel, opset, type Model, type Node } from '../ir/index.js';
import { CUDA_KERNELS, CUDA_KERNELS_RELEASE } from './cuda-kernels.data.js';
import { inferElementTypes, type ElementType } from './element-types.js';
import { findKernel, matchesTypes, type KernelRow } from './kernels.js';

export { CUDA_KERNELS_RELEASE };

/** A node that would fall back to the CPU. */
export interface Fallback {
  readonly artifact: string;
  readonly node: string;
  readonly op: string;
  readonly domain: string;
  readonly opset: number;
  /** Element types of the node's inputs, as ORT names them. */
  readonly types: readonly string[];
  readonly reason: string;
}

export interface Coverage {
  readonly artifact: string;
  readonly nodes: number;
  readonly fallbacks: readonly Fallback[];
}

/** ORT's C++ names of ONNX element types, as the registrations use them. */
function ortTypeName(t: ElementType | undefined): string | undefined {
  if (t === undefined) return undefined;
  if (t === 'sequence') return 'seq(tensor)';
  const names: Record<string, string> = {
    float32: 'float', float64: 'double', float16: 'MLFloat16', bfloat16: 'BFloat16', bool: 'bool',
    int8: 'int8_t', int16: 'int16_t', int32: 'int32_t', int64: 'int64_t', uint8: 'uint8_t', uint16: 'uint16_t', uint32: 'uint32_t', uint64: 'uint64_t',
  };
  const name = dataTypeName(t);
  return names[name] ?? name;
}

/** Ops ONNX Runtime folds away or handles itself, with no kernel to look up. */
const noKernelNeeded = new Set(['Constant']);

function rangeText(row: KernelRow): string {
  return `${row.since}${row.until === undefined ? '+' : `–${row.until}`}`;
}

export function checkCudaCoverage(model: Model, artifact: string, rows: readonly KernelRow[] = CUDA_KERNELS): Coverage {
  const types = inferElementTypes(model);
  const fallbacks: Fallback[] = [];
  for (const node of model.graph.nodes) {
    if (isDefaultDomain(node.domain) && noKernelNeeded.has(node.opType)) continue;
    const domain = isDefaultDomain(node.domain) ? '' : node.domain!;
    const version = opset(model, domain) ?? 1;
    const inputTypes = node.inputs.map((i) => (i ? ortTypeName(types.get(i)) : undefined));
    const all = new Set([...inputTypes, ...node.outputs.map((o) => ortTypeName(types.get(o)))].filter((t): t is string => t !== undefined));
    const row = findKernel(rows, domain, node.opType, version);
    const fallback = (reason: string) =>
      fallbacks.push({ artifact, node: nodeLabel(node), op: node.opType, domain, opset: version, types: inputTypes.map((t) => t ?? '-'), reason });
    if (!row) {
      const others = rows.filter((r) => r.domain === domain && r.op === node.opType);
      fallback(others.length === 0 ? `ONNX Runtime has no CUDA kernel for ${describeOp(node)}` : `its CUDA kernels cover opsets ${others.map(rangeText).join(', ')}, not ${version}`);
      continue;
    }
    if (!matchesTypes(row, node.opType, inputTypes, all)) {
      fallback(`its CUDA kernel for opsets ${rangeText(row)} takes ${row.types.join(', ')}, not ${(node.opType === 'Slice' ? inputTypes[1] : inputTypes[0]) ?? 'an unknown type'}`);
    }
  }
  return { artifact, nodes: model.graph.nodes.length, fallbacks };
}

function describeOp(node: Node): string {
  return isDefaultDomain(node.domain) ? node.opType : `${node.domain}:${node.opType}`;
}
