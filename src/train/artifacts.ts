/**
 * What training needs to know about a folder that `adapterc compile` wrote, read from the files
 * themselves: the training model's user inputs (by role, element type and static sizes), the
 * labels input (int64 → classification, float → regression), the number of classes, the order and
 * shapes of the parameter inputs (the layout of the runtime's contiguous parameter buffer), the
 * checkpoint (parameters and property bag: seed, learning rate), the sizes of the word and
 * position embedding tables, and the spec's plan (for the schedule).
 *
 * Both layouts of `adapterc compile` work: 'default' (every parameter is a model input with its
 * value in the checkpoint) and 'shared-base' (the frozen weights are initializers in `base.data`;
 * the checkpoint, and so the runtime's parameter buffer, holds only what trains).
 */
import { existsSync, readFileSync } from 'node:fs';
import * as path from 'node:path';
import { checkSpecFile } from '../check/check.js';
import type { Plan } from '../check/plan.js';
import { AdapterError, diagnostic, throwIfErrors } from '../diagnostics/index.js';
import { ARTIFACTS } from '../emit/artifacts.js';
import { readCheckpoint, type Checkpoint } from '../emit/checkpoint/index.js';
import { DataType, elemTypeOf, shapeOf, type Model, type Tensor } from '../ir/index.js';
import { decodeModel, DEFERRED_FROM } from '../load/index.js';
import { MLM_POSITIONS } from '../rewrite/rules/add-masked-lm.js';
import type { TaskKind } from './data.js';

export type InputRole = 'input_ids' | 'attention_mask' | 'token_type_ids' | 'position_ids' | 'labels' | 'mlm_positions';
export type FeedType = 'int64' | 'int32' | 'float32';

export interface ModelInput {
  readonly name: string;
  readonly role: InputRole;
  readonly type: FeedType;
  /** Declared sizes: a number for a static axis, undefined for a symbolic one. */
  readonly dims: readonly (number | undefined)[];
}

export interface ParameterSlot {
  readonly name: string;
  readonly dims: readonly number[];
  readonly size: number;
  readonly trainable: boolean;
}

export interface ArtifactsInfo {
  readonly folder: string;
  readonly files: { readonly training: string; readonly eval: string; readonly optimizer: string; readonly checkpoint: string };
  readonly summary: Readonly<Record<string, unknown>>;
  /** Large tensors stay in the file until read (`readCheckpoint`): the frozen base is not held in memory. */
  readonly checkpoint: Checkpoint;
  /** User inputs in graph order, labels last. */
  readonly inputs: readonly ModelInput[];
  readonly labels: ModelInput;
  readonly task: TaskKind;
  /** Classification: the width of the scores output, when declared. */
  readonly classes: number | undefined;
  /** Output names, loss first (the eval step returns them under these names). */
  readonly outputs: readonly string[];
  /** Parameter inputs of the training model in graph order: the layout of `parameters(false)`. */
  readonly parameters: readonly ParameterSlot[];
  readonly staticBatch: number | undefined;
  readonly staticSequence: number | undefined;
  readonly vocabularyRows: number | undefined;
  readonly positionRows: number | undefined;
  /** From the checkpoint's property bag (or the plan): the spec's seed. */
  readonly seed: number;
  /** The spec's learning rate as compiled (summary.json, else the checkpoint). */
  readonly learningRate: number;
  /** The spec file as recorded at compile time. */
  readonly spec: string;
}

function notArtifacts(folder: string, reason: string, hint = "run 'adapterc compile spec.adp model.onnx -o <folder>' first"): AdapterError {
  return new AdapterError([diagnostic('ADP5005', { folder, reason }, { file: folder }, hint)]);
}

function read(folder: string, name: string): Uint8Array {
  const file = path.join(folder, name);
  if (!existsSync(file)) throw notArtifacts(folder, `it has no ${name}`);
  return new Uint8Array(readFileSync(file));
}

