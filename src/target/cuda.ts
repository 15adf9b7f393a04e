/**
 * `target cuda` made real: every node of the emitted models is looked up in ONNX Runtime's CUDA
 * kernel registrations by its domain, the model's opset for that domain and the element types
 * flowing into it. A node without a matching kernel would run on the CPU with copies to and from
 * the GPU around it, which can make a GPU training step many times slower without anyone noticing.
 */
import { isDefaultDomain, nodeLabel, opKey, opsetLookup, type Model, type Node } from '../ir/index.js';
import { CUDA_KERNELS, CUDA_KERNELS_RELEASE } from './cuda-kernels.data.js';
import { inferElementTypes, startingTypes, type Signature } from './element-types.js';
import { describeAccepts, findKernel, matchesTypes, type KernelRow } from './kernels.js';
import { bindConstraints, findSchema } from './schemas.js';

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

/** Ops ONNX Runtime folds away or handles itself, with no kernel to look up. */
const noKernelNeeded = new Set(['Constant']);

function rangeText(row: KernelRow): string {
  return `${row.since}${row.until === undefined ? '+' : `–${row.until}`}`;
}

/**
 * The coverage of `model` as artifact `artifact` when it is that of a model already checked: the
 * same Node objects in the same order, the same opset for each domain they use, and the same types
 * for the values the graph starts from (its inputs and initializers). Every node then has the same
 * signature and so the same verdict (compile's step eval model and eval model). Undefined when
 * any of that differs.
 */
export function coverageOfSameNodes(model: Model, artifact: string, checked: { readonly model: Model; readonly coverage: Coverage }): Coverage | undefined {
  const nodes = model.graph.nodes;
  const other = checked.model.graph.nodes;
  if (nodes.length !== other.length || nodes.some((n, i) => n !== other[i])) return undefined;
  const opset = opsetLookup(model);
  const otherOpset = opsetLookup(checked.model);
  const domains = new Set(nodes.map((n) => (isDefaultDomain(n.domain) ? '' : n.domain!)));
  if ([...domains].some((d) => opset(d) !== otherOpset(d))) return undefined;
  const types = startingTypes(model);
  const otherTypes = startingTypes(checked.model);
  if (types.size !== otherTypes.size || [...types].some(([name, t]) => otherTypes.get(name) !== t)) return undefined;
  return { ...checked.coverage, artifact, fallbacks: checked.coverage.fallbacks.map((f) => ({ ...f, artifact })) };
}

/**
 * Looks every node up as ONNX Runtime does: the registration for its domain and opset, then its
 * element types bound to the op's type constraints (Where's T is inputs 1 and 2, not the bool
 * condition) and compared with the types the kernel registers for each constraint.
 */
export function checkCudaCoverage(model: Model, artifact: string, rows: readonly KernelRow[] = CUDA_KERNELS): Coverage {
  // The verdict depends only on what decides the node's types (its signature): one lookup per signature, not per node.
  const verdicts = new Map<Signature, string | undefined>();
  const failing = new Map<Node, { signature: Signature; reason: string }>();
  inferElementTypes(model, undefined, (node, signature) => {
    if (isDefaultDomain(node.domain) && noKernelNeeded.has(node.opType)) return;
    let reason = verdicts.get(signature);
    if (reason === undefined && !verdicts.has(signature)) verdicts.set(signature, (reason = fallbackReason(rows, node, signature)));
    if (reason !== undefined) failing.set(node, { signature, reason });
  });
  // Reported in the graph's own order, as its nodes are listed in the file.
  const fallbacks: Fallback[] = [];
  for (const node of failing.size === 0 ? [] : model.graph.nodes) {
    const f = failing.get(node);
    if (f !== undefined) fallbacks.push({ artifact, node: nodeLabel(node), op: node.opType, domain: f.signature.domain, opset: f.signature.version, types: f.signature.inputs.map((t) => t ?? '-'), reason: f.reason });
  }
  return { artifact, nodes: model.graph.nodes.length, fallbacks };
}

/** Why the node would have no CUDA kernel, or undefined when it has one. */
function fallbackReason(rows: readonly KernelRow[], node: Node, { domain, version, inputs: inputTypes, outputs: outputTypes }: Signature): string | undefined {
  const row = findKernel(rows, domain, node.opType, version);
  if (!row) {
    const others = rows.filter((r) => r.domain === domain && r.op === node.opType);
    return others.length === 0 ? `ONNX Runtime has no CUDA kernel for ${opKey(node)}` : `its CUDA kernels cover opsets ${others.map(rangeText).join(', ')}, not ${version}`;
  }
  // Ops without a published schema (ONNX Runtime's training-internal *Grad ops, which adapterc does
  // not emit) bind nothing, so only their domain and opset are checked.
  const schema = findSchema(domain, node.opType, version);
  const bound = schema ? bindConstraints(schema, inputTypes, outputTypes).bound : new Map<string, string>();
  if (matchesTypes(row, bound)) return undefined;
  const actual = [...bound].filter(([c]) => row.accepts.some((a) => a[c] !== undefined)).map(([c, t]) => `${c} = ${t}`).join(', ');
  return `its CUDA kernel for opsets ${rangeText(row)} takes ${describeAccepts(row)}; here ${actual}`;
}

