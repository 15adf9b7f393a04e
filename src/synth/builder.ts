/**
 * A tiny ONNX graph builder over onnx-proto.
 *
 * It names nodes and tensors the way a given exporter does (through a NamingScheme), hides the
 * opset-dependent spellings of a few operators (Unsqueeze/ReduceMean axes moved from attributes to
 * inputs), and keeps initializers as lazy TensorPlans so that weights are produced only when encoded.
 */
import type { onnx } from 'onnx-proto';
import { constantTensor, DataType, encodeValues, type TensorPlan } from './tensors.js';

/** An attribute value; the wrapper says which ONNX attribute type a JavaScript number becomes. */
export type AttrValue =
  | { readonly int: number }
  | { readonly float: number }
  | { readonly ints: readonly number[] }
  | { readonly str: string }
  | { readonly tensor: onnx.ITensorProto };

export const int = (value: number): AttrValue => ({ int: value });
export const float = (value: number): AttrValue => ({ float: value });
export const ints = (values: readonly number[]): AttrValue => ({ ints: values });
export const str = (value: string): AttrValue => ({ str: value });

/** How an exporter names nodes and their outputs (constant initializers are named like node outputs). */
export interface NamingScheme {
  /** The name of the `n`-th (from 0) node of type `opType` created in `scope`. */
  nodeName(scope: string, opType: string, n: number): string;
  /** The name of output `index` of the node called `nodeName`. */
  outputName(nodeName: string, index: number): string;
}

/** torch.onnx (1.13+): `/bert/encoder/layer.0/attention/self/query/MatMul`, outputs `<node>_output_0`. */
export const torchNaming: NamingScheme = {
  nodeName: (scope, opType, n) => `${scope}/${opType}${n === 0 ? '' : `_${n}`}`,
  outputName: (nodeName, index) => `${nodeName}_output_${index}`,
};

/** keras2onnx / tf2onnx: node names follow TF op names and tensors are `<op>:0`. */
export const tfNaming: NamingScheme = {
  nodeName: (scope, opType, n) => `${scope}/${opType}${n === 0 ? '' : `_${n}`}`,
  outputName: (nodeName, index) => `${nodeName}:${index}`,
};

export interface NodeOptions {
  readonly attrs?: Readonly<Record<string, AttrValue>>;
  readonly domain?: string;
  /** Explicit output names (graph outputs); otherwise the naming scheme decides. */
  readonly outputs?: readonly string[];
  /** The op name used for naming when it differs from the op type (TF: 'BiasAdd', 'truediv'). */
  readonly label?: string;
  /** Put the node first in the graph (torch.onnx emits the Identity nodes of shared weights there). */
  readonly atStart?: boolean;
}

/** Node options that give the node's single output an explicit name, if there is one. */
export function named(outputName: string | undefined): NodeOptions {
  return outputName === undefined ? {} : { outputs: [outputName] };
}

export interface BuilderOptions {
  readonly opset: number;
  readonly naming: NamingScheme;
  /**
   * Where constants live: torch.onnx emits `Constant` nodes; keras2onnx and ONNX Runtime's optimizer
   * store them as (deduplicated, shared) initializers.
   */
  readonly constants: 'nodes' | 'initializers';
}

export interface ValueInfo {
  readonly name: string;
  readonly elemType: DataType;
  /** Numbers are static sizes, strings are symbolic (dynamic) axes. */
  readonly dims: readonly (number | string)[];
}

/** The collected graph: nodes and value infos as protobuf objects, initializers still lazy. */
export interface BuiltGraph {
  readonly nodes: readonly onnx.INodeProto[];
  readonly inputs: readonly ValueInfo[];
  readonly outputs: readonly ValueInfo[];
  readonly initializers: readonly TensorPlan[];
  /** Non-default operator domains used by the nodes (e.g. com.microsoft). */
  readonly domains: readonly string[];
}

export class GraphBuilder {
  readonly opset: number;
  private readonly naming: NamingScheme;
  private readonly constantMode: 'nodes' | 'initializers';
  private readonly nodes: onnx.INodeProto[] = [];
  private readonly inputs: ValueInfo[] = [];
  private readonly outputs: ValueInfo[] = [];
  private readonly initializers: TensorPlan[] = [];
  private readonly names = new Set<string>();
  private readonly nodeCounters = new Map<string, number>();
  private readonly constantCache = new Map<string, string>();
  private readonly domains = new Set<string>();

  constructor(options: BuilderOptions) {
    this.opset = options.opset;
    this.naming = options.naming;
    this.constantMode = options.constants;
  }

  /** A handle that creates nodes in `scope`. */
  at(scope: string): Scope {
    return new Scope(this, scope);
  }

  input(info: ValueInfo): string {
    this.claim(info.name);
    this.inputs.push(info);
    return info.name;
  }

  output(info: ValueInfo): void {
    this.outputs.push(info);
  }

  /** Adds an initializer; its name must be unique in the graph. */
  initializer(plan: TensorPlan): string {
    this.claim(plan.name);
    this.initializers.push(plan);
    return plan.name;
  }

