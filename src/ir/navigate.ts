/**
 * Finding things in a graph. The plain functions scan the graph on each call, so they are always
 * right even after mutations; `indexGraph` builds maps once for stages that ask many questions, and
 * is a snapshot to rebuild after changing the graph.
 */
import { subgraphsOf } from './walk.js';
import type { Graph, Model, Node, Tensor, ValueInfo } from './types.js';

/** '' and 'ai.onnx' both name the default ONNX operator domain. */
export function isDefaultDomain(domain: string | undefined): boolean {
  return domain === undefined || domain === '' || domain === 'ai.onnx';
}

function sameDomain(a: string | undefined, b: string | undefined): boolean {
  return isDefaultDomain(a) ? isDefaultDomain(b) : a === b;
}

/** The op as the rule registries and messages name it: `Op` in the default domain, `domain:Op` in others. */
export function opKey(node: Node): string {
  return isDefaultDomain(node.domain) ? node.opType : `${node.domain}:${node.opType}`;
}

/** The opset version the model imports for `domain` (default: the ONNX domain), if any. */
export function opset(model: Model, domain = ''): number | undefined {
  return model.opsetImports.find((o) => sameDomain(o.domain, domain))?.version;
}

/**
 * `opset(model, domain) ?? 1`, looked up once per domain: for loops that ask for every node. The
 * model's imports must not change while it is used.
 */
export function opsetLookup(model: Model): (domain: string) => number {
  const versions = new Map<string, number>();
  return (domain) => {
    let version = versions.get(domain);
    if (version === undefined) versions.set(domain, (version = opset(model, domain) ?? 1));
    return version;
  };
}

/** Imports `domain` at `version`, or raises an existing import of it to `version`. */
export function requireOpset(model: Model, domain: string, version: number): void {
  const existing = model.opsetImports.find((o) => sameDomain(o.domain, domain));
  if (existing === undefined) model.opsetImports.push({ domain, version });
  else if ((existing.version ?? 0) < version) existing.version = version;
}

/**
 * Values a node reads from the enclosing scope through its subgraphs (If branches and Loop bodies
 * may use outer values by name, without listing them as inputs).
 */
export function capturedValues(node: Node): Set<string> {
  const captured = new Set<string>();
  for (const sub of subgraphsOf(node)) for (const name of freeValues(sub)) captured.add(name);
  return captured;
}

/** Names a graph uses but does not define itself. */
function freeValues(graph: Graph): Set<string> {
  const defined = new Set<string>([...graph.inputs.map((v) => v.name), ...graph.initializers.map((t) => t.name ?? '')]);
  for (const node of graph.nodes) for (const out of node.outputs) defined.add(out);
  const free = new Set<string>();
  const use = (name: string): void => {
    if (name !== '' && !defined.has(name)) free.add(name);
  };
  for (const node of graph.nodes) {
    node.inputs.forEach(use);
    capturedValues(node).forEach(use);
  }
  graph.outputs.forEach((v) => use(v.name));
  return free;
}

/** Whether a node holds graphs (If branches, Loop and Scan bodies) in its attributes. */
export function hasSubgraphs(node: Node): boolean {
  const attributes = node.attributes;
  for (let i = 0; i < attributes.length; i++) if (attributes[i]!.g !== undefined || (attributes[i]!.graphs?.length ?? 0) > 0) return true;
  return false;
}

/**
 * The names a node reads, for loops over thousands of nodes: its own `inputs` array (with any ''
 * placeholders, which callers skip) when it captures nothing, as nearly every node, so that no
 * array is made for it; `valuesReadBy` otherwise.
 */
export function readNames(node: Node): readonly string[] {
  return hasSubgraphs(node) ? valuesReadBy(node) : node.inputs;
}

/** Every value a node reads: its inputs (without the '' placeholders) and its captured values. */
export function valuesReadBy(node: Node): string[] {
  const names = node.inputs.filter((n) => n !== '');
  if (hasSubgraphs(node)) {
    for (const name of capturedValues(node)) if (!names.includes(name)) names.push(name);
  }
  return names;
}

export function producerOf(graph: Graph, value: string): Node | undefined {
  if (value === '') return undefined;
  return graph.nodes.find((n) => n.outputs.includes(value));
}

/** The nodes that read `value`, in graph order, each once (including through subgraphs). */
export function consumersOf(graph: Graph, value: string): Node[] {
  if (value === '') return [];
  return graph.nodes.filter((n) => n.inputs.includes(value) || capturedValues(n).has(value));
}

export function findInitializer(graph: Graph, name: string): Tensor | undefined {
  return graph.initializers.find((t) => t.name === name);
}

export function findValueInfo(graph: Graph, name: string): ValueInfo | undefined {
  return graph.valueInfo.find((v) => v.name === name) ?? graph.inputs.find((v) => v.name === name) ?? graph.outputs.find((v) => v.name === name);
}

export function isGraphInput(graph: Graph, name: string): boolean {
  return graph.inputs.some((v) => v.name === name);
}

export function isGraphOutput(graph: Graph, name: string): boolean {
  return graph.outputs.some((v) => v.name === name);
}

/** Lookup tables for one state of a graph. */
export interface GraphIndex {
  readonly producer: ReadonlyMap<string, Node>;
  /** Readers of each value, in graph order; values nobody reads are absent. */
  readonly consumers: ReadonlyMap<string, readonly Node[]>;
  readonly initializer: ReadonlyMap<string, Tensor>;
  readonly input: ReadonlyMap<string, ValueInfo>;
  readonly output: ReadonlyMap<string, ValueInfo>;
  /** value_info entries, then inputs and outputs (the same precedence as `findValueInfo`). */
  readonly valueInfo: ReadonlyMap<string, ValueInfo>;
}

/** The same tables as plain maps, for a caller that changes the graph and keeps the index in step (see rules/untie.ts). */
export interface EditableGraphIndex extends GraphIndex {
  readonly consumers: Map<string, Node[]>;
  readonly initializer: Map<string, Tensor>;
}

export function indexGraph(graph: Graph): EditableGraphIndex {
  const producer = new Map<string, Node>();
  const consumers = new Map<string, Node[]>();
  // Indexed loops over the nodes (see forEachGraph).
  const nodes = graph.nodes;
  for (let n = 0; n < nodes.length; n++) {
    const node = nodes[n]!;
    for (let i = 0; i < node.outputs.length; i++) {
      const out = node.outputs[i]!;
      if (out !== '' && !producer.has(out)) producer.set(out, node);
    }
    const reads = readNames(node);
    for (let i = 0; i < reads.length; i++) {
      const name = reads[i]!;
      if (name === '') continue;
      const list = consumers.get(name);
      if (list === undefined) consumers.set(name, [node]);
      else if (list[list.length - 1] !== node) list.push(node);
    }
  }
  const byName = <T extends { name?: string }>(items: readonly T[]): Map<string, T> => {
    const map = new Map<string, T>();
    for (const item of items) if (item.name !== undefined && !map.has(item.name)) map.set(item.name, item);
    return map;
  };
  const input = byName(graph.inputs);
  const output = byName(graph.outputs);
  const valueInfo = byName([...graph.valueInfo, ...graph.inputs, ...graph.outputs]);
  return { producer, consumers, initializer: byName(graph.initializers), input, output, valueInfo };
}
