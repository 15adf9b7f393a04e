/**
 * ONNX Runtime's training runtime from Node: the training build of onnxruntime-web 1.19.2 (ORT
 * 1.19.2 compiled to WebAssembly, CPU only), the last published ORT with the training API.
 *
 *   const ort = await loadOrtTraining();
 *   const session = await ort.createSession({ checkpoint, trainingModel, evalModel, optimizerModel });
 *   const { loss } = await session.trainStep({ x: { data: xs, dims: [8, 3] } });
 *   await session.optimizerStep();
 *   await session.lazyResetGrad();
 *   const weights = await session.parameters(true);
 *   await session.release();
 *
 * How it is loaded (see `../shared/docs/ort-training-contract.md`, section 5): the package's
 * exports refuse `onnxruntime-web/training` under Node, so the ES module
 * `dist/ort.training.wasm.min.mjs` is imported by its file URL; it finds its `.wasm` beside it.
 * `env.wasm.numThreads` is set before the first session (default 1: no pthread workers, which
 * also keeps it working inside vitest's forked test workers). The module is loaded once per
 * process; later calls reuse it (and cannot change the thread count).
 *
 * The build frees stack pointers in `getContiguousParameters` and `loadParametersBuffer`, which can
 * corrupt its heap; `stack-free-fix.ts` loads it through a wrapper that drops those frees.
 *
 * Paths given for artifacts are read here: the web build would `fetch` them, which Node cannot
 * do for local files.
 *
 * Errors: failures that ORT reports as a status keep its message; C++ exceptions reach JavaScript
 * as a bare number (a pointer into wasm memory, no message). Both become an `OrtTrainingError`
 * that names the operation and, for exceptions, lists the usual causes.
 */
import { readFile } from 'node:fs/promises';
import { encodeModel, externalTensors, readModel } from '../load/index.js';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { fixedFactoryUrl } from './stack-free-fix.js';
import { importModule } from '../util/import-module.js';

// ---- the subset of onnxruntime-web's API used here (its own types come from a nested onnxruntime-common 1.19) ----

interface OrtTensor {
  readonly type: string;
  readonly dims: readonly number[];
  readonly data: unknown;
}

interface OrtTensorConstructor {
  new (type: string, data: ArrayBufferView, dims: readonly number[]): OrtTensor;
}

type OrtFeeds = Record<string, OrtTensor>;

interface OrtTrainingSession {
  runTrainStep(feeds: OrtFeeds): Promise<Record<string, OrtTensor>>;
  runOptimizerStep(): Promise<void>;
  lazyResetGrad(): Promise<void>;
  runEvalStep(feeds: OrtFeeds): Promise<Record<string, OrtTensor>>;
  getParametersSize(trainableOnly: boolean): Promise<number>;
  loadParametersBuffer(buffer: Uint8Array, trainableOnly: boolean): Promise<void>;
  getContiguousParameters(trainableOnly: boolean): Promise<OrtTensor>;
  release(): Promise<void>;
  readonly trainingInputNames: readonly string[];
  readonly trainingOutputNames: readonly string[];
  readonly evalInputNames: readonly string[];
  readonly evalOutputNames: readonly string[];
}

interface OrtTrainingModule {
  readonly env: { wasm: { numThreads?: number; simd?: boolean; wasmPaths?: { mjs?: string; wasm?: string } }; logLevel?: string };
  readonly Tensor: OrtTensorConstructor;
  readonly TrainingSession: {
    create(
      options: { checkpointState: Uint8Array; trainModel: Uint8Array; evalModel?: Uint8Array; optimizerModel?: Uint8Array },
      sessionOptions?: { logSeverityLevel?: 0 | 1 | 2 | 3 | 4 },
    ): Promise<OrtTrainingSession>;
  };
}

// ---- public types ---------------------------------------------------------------------------------

/** Element types a feed or an output can have. */
export type TensorType = 'float32' | 'int64' | 'int32' | 'bool' | 'uint8';

/** The typed array each TensorType uses (bool is one byte per element). */
export type TensorData = Float32Array | BigInt64Array | Int32Array | Uint8Array;

/** An input tensor. `type` defaults from the array: Float32Array → float32, BigInt64Array → int64, Int32Array → int32, Uint8Array → uint8. */
export interface FeedTensor {
  readonly data: TensorData;
  readonly dims: readonly number[];
  readonly type?: TensorType;
}