const FEED_TYPES: Readonly<Record<number, FeedType>> = { [DataType.INT64]: 'int64', [DataType.INT32]: 'int32', [DataType.FLOAT]: 'float32' };
const RUNTIME_INPUT = /(_grad\.accumulation\.buffer|_grad|_grad\.accumulation\.out)$/;

function roleByName(name: string): InputRole | undefined {
  if (name === MLM_POSITIONS) return 'mlm_positions';
  const n = name.toLowerCase();
  if (/token_type|segment|type_ids/.test(n)) return 'token_type_ids';
  if (/mask/.test(n)) return 'attention_mask';
  if (/position/.test(n)) return 'position_ids';
  if (/ids|^input$|^tokens?$|^src$/.test(n)) return 'input_ids';
  return undefined;
}

/** Reads and checks an artifacts folder. */
export function readArtifacts(folder: string): ArtifactsInfo {
  if (!existsSync(folder)) throw notArtifacts(folder, 'it does not exist');
  const summaryFile = path.join(folder, 'summary.json');
  if (!existsSync(summaryFile)) throw notArtifacts(folder, 'it has no summary.json');
  let summary: Record<string, unknown>;
  try {
    summary = JSON.parse(readFileSync(summaryFile, 'utf8')) as Record<string, unknown>;
  } catch {
    throw notArtifacts(folder, 'its summary.json is not valid JSON');
  }
  const files = {
    training: path.join(folder, ARTIFACTS.training),
    eval: path.join(folder, ARTIFACTS.eval),
    optimizer: path.join(folder, ARTIFACTS.optimizer),
    checkpoint: path.join(folder, ARTIFACTS.checkpoint),
  };
  const trainingBytes = read(folder, ARTIFACTS.training);
  read(folder, ARTIFACTS.eval);
  if (!existsSync(files.checkpoint)) throw notArtifacts(folder, `it has no ${ARTIFACTS.checkpoint}`);
  read(folder, ARTIFACTS.optimizer);
  const training = decodeModel(trainingBytes, files.training);
  const checkpoint = readCheckpoint(files.checkpoint, DEFERRED_FROM);

  const tensors = new Map<string, { tensor: Tensor; trainable: boolean }>();
  for (const t of checkpoint.trainable) tensors.set(t.name!, { tensor: t, trainable: true });
  for (const t of checkpoint.frozen) tensors.set(t.name!, { tensor: t, trainable: false });

  // Parameter inputs in graph order; every checkpoint tensor must be one (the runtime's buffer covers exactly these).
  const parameters: ParameterSlot[] = [];
  const userInputs = training.graph.inputs.filter((i) => !tensors.has(i.name) && i.name !== 'lazy_reset_grad' && !RUNTIME_INPUT.test(i.name));
  for (const input of training.graph.inputs) {
    const entry = tensors.get(input.name);
    if (entry === undefined) continue;
    const declared = shapeOf(input);
    const dims = entry.tensor.dims;
    if (declared !== undefined && (declared.length !== dims.length || declared.some((d, i) => typeof d === 'number' && d !== dims[i]))) {
      throw notArtifacts(folder, `parameter '${input.name}' has shape [${dims.join(', ')}] in the checkpoint but [${declared.join(', ')}] in ${ARTIFACTS.training}`, 'compile the artifacts again');
    }
    if (entry.tensor.dataType !== DataType.FLOAT) throw notArtifacts(folder, `parameter '${input.name}' is not float32`, 'compile the artifacts again');
    parameters.push({ name: input.name, dims, size: dims.reduce((a, b) => a * b, 1), trainable: entry.trainable });
  }
  const missing = [...tensors.keys()].filter((name) => !parameters.some((p) => p.name === name));
  if (missing.length > 0) throw notArtifacts(folder, `checkpoint parameter '${missing[0]}' is not an input of ${ARTIFACTS.training}`, 'compile the artifacts again');

  const labelsName = (Array.isArray(summary['inputs']) ? (summary['inputs'] as string[]) : []).at(-1) ?? userInputs.at(-1)?.name;
  const inputs: ModelInput[] = userInputs.map((input) => {
    const type = FEED_TYPES[elemTypeOf(input) ?? -1];
    const role: InputRole | undefined = input.name === labelsName ? 'labels' : roleByName(input.name);
    if (type === undefined) throw new AdapterError([diagnostic('ADP5010', { name: input.name, reason: 'its element type is not int64, int32 or float' })]);
    if (role === undefined) throw new AdapterError([diagnostic('ADP5010', { name: input.name, reason: 'adapterc train feeds token ids, attention masks, token types, position ids and labels, and cannot tell which this is' }, undefined, 'name the model input after its role (input_ids, attention_mask, token_type_ids) and compile again')]);
    const dims = (shapeOf(input) ?? []).map((d) => (typeof d === 'number' && d > 0 ? d : undefined));
    return { name: input.name, role, type, dims };
  });
  const labels = inputs.find((i) => i.role === 'labels');
  if (labels === undefined) throw notArtifacts(folder, `${ARTIFACTS.training} has no labels input`);
  const ids = inputs.find((i) => i.role === 'input_ids');
  if (ids === undefined) throw new AdapterError([diagnostic('ADP5010', { name: inputs.map((i) => i.name).join("', '"), reason: 'none of the inputs is the token ids' })]);
  if (inputs.filter((i) => i.role === 'input_ids').length > 1) throw new AdapterError([diagnostic('ADP5010', { name: ids.name, reason: 'two inputs look like token ids' })]);
  const maskedLm = inputs.some((i) => i.role === 'mlm_positions');
  const task: TaskKind = maskedLm ? 'masked_lm' : labels.type === 'int64' || labels.type === 'int32' ? 'classification' : 'regression';

  const outputs = training.graph.outputs.map((o) => o.name).filter((n) => !RUNTIME_INPUT.test(n));
  const scores = training.graph.outputs.find((o) => o.name === outputs[1]);
  const width = scores === undefined ? undefined : shapeOf(scores)?.[1];
  const classes = task !== 'regression' && typeof width === 'number' ? width : undefined;

  const sequenceInputs = inputs.filter((i) => i.role !== 'labels' && i.role !== 'mlm_positions');
  const staticOf = (axis: number) => sequenceInputs.map((i) => i.dims[axis]).find((d) => d !== undefined);
  // Masked-LM labels count masked tokens, not examples.
  const staticBatch = [...sequenceInputs, ...(maskedLm ? [] : [labels])].map((i) => i.dims[0]).find((d) => d !== undefined);

  const seedProperty = checkpoint.properties.ints['seed'];
  const rate = (summary['learningRate'] as { spec?: unknown } | undefined)?.spec;
  const learningRate = typeof rate === 'number' ? rate : checkpoint.properties.floats['learning_rate'];
  if (learningRate === undefined) throw notArtifacts(folder, 'neither summary.json nor the checkpoint records the learning rate', 'compile the artifacts again');
  const spec = typeof summary['spec'] === 'string' ? summary['spec'] : checkpoint.properties.strings['spec'];
  if (spec === undefined) throw notArtifacts(folder, 'summary.json does not name the spec', 'compile the artifacts again');

  return {
    folder,
    files,
    summary,
    checkpoint,
    inputs,
    labels,
    task,
    classes,
    outputs,
    parameters,
    staticBatch,
    staticSequence: staticOf(1),
    vocabularyRows: tableRows(training, ids.name, tensors, /word_embeddings|word_embedding|wte/i),
    positionRows: positionRows(tensors, training),
    seed: seedProperty === undefined ? 0 : Number(seedProperty),
    learningRate,
    spec,
  };
}

