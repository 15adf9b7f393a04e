/**
 * Seeded synthetic BERT encoders as ONNX models, in the graph styles of real exporters.
 *
 *   const model = generateBert({ preset: 'tiny', style: 'tf', seed: 7 });    // onnx.ModelProto
 *   const bytes = encodeSyntheticBert({ preset: 'base' });                   // serialized, one buffer
 *   const manifest = await writeSyntheticBert({ preset: 'base' }, 'bert.onnx'); // streamed to disk
 *
 * Same options => byte-identical output on every machine. Every parameter is drawn from its own
 * stream keyed by its Hugging Face name, so for one seed all styles hold the same weights and compute
 * the same function (up to float rounding; FastGelu approximates GELU).
 */
import { basename } from 'node:path';
import type { onnx } from 'onnx-proto';
import { buildBertGraph } from './bert.js';
import { encodeModel, toModelProto, writeModel, writeModelSync, writeModelWithExternalData } from './encode.js';
import type { SyntheticBertManifest } from './manifest.js';
import { resolveOptions, type SyntheticBertOptions } from './options.js';

/** The model as an onnx-proto ModelProto with every initializer's data in raw_data. */
export function generateBert(options: SyntheticBertOptions = {}): onnx.ModelProto {
  return toModelProto(buildBertGraph(resolveOptions(options)));
}

/** The model and its manifest. */
export function synthesizeBert(options: SyntheticBertOptions = {}): { model: onnx.ModelProto; manifest: SyntheticBertManifest } {
  const graph = buildBertGraph(resolveOptions(options));
  return { model: toModelProto(graph), manifest: graph.manifest };
}

/** The manifest alone: builds the graph structure but generates no weights (cheap even for 'large'). */
export function describeSyntheticBert(options: SyntheticBertOptions = {}): SyntheticBertManifest {
  return buildBertGraph(resolveOptions(options)).manifest;
}

/** The serialized model (ONNX protobuf bytes) in one buffer, generated without an intermediate ModelProto. */
export function encodeSyntheticBert(options: SyntheticBertOptions = {}): Uint8Array {
  return encodeModel(buildBertGraph(resolveOptions(options)));
}

/**
 * Writes the model to `path` (via a temporary file and a rename, so readers never see a partial model),
 * streaming one tensor at a time. Resolves to the manifest.
 */
export async function writeSyntheticBert(options: SyntheticBertOptions, path: string): Promise<SyntheticBertManifest> {
  const graph = buildBertGraph(resolveOptions(options));
  await writeModel(graph, path);
  return graph.manifest;
}

/**
 * Writes the model to `path` with every weight in the side file `dataFile` (default: the model's
 * file name + `.data`, beside it), as ONNX saves models over 2 GiB; so any size can be written.
 */
export async function writeSyntheticBertExternal(options: SyntheticBertOptions, path: string, dataFile = `${basename(path)}.data`): Promise<SyntheticBertManifest> {
  const graph = buildBertGraph(resolveOptions(options), true);
  await writeModelWithExternalData(graph, path, dataFile);
  return graph.manifest;
}

/** Synchronous `writeSyntheticBert`. */
export function writeSyntheticBertSync(options: SyntheticBertOptions, path: string): SyntheticBertManifest {
  const graph = buildBertGraph(resolveOptions(options));
  writeModelSync(graph, path);
  return graph.manifest;
}

export type { LayerNormForm, SiteDescription, SyntheticBertManifest, TensorDescription } from './manifest.js';
export {
  INPUT_NAMINGS,
  MAX_OPSET,
  MIN_OPSET,
  resolveOptions,
  SYNTHETIC_STYLES,
  SyntheticOptionsError,
  type InitOptions,
  type InputNames,
  type InputNaming,
  type OrtFusedOptions,
  type OrtGelu,
  type OutputNames,
  type ResolvedOptions,
  type SyntheticBertOptions,
  type SyntheticHead,
  type SyntheticStyle,
} from './options.js';
export { PRESETS, type ModelDimensions, type PresetName } from './presets.js';
