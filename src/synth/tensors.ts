/**
 * Initializer contents, described lazily.
 *
 * A BERT-base model is 440 MB of float32 weights. Describing each initializer as a plan that can
 * produce its bytes on demand lets the encoder stream a model to disk one tensor at a time (peak memory:
 * the largest tensor) while `generateBert` can still materialize a complete ModelProto.
 */
import { fillNormal, streamFor, type Uint32Source } from '../util/prng.js';

/** ONNX TensorProto.DataType values used here. */
export const DataType = { FLOAT: 1, INT32: 6, INT64: 7 } as const;
export type DataType = (typeof DataType)[keyof typeof DataType];

const BYTES_PER_ELEMENT: Record<DataType, number> = { 1: 4, 6: 4, 7: 8 };

/** How a trained parameter is initialized (BERT: weights ~ N(0, 0.02), LayerNorm gamma 1, beta 0). */
export type ParamInit =
  | { readonly kind: 'normal'; readonly std: number }
  | { readonly kind: 'constant'; readonly value: number }
  /** `value + N(0, std)`: e.g. a LayerNorm gain that is not exactly 1, so that it matters. */
  | { readonly kind: 'perturbed'; readonly value: number; readonly std: number };

/**
 * One logical parameter of the network, independent of how a style lays it out in the graph.
 * `id` names the random stream (so values are a function of seed and id only); `shape` is canonical:
 * dense kernels are [in, out] (y = x W), embeddings [rows, hidden], vectors [n].
 */
export interface LogicalParam {
  readonly id: string;
  readonly shape: readonly number[];
  readonly init: ParamInit;
}

/** An initializer whose bytes are produced on demand. */
export interface TensorPlan {
  readonly name: string;
  readonly dataType: DataType;
  readonly dims: readonly number[];
  readonly byteLength: number;
  /** True for trained weights (they count towards the parameter count); false for shape constants etc. */
  readonly isParameter: boolean;
  /**
   * The tensor's little-endian bytes. When `scratch` is given and large enough they are written into it
   * and the returned view aliases it (valid until the scratch is reused); otherwise a new buffer is used.
   */
  bytes(scratch?: ArrayBuffer): Uint8Array;
}

const HOST_IS_LITTLE_ENDIAN = new Uint8Array(new Uint32Array([1]).buffer)[0] === 1;

/** ONNX raw_data is little-endian; swap in place on a big-endian host so the bytes are the same everywhere. */
function toLittleEndian(bytes: Uint8Array, width: number): Uint8Array {
  if (HOST_IS_LITTLE_ENDIAN || width === 1) return bytes;
  for (let i = 0; i < bytes.length; i += width) {
    for (let a = i, b = i + width - 1; a < b; a++, b--) {
      const t = bytes[a]!;
      bytes[a] = bytes[b]!;
      bytes[b] = t;
    }
  }
  return bytes;
}

function elementCount(dims: readonly number[]): number {
  return dims.reduce((n, d) => n * d, 1);
}

function floatTarget(count: number, scratch: ArrayBuffer | undefined): Float32Array {
  return scratch !== undefined && scratch.byteLength >= count * 4 ? new Float32Array(scratch, 0, count) : new Float32Array(count);
}

/**
 * Draws a parameter's values in canonical row-major order, one row at a time. Rows are the unit so
 * that layouts which scatter rows (transposes, column concatenation) consume the stream exactly as a
 * plain fill does: a parameter has the same values in every style.
 */
class ParamRows {
  private readonly rng: Uint32Source;
  private readonly row: Float32Array;
  private spare: number | null = null;

  constructor(
    seed: number,
    private readonly param: LogicalParam,
  ) {
    this.rng = streamFor(seed, param.id);
    this.row = new Float32Array(param.shape.length > 1 ? param.shape[param.shape.length - 1]! : elementCount(param.shape));
  }

  /** The next row of the parameter (a view that is overwritten by the following call). */
  next(): Float32Array {
    const init = this.param.init;
    if (init.kind === 'constant') return this.row.fill(init.value);
    // Polar sampling yields pairs; keep the odd one over for the next row so rows join seamlessly.
    let start = 0;
    if (this.spare !== null) {
      this.row[0] = this.spare;
      this.spare = null;
      start = 1;
    }
    const remaining = this.row.length - start;
    if (remaining > 0) {
      const even = remaining - (remaining % 2);
      fillNormal(this.row, this.rng, init.std, start, even);
      if (even < remaining) {
        const pair = new Float32Array(2);
        fillNormal(pair, this.rng, init.std);
        this.row[this.row.length - 1] = pair[0]!;
        this.spare = pair[1]!;
      }
    }
    if (init.kind === 'perturbed') for (let i = 0; i < this.row.length; i++) this.row[i] = init.value + this.row[i]!;
    return this.row;
  }

