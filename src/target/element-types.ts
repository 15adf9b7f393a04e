/**
 * Element types of every value in a graph, inferred node by node in ONNX Runtime's names (float,
 * int64_t, seq(float)): what the CUDA coverage check needs to pick a kernel. Graph inputs and
 * initializers state theirs; a node's outputs follow its schema (a fixed type, or the type its
 * constraint is bound to by the inputs); the few constraints an attribute decides (Cast's `to`) are
 * listed here. An op without a schema passes its first known input type on.
 */
import { attrInt, DataType, dataTypeName, elemTypeOf, getAttribute, isDefaultDomain, opsetLookup, topologicalOrder, type Model, type Node, type ValueInfo } from '../ir/index.js';
import { isSequenceOf } from '../emit/optimizer.js';
import { bindConstraints, findSchema, formalAt } from './schemas.js';

/** onnxruntime's tensor type names (as onnxruntime-node reports them) → ONNX Runtime's C++ names. */
export const ORT_NAMES: Readonly<Record<string, string>> = {
  float32: 'float', float64: 'double', float16: 'MLFloat16', bfloat16: 'BFloat16', bool: 'bool', string: 'string',
  int8: 'int8_t', int16: 'int16_t', int32: 'int32_t', int64: 'int64_t', uint8: 'uint8_t', uint16: 'uint16_t', uint32: 'uint32_t', uint64: 'uint64_t',
};

/** ONNX Runtime's C++ name of an ONNX element type, as its kernel registrations spell it. */
export function ortTypeName(dataType: number): string {
  const name = dataTypeName(dataType);
  return ORT_NAMES[name] ?? name;
}

/** A graph input's or output's declared type: a tensor's element type, or a sequence of tensors'. */
function declaredType(v: ValueInfo): string | undefined {
  const tensor = elemTypeOf(v);
  if (tensor !== undefined) return tensor === DataType.UNDEFINED ? undefined : ortTypeName(tensor);
  const element = Object.values(DataType).find((t) => t !== DataType.UNDEFINED && isSequenceOf(v, t));
  return element === undefined ? undefined : `seq(${ortTypeName(element)})`;
}

/**
 * Constraints that a node's attributes decide rather than its inputs (a value of ONNX's
 * TensorProto.DataType, or a tensor attribute's type), where the attribute is present or has a
 * default. Everything else comes from the schema.
 */
function attributeBound(node: Node): Record<string, number | undefined> | undefined {
  const dtype = (name: string) => (getAttribute(node, name) ? attrInt(node, name) : undefined);
  switch (node.opType) {
    case 'Cast':
      return { T2: attrInt(node, 'to') };
    case 'ConstantOfShape':
      return { T2: getAttribute(node, 'value')?.t?.dataType ?? DataType.FLOAT };
    case 'Constant': {
      const a = node.attributes[0];
      const byName: Record<string, number> = { value_float: DataType.FLOAT, value_floats: DataType.FLOAT, value_int: DataType.INT64, value_ints: DataType.INT64, value_string: DataType.STRING, value_strings: DataType.STRING };
      return { T: a?.t?.dataType ?? (a ? byName[a.name] : undefined) };
    }
    case 'RandomNormal':
    case 'RandomUniform':
      return { T: dtype('dtype') ?? DataType.FLOAT };
    case 'RandomNormalLike':
    case 'RandomUniformLike':
    case 'EyeLike':
      return { T2: dtype('dtype') };
    case 'Multinomial':
      return { T2: dtype('dtype') ?? DataType.INT32 };
    case 'LayerNormalization':
      // Mean and InvStdDev are computed in stash_type (float unless set).
      return { U: dtype('stash_type') ?? DataType.FLOAT };
    default:
      return undefined;
  }
}

/**
 * What decides a node's output types: op, opset, input types, output count and the attributes that
 * bind a constraint, with the output types they give. Graphs repeat a few hundred such signatures
 * over thousands of nodes (every layer is alike): each is bound to its schema once, kept as one
 * object (so the CUDA check keys its verdicts by it), and found again by comparing a few fields.
 */