/** An output tensor (its data is a copy, owned by the caller). */
export interface OutputTensor {
  readonly type: string;
  readonly dims: readonly number[];
  readonly data: TensorData;
}

export type Feeds = Readonly<Record<string, FeedTensor>>;
export type Outputs = Record<string, OutputTensor>;

/** An artifact as bytes, or the path of its file. */
export type ArtifactSource = Uint8Array | string;

/** The four artifacts of `generate_artifacts` (and of `adapterc compile`). */
export interface TrainingArtifacts {
  readonly checkpoint: ArtifactSource;
  readonly trainingModel: ArtifactSource;
  /** Needed for `evalStep`. */
  readonly evalModel?: ArtifactSource;
  /** Needed for `optimizerStep`. */
  readonly optimizerModel?: ArtifactSource;
}

export interface LoadOptions {
  /** WebAssembly threads for ORT's intra-op pool. Default 1 (no worker threads). Only the first load decides. */
  readonly numThreads?: number;
}

export interface SessionOptions {
  /**
   * The least severe ORT log messages printed (to stderr): 0 verbose, 1 info, 2 warning, 3 error
   * (default), 4 fatal. At 2, for example, SGD's optimizer prints a shape warning on every step.
   */
  readonly logSeverityLevel?: 0 | 1 | 2 | 3 | 4;
}

/** A failure inside ONNX Runtime, with the operation that failed. */
export class OrtTrainingError extends Error {
  constructor(
    /** What was being done: 'create', 'trainStep', 'optimizerStep', ... */
    readonly operation: string,
    message: string,
    /** For C++ exceptions: the exception pointer the wasm build threw in place of a message. */
    readonly exceptionPointer?: number,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'OrtTrainingError';
  }
}

/** What each operation's C++ exceptions most often mean, from the runtime contract. */
const LIKELY_CAUSES: Readonly<Record<string, string>> = {
  create:
    'a trainable parameter that is an initializer instead of a graph input, a parameter input with no checkpoint entry, ' +
    'a missing `<param>_grad.accumulation.buffer` or `lazy_reset_grad` input, an eval model whose parameter inputs ' +
    'differ from the training model\'s, or an optimizer model whose inputs are not exactly ' +
    'learning_rate, step, params, gradients, first_order_moments[, second_order_moments]',
  trainStep: 'a feed of the wrong type or shape, or parameters whose shapes in the checkpoint differ from the model',
  evalStep: 'a feed of the wrong type or shape, or eval parameter inputs that differ from the training model\'s',
  optimizerStep: 'parameters, gradients and moments whose shapes disagree, or an optimizer output that is not bool[1]',
};

function toError(operation: string, error: unknown): OrtTrainingError {
  if (error instanceof OrtTrainingError) return error;
  if (typeof error === 'number') {
    const causes = LIKELY_CAUSES[operation];
    return new OrtTrainingError(
      operation,
      `ONNX Runtime threw a C++ exception in ${operation} (the WebAssembly build passes no message, only the pointer ${error})` +
        (causes === undefined ? '.' : `; common causes: ${causes}.`),
      error,
    );
  }
  const message = error instanceof Error ? error.message : String(error);
  return new OrtTrainingError(operation, `ONNX Runtime failed in ${operation}: ${message}`, undefined, { cause: error });
}

/**
 * Set once the WebAssembly instance has trapped (an out-of-bounds access, say). Its memory may then
 * be corrupt, and a later call can wait forever on a lock the trap left held, where no timeout can
 * reach it; so every later call fails at once instead. There is one instance per process.
 */
let trapped: OrtTrainingError | undefined;

/** True when the runtime has crashed in this process and will refuse further work. */
export function ortTrainingCrashed(): boolean {
  return trapped !== undefined;
}

async function guarded<T>(operation: string, run: () => Promise<T>): Promise<T> {
  if (trapped !== undefined) {
    throw new OrtTrainingError(operation, `ONNX Runtime cannot run ${operation}: its WebAssembly instance crashed earlier in this process (${trapped.message}); start a new process.`, undefined, { cause: trapped });
  }
  try {
    return await run();
  } catch (error) {
    const failure = toError(operation, error);
    // WebAssembly.RuntimeError: a trap inside the instance (this project's lib settings have no WebAssembly types).
    if (error instanceof Error && error.name === 'RuntimeError') trapped = failure;
    throw failure;
  }
}

