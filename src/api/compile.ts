/**
 * `compile`: a spec and a model into training artifacts: the pipeline in one screen.
 *
 *   check the spec → load the model → discover the sites → rewrite (adapters, head) →
 *   differentiate (shapes inferred, loss, gradients) → emit (artifacts, step models, CUDA check)
 *
 * It prints nothing: it returns what it wrote, the summary and the warnings, and fails with an
 * `AdapterError` carrying diagnostics. The output folder appears complete or not at all.
 */
import { adapterHubValues } from '../adapterhub/folder.js';
import * as path from 'node:path';
import { checkSpecFile } from '../check/check.js';
import { discover } from '../discover/index.js';
import { AdapterError, diagnostic, throwIfErrors, type Diagnostic } from '../diagnostics/index.js';
import { ARTIFACTS, BASE_DATA, encodeArtifactCheckpoint, prepareArtifacts, writeArtifacts, type EarlyCheckpoint, type PreparedArtifacts } from '../emit/artifacts.js';
import { ADAPTED_MODEL, writeInferenceModel } from '../emit/inference.js';
import { buildTrainingGraphs, checkpointParameters, isParameter, type Layout } from '../emit/training-graphs.js';
import { cloneModel, elementCount } from '../ir/index.js';
import { DEFERRED_FROM, readModel, withCopyWorkerAhead } from '../load/index.js';
import { adaptModel, bindToModel } from '../rewrite/rewrite.js';
import { summarize, type AdaptationSummary } from '../rewrite/summary.js';
import { STEP_ARTIFACTS } from '../step/step-model.js';
import { checkCudaCoverage, coverageOfSameNodes } from '../target/cuda.js';
import { fallbackDiagnostic } from '../target/report.js';
import { stage, stageAsync } from '../util/stages.js';
import { namingFittingSpec } from './check-model.js';
import { inputPath } from './paths.js';

export interface CompileOptions {
  /** The spec (.adp); relative to `cwd`. Messages and summary.json name it as given. */
  readonly spec: string;
  /** The exported BERT-family model (.onnx); relative to `cwd`. */
  readonly model: string;
  /** The output folder (default: beside the model, `<model>.<spec>`). Missing parents are created. */
  readonly out?: string;
  /** Where frozen weights go: in the checkpoint ('default') or in base.data, shared by tasks ('shared-base'). */
  readonly layout?: Layout;
  /** For `target cuda`: accept nodes without a CUDA kernel (returned as warnings) instead of failing. */
  readonly allowCpuFallback?: boolean;
  /** Write only the adapted model and summary.json: no gradients, no training artifacts. */
  readonly inference?: boolean;
  /** What relative paths are resolved against (default: the process's working directory). */
  readonly cwd?: string;
  /** Folders besides the spec's own folder tree that its imports may read (the CLI's --import-root). */
  readonly importRoots?: readonly string[];
}

export interface CompileResult {
  /** The output folder (relative to the process's working directory when the inputs were). */
  readonly out: string;
  /** The files written into it. */
  readonly files: readonly string[];
  /** Adapters per layer, parameter counts, trainable share, inputs, outputs (summary.json). */
  readonly summary: AdaptationSummary;
  /** The spec's warnings, accepted CPU fallbacks, and notes on the artifacts. */
  readonly warnings: readonly Diagnostic[];
  /** The spec and its imports' text, by file: what `renderDiagnostics` quotes in code frames. */
  readonly sources: ReadonlyMap<string, string>;
}

export async function compile(options: CompileOptions): Promise<CompileResult> {
  const cwd = options.cwd;
  const layout = options.layout ?? 'default';
  if (layout !== 'default' && layout !== 'shared-base') {
    throw new AdapterError([diagnostic('ADP4001', { text: `Unknown layout '${String(layout)}'.` }, undefined, "use the layout 'default' or 'shared-base'")]);
  }
  const specFile = inputPath(cwd, options.spec);
  const modelFile = inputPath(cwd, options.model);
  const out = options.out === undefined ? path.join(path.dirname(modelFile), `${path.basename(modelFile, '.onnx')}.${path.basename(specFile, '.adp')}`) : inputPath(cwd, options.out);
  const paths = { specFile, modelFile, out };
  // The default layout's checkpoint copies the model's weights on a worker thread: started now,
  // its start-up overlaps checking the spec and reading the model.
  return layout === 'default' && !options.inference ? withCopyWorkerAhead(modelFile, () => compileFiles(options, layout, paths)) : compileFiles(options, layout, paths);
}

