/** A tiny synthetic BERT saved with its large tensors in a side file, as ONNX saves models over 2 GiB. */
import { writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { encodeModelParts, joinParts } from '../../src/load/encode.js';
import { layoutExternalData } from '../../src/load/external.js';
import { readModel } from '../../src/load/index.js';
import { writeSyntheticBertSync } from '../../src/synth/index.js';

/** Writes `inline.onnx`, then `external.onnx` + `weights.bin` (every tensor over 256 bytes) into `dir`. */
export async function writeExternalDataModel(dir: string, seed: number): Promise<{ inline: string; model: string; side: string }> {
  const inline = path.join(dir, 'inline.onnx');
  writeSyntheticBertSync({ preset: 'tiny', seed }, inline);
  const model = await readModel(inline);
  const layout = layoutExternalData(model.graph.initializers.filter((t) => (t.rawData?.length ?? 0) > 256), 'weights.bin');
  const side = path.join(dir, 'weights.bin');
  const file = path.join(dir, 'external.onnx');
  // The model was read whole, so every part is bytes.
  writeFileSync(side, Buffer.concat(layout.parts as Uint8Array[]));
  writeFileSync(file, joinParts(encodeModelParts(model, { relocated: layout.entries })));
  return { inline, model: file, side };
}
