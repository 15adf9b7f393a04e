/**
 * Reading and making node attributes. An attribute's kind is its `type`, or, in models older than
 * IR version 2 that leave `type` out, whichever value field is set.
 */
import { Buffer } from 'node:buffer';
import { AdapterError, diagnostic } from '../diagnostics/index.js';
import { AttributeType, type Attribute, type Graph, type Node, type Tensor } from './types.js';

export type AttributeKind = 'float' | 'int' | 'string' | 'tensor' | 'graph' | 'floats' | 'ints' | 'strings' | 'tensors' | 'graphs' | 'other';

const KIND_BY_TYPE: Readonly<Record<number, AttributeKind>> = {
  [AttributeType.FLOAT]: 'float',
  [AttributeType.INT]: 'int',
  [AttributeType.STRING]: 'string',
  [AttributeType.TENSOR]: 'tensor',
  [AttributeType.GRAPH]: 'graph',
  [AttributeType.FLOATS]: 'floats',
  [AttributeType.INTS]: 'ints',
  [AttributeType.STRINGS]: 'strings',
  [AttributeType.TENSORS]: 'tensors',
  [AttributeType.GRAPHS]: 'graphs',
};

export function attributeKind(a: Attribute): AttributeKind {
  if (a.type !== undefined && a.type !== AttributeType.UNDEFINED) return KIND_BY_TYPE[a.type] ?? 'other';
  if (a.f !== undefined) return 'float';
  if (a.i !== undefined) return 'int';
  if (a.s !== undefined) return 'string';
  if (a.t !== undefined) return 'tensor';
  if (a.g !== undefined) return 'graph';
  if (a.floats?.length) return 'floats';
  if (a.ints?.length) return 'ints';
  if (a.strings?.length) return 'strings';
  if (a.tensors?.length) return 'tensors';
  if (a.graphs?.length) return 'graphs';
  return 'other';
}

/** A node's description for messages: `'name' (OpType)`, or just the op type for unnamed nodes. */
export function nodeLabel(node: Node): string {
  return node.name ? `'${node.name}' (${node.opType})` : `${node.opType} with outputs ${node.outputs.map((o) => `'${o}'`).join(', ')}`;
}

export function getAttribute(node: Node, name: string): Attribute | undefined {
  return node.attributes.find((a) => a.name === name);
}

/** Finds `name` on `node` with kind `kind`; undefined when absent and not required. */
function lookup(node: Node, name: string, kind: AttributeKind, required: boolean): Attribute | undefined {
  const a = getAttribute(node, name);
  if (a === undefined) {
    if (required) throw new AdapterError([diagnostic('ADP2015', { node: nodeLabel(node), attribute: name })]);
    return undefined;
  }
  const found = attributeKind(a);
  // An empty list has no field set, so it reads as 'other' without a type: accept it as any list.
  const emptyList = found === 'other' && kind.endsWith('s');
  if (found !== kind && !emptyList) {
    throw new AdapterError([diagnostic('ADP2016', { node: nodeLabel(node), attribute: name, expected: `of kind ${kind}`, found: found })]);
  }
  return a;
}

function toNumber(v: bigint): number {
  // INT64_MAX and friends (Slice ends) become large but inexact numbers; callers comparing against
  // a dimension get the right answer.
  return Number(v);
}

/**
 * Attribute getters. Without a fallback the attribute is required: its absence is an ADP2015
 * error. An attribute of another kind is an ADP2016 error.
 */
export function attrInt(node: Node, name: string, fallback?: number): number {
  const a = lookup(node, name, 'int', fallback === undefined);
  return a === undefined ? fallback! : toNumber(a.i ?? 0n);
}

/** The exact int64 value, for attributes that use the whole range. */
export function attrBigInt(node: Node, name: string, fallback?: bigint): bigint {
  const a = lookup(node, name, 'int', fallback === undefined);
  return a === undefined ? fallback! : (a.i ?? 0n);
}

export function attrInts(node: Node, name: string, fallback?: readonly number[]): number[] {
  const a = lookup(node, name, 'ints', fallback === undefined);
  return a === undefined ? [...fallback!] : (a.ints ?? []).map(toNumber);
}

export function attrFloat(node: Node, name: string, fallback?: number): number {
  const a = lookup(node, name, 'float', fallback === undefined);
  return a === undefined ? fallback! : (a.f ?? 0);
}

export function attrFloats(node: Node, name: string, fallback?: readonly number[]): number[] {
  const a = lookup(node, name, 'floats', fallback === undefined);
  return a === undefined ? [...fallback!] : [...(a.floats ?? [])];
}

function text(bytes: Uint8Array): string {
  return Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength).toString('utf8');
}

/** A string attribute as UTF-8 text. */
export function attrString(node: Node, name: string, fallback?: string): string {
  const a = lookup(node, name, 'string', fallback === undefined);
  return a === undefined ? fallback! : text(a.s ?? new Uint8Array(0));
}

export function attrStrings(node: Node, name: string, fallback?: readonly string[]): string[] {
  const a = lookup(node, name, 'strings', fallback === undefined);
  return a === undefined ? [...fallback!] : (a.strings ?? []).map(text);
}

/** A tensor attribute (Constant's `value`); throws when absent (use `getAttribute(...)?.t` for optional ones). */
export function attrTensor(node: Node, name: string): Tensor {
  return lookup(node, name, 'tensor', true)!.t!;
}

/** A graph attribute (If's branches, Loop's body); throws when absent. */
export function attrGraph(node: Node, name: string): Graph {
  return lookup(node, name, 'graph', true)!.g!;
}

/** Sets (adds or replaces) an attribute on a node. */
export function setAttribute(node: Node, attribute: Attribute): void {
  const index = node.attributes.findIndex((a) => a.name === attribute.name);
  if (index === -1) node.attributes.push(attribute);
  else node.attributes[index] = attribute;
}

/** Makers for attributes with `type` set, as current exporters write them. */
export const attr = {
  int: (name: string, value: number | bigint): Attribute => ({ name, i: BigInt(value), type: AttributeType.INT }),
  ints: (name: string, values: readonly (number | bigint)[]): Attribute => ({ name, ints: values.map((v) => BigInt(v)), type: AttributeType.INTS }),
  // Floats are stored as the float32 they will be written as, so the IR never holds a value the file cannot.
  float: (name: string, value: number): Attribute => ({ name, f: Math.fround(value), type: AttributeType.FLOAT }),
  floats: (name: string, values: readonly number[]): Attribute => ({ name, floats: values.map(Math.fround), type: AttributeType.FLOATS }),
  string: (name: string, value: string): Attribute => ({ name, s: Buffer.from(value, 'utf8'), type: AttributeType.STRING }),
  strings: (name: string, values: readonly string[]): Attribute => ({ name, strings: values.map((v) => Buffer.from(v, 'utf8')), type: AttributeType.STRINGS }),
  tensor: (name: string, value: Tensor): Attribute => ({ name, t: value, type: AttributeType.TENSOR }),
  graph: (name: string, value: Graph): Attribute => ({ name, g: value, type: AttributeType.GRAPH }),
} as const;