// ---- loading ----------------------------------------------------------------------------------------

let loaded: Promise<OrtTrainingModule> | undefined;

/** The path of onnxruntime-web's training build (the `.mjs` ES module). */
export function ortTrainingModulePath(): string {
  // The package's own entry for Node lives in dist/, next to the training build.
  const entry = createRequire(import.meta.url).resolve('onnxruntime-web');
  return join(dirname(entry), 'ort.training.wasm.min.mjs');
}

async function importOrt(numThreads: number): Promise<OrtTrainingModule> {
  const module = await importModule<OrtTrainingModule & { default?: OrtTrainingModule }>(pathToFileURL(ortTrainingModulePath()).href);
  const ort: OrtTrainingModule = module.TrainingSession === undefined && module.default !== undefined ? module.default : module;
  ort.env.wasm.numThreads = numThreads;
  // The build's Emscripten factory, through a wrapper that drops its stray frees of stack pointers.
  ort.env.wasm.wasmPaths = { mjs: fixedFactoryUrl(dirname(ortTrainingModulePath())) };
  ort.env.logLevel = 'error';
  return ort;
}

/**
 * Loads the training runtime (once per process) and returns a handle to create sessions with. The
 * WebAssembly itself is compiled when the first session is created.
 */
export async function loadOrtTraining(options: LoadOptions = {}): Promise<OrtTrainingRuntime> {
  const numThreads = options.numThreads ?? 1;
  if (!Number.isInteger(numThreads) || numThreads < 1) throw new RangeError(`numThreads must be a positive integer, not ${numThreads}`);
  loaded ??= importOrt(numThreads);
  try {
    return new OrtTrainingRuntime(await loaded);
  } catch (error) {
    loaded = undefined;
    throw new OrtTrainingError('load', `Cannot load onnxruntime-web's training build from ${ortTrainingModulePath()}: ${String(error)}`, undefined, { cause: error });
  }
}

/**
 * An artifact's bytes. onnxruntime-web loads models from buffers and cannot follow external data
 * (the shared-base layout's `base.data`): a model that has some is read with its data and passed
 * with the data inlined.
 */
async function bytesOf(source: ArtifactSource): Promise<Uint8Array> {
  if (typeof source !== 'string') return source;
  if (source.endsWith('.onnx')) {
    const model = await readModel(source);
    if (externalTensors(model).length > 0) return encodeModel(model, { externalData: 'inline' });
  }
  return new Uint8Array(await readFile(source));
}

export class OrtTrainingRuntime {
  /** @internal Use `loadOrtTraining`. */
  constructor(private readonly ort: OrtTrainingModule) {}

  /** Creates a training session from the four artifacts (eval and optimizer models optional). */
  async createSession(artifacts: TrainingArtifacts, options: SessionOptions = {}): Promise<TrainingSession> {
    const [checkpointState, trainModel, evalModel, optimizerModel] = await Promise.all([
      bytesOf(artifacts.checkpoint),
      bytesOf(artifacts.trainingModel),
      artifacts.evalModel === undefined ? undefined : bytesOf(artifacts.evalModel),
      artifacts.optimizerModel === undefined ? undefined : bytesOf(artifacts.optimizerModel),
    ]);
    const session = await guarded('create', () =>
      this.ort.TrainingSession.create(
        {
          checkpointState,
          trainModel,
          ...(evalModel === undefined ? {} : { evalModel }),
          ...(optimizerModel === undefined ? {} : { optimizerModel }),
        },
        { logSeverityLevel: options.logSeverityLevel ?? 3 },
      ),
    );
    return new TrainingSession(this.ort, session);
  }
}

// ---- sessions -----------------------------------------------------------------------------------------

/** A feed's element type: as given, else from its array (a Uint8Array is uint8 unless `type` says bool). */
export function feedType(f: FeedTensor): TensorType {
  if (f.type !== undefined) return f.type;
  if (f.data instanceof Float32Array) return 'float32';
  if (f.data instanceof BigInt64Array) return 'int64';
  if (f.data instanceof Int32Array) return 'int32';
  return 'uint8';
}

