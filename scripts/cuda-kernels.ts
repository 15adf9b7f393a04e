/**
 * Regenerates src/target/cuda-kernels.data.ts, the table of ONNX Runtime's CUDA kernels that
 * `target cuda` checks against, keyed by type constraint. Run it when a new ONNX Runtime release
 * appears (after scripts/op-schemas/run.sh), from either
 *
 *   npx tsx scripts/cuda-kernels.ts --sources <onnxruntime checkout> --release "<version, commit>"
 *       reads the registrations (BuildKernelCreateInfo<...KERNEL_CLASS_NAME(...)>) in the CUDA
 *       provider, contrib-op and training-op kernel lists, or
 *   npx tsx scripts/cuda-kernels.ts --tsv <file> --release "<version, commit>"
 *       reads a table in the format of ../shared/docs/ort-cuda-kernels.tsv
 *       (domain, op, since, until, types, source);
 *   npx tsx scripts/cuda-kernels.ts --verify <onnxruntime git directory>
 *       checks every line of the declarations file against the source file and tag it names
 *       (`path@tag`): the op and `.TypeConstraint("NAME"` must be there.
 *
 * A kernel list names each registration's template types (`float`, `float_MLFloat16`, or none);
 * which type constraint they stand for, and what the kernel declares for its other constraints,
 * is in the kernel's own KernelDefBuilder (`.TypeConstraint("Tind", ...)`). Those declarations
 * are read from cuda-kernels.type-constraints.tsv beside this script (collected from the kernels'
 * source files, each line naming its file); a registration without one gets its constraint from
 * the op's schema (src/target/op-schemas.data.ts): a single template type binds the narrowest
 * constraint allowing all its types, combined types bind constraints in schema order, `A:B` pairs
 * bind inputs 0 and 1. The script prints every registration decided that way.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { formatAccepts, type ConstraintTypes, type KernelRow } from '../src/target/kernels.js';
import { findSchema } from '../src/target/schemas.js';

/** A registration as a kernel list states it: template types ('float', 'float_float', 'A:B') or '*' for none. */
export interface Registration {
  readonly domain: string;
  readonly op: string;
  readonly since: number;
  readonly until: number | undefined;
  readonly types: readonly string[];
}

/** One `.TypeConstraint(name, types)` of a kernel definition. */
export interface Declaration {
  readonly domain: string;
  readonly op: string;
  readonly since: number;
  readonly until: number | undefined;
  readonly constraint: string;
  /** '@', '@2', '@3' (the registration's template types), a type list, or a DataTypeImpl set name. */
  readonly types: string;
  /** The kernel's source file and the tag it was read at: 'onnxruntime/…/where.cc@v1.19.2'. */
  readonly source: string;
}

const KERNEL_LISTS = [
  'onnxruntime/core/providers/cuda/cuda_execution_provider.cc',
  'onnxruntime/contrib_ops/cuda/cuda_contrib_kernels.cc',
  'orttraining/orttraining/training_ops/cuda/cuda_training_kernels.cc',
];

export function rowsFromTsv(text: string): Registration[] {
  const lines = text.split('\n').filter((l) => l.trim() !== '');
  return lines.slice(1).map((line) => {
    const [domain, op, since, until, types] = line.split('\t');
    return { domain: domain ?? '', op: op!, since: Number(since), until: until ? Number(until) : undefined, types: (types ?? '').split(',') };
  });
}

/**
 * Registrations in a kernel list source file. The macro arguments are (provider, domain, [since,
 * [until,]] [type,] op); the macro's name says which are present.
 */
export function rowsFromSource(text: string): Registration[] {
  const found = new Map<string, { domain: string; op: string; since: number; until: number | undefined; types: string[] }>();
  const pattern = /BuildKernelCreateInfo<\s*(ONNX_OPERATOR(?:_VERSIONED)?(?:_TYPED|_TWO_TYPED)?_KERNEL_CLASS_NAME)\(([^)]*)\)\s*>/g;
  for (const [, macro, argText] of text.matchAll(pattern)) {
    const args = argText!.split(',').map((a) => a.trim());
    const versioned = macro!.includes('_VERSIONED');
    const typed = macro!.includes('_TYPED');
    const twoTyped = macro!.includes('_TWO_TYPED');
    const domainName = args[1]!;
    const domain = domainName === 'kOnnxDomain' ? '' : domainName === 'kMSDomain' ? 'com.microsoft' : domainName;
    const since = Number(args[2]);
    const until = versioned ? Number(args[3]) : undefined;
    const rest = args.slice(versioned ? 4 : 3);
    const op = rest[rest.length - 1]!;
    const type = twoTyped ? `${rest[0]}_${rest[1]}` : typed ? rest[0]! : '*';
    const key = `${domain}\u0000${op}\u0000${since}\u0000${until}`;
    const entry = found.get(key) ?? { domain, op, since, until, types: [] };
    if (!entry.types.includes(type)) entry.types.push(type);
    found.set(key, entry);
  }
  return [...found.values()];
}

