/**
 * A model to predict with, in onnxruntime-node: an ONNX file (what `adapterc export` writes, or any
 * BERT classifier or regressor export), or an artifacts folder (its adapted model with the trained
 * checkpoint's values merged in memory, as `export` would write it). What it takes and gives is read
 * from the graph: the token inputs by discovery's roles, the head from the first output's width
 * (one: a regression value; more: class scores).
 */
import { existsSync, statSync } from 'node:fs';
import type * as Ort from 'onnxruntime-node';
import { discover } from '../discover/index.js';
import { AdapterError, diagnostic } from '../diagnostics/index.js';
import { mergeFromFolder, openArtifactsFolder } from '../export/index.js';
import { DataType, elemTypeOf, shapeOf, type Model } from '../ir/index.js';
import { DEFERRED_FROM, encodeModel, readModel } from '../load/index.js';
import { positionTableRows, type ModelInput } from '../train/artifacts.js';
import { importOnnxruntimeNode } from '../util/import-module.js';

export interface Predictor {
  readonly session: Ort.InferenceSession;
  readonly inputs: readonly ModelInput[];
  /** The output read: logits or a regression value, [batch, width] or [batch]. */
  readonly output: string;
  readonly task: 'classification' | 'regression';
  /** Classification: the number of classes (the output's width). */
  readonly classes: number;
  /** Rows of the position embedding table, where the graph shows one: the longest input. */
  readonly positions: number | undefined;
  /** Where the values came from, for messages: the file, or the folder and its checkpoint. */
  readonly source: string;
  release(): Promise<void>;
}

const FEED_TYPES: Readonly<Record<number, ModelInput['type']>> = { [DataType.INT64]: 'int64', [DataType.INT32]: 'int32' };

function unusable(file: string, reason: string, hint: string): AdapterError {
  return new AdapterError([diagnostic('ADP5101', { file, reason }, { file }, hint)]);
}

export async function openPredictor(given: string): Promise<Predictor> {
  if (!existsSync(given)) throw unusable(given, 'it does not exist', 'give an ONNX model (adapterc export writes one) or an artifacts folder');
  const folder = statSync(given).isDirectory();
  let model: Model;
  let source = given;
  if (folder) {
    const artifacts = openArtifactsFolder(given);
    model = (await mergeFromFolder(artifacts)).model;
    source = `${given} (${artifacts.checkpoint ?? 'initial values'})`;
  } else {
    model = await readModel(given, { deferTensorsFrom: DEFERRED_FROM });
  }
  const found = discover(model, given);
  const inputs: ModelInput[] = [];
  for (const input of found.inputs) {
    const declared = model.graph.inputs.find((i) => i.name === input.name)!;
    const type = FEED_TYPES[elemTypeOf(declared) ?? DataType.UNDEFINED];
    if (input.role === 'hidden_states' || input.role === 'other' || type === undefined) {
      throw unusable(given, `its input '${input.name}' is not token ids, an attention mask, token types or positions`, 'give a model that takes token ids (a BERT export)');
    }
    inputs.push({ name: input.name, role: input.role, type, dims: (shapeOf(declared) ?? []).map((d) => (typeof d === 'number' && d > 0 ? d : undefined)) });
  }
  if (!inputs.some((i) => i.role === 'input_ids')) throw unusable(given, 'it takes no token ids', 'give a model that takes token ids (a BERT export)');
  const first = model.graph.outputs[0];
  const dims = first ? shapeOf(first) : undefined;
  const width = dims === undefined || dims.length === 1 ? 1 : dims[dims.length - 1];
  if (first === undefined || dims === undefined || dims.length > 2 || typeof width !== 'number') {
    throw unusable(given, `its first output${first ? ` '${first.name}' [${(dims ?? []).join(', ')}]` : ''} is not [batch, classes] scores or a [batch] value`, 'export the model with its classifier head (adapterc export, without --without-head)');
  }
  const positions = positionTableRows(model.graph.initializers);
  const ort = await importOnnxruntimeNode();
  // A folder's merged model exists only in memory; a file is loaded by onnxruntime itself.
  const session = folder ? await ort.InferenceSession.create(encodeModel(model), { logSeverityLevel: 4 }) : await ort.InferenceSession.create(given, { logSeverityLevel: 4 });
  return {
    session,
    inputs,
    output: first.name,
    task: width === 1 ? 'regression' : 'classification',
    classes: width,
    positions,
    source,
    release: () => session.release(),
  };
}
