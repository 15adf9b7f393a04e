/**
 * Operator schemas: which of a node's inputs and outputs carry which type constraint (T, T1, Tind,
 * ...). The table is generated (op-schemas.data.ts, by scripts/op-schemas/generate.py) from the onnx
 * package's schemas and ONNX Runtime's own; this module reads it and binds a node's element types to
 * its constraints, which is how ONNX Runtime picks a kernel.
 */
import { OP_SCHEMA_ROWS } from './op-schemas.data.js';

/** A formal input or output: the constraint it carries, or a fixed type (`Shape`'s int64 output). */
export interface FormalParameter {
  /** Its name in the schema (`shape` of Reshape): kernels may constrain a fixed-type input by name. */
  readonly name: string;
  /** A constraint name, or the fixed type in ONNX Runtime's names when `fixed`. */
  readonly type: string;
  readonly fixed: boolean;
  readonly option: 'single' | 'optional' | 'variadic';
}

export interface OpSchema {
  readonly domain: string;
  readonly op: string;
  readonly since: number;
  readonly inputs: readonly FormalParameter[];
  readonly outputs: readonly FormalParameter[];
  /** Each constraint's allowed types, in ONNX Runtime's names (float, MLFloat16, int64_t, seq(float)). */
  readonly constraints: ReadonlyMap<string, readonly string[]>;
}

function parseFormals(text: string): FormalParameter[] {
  if (text === '') return [];
  return text.split(' ').map((word) => {
    const option = word.endsWith('?') ? 'optional' : word.endsWith('*') ? 'variadic' : 'single';
    const colon = word.indexOf(':');
    const name = word.slice(0, colon);
    const type = option === 'single' ? word.slice(colon + 1) : word.slice(colon + 1, -1);
    return type.startsWith('=') ? { name, type: type.slice(1), fixed: true, option } : { name, type, fixed: false, option };
  });
}

let byOp: Map<string, OpSchema[]> | undefined;

function table(): Map<string, OpSchema[]> {
  if (byOp) return byOp;
  byOp = new Map();
  for (const [domain, op, since, inputs, outputs, constraints] of OP_SCHEMA_ROWS) {
    const schema: OpSchema = {
      domain,
      op,
      since,
      inputs: parseFormals(inputs),
      outputs: parseFormals(outputs),
      constraints: new Map(constraints === '' ? [] : constraints.split(';').map((c) => {
        const [name, types] = c.split('=') as [string, string];
        return [name, types.split(',')];
      })),
    };
    const key = `${domain}\u0000${op}`;
    const list = byOp.get(key) ?? [];
    list.push(schema);
    byOp.set(key, list);
  }
  return byOp;
}

/** The schema in force at `opset`: the latest version not newer than it. */
export function findSchema(domain: string, op: string, opset: number): OpSchema | undefined {
  const versions = table().get(`${domain}\u0000${op}`);
  let found: OpSchema | undefined;
  for (const s of versions ?? []) if (s.since <= opset && (found === undefined || s.since > found.since)) found = s;
  return found;
}

/** The formal parameter that actual position `index` falls on (a variadic last one takes the rest). */
export function formalAt(formals: readonly FormalParameter[], index: number): FormalParameter | undefined {
  if (index < formals.length) return formals[index];
  const last = formals[formals.length - 1];
  return last?.option === 'variadic' ? last : undefined;
}

/**
 * The type each constraint takes on a node, from the element types of its inputs and outputs
 * (undefined where unknown or absent). A constraint bound to two different types is reported in
 * `conflicts` (the model is then invalid; ONNX Runtime would refuse it). Each formal parameter's
 * name is bound too, as ONNX Runtime does for kernels that constrain an input by name (Reshape's
 * `shape`, GatherND's `indices`).
 */
export function bindConstraints(
  schema: OpSchema,
  inputs: readonly (string | undefined)[],
  outputs: readonly (string | undefined)[],
): { bound: Map<string, string>; conflicts: string[] } {
  const bound = new Map<string, string>();
  const conflicts: string[] = [];
  const visit = (formals: readonly FormalParameter[], types: readonly (string | undefined)[]) => {
    types.forEach((t, i) => {
      const formal = formalAt(formals, i);
      if (t === undefined || formal === undefined) return;
      if (!schema.constraints.has(formal.name) && !bound.has(formal.name)) bound.set(formal.name, t);
      if (formal.fixed) return;
      const previous = bound.get(formal.type);
      if (previous === undefined) bound.set(formal.type, t);
      else if (previous !== t && !conflicts.includes(formal.type)) conflicts.push(formal.type);
    });
  };
  visit(schema.inputs, inputs);
  visit(schema.outputs, outputs);
  return { bound, conflicts };
}