/**
 * ONNX Runtime's DataTypeImpl sets (core/framework/data_types.cc over element_type_lists.h), in its
 * element type names; a build without DISABLE_FLOAT8_TYPES, as the released CUDA packages are.
 */
const FIXED_SIZE = ['float', 'double', 'int64_t', 'uint64_t', 'int32_t', 'uint32_t', 'int16_t', 'uint16_t', 'int8_t', 'uint8_t', 'MLFloat16', 'BFloat16', 'bool'];
const FIXED_SIZE_IRV9 = [...FIXED_SIZE, 'Float8E4M3FN', 'Float8E4M3FNUZ', 'Float8E5M2', 'Float8E5M2FNUZ'];
const ALL = [...FIXED_SIZE, 'string'];
const ALL_IRV9 = [...ALL, 'Float8E4M3FN', 'Float8E4M3FNUZ', 'Float8E5M2', 'Float8E5M2FNUZ'];
const NUMERIC = FIXED_SIZE.filter((t) => t !== 'bool');
const seq = (types: readonly string[]) => types.map((t) => `seq(${t})`);
const TYPE_SETS: Readonly<Record<string, readonly string[]>> = {
  AllIEEEFloatTensorTypes: ['float', 'double', 'MLFloat16'],
  AllNumericTensorTypes: NUMERIC,
  AllNumericTensorTypesIRv4: NUMERIC,
  AllFixedSizeTensorTypes: FIXED_SIZE,
  AllFixedSizeTensorTypesIRv4: FIXED_SIZE,
  AllFixedSizeTensorTypesIRv9: FIXED_SIZE_IRV9,
  AllTensorTypes: ALL,
  AllTensorTypesIRv4: ALL,
  AllTensorTypesIRv9: ALL_IRV9,
  AllFixedSizeSequenceTensorTypes: seq(FIXED_SIZE),
  AllFixedSizeSequenceTensorTypesIRv4: seq(FIXED_SIZE),
  AllFixedSizeSequenceTensorTypesIRv9: seq(FIXED_SIZE_IRV9),
  AllSequenceTensorTypes: seq(ALL),
  AllSequenceTensorTypesIRv4: seq(ALL),
  AllSequenceTensorTypesIRv9: seq(ALL_IRV9),
  AllFixedSizeTensorAndSequenceTensorTypes: [...FIXED_SIZE, ...seq(FIXED_SIZE)],
  AllFixedSizeTensorAndSequenceTensorTypesIRv4: [...FIXED_SIZE, ...seq(FIXED_SIZE)],
  AllFixedSizeTensorAndSequenceTensorTypesIRv9: [...FIXED_SIZE_IRV9, ...seq(FIXED_SIZE_IRV9)],
  AllTensorAndSequenceTensorTypes: [...ALL, ...seq(ALL)],
  AllTensorAndSequenceTensorTypesIRv4: [...ALL, ...seq(ALL)],
  AllTensorAndSequenceTensorTypesIRv9: [...ALL_IRV9, ...seq(ALL_IRV9)],
};

export function declarationsFromTsv(text: string): Declaration[] {
  const lines = text.split('\n').filter((l) => l.trim() !== '' && !l.startsWith('#'));
  return lines.slice(1).map((line) => {
    const [domain, op, since, until, constraint, types, , source] = line.split('\t');
    return { domain: domain ?? '', op: op!, since: Number(since), until: until ? Number(until) : undefined, constraint: constraint!, types: types!, source: source ?? '' };
  });
}

/** Template types of one registration entry: 'float_MLFloat16' -> ['float', 'MLFloat16'] (names contain '_t'). */
function templateTypes(entry: string): string[] {
  if (entry.includes(':')) return entry.split(':');
  return entry.match(/u?int\d+_t|MLFloat16|BFloat16|float|double|bool|Float8\w+?(?=_|$)/g) ?? [entry];
}

function expand(types: string, template: readonly string[], where: string): string[] {
  const at = /^@(\d*)$/.exec(types);
  if (at) {
    const t = template[at[1] ? Number(at[1]) - 1 : 0];
    if (t === undefined) throw new Error(`${where}: '${types}' but the registration has ${template.length} template type(s)`);
    return [t];
  }
  if (TYPE_SETS[types]) return [...TYPE_SETS[types]!];
  if (/^[A-Za-z]\w*$/.test(types) && types.startsWith('All')) throw new Error(`${where}: unknown type set ${types}`);
  if (types === '?' || types === '') throw new Error(`${where}: unresolved type declaration`);
  return types.split(',');
}