export interface Signature {
  /** The node's domain ('' for ONNX's) and the model's opset for it. */
  readonly domain: string;
  readonly opType: string;
  readonly version: number;
  /** Element types of the inputs and outputs (undefined where unknown or absent). */
  readonly inputs: readonly (string | undefined)[];
  readonly outputs: readonly (string | undefined)[];
  /** The attributes that bind a constraint (`attributeBound`), as JSON; '' for none. */
  readonly attributes: string;
}

/** Every signature seen, by domain and op. */
const signaturesByOp = new Map<string, Signature[]>();

function signatureOf(node: Node, domain: string, version: number, inputs: readonly (string | undefined)[]): Signature {
  const bound = domain === '' ? attributeBound(node) : undefined;
  const attributes = bound === undefined ? '' : JSON.stringify(bound);
  const key = domain === '' ? node.opType : `${domain}\0${node.opType}`;
  let seen = signaturesByOp.get(key);
  if (seen === undefined) signaturesByOp.set(key, (seen = []));
  for (let i = 0; i < seen.length; i++) {
    const s = seen[i]!;
    if (s.version === version && s.outputs.length === node.outputs.length && s.attributes === attributes && sameTypes(s.inputs, inputs)) return s;
  }
  const made: Signature = { domain, opType: node.opType, version, inputs, outputs: bindOutputTypes(node, domain, version, inputs, bound), attributes };
  seen.push(made);
  return made;
}

function sameTypes(a: readonly (string | undefined)[], b: readonly (string | undefined)[]): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

function bindOutputTypes(node: Node, domain: string, version: number, inputs: readonly (string | undefined)[], attributes: Record<string, number | undefined> = {}): Array<string | undefined> {
  const schema = findSchema(domain, node.opType, version);
  if (schema === undefined) {
    const first = inputs.find((t) => t !== undefined);
    return node.outputs.map(() => first);
  }
  const { bound } = bindConstraints(schema, inputs, []);
  for (const [constraint, t] of Object.entries(attributes)) {
    if (t !== undefined && !bound.has(constraint)) bound.set(constraint, ortTypeName(t));
  }
  return node.outputs.map((_, i) => {
    const formal = formalAt(schema.outputs, i);
    if (formal === undefined) return undefined;
    if (formal.fixed) return formal.type;
    const allowed = schema.constraints.get(formal.type);
    // A constraint no input binds but that allows one type only (Dropout's mask: bool).
    return bound.get(formal.type) ?? (allowed?.length === 1 ? allowed[0] : undefined);
  });
}

/** The types a graph starts from: `known`, then its initializers', then its inputs' declared ones. */
export function startingTypes(model: Model, known?: ReadonlyMap<string, string>): Map<string, string> {
  const types = new Map<string, string>(known);
  for (const t of model.graph.initializers) if (t.name && t.dataType !== undefined) types.set(t.name, ortTypeName(t.dataType));
  for (const v of model.graph.inputs) {
    const t = declaredType(v);
    if (t !== undefined) types.set(v.name, t);
  }
  return types;
}

/**
 * The element type of every value of `model`'s graph. `known` (types already inferred for this
 * graph's values, before nodes were only added to it) is taken as it is: a node whose outputs all
 * have a known type is not visited again. `visit` sees each node visited, with its signature, in
 * topological order.
 */
export function inferElementTypes(model: Model, known?: ReadonlyMap<string, string>, visit?: (node: Node, signature: Signature) => void): Map<string, string> {
  const graph = model.graph;
  const types = startingTypes(model, known);
  const opsetOf = opsetLookup(model);
  for (const node of topologicalOrder(graph)) {
    if (known !== undefined && node.outputs.every((o) => o === '' || known.has(o))) continue;
    // Indexed, as the loops over nodes in ir/walk.ts: this runs mostly before V8 optimizes it.
    const inputs = new Array<string | undefined>(node.inputs.length);
    for (let i = 0; i < inputs.length; i++) inputs[i] = node.inputs[i] ? types.get(node.inputs[i]!) : undefined;
    const domain = isDefaultDomain(node.domain) ? '' : node.domain!;
    const signature = signatureOf(node, domain, opsetOf(domain), inputs);
    for (let i = 0; i < node.outputs.length; i++) {
      const out = node.outputs[i]!;
      const t = signature.outputs[i];
      if (out && t !== undefined) types.set(out, t);
    }
    visit?.(node, signature);
  }
  return types;
}