  /** Adds a node and returns its output names. */
  node(scope: string, opType: string, inputs: readonly string[], outputCount: number, options: NodeOptions = {}): string[] {
    const label = options.label ?? opType;
    const name = this.uniqueNodeName(scope, label);
    const outputs = options.outputs !== undefined ? [...options.outputs] : Array.from({ length: outputCount }, (_, i) => this.naming.outputName(name, i));
    for (const output of outputs) this.claim(output);
    const domain = options.domain ?? '';
    if (domain !== '') this.domains.add(domain);
    const node: onnx.INodeProto = {
      name,
      opType,
      domain,
      input: [...inputs],
      output: outputs,
      attribute: Object.entries(options.attrs ?? {}).map(([attrName, value]) => toAttribute(attrName, value)),
    };
    if (options.atStart === true) this.nodes.unshift(node);
    else this.nodes.push(node);
    return outputs;
  }

  /**
   * A constant tensor. In 'nodes' mode a `Constant` node in `scope` (torch.onnx); in 'initializers'
   * mode an initializer, shared with any identical constant made earlier (keras2onnx and ORT do this).
   */
  constant(scope: string, dataType: DataType, dims: readonly number[], values: readonly number[]): string {
    if (this.constantMode === 'nodes') {
      const raw = encodeValues(dataType, values);
      return this.node(scope, 'Constant', [], 1, { attrs: { value: { tensor: { dims: [...dims], dataType, rawData: raw } } } })[0]!;
    }
    const key = `${dataType}|${dims.join(',')}|${values.join(',')}`;
    const cached = this.constantCache.get(key);
    if (cached !== undefined) return cached;
    const name = this.uniqueName(this.naming.outputName(this.uniqueNodeName(scope, 'Constant'), 0));
    this.initializer(constantTensor(name, dataType, dims, values));
    this.constantCache.set(key, name);
    return name;
  }

  build(): BuiltGraph {
    return {
      nodes: this.nodes,
      inputs: this.inputs,
      outputs: this.outputs,
      initializers: this.initializers,
      domains: [...this.domains].sort(),
    };
  }

  /** `base`, or `base_1`, `base_2`, ... if taken (never claims it). */
  private uniqueName(base: string): string {
    if (!this.names.has(base)) return base;
    for (let n = 1; ; n++) if (!this.names.has(`${base}_${n}`)) return `${base}_${n}`;
  }

  private uniqueNodeName(scope: string, label: string): string {
    const key = `${scope}\u0000${label}`;
    for (let n = this.nodeCounters.get(key) ?? 0; ; n++) {
      const name = this.naming.nodeName(scope, label, n);
      // Node names live in their own namespace, but the scheme derives output names from them.
      if (!this.names.has(this.naming.outputName(name, 0))) {
        this.nodeCounters.set(key, n + 1);
        return name;
      }
    }
  }

  private claim(name: string): void {
    if (this.names.has(name)) throw new Error(`synthetic graph: tensor name ${JSON.stringify(name)} is used twice`);
    this.names.add(name);
  }
}

/** Node creation within one scope, plus the opset-dependent helpers exporters emit. */
export class Scope {
  constructor(
    readonly builder: GraphBuilder,
    readonly name: string,
  ) {}

  /** A single-output node. */
  op(opType: string, inputs: readonly string[], options?: NodeOptions): string {
    return this.builder.node(this.name, opType, inputs, 1, options)[0]!;
  }

  /** A com.microsoft contrib op. */
  msOp(opType: string, inputs: readonly string[], options: NodeOptions = {}): string {
    return this.op(opType, inputs, { ...options, domain: 'com.microsoft' });
  }

  int64(values: readonly number[], dims: readonly number[] = [values.length]): string {
    return this.builder.constant(this.name, DataType.INT64, dims, values);
  }

  int64Scalar(value: number): string {
    return this.builder.constant(this.name, DataType.INT64, [], [value]);
  }

  floatScalar(value: number): string {
    return this.builder.constant(this.name, DataType.FLOAT, [], [value]);
  }

  /** Unsqueeze: `axes` is an attribute before opset 13 and an input from 13 on. */
  unsqueeze(x: string, axes: readonly number[]): string {
    if (this.builder.opset < 13) return this.op('Unsqueeze', [x], { attrs: { axes: ints(axes) } });
    return this.op('Unsqueeze', [x, this.int64(axes)]);
  }

  /** Squeeze: like Unsqueeze, `axes` became an input at opset 13. */
  squeeze(x: string, axes: readonly number[]): string {
    if (this.builder.opset < 13) return this.op('Squeeze', [x], { attrs: { axes: ints(axes) } });
    return this.op('Squeeze', [x, this.int64(axes)]);
  }

  /** ReduceMean over `axes` keeping dims: `axes` became an input at opset 18. */
  reduceMean(x: string, axes: readonly number[], options: Omit<NodeOptions, 'attrs'> = {}): string {
    if (this.builder.opset < 18) return this.op('ReduceMean', [x], { ...options, attrs: { axes: ints(axes), keepdims: int(1) } });
    return this.op('ReduceMean', [x, this.int64(axes)], { ...options, attrs: { keepdims: int(1) } });
  }

  /** Slice along `axes` (inputs form, opset >= 10). */
  slice(x: string, starts: string, ends: string, axes: readonly number[]): string {
    return this.op('Slice', [x, starts, ends, this.int64(axes)]);
  }
}

function toAttribute(name: string, value: AttrValue): onnx.IAttributeProto {
  // Numeric literals come from ONNX's AttributeProto.AttributeType.
  if ('int' in value) return { name, type: 2, i: value.int };
  if ('float' in value) return { name, type: 1, f: value.float };
  if ('ints' in value) return { name, type: 7, ints: [...value.ints] };
  if ('str' in value) return { name, type: 3, s: new TextEncoder().encode(value.str) };
  return { name, type: 4, t: value.tensor };
}
