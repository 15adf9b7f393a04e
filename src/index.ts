/**
 * adapterc as a library: the things the CLI does, as functions that return data and
 * diagnostics instead of printing. Each `adapterc <command>` is a thin shell over one of them.
 *
 *   import { check, compile, inspect, train, exportModel } from 'adapterc';
 *   const { out, summary, warnings } = await compile({ spec: 'specs/houlsby.adp', model: 'bert.onnx', out: 'artifacts' });
 *
 * A failure on bad input rejects with an `AdapterError` whose `diagnostics` carry a stable code,
 * the file and place, and a hint; `renderDiagnostics(error.diagnostics, error.sources)` prints
 * them as the CLI does. Any other error is a bug in adapterc.
 */
export { check, type CheckOptions, type CheckResult } from './api/check.js';
export { compile, type CompileOptions, type CompileResult } from './api/compile.js';
export { inspect, type InspectOptions, type InspectResult } from './api/inspect.js';
export { exportModel, type ExportOptions, type ExportResult } from './api/export.js';
export { fromAdapterHub, type FromAdapterHubOptions, type FromAdapterHubResult } from './api/from-adapterhub.js';
export { predict, evaluate, type PredictOptions, type PredictResult, type EvaluateOptions, type EvaluateResult } from './api/predict.js';
export { trainArtifacts as train, type TrainOptions, type TrainEvents, type TrainResult, type EpochRecord, type StepRecord, type EvalResult } from './train/index.js';
export { AdapterError, renderDiagnostics, type Diagnostic, type Severity } from './diagnostics/index.js';
export type { Plan } from './check/plan.js';
export type { AdaptationSummary } from './rewrite/summary.js';
export type { Layout } from './emit/training-graphs.js';
export { VERSION } from './version.js';
