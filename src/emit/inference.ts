/**
 * The inference export: the adapted model and its summary, written into one output folder.
 * (The training artifacts are emitted by the training stage.)
 */
import { writeFileSync } from 'node:fs';
import * as path from 'node:path';
import type { Model } from '../ir/index.js';
import { writeModel } from '../load/index.js';
import type { AdaptationSummary } from '../rewrite/summary.js';
import { MARKER, writeOutputFolder } from './output-folder.js';

export const ADAPTED_MODEL = 'model.adapted.onnx';

export async function writeInferenceModel(folder: string, model: Model, summary: AdaptationSummary): Promise<void> {
  await writeOutputFolder(folder, async (temporary) => {
    await writeModel(model, path.join(temporary, ADAPTED_MODEL));
    writeFileSync(path.join(temporary, MARKER), `${JSON.stringify(summary, null, 2)}\n`);
  });
}
