/**
 * ONNX Runtime's CUDA kernel registrations as data: which (domain, op, opset range) has a CUDA
 * kernel, and for which types of each type constraint. The table itself is generated
 * (cuda-kernels.data.ts, by scripts/cuda-kernels.ts); this module reads it and matches nodes.
 */

/**
 * The types a registration accepts, by constraint name: a node matches when every constraint listed
 * here that the node binds takes one of the listed types. Constraints the kernel does not declare
 * are not checked, as in ONNX Runtime.
 */
export type ConstraintTypes = Readonly<Record<string, readonly string[]>>;

/** One registration: a kernel for an opset range, accepting any of `accepts`. */
export interface KernelRow {
  readonly domain: string;
  readonly op: string;
  readonly since: number;
  /** Last opset covered; undefined = open-ended. */
  readonly until: number | undefined;
  /**
   * Alternatives (a kernel typed on two constraints registers pairs: InPlaceAccumulatorV2's
   * (T, T_GRAD) = (float, float) or (float, MLFloat16)); a node matches if it matches one.
   */
  readonly accepts: readonly ConstraintTypes[];
}

/** The row whose opset range holds `opset`, if any. */
export function findKernel(rows: readonly KernelRow[], domain: string, op: string, opset: number): KernelRow | undefined {
  return rows.find((r) => r.domain === domain && r.op === op && r.since <= opset && (r.until === undefined || opset <= r.until));
}

/** Whether a node with these constraint bindings (constraint → type) has a kernel in `row`. */
export function matchesTypes(row: KernelRow, bound: ReadonlyMap<string, string>): boolean {
  return row.accepts.some((alternative) =>
    Object.entries(alternative).every(([constraint, types]) => {
      const t = bound.get(constraint);
      return t === undefined || types.includes(t);
    }),
  );
}

/** 'T in float, double; Tind in int32_t, int64_t' (each alternative in parentheses if several). */
export function describeAccepts(row: KernelRow): string {
  const one = (a: ConstraintTypes) => Object.entries(a).map(([c, types]) => `${c} in ${types.join(', ')}`).join('; ');
  return row.accepts.length === 1 ? one(row.accepts[0]!) : row.accepts.map((a) => `(${one(a)})`).join(' or ');
}

/** The row's accepts as the generated table writes them: 'T=float,double|Tind=int32_t,int64_t;…'. */
export function formatAccepts(accepts: readonly ConstraintTypes[]): string {
  return accepts.map((a) => Object.entries(a).map(([c, types]) => `${c}=${types.join(',')}`).join('|')).join(';');
}

export function parseAccepts(text: string): ConstraintTypes[] {
  return text.split(';').map((alternative) =>
    Object.fromEntries(
      alternative === ''
        ? []
        : alternative.split('|').map((part) => {
            const [constraint, types] = part.split('=') as [string, string];
            return [constraint, types.split(',')];
          }),
    ),
  );
}