/** Alternatives that differ in one constraint only become one (their union is the same set of nodes). */
function merge(accepts: ConstraintTypes[]): ConstraintTypes[] {
  const key = (a: ConstraintTypes, skip: string) => JSON.stringify(Object.entries(a).filter(([c]) => c !== skip).map(([c, t]) => [c, [...t].sort()]));
  const out = accepts.map((a) => ({ ...a }));
  for (let changed = true; changed; ) {
    changed = false;
    outer: for (let i = 0; i < out.length; i++) {
      for (let j = i + 1; j < out.length; j++) {
        const a = out[i]!;
        const b = out[j]!;
        if (Object.keys(a).join() !== Object.keys(b).join()) continue;
        for (const c of Object.keys(a)) {
          if (key(a, c) !== key(b, c)) continue;
          out[i] = { ...a, [c]: [...a[c]!, ...b[c]!.filter((t) => !a[c]!.includes(t))] };
          out.splice(j, 1);
          changed = true;
          break outer;
        }
      }
    }
  }
  return out;
}

/**
 * Which constraints a registration's template types stand for, from the op's schema, for kernels
 * whose declarations are not in the declarations file. Constraints are ranked by where they first
 * appear (inputs, then outputs); one template type binds the constraint allowing the most of the
 * types registered (kernels may register types their schema does not: ReduceMin 1's int8_t), the
 * narrowest of those, the first ranked; several bind the first ranked assignment of distinct
 * constraints that allows every registered combination.
 */
function derivedConstraints(r: Registration): string[] | undefined {
  const schema = findSchema(r.domain, r.op, r.since);
  if (schema === undefined) return undefined;
  const ranked = [...new Set([...schema.inputs, ...schema.outputs].filter((f) => !f.fixed).map((f) => f.type))];
  const allowed = (c: string) => schema.constraints.get(c) ?? [];
  const combos = r.types.map(templateTypes);
  const width = combos[0]!.length;
  if (width === 1) {
    const singles = combos.map((c) => c[0]!);
    const covered = (c: string) => singles.filter((t) => allowed(c).includes(t)).length;
    const fits = ranked.filter((c) => covered(c) > 0).sort((a, b) => covered(b) - covered(a) || allowed(a).length - allowed(b).length || ranked.indexOf(a) - ranked.indexOf(b));
    return fits.length === 0 ? undefined : [fits[0]!];
  }
  const assignments = (chosen: string[]): string[][] =>
    chosen.length === width ? [chosen] : ranked.filter((c) => !chosen.includes(c)).flatMap((c) => assignments([...chosen, c]));
  const fitting = assignments([]).find((names) => combos.every((combo) => combo.every((t, i) => allowed(names[i]!).includes(t))));
  return fitting;
}

/** The registrations keyed by constraint; `notes` lists those decided from the schema, not declared. */
export function withConstraints(registrations: readonly Registration[], declarations: readonly Declaration[]): { rows: KernelRow[]; notes: string[] } {
  const notes: string[] = [];
  const rows = registrations.map((r): KernelRow => {
    const where = `${r.domain || 'ai.onnx'}:${r.op} ${r.since}${r.until === undefined ? '+' : `-${r.until}`}`;
    const declared = declarations.filter((d) => d.domain === r.domain && d.op === r.op && d.since === r.since && d.until === r.until && d.constraint !== '-');
    const noneDeclared = declarations.some((d) => d.domain === r.domain && d.op === r.op && d.since === r.since && d.until === r.until && d.constraint === '-');
    let accepts: ConstraintTypes[];
    if (declared.length > 0 || noneDeclared) {
      accepts = r.types.map((entry) => {
        const template = entry === '*' ? [] : templateTypes(entry);
        return Object.fromEntries(declared.map((d) => [d.constraint, expand(d.types, template, where)]));
      });
    } else if (r.types.length === 1 && r.types[0] === '*') {
      notes.push(`${where}: declares its types in its own file, not in ${DECLARATIONS}: not checked`);
      accepts = [{}];
    } else {
      const names = derivedConstraints(r);
      if (names === undefined) {
        // Training-internal ops (SparseSoftmaxCrossEntropy, *Grad) have no published schema to bind by.
        notes.push(`${where}: no schema constraint fits its template types: not checked`);
        accepts = [{}];
      } else {
        accepts = r.types.map((entry) => Object.fromEntries(templateTypes(entry).map((t, i) => [names[i]!, [t]])));
        notes.push(`${where}: ${names.join('_')} from its schema`);
      }
    }
    return { domain: r.domain, op: r.op, since: r.since, until: r.until, accepts: merge(accepts) };
  });
  return { rows, notes };
}