/** The rows of the embedding table the token ids index: the Gather that reads them (through Casts), else by name. */
function tableRows(model: Model, ids: string, tensors: ReadonlyMap<string, { tensor: Tensor }>, byName: RegExp): number | undefined {
  const initializers = new Map(model.graph.initializers.map((t) => [t.name!, t]));
  const dimsOf = (name: string) => tensors.get(name)?.tensor.dims ?? initializers.get(name)?.dims;
  let values = [ids];
  for (let depth = 0; depth < 4 && values.length > 0; depth++) {
    const next: string[] = [];
    for (const node of model.graph.nodes) {
      const at = node.inputs.findIndex((i) => values.includes(i));
      if (at < 0) continue;
      if (node.opType === 'Gather' && at === 1) {
        const dims = dimsOf(node.inputs[0]!);
        if (dims?.length === 2) return dims[0];
      }
      if (['Cast', 'Identity', 'Reshape', 'Unsqueeze', 'Squeeze', 'Flatten'].includes(node.opType) && at === 0) next.push(...node.outputs);
    }
    values = next;
  }
  const all = [...[...tensors.values()].map((t) => t.tensor), ...model.graph.initializers];
  return all.find((t) => byName.test(t.name ?? '') && t.dims.length === 2)?.dims[0];
}

