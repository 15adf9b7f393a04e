/**
 * `adapterc train` (default runtime): the step model in onnxruntime-node, native, on the CPU's
 * cores (or another execution provider the installed build has). The runtime holds the trainable
 * parameters and their optimizer state as plain arrays, feeds them with each batch, and takes the
 * step model's updated values back: one inference call per step. The frozen base stays inside the
 * session, loaded once from the folder's checkpoint (or base.data) as external data.
 *
 * The session keeps no packed copies of the weights and plans no memory per input shape (see
 * `sessionOptions`): the base is held once, and batches of any length reuse one arena.
 *
 * One session at a time: the step model and the step eval model each hold the frozen base, so the
 * runtime closes one before opening the other (at the dev evaluation after each epoch) instead of
 * holding the base twice.
 */
import * as path from 'node:path';
import type * as Ort from 'onnxruntime-node';
import { AdapterError, diagnostic } from '../../diagnostics/index.js';
import { readFloat32 } from '../../ir/index.js';
import { feedType, type Feeds, type Outputs, type TensorData } from '../../runtime/ort-training.js';
import type { StepInterface } from '../../step/step-model.js';
import type { ArtifactsInfo } from '../artifacts.js';
import type { TrainingRuntime } from './runtime.js';
import { importOnnxruntimeNode } from '../../util/import-module.js';

export interface StepRuntimeOptions {
  /** The run's number of optimizer steps (a linear schedule spans them). */
  readonly totalSteps: number;
  /** Intra-op threads (default: onnxruntime's, one per physical core). */
  readonly threads?: number;
  /** onnxruntime-node execution providers, in order of preference (default: cpu). */
  readonly executionProviders?: readonly string[];
}

/** The step interface summary.json records, or an error saying how to get one. */
export function stepInterfaceOf(info: ArtifactsInfo): StepInterface {
  const recorded = info.summary['step'] as StepInterface | undefined;
  if (recorded === undefined || !Array.isArray(recorded.parameters)) {
    throw new AdapterError([
      diagnostic('ADP5005', { folder: info.folder, reason: 'it has no step model (it was compiled by an older adapterc)' }, { file: info.folder }, "compile it again, or train it with '--runtime ort-training'"),
    ]);
  }
  return recorded;
}

export async function openStepRuntime(info: ArtifactsInfo, options: StepRuntimeOptions): Promise<TrainingRuntime> {
  const ort = await importOnnxruntimeNode();
  const step = stepInterfaceOf(info);
  const values = new Map<string, Float32Array>();
  for (const t of info.checkpoint.trainable) values.set(t.name!, readFloat32(t).slice());
  const state = new Map<string, Float32Array>();
  for (const p of step.parameters) {
    if (!values.has(p.name)) throw new AdapterError([diagnostic('ADP5005', { folder: info.folder, reason: `the step model's parameter '${p.name}' is not in the checkpoint` }, { file: info.folder }, 'compile the artifacts again')]);
    for (const s of p.state) state.set(s, new Float32Array(values.get(p.name)!.length));
  }
  const sessionOptions: Ort.InferenceSession.SessionOptions = {
    // Failures reach the caller as exceptions (ADP5013 when opening); ORT's own log would repeat them.
    logSeverityLevel: 4,
    // Memory (measured on BERT-base, bench/step.ts): prepacking keeps a second, packed copy of every
    // MatMul weight (0.7x the model); a memory pattern is planned and kept per input shape, and
    // training batches vary in length. Neither changed the step time measurably.
    extra: { session: { disable_prepacking: '1' } },
    enableMemPattern: false,
    executionProviders: [...(options.executionProviders ?? ['cpu'])] as Ort.InferenceSession.SessionOptions['executionProviders'],
    ...(options.threads === undefined ? {} : { intraOpNumThreads: options.threads }),
  };
  let open: { file: string; session: Ort.InferenceSession } | undefined;
  const session = async (file: string) => {
    if (open?.file === file) return open.session;
    await open?.session.release();
    open = undefined;
    const where = path.join(info.folder, file);
    try {
      open = { file, session: await ort.InferenceSession.create(where, sessionOptions) };
    } catch (error) {
      const providers = options.executionProviders ?? ['cpu'];
      const reason = (error instanceof Error ? error.message : String(error)).split('\n')[0]!.replace(/\.$/, '');
      const hint = providers.some((p) => p !== 'cpu')
        ? "this onnxruntime-node build lacks that provider (its install step downloads the CUDA one on Linux x64 unless told not to); leave out --execution-provider to train on the CPU"
        : 'compile the artifacts again';
      throw new AdapterError([diagnostic('ADP5013', { file: where, providers: providers.join(', '), reason }, { file: where }, hint)]);
    }
    return open.session;
  };
  const tensor = (data: TensorData, dims: readonly number[], type: string) => new ort.Tensor(type as 'float32', data as Float32Array, dims);
  const batchFeeds = (feeds: Feeds) => Object.fromEntries(Object.entries(feeds).map(([name, f]) => [name, tensor(f.data, f.dims, feedType(f))]));
  const int64 = (n: number) => tensor(new BigInt64Array([BigInt(n)]), [1], 'int64');
  const parameterFeeds = () => {
    const feeds: Record<string, Ort.Tensor> = {};
    for (const p of step.parameters) {
      feeds[p.name] = tensor(values.get(p.name)!, p.dims, 'float32');
      for (const s of p.state) feeds[s] = tensor(state.get(s)!, p.dims, 'float32');
    }
    return feeds;
  };

  return {
    warnings: [],
    description: `onnxruntime-node ${ort.env.versions.node ?? ''} (${(options.executionProviders ?? ['cpu']).join(', ')}${options.threads === undefined ? '' : `, ${options.threads} threads`}): ${step.files.step}`,
    async trainStep(feeds, number) {
      const s = await session(step.files.step);
      const out = await s.run({
        ...batchFeeds(feeds),
        [step.step]: int64(number),
        ...(step.totalSteps === undefined ? {} : { [step.totalSteps]: int64(options.totalSteps) }),
        ...parameterFeeds(),
      });
      for (const p of step.parameters) {
        values.set(p.name, out[p.updated]!.data as Float32Array);
        p.state.forEach((name, k) => state.set(name, out[p.stateUpdated[k]!]!.data as Float32Array));
      }
      return (out[step.loss]!.data as Float32Array)[0]!;
    },
    async evalStep(feeds) {
      const s = await session(step.files.eval);
      const out = await s.run({ ...batchFeeds(feeds), ...Object.fromEntries(step.parameters.map((p) => [p.name, tensor(values.get(p.name)!, p.dims, 'float32')])) });
      const outputs: Outputs = {};
      for (const name of step.evalOutputs) {
        const t = out[name]!;
        outputs[name] = { type: t.type, dims: t.dims, data: t.data as TensorData };
      }
      return outputs;
    },
    async trainable() {
      return new Map([...values].map(([name, v]) => [name, v.slice()]));
    },
    async release() {
      await open?.session.release();
      open = undefined;
    },
  };
}