const DECLARATIONS = 'scripts/cuda-kernels.type-constraints.tsv';

export function readDeclarations(): Declaration[] {
  return declarationsFromTsv(readFileSync(path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', DECLARATIONS), 'utf8'));
}

/** Problems found checking each declaration against its source file in an ONNX Runtime git directory. */
export function verifyDeclarations(declarations: readonly Declaration[], gitDir: string): string[] {
  const files = new Map<string, string | undefined>();
  const read = (source: string): string | undefined => {
    if (!files.has(source)) {
      const [file, tag] = source.split('@');
      try {
        files.set(source, execFileSync('git', ['--git-dir', gitDir, 'show', `${tag}:${file}`], { encoding: 'utf8', maxBuffer: 64 << 20 }));
      } catch {
        files.set(source, undefined);
      }
    }
    return files.get(source);
  };
  const problems: string[] = [];
  for (const d of declarations) {
    const where = `${d.domain || 'ai.onnx'}:${d.op} ${d.since}${d.until === undefined ? '+' : `-${d.until}`} ${d.constraint}`;
    const text = read(d.source);
    if (text === undefined) problems.push(`${where}: cannot read ${d.source}`);
    else if (!text.includes(d.op)) problems.push(`${where}: ${d.source} does not mention ${d.op}`);
    else if (d.constraint !== '-' && !new RegExp(`\\.TypeConstraint\\(\\s*"${d.constraint}"`).test(text)) problems.push(`${where}: ${d.source} declares no TypeConstraint("${d.constraint}", ...)`);
  }
  return problems;
}

function render(rows: readonly KernelRow[], release: string): string {
  const body = rows.map((r) => `  [${JSON.stringify(r.domain)}, ${JSON.stringify(r.op)}, ${r.since}, ${r.until ?? 'undefined'}, ${JSON.stringify(formatAccepts(r.accepts))}],`).join('\n');
  return `// Generated by scripts/cuda-kernels.ts: do not edit by hand.
/**
 * ONNX Runtime's CUDA kernel registrations (CUDA provider, contrib ops, training ops; NCCL/MPI and
 * NHWC kernels left out), as (domain, op, since, until, accepts): the types each registration takes
 * per type constraint ('T=float,double|Tind=int32_t,int64_t'; alternatives separated by ';'; empty:
 * not checked). Release: ${release}.
 */
import { parseAccepts, type KernelRow } from './kernels.js';

export const CUDA_KERNELS_RELEASE = ${JSON.stringify(release)};

const rows: ReadonlyArray<readonly [string, string, number, number | undefined, string]> = [
${body}
];

export const CUDA_KERNELS: readonly KernelRow[] = rows.map(([domain, op, since, until, accepts]) => ({ domain, op, since, until, accepts: parseAccepts(accepts) }));
`;
}

const isMain = process.argv[1] !== undefined && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url);
if (isMain) {
  const { values } = parseArgs({ options: { tsv: { type: 'string' }, sources: { type: 'string' }, release: { type: 'string' }, verify: { type: 'string' } } });
  if (values.verify) {
    const problems = verifyDeclarations(readDeclarations(), values.verify);
    for (const p of problems) console.error(p);
    console.log(`${readDeclarations().length} declarations checked against ${values.verify}: ${problems.length} problem(s)`);
    process.exit(problems.length === 0 ? 0 : 1);
  }
  if ((!values.tsv && !values.sources) || !values.release) {
    console.error('usage: npx tsx scripts/cuda-kernels.ts (--tsv <file> | --sources <onnxruntime checkout>) --release "<version, commit>"\n       npx tsx scripts/cuda-kernels.ts --verify <onnxruntime git directory>');
    process.exit(1);
  }
  const registrations = values.tsv ? rowsFromTsv(readFileSync(values.tsv, 'utf8')) : KERNEL_LISTS.flatMap((f) => rowsFromSource(readFileSync(path.join(values.sources!, f), 'utf8')));
  const { rows, notes } = withConstraints(registrations, readDeclarations());
  const target = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../src/target/cuda-kernels.data.ts');
  writeFileSync(target, render(rows, values.release));
  for (const n of notes) console.log(n);
  console.log(`wrote ${rows.length} registrations to ${target} (${notes.length} not declared in ${DECLARATIONS}, listed above)`);
}