/** The rows of the position embedding table, by name (a checkpoint parameter, or an initializer in the shared-base layout). */
function positionRows(tensors: ReadonlyMap<string, { tensor: Tensor }>, model: Model): number | undefined {
  return positionTableRows([...[...tensors.values()].map((t) => t.tensor), ...model.graph.initializers]);
}

/** The rows of the position embedding table among `tensors`, found by its name: the longest input the model takes. */
export function positionTableRows(tensors: readonly Tensor[]): number | undefined {
  return tensors.find((t) => /position_embeddings|position_embedding|wpe/i.test(t.name ?? '') && t.dims.length === 2)?.dims[0];
}

/**
 * The plan of the spec the artifacts were compiled from: `given` (--spec) or the recorded path,
 * looked up as given, from `cwd`, from the folder and from its parent. Checks that the spec still
 * sets the compiled learning rate and seed.
 */
export function planFor(info: ArtifactsInfo, cwd: string, given?: string): { plan: Plan; file: string } {
  const recorded = info.spec;
  const candidates =
    given !== undefined
      ? [path.resolve(cwd, given)]
      : [recorded, path.resolve(cwd, recorded), path.resolve(info.folder, recorded), path.resolve(path.dirname(path.resolve(info.folder)), recorded)];
  const file = candidates.find((c) => existsSync(c));
  if (file === undefined) {
    throw new AdapterError([diagnostic('ADP5006', { spec: given ?? recorded }, { file: path.join(info.folder, 'summary.json') }, 'pass the spec with --spec (its schedule decides the learning rate at each step)')]);
  }
  const roots = info.summary['importRoots'];
  const checked = checkSpecFile(file, undefined, { importRoots: Array.isArray(roots) ? roots.filter((r): r is string => typeof r === 'string') : [] });
  throwIfErrors(checked.diagnostics, checked.sources);
  const plan = checked.plan!;
  const close = (a: number, b: number) => Math.abs(a - b) <= 1e-6 * Math.max(Math.abs(a), Math.abs(b));
  const mismatch = (what: string) => new AdapterError([diagnostic('ADP5007', { spec: file, what }, { file }, 'compile the artifacts again from this spec, or pass the spec they were compiled from with --spec')]);
  if (!close(plan.optimizer.lr, info.learningRate)) throw mismatch(`it sets lr ${plan.optimizer.lr}, the artifacts were compiled with ${info.learningRate}`);
  const seed = info.checkpoint.properties.ints['seed'];
  if (seed !== undefined && BigInt(plan.seed) !== seed) throw mismatch(`it sets seed ${plan.seed}, the artifacts were compiled with ${seed}`);
  const loss = info.checkpoint.properties.strings['loss'];
  if (loss !== undefined && loss !== plan.loss) throw mismatch(`its loss is ${plan.loss}, the artifacts' is ${loss}`);
  return { plan, file };
}