function copyData(t: OrtTensor): TensorData {
  const d = t.data;
  if (d instanceof Float32Array) return new Float32Array(d);
  if (d instanceof BigInt64Array) return new BigInt64Array(d);
  if (d instanceof Int32Array) return new Int32Array(d);
  if (d instanceof Uint8Array) return new Uint8Array(d);
  throw new OrtTrainingError('output', `an output of type ${t.type} is not supported here`);
}

/**
 * One training session: the training model with its parameters (from the checkpoint), and the
 * optional eval and optimizer models sharing them.
 */
export class TrainingSession {
  /** @internal Use `OrtTrainingRuntime.createSession`. */
  constructor(
    private readonly ort: OrtTrainingModule,
    private readonly session: OrtTrainingSession,
  ) {}

  /** User inputs of the training model (parameters, gradient buffers and `lazy_reset_grad` are fed by the runtime). */
  get trainingInputNames(): readonly string[] {
    return this.session.trainingInputNames;
  }
  /** Outputs `trainStep` returns (gradient accumulator outputs are hidden). */
  get trainingOutputNames(): readonly string[] {
    return this.session.trainingOutputNames;
  }
  get evalInputNames(): readonly string[] {
    return this.session.evalInputNames;
  }
  get evalOutputNames(): readonly string[] {
    return this.session.evalOutputNames;
  }

  private feeds(feeds: Feeds): OrtFeeds {
    const out: OrtFeeds = {};
    for (const [name, f] of Object.entries(feeds)) out[name] = new this.ort.Tensor(feedType(f), f.data, f.dims);
    return out;
  }

  private outputs(results: Record<string, OrtTensor>): Outputs {
    const out: Outputs = {};
    for (const [name, t] of Object.entries(results)) out[name] = { type: t.type, dims: [...t.dims], data: copyData(t) };
    return out;
  }

  /** Runs forward and backward on one batch; gradients add up in the accumulation buffers. Returns the visible outputs (loss first). */
  async trainStep(feeds: Feeds): Promise<Outputs> {
    return this.outputs(await guarded('trainStep', () => this.session.runTrainStep(this.feeds(feeds))));
  }

  /** Updates the trainable parameters from the accumulated gradients (and advances the optimizer's step). */
  async optimizerStep(): Promise<void> {
    await guarded('optimizerStep', () => this.session.runOptimizerStep());
  }

  /** Marks the gradient buffers to be reset by the next `trainStep` (call after each optimizer step). */
  async lazyResetGrad(): Promise<void> {
    await guarded('lazyResetGrad', () => this.session.lazyResetGrad());
  }

  /**
   * Runs the eval model with the current parameters. onnxruntime-web 1.19.2 labels the results
   * with the training model's output names, in order.
   */
  async evalStep(feeds: Feeds): Promise<Outputs> {
    return this.outputs(await guarded('evalStep', () => this.session.runEvalStep(this.feeds(feeds))));
  }

  /** How many float32 values `parameters(trainableOnly)` returns. */
  async parametersSize(trainableOnly = true): Promise<number> {
    return guarded('parametersSize', () => this.session.getParametersSize(trainableOnly));
  }

  /**
   * All parameters as one contiguous float32 array (a copy), trainable ones only by default, in
   * the training model's parameter input order. Needs every included parameter to be float32.
   */
  async parameters(trainableOnly = true): Promise<Float32Array> {
    const t = await guarded('parameters', () => this.session.getContiguousParameters(trainableOnly));
    const d = t.data;
    if (!(d instanceof Float32Array)) throw new OrtTrainingError('parameters', `parameters came back as ${t.type}, not float32`);
    return new Float32Array(d);
  }

  /** Overwrites the parameters from one contiguous float32 array laid out as `parameters(trainableOnly)` returns it. */
  async loadParameters(values: Float32Array | Uint8Array, trainableOnly = true): Promise<void> {
    const bytes = values instanceof Float32Array ? new Uint8Array(values.buffer, values.byteOffset, values.byteLength) : values;
    await guarded('loadParameters', () => this.session.loadParametersBuffer(bytes, trainableOnly));
  }

  /** Frees the session and its checkpoint state in the runtime. */
  async release(): Promise<void> {
    // After a crash there is nothing safe left to release; the process has to end anyway.
    if (trapped !== undefined) return;
    await guarded('release', () => this.session.release());
  }
}
