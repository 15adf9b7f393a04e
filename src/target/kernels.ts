/**
 * ONNX Runtime's CUDA kernel registrations as data: which (domain, op, opset range, types) have a
 * CUDA kernel. The table itself is generated (cuda-kernels.data.ts, by scripts/cuda-kernels.ts);
 * this module reads it.
 */

/** One registration: `types` as ORT registers them (see `matchesTypes`). */
export interface KernelRow {
  readonly domain: string;
  readonly op: string;
  readonly since: number;
  /** Last opset covered; undefined = open-ended. */
  readonly until: number | undefined;
  readonly types: readonly string[];
}

/** The row whose opset range holds `opset`, if any. */
export function findKernel(rows: readonly KernelRow[], domain: string, op: string, opset: number): KernelRow | undefined {
  return rows.find((r) => r.domain === domain && r.op === op && r.since <= opset && (r.until === undefined || opset <= r.until));
}

/** The fixed-size element types ORT kernels register for ('*' means these unless listed below). */
const ALL_FIXED_SIZE = ['float', 'double', 'MLFloat16', 'BFloat16', 'int8_t', 'int16_t', 'int32_t', 'int64_t', 'uint8_t', 'uint16_t', 'uint32_t', 'uint64_t', 'bool'];
const FLOATS = ['MLFloat16', 'float', 'double', 'BFloat16'];

/** What '*' stands for: kernels that declare their types in their own file. */
export function starTypes(row: KernelRow): readonly string[] {
  if (row.domain === '' && (row.op === 'Sum' || (row.op === 'Dropout' && row.since >= 13))) return FLOATS;
  if (row.domain === 'com.microsoft' && row.op === 'BiasGelu') return FLOATS;
  if (row.domain === '' && row.op === 'Pow' && row.since >= 12) return ['int32_t', 'int64_t', 'float', 'double', 'MLFloat16'];
  return ALL_FIXED_SIZE;
}

/**
 * Whether a registration covers a node with these element types (`inputs[i]` the type of input i,
 * `all` every type on the node's inputs and outputs):
 * - a plain list covers the type of the op's main input (input 0; for Slice, its index input 1);
 * - combined names (`float_float_float`, InPlaceAccumulatorV2's `float_float`) start with input 0's
 *   type and name only types the node carries;
 * - `T1:T2` pairs (SoftmaxCrossEntropyLoss's `float:int64_t`) are inputs 0 and 1;
 * - '*' is `starTypes`.
 */
export function matchesTypes(row: KernelRow, op: string, inputs: readonly (string | undefined)[], all: ReadonlySet<string>): boolean {
  const main = op === 'Slice' ? inputs[1] : inputs[0];
  return row.types.some((t) => {
    if (t === '*') return main === undefined || starTypes(row).includes(main) || main.startsWith('seq(');
    if (t.includes(':')) return t.split(':').every((part, i) => inputs[i] === part);
    if (t.includes('_') && !/^u?int\d+_t$/.test(t)) {
      const parts = splitCombined(t);
      return parts[0] === main && parts.every((p) => all.has(p));
    }
    return t === main;
  });
}

/** `int64_t_float_int64_t` → ['int64_t', 'float', 'int64_t'] (type names themselves contain '_t'). */
function splitCombined(name: string): string[] {
  return name.match(/u?int\d+_t|MLFloat16|BFloat16|float|double|bool|Float8\w+/g) ?? [name];
}
