/**
 * A symbolic dimension: an integer polynomial in the input-size symbols. `batch` and `sequence`
 * are the graph inputs' unknown dims; a size only a run can tell (NonZero's count) is a symbol of
 * its own. Exporters compute shapes with Shape / Gather / Concat / Mul / Div chains, so dims are
 * closed under +, -, × and exact division (batch × sequence / sequence = batch).
 *
 * Comparisons (Slice's clamping, Equal on shape values, Max/Min) are decided at two sample sizes
 * with every symbol different: a result that differs between them is not decided (undefined), and
 * whoever asked reports it instead of guessing.
 */

/** Monomial (symbol names, sorted, joined by '*'; '' for the constant term) -> coefficient. */
export type Dim = ReadonlyMap<string, number>;

export const BATCH = 'batch';
export const SEQUENCE = 'sequence';

export function constant(n: number): Dim {
  return n === 0 ? new Map() : new Map([['', n]]);
}

export function symbol(name: string): Dim {
  return new Map([[name, 1]]);
}

function normalized(terms: Map<string, number>): Dim {
  for (const [k, v] of terms) if (v === 0) terms.delete(k);
  return terms;
}

export function add(a: Dim, b: Dim): Dim {
  const out = new Map(a);
  for (const [k, v] of b) out.set(k, (out.get(k) ?? 0) + v);
  return normalized(out);
}

export function scale(a: Dim, n: number): Dim {
  return normalized(new Map([...a].map(([k, v]) => [k, v * n])));
}

export function sub(a: Dim, b: Dim): Dim {
  return add(a, scale(b, -1));
}

function monomialProduct(x: string, y: string): string {
  return [...x.split('*'), ...y.split('*')].filter((s) => s !== '').sort().join('*');
}

export function mul(a: Dim, b: Dim): Dim {
  const out = new Map<string, number>();
  for (const [ka, va] of a) for (const [kb, vb] of b) {
    const k = monomialProduct(ka, kb);
    out.set(k, (out.get(k) ?? 0) + va * vb);
  }
  return normalized(out);
}

/** `a / b` when it divides exactly: by a constant, or by a single term that divides every term of `a`. */
export function divExact(a: Dim, b: Dim): Dim | undefined {
  if (b.size !== 1) return equals(a, b) ? constant(1) : undefined;
  const [[kb, vb]] = [...b] as [[string, number]];
  const out = new Map<string, number>();
  const divisor = kb === '' ? [] : kb.split('*');
  for (const [ka, va] of a) {
    if (va % vb !== 0) return undefined;
    const factors = ka === '' ? [] : ka.split('*');
    for (const s of divisor) {
      const at = factors.indexOf(s);
      if (at < 0) return undefined;
      factors.splice(at, 1);
    }
    out.set(factors.join('*'), va / vb);
  }
  return normalized(out);
}

/** The value when `d` has no symbol. */
export function asConstant(d: Dim): number | undefined {
  if (d.size === 0) return 0;
  return d.size === 1 && d.has('') ? d.get('')! : undefined;
}

export function isSymbolic(d: Dim): boolean {
  return asConstant(d) === undefined;
}

export function equals(a: Dim, b: Dim): boolean {
  return sub(a, b).size === 0;
}

export function evaluate(d: Dim, at: (symbol: string) => number): number {
  let total = 0;
  for (const [k, v] of d) total += v * (k === '' ? 1 : k.split('*').reduce((p, s) => p * at(s), 1));
  return total;
}

/** Two sizes for every symbol, all different, at which comparisons are decided. */
const SAMPLES: ReadonlyArray<(s: string) => number> = [
  (s) => (s === BATCH ? 2 : s === SEQUENCE ? 3 : 5),
  (s) => (s === BATCH ? 3 : s === SEQUENCE ? 7 : 11),
];

/** Sign of a - b if both samples agree (-1, 0, 1), else undefined. */
export function compare(a: Dim, b: Dim): number | undefined {
  const d = sub(a, b);
  const c = asConstant(d);
  if (c !== undefined) return Math.sign(c);
  const signs = SAMPLES.map((at) => Math.sign(evaluate(d, at)));
  return signs.every((s) => s === signs[0]) ? signs[0] : undefined;
}

export function toString(d: Dim): string {
  if (d.size === 0) return '0';
  // One term (a constant, batch, sequence: nearly every dim) needs no sorting. The shape table
  // spells out every value's dims this way, thousands per compile.
  if (d.size === 1) {
    const [[k, v]] = d;
    return termText(k, v, 0);
  }
  return [...d]
    .sort(([x], [y]) => (x === '' ? 1 : y === '' ? -1 : x.localeCompare(y)))
    .map(([k, v], i) => termText(k, v, i))
    .join('');
}

/** The `i`th term of a polynomial's text: `k` (a monomial, '' for the constant) times `v`. */
function termText(k: string, v: number, i: number): string {
  const sign = v < 0 ? '-' : i === 0 ? '' : '+';
  const magnitude = Math.abs(v);
  const body = k === '' ? String(magnitude) : magnitude === 1 ? k : `${magnitude}*${k}`;
  return `${i === 0 ? sign : ` ${sign} `}${body}`;
}

export function product(dims: readonly Dim[]): Dim {
  return dims.reduce((p, d) => mul(p, d), constant(1));
}