async function compileFiles(options: CompileOptions, layout: Layout, { specFile, modelFile, out }: { specFile: string; modelFile: string; out: string }): Promise<CompileResult> {
  // check
  const importRoots = (options.importRoots ?? []).map((r) => inputPath(options.cwd, r));
  const checked = stage('check spec', () => checkSpecFile(specFile, undefined, { importRoots }));
  throwIfErrors(checked.diagnostics, checked.sources);
  const plan = checked.plan!;
  const warnings: Diagnostic[] = checked.diagnostics.filter((d) => d.severity === 'warning');
  // load: large weights stay in the file; shape inference reads none, and base.data and the checkpoint copy them.
  const model = await stageAsync('read model', () => readModel(modelFile, { deferTensorsFrom: DEFERRED_FROM }));
  const base = layout === 'shared-base' ? { model, tensors: model.graph.initializers.filter(isParameter) } : undefined;
  // discover
  const found = stage('discover sites', () => discover(model, options.model));
  // rewrite
  const bound = namingFittingSpec(model, found, () => bindToModel(plan, found, checked.sources, options.model, model));
  // Values a spec starts from (init adapterhub, a classifier's adapterhub folder), read and checked before the rewrite.
  const initial = adapterHubValues(bound, found.hidden);
  const adapt = () => {
    const adaptation = stage('insert adapters and head', () => adaptModel(model, found, bound, initial));
    // The import roots are recorded: train and export check the spec again and must read what compile read.
    const summary = { ...summarize(adaptation, new Map(model.graph.initializers.map((t) => [t.name ?? '', elementCount(t)])), options.spec, options.model), ...(importRoots.length > 0 ? { importRoots } : {}) };
    return { adaptation, summary };
  };
  const result = (summary: AdaptationSummary, files: readonly string[]): CompileResult => ({ out, files, summary, warnings, sources: checked.sources });
  if (options.inference) {
    const { summary } = adapt();
    await stageAsync('write files', () => writeInferenceModel(out, model, summary));
    return result(summary, [ADAPTED_MODEL, 'summary.json']);
  }

  // rewrite, differentiate and emit, while the big file is written: base.data from now on, or the
  // default layout's checkpoint, which holds every weight, from the moment the model is adapted
  // (it is rewritten if the built one differs).
  let summary: AdaptationSummary | undefined;
  const prepared = await writeArtifacts(
    out,
    async (writeCheckpointEarly) => {
      const adapted = adapt();
      summary = adapted.summary;
      const inference = cloneModel(model);
      let early: EarlyCheckpoint | undefined;
      if (layout === 'default') {
        const { trainable, frozen } = checkpointParameters(model, adapted.adaptation.trainable, layout);
        early = { trainable, frozen, parts: stage('encode the checkpoint', () => encodeArtifactCheckpoint(plan, options.spec, trainable, frozen)) };
        await writeCheckpointEarly(early.parts);
      }
      const graphs = buildTrainingGraphs(model, plan, found, adapted.adaptation, options.model, layout);
      const built = stage('optimizer model and checkpoint', () => prepareArtifacts({ layout, plan, spec: options.spec, graphs, summary: adapted.summary, ...(early === undefined ? {} : { early }) }));
      if (plan.target === 'cuda') warnings.push(...stage('CUDA coverage', () => cudaFallbacks(built, options.allowCpuFallback === true)));
      return { prepared: built, inference };
    },
    base,
  );
  warnings.push(...prepared.warnings);
  return result(summary!, [...Object.values(ARTIFACTS), ...Object.values(STEP_ARTIFACTS), ADAPTED_MODEL, ...(layout === 'shared-base' ? [BASE_DATA] : []), 'summary.json']);
}

/** Nodes of the five graphs without a CUDA kernel: an error, or (allowed) ADP3202 and one warning each. */
function cudaFallbacks(built: PreparedArtifacts, allow: boolean): Diagnostic[] {
  const evalCoverage = checkCudaCoverage(built.eval, ARTIFACTS.eval);
  const fallbacks = [
    checkCudaCoverage(built.training, ARTIFACTS.training),
    evalCoverage,
    checkCudaCoverage(built.optimizer, ARTIFACTS.optimizer),
    checkCudaCoverage(built.step.step, STEP_ARTIFACTS.step),
    // The step eval model lists the eval model's nodes: its coverage is the eval model's when provably so.
    coverageOfSameNodes(built.step.eval, STEP_ARTIFACTS.eval, { model: built.eval, coverage: evalCoverage }) ?? checkCudaCoverage(built.step.eval, STEP_ARTIFACTS.eval),
  ].flatMap((c) => c.fallbacks);
  if (fallbacks.length === 0) return [];
  if (!allow) throw new AdapterError(fallbacks.map(fallbackDiagnostic));
  return [diagnostic('ADP3202', { count: fallbacks.length }), ...fallbacks.map((f) => ({ ...fallbackDiagnostic(f), severity: 'warning' as const }))];
}
