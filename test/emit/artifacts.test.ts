/**
 * prepareArtifacts and the checkpoint compile encodes early (written while the gradients are
 * built): reused when the built graphs hold the same tensors, encoded again when they do not.
 */
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { checkSpecFile } from '../../src/check/check.js';
import { discover } from '../../src/discover/index.js';
import { encodeArtifactCheckpoint, prepareArtifacts, sameCheckpoint, writeArtifacts, type EarlyCheckpoint } from '../../src/emit/artifacts.js';
import { buildTrainingGraphs, checkpointParameters } from '../../src/emit/training-graphs.js';
import { elementCount } from '../../src/ir/index.js';
import { decodeModel } from '../../src/load/index.js';
import { joinWriteParts } from '../../src/load/wire.js';
import { adaptModel, bindToModel } from '../../src/rewrite/rewrite.js';
import { summarize } from '../../src/rewrite/summary.js';
import { encodeSyntheticBert } from '../../src/synth/index.js';

const SPEC = new URL('../../specs/houlsby.adp', import.meta.url).pathname;

/** What compile has when it writes the checkpoint early: the adapted model's graphs, and the early checkpoint's tensors. */
function compiled() {
  const checked = checkSpecFile(SPEC);
  const plan = checked.plan!;
  const model = decodeModel(encodeSyntheticBert({ layers: 2, hidden: 32, heads: 4, ffn: 64, vocab: 100, seed: 5 }), 'bert.onnx');
  const discovery = discover(model, 'bert.onnx');
  const adaptation = adaptModel(model, discovery, bindToModel(plan, discovery, checked.sources, 'bert.onnx'));
  const summary = summarize(adaptation, new Map(model.graph.initializers.map((t) => [t.name ?? '', elementCount(t)])), SPEC, 'bert.onnx');
  const { trainable, frozen } = checkpointParameters(model, adaptation.trainable, 'default');
  const graphs = buildTrainingGraphs(model, plan, discovery, adaptation, 'bert.onnx', 'default');
  return { plan, summary, graphs, trainable, frozen, inference: model };
}

describe('the checkpoint encoded early', () => {
  it('is the built checkpoint when the graphs hold the same tensors: encoded once', () => {
    const { plan, summary, graphs, trainable, frozen } = compiled();
    const early: EarlyCheckpoint = { trainable, frozen, parts: encodeArtifactCheckpoint(plan, SPEC, trainable, frozen) };
    const built = prepareArtifacts({ layout: 'default', plan, spec: SPEC, graphs, summary, early });
    expect(built.checkpoint).toBe(early.parts);
    // And it is the file an encoding of the built graphs' tensors gives.
    expect(sameCheckpoint(built.checkpoint, encodeArtifactCheckpoint(plan, SPEC, graphs.trainable, graphs.frozen))).toBe(true);
  });

  it('is encoded again when the tensors differ (one frozen weight fewer): the early file is then not kept', () => {
    const { plan, summary, graphs, trainable, frozen } = compiled();
    const fewer = frozen.slice(1);
    const early: EarlyCheckpoint = { trainable, frozen: fewer, parts: encodeArtifactCheckpoint(plan, SPEC, trainable, fewer) };
    const built = prepareArtifacts({ layout: 'default', plan, spec: SPEC, graphs, summary, early });
    expect(built.checkpoint).not.toBe(early.parts);
    expect(sameCheckpoint(early.parts, built.checkpoint)).toBe(false);
    expect(sameCheckpoint(built.checkpoint, encodeArtifactCheckpoint(plan, SPEC, graphs.trainable, graphs.frozen))).toBe(true);
  });
});

describe('writing the folder', () => {
  // The other files are written while an early checkpoint kept is still being written; one that
  // differs is written again only after the early write has ended. Either way the folder holds the
  // built checkpoint.
  it.each([
    ['kept', 0],
    ['written again', 1],
  ] as const)('the checkpoint written early and %s: the folder holds the built checkpoint', async (_, dropped) => {
    const { plan, summary, graphs, trainable, frozen, inference } = compiled();
    const earlyFrozen = frozen.slice(dropped);
    const early: EarlyCheckpoint = { trainable, frozen: earlyFrozen, parts: encodeArtifactCheckpoint(plan, SPEC, trainable, earlyFrozen) };
    const prepared = prepareArtifacts({ layout: 'default', plan, spec: SPEC, graphs, summary, early });
    const out = path.join(mkdtempSync(path.join(tmpdir(), 'adapterc-artifacts-')), 'out');
    await writeArtifacts(out, async (writeCheckpointEarly) => {
      await writeCheckpointEarly(early.parts);
      return { prepared, inference };
    });
    expect(readFileSync(path.join(out, 'checkpoint')).equals(joinWriteParts(prepared.checkpoint.parts, prepared.checkpoint.size))).toBe(true);
    expect(readdirSync(out).sort()).toEqual(['checkpoint', 'eval_model.onnx', 'model.adapted.onnx', 'optimizer_model.onnx', 'step_eval_model.onnx', 'step_model.onnx', 'summary.json', 'training_model.onnx']);
  });

  it('a file that cannot be written, while the others are being written, fails the compile and leaves nothing behind', async () => {
    const { plan, summary, graphs, inference } = compiled();
    const prepared = prepareArtifacts({ layout: 'default', plan, spec: SPEC, graphs, summary });
    const parent = mkdtempSync(path.join(tmpdir(), 'adapterc-artifacts-'));
    const error = await writeArtifacts(path.join(parent, 'out'), async () => {
      // A folder (not empty) where the step eval model is to be renamed into place.
      const staging = readdirSync(parent).find((n) => n.startsWith('.out.tmp-'))!;
      const blocker = path.join(parent, staging, 'step_eval_model.onnx');
      mkdirSync(blocker);
      writeFileSync(path.join(blocker, 'in-the-way'), '');
      return { prepared, inference };
    }).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeDefined();
    expect(readdirSync(parent)).toEqual([]);
  });
});
