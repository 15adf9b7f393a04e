/** Training compiled artifacts: `adapterc train` (see `train.ts`). */
export { trainArtifacts, evaluate, devMetric, formatEval, TRAIN_DEFAULTS, TRAINED } from './train.js';
export type { TrainOptions, TrainEvents, TrainResult, EpochRecord, StepRecord, EvalResult } from './train.js';
export { WordPieceTokenizer, type Encoded } from './tokenizer.js';
export { readExamplesFile, parseExamples, type Example, type TaskKind } from './data.js';
export { readArtifacts, planFor, type ArtifactsInfo, type ModelInput } from './artifacts.js';
export { resolveSchedule, learningRateAt, linearScheduleFactor, describeSchedule } from './schedule.js';
export { accuracy, majorityBaseline, pearson, spearman, ranks } from './metrics.js';
export { batchFeeds, chunk, shuffler, type EncodedExample } from './batches.js';
export { lossChartHtml } from './chart.js';
export type { RuntimeName, TrainingRuntime } from './runtimes/runtime.js';
export { openStepRuntime, stepInterfaceOf } from './runtimes/step-model.js';
export { openOrtTrainingRuntime } from './runtimes/ort-training.js';