  get rows(): number {
    return elementCount(this.param.shape) / this.row.length;
  }
}

/** How a stored initializer is made of logical parameters. */
export type ParamLayout =
  /** The parameter as is ([in, out] for a dense kernel). */
  | { readonly kind: 'direct'; readonly param: LogicalParam }
  /** A 2-D parameter transposed ([out, in]: PyTorch's Linear.weight, used by Gemm with transB=1). */
  | { readonly kind: 'transposed'; readonly param: LogicalParam }
  /** Several parameters with the same row count side by side (fused QKV kernels [in, 3 out], biases [3 out]). */
  | { readonly kind: 'concatColumns'; readonly params: readonly LogicalParam[] };

function layoutDims(layout: ParamLayout): number[] {
  switch (layout.kind) {
    case 'direct':
      return [...layout.param.shape];
    case 'transposed': {
      const [rows, cols] = layout.param.shape;
      if (layout.param.shape.length !== 2) throw new Error(`cannot transpose ${layout.param.id}: not 2-D`);
      return [cols!, rows!];
    }
    case 'concatColumns': {
      const first = layout.params[0]!.shape;
      const lead = first.slice(0, -1);
      const cols = layout.params.reduce((n, p) => n + p.shape[p.shape.length - 1]!, 0);
      for (const p of layout.params) {
        if (p.shape.length !== first.length || p.shape.slice(0, -1).some((d, i) => d !== lead[i])) {
          throw new Error(`cannot concatenate ${p.id}: leading dims differ`);
        }
      }
      return [...lead, cols];
    }
  }
}

function fillLayout(layout: ParamLayout, seed: number, out: Float32Array): void {
  switch (layout.kind) {
    case 'direct': {
      const rows = new ParamRows(seed, layout.param);
      for (let r = 0, offset = 0; r < rows.rows; r++) {
        const row = rows.next();
        out.set(row, offset);
        offset += row.length;
      }
      return;
    }
    case 'transposed': {
      const rows = new ParamRows(seed, layout.param);
      const n = rows.rows;
      for (let r = 0; r < n; r++) {
        const row = rows.next();
        for (let c = 0; c < row.length; c++) out[c * n + r] = row[c]!;
      }
      return;
    }
    case 'concatColumns': {
      const sources = layout.params.map((p) => new ParamRows(seed, p));
      const rowCount = sources[0]!.rows;
      let offset = 0;
      for (let r = 0; r < rowCount; r++) {
        for (const source of sources) {
          const row = source.next();
          out.set(row, offset);
          offset += row.length;
        }
      }
      return;
    }
  }
}

/** A float32 initializer holding trained parameters laid out as `layout`, drawn from `seed`. */
export function paramTensor(name: string, layout: ParamLayout, seed: number): TensorPlan {
  const dims = layoutDims(layout);
  const count = elementCount(dims);
  return {
    name,
    dataType: DataType.FLOAT,
    dims,
    byteLength: count * 4,
    isParameter: true,
    bytes(scratch) {
      const values = floatTarget(count, scratch);
      fillLayout(layout, seed, values);
      return toLittleEndian(new Uint8Array(values.buffer, values.byteOffset, values.byteLength), 4);
    },
  };
}

/** A constant (non-trained) initializer with explicit values. */
export function constantTensor(name: string, dataType: DataType, dims: readonly number[], values: readonly number[]): TensorPlan {
  const count = elementCount(dims);
  if (values.length !== count) throw new Error(`constant ${name}: ${values.length} values for dims [${dims.join(', ')}]`);
  const bytes = encodeValues(dataType, values);
  return {
    name,
    dataType,
    dims: [...dims],
    byteLength: bytes.length,
    isParameter: false,
    bytes: () => bytes.slice(),
  };
}

/** Little-endian encoding of `values` as `dataType` (integers must be exact). */
export function encodeValues(dataType: DataType, values: readonly number[]): Uint8Array {
  const out = new Uint8Array(values.length * BYTES_PER_ELEMENT[dataType]);
  const view = new DataView(out.buffer);
  values.forEach((v, i) => {
    if (dataType === DataType.FLOAT) view.setFloat32(i * 4, v, true);
    else if (dataType === DataType.INT32) view.setInt32(i * 4, v, true);
    else view.setBigInt64(i * 8, BigInt(v), true);
  });
  return out;
}
