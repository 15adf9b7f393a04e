/**
 * `adapterc export` end to end on a trained houlsby model: the merged model computes what the eval
 * model computes with the trained weights, an adapters file attached to its base model is the
 * merged model byte for byte, --drop-layers composes with every mode, and every refusal exits 1
 * without writing anything.
 */
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { readFloat32, tensorBytes, type Model } from '../../src/ir/index.js';
import { decodeCheckpoint, encodeCheckpoint } from '../../src/emit/checkpoint/index.js';
import { readModel, writeModel } from '../../src/load/index.js';
import { writeSyntheticBertSync } from '../../src/synth/index.js';
import { compile, root, specWithRate } from '../artifacts/harness.js';
import { cli } from '../helpers/cli.js';
import { writeExternalDataModel } from '../helpers/external-model.js';
import { maxAbsDiff, runModel, taskFeeds, trainToCheckpoint, type TrainedFolder } from './helpers.js';

const sha = (file: string) => createHash('sha256').update(readFileSync(file)).digest('hex');
const initializer = (model: Model, name: string) => model.graph.initializers.find((t) => t.name === name);

describe('adapterc export on a trained houlsby model', () => {
  let dir: string;
  let base: string;
  let spec: string;
  let folder: string;
  let summary: { outputs: string[]; untied: Array<{ original: string; copy: string }>; trainable: string[] };
  let trained: TrainedFolder;
  let merged: string;
  let adapters: string;
  const out = (name: string) => path.join(dir, name);

  beforeAll(async () => {
    dir = mkdtempSync(path.join(tmpdir(), 'adapterc-export-'));
    base = out('base.onnx');
    // Shared LayerNorm tensors, as torch.onnx stores them: training them unties copies under new names.
    writeSyntheticBertSync({ preset: 'tiny', seed: 3, sharedInitializers: true }, base);
    spec = specWithRate('houlsby.adp', 1e-2);
    const compiled = await compile(spec, base);
    folder = compiled.folder;
    summary = JSON.parse(readFileSync(path.join(folder, 'summary.json'), 'utf8'));
    trained = await trainToCheckpoint(folder, 10);
    merged = out('merged.onnx');
    adapters = out('task.adapters');
  }, 180_000);

  it('merges the trained checkpoint: outputs equal the eval model with the trained weights (1e-5)', async () => {
    const inputs = [path.join(folder, 'model.adapted.onnx'), path.join(folder, 'checkpoint'), trained.checkpoint].map((f) => [f, sha(f)] as const);
    const r = await cli(['export', folder, '-o', merged]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toBe('');
    expect(r.stdout).toContain(path.join('trained', 'checkpoint'));
    for (const [file, hash] of inputs) expect(sha(file)).toBe(hash);

    // Every trained tensor is in the merged model under its own name, untied LayerNorm copies included.
    const model = await readModel(merged);
    expect(summary.untied.length).toBeGreaterThan(0);
    const copy = summary.untied.find((u) => u.copy.startsWith('layernorm.layer.'))!.copy;
    expect(summary.trainable).toContain(copy);
    expect(maxAbsDiff(readFloat32(trained.trained.get(copy)!), readFloat32(trained.initial.get(copy)!))).toBeGreaterThan(0);
    for (const [name, t] of trained.trained) expect(Buffer.from(tensorBytes(initializer(model, name)!)).equals(Buffer.from(tensorBytes(t))), name).toBe(true);

    const feeds = await taskFeeds(folder);
    const head = summary.outputs[1]!;
    const evaluated = await runModel(path.join(folder, 'eval_model.onnx'), feeds, new Map([...trained.frozen, ...trained.trained]));
    const exported = await runModel(merged, feeds);
    expect(maxAbsDiff(exported[head]!, evaluated[head]!)).toBeLessThanOrEqual(1e-5);
    // Training moved the outputs, so the comparison says something.
    const untrained = await runModel(path.join(folder, 'model.adapted.onnx'), feeds);
    expect(maxAbsDiff(untrained[head]!, exported[head]!)).toBeGreaterThan(1e-3);
  });

  it('--checkpoint picks another checkpoint (here the compiled, untrained one)', async () => {
    const r = await cli(['export', folder, '--checkpoint', path.join(folder, 'checkpoint'), '-o', out('initial.onnx')]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toContain('warning ADP5067');
    const feeds = await taskFeeds(folder);
    const a = await runModel(out('initial.onnx'), feeds);
    const b = await runModel(path.join(folder, 'model.adapted.onnx'), feeds);
    expect(maxAbsDiff(a[summary.outputs[1]!]!, b[summary.outputs[1]!]!)).toBe(0);
  });

  it('an adapters file holds only the trained parameters, and attached to the base it is the merged model byte for byte', async () => {
    const r = await cli(['export', folder, '--adapters-only', '-o', adapters]);
    expect(r.code, r.stderr).toBe(0);
    const file = await readModel(adapters);
    expect(file.graph.nodes).toHaveLength(0);
    expect(file.graph.initializers.map((t) => t.name).sort()).toEqual([...trained.trained.keys()].sort());
    expect(file.metadata.find((e) => e.key === 'adapterc.format')?.value).toBe('adapterc-adapters/1');
    expect(statSync(adapters).size).toBeLessThan(statSync(base).size / 2);

    if (!existsSync(merged)) expect((await cli(['export', folder, '-o', merged])).code).toBe(0);
    const attached = out('attached.onnx');
    const a = await cli(['export', '--base', base, '--adapters', adapters, '-o', attached]);
    expect(a.code, a.stderr).toBe(0);
    expect(readFileSync(attached).equals(readFileSync(merged))).toBe(true);
  });

  it('--drop-layers removes the adapters of those layers, the same way in all three modes', async () => {
    if (!existsSync(adapters)) expect((await cli(['export', folder, '--adapters-only', '-o', adapters])).code).toBe(0);
    const m1 = out('merged-drop1.onnx');
    expect((await cli(['export', folder, '-o', m1, '--drop-layers', '1'])).code).toBe(0);
    const model = await readModel(m1);
    expect(model.graph.initializers.some((t) => t.name!.startsWith('adapters.layer.1.'))).toBe(false);
    expect(model.graph.nodes.some((n) => n.outputs.some((o) => o.startsWith('adapters.layer.1.')))).toBe(false);
    expect(model.graph.initializers.some((t) => t.name!.startsWith('adapters.layer.0.'))).toBe(true);

    // The last layer written as -1, in an adapters file that leaves it out...
    const t1 = out('task-drop1.adapters');
    const r = await cli(['export', folder, '--adapters-only', '-o', t1, '--drop-layers', '-1']);
    expect(r.code, r.stderr).toBe(0);
    expect((await readModel(t1)).graph.initializers.some((t) => t.name!.startsWith('adapters.layer.1.'))).toBe(false);
    const a1 = out('attached-drop1.onnx');
    expect((await cli(['export', '--base', base, '--adapters', t1, '-o', a1])).code).toBe(0);
    expect(readFileSync(a1).equals(readFileSync(m1))).toBe(true);
    // ...or dropped while attaching the whole file.
    const a2 = out('attached-drop1b.onnx');
    expect((await cli(['export', '--base', base, '--adapters', adapters, '-o', a2, '--drop-layers', '1..1'])).code).toBe(0);
    expect(readFileSync(a2).equals(readFileSync(m1))).toBe(true);
  });

  describe('refusals exit 1 and write nothing', () => {
    let otherSeed: string;
    let deeper: string;
    let count = 0;

    beforeAll(async () => {
      const otherBase = out('other-seed.onnx');
      writeSyntheticBertSync({ preset: 'tiny', seed: 4, sharedInitializers: true }, otherBase);
      otherSeed = (await compile(spec, otherBase)).folder;
      const deeperBase = out('three-layers.onnx');
      writeSyntheticBertSync({ preset: 'tiny', seed: 3, layers: 3, sharedInitializers: true }, deeperBase);
      deeper = (await compile(spec, deeperBase)).folder;
      if (!existsSync(adapters)) expect((await cli(['export', folder, '--adapters-only', '-o', adapters])).code).toBe(0);
    }, 120_000);

    async function refused(args: readonly string[], code: string, text?: string, output = out(`refused-${count++}.onnx`)): Promise<string> {
      const before = existsSync(output) ? sha(output) : undefined;
      const r = await cli([...args, '-o', output]);
      expect(r.code, r.stderr).toBe(1);
      expect(r.stderr).toContain(`error ${code}:`);
      if (text !== undefined) expect(r.stderr).toContain(text);
      expect(r.stdout).toBe('');
      if (before === undefined) expect(existsSync(output)).toBe(false);
      else expect(sha(output)).toBe(before);
      expect(readdirSync(dir).filter((f) => f.includes('.tmp'))).toEqual([]);
      return r.stderr;
    }

    it('a missing or wrong artifacts folder', async () => {
      await refused(['export', out('no-such-folder')], 'ADP5050', 'does not exist');
      await refused(['export', base], 'ADP5050', 'it is a file');
      await refused(['export', dir], 'ADP5050', 'has no model.adapted.onnx');
    });

    it('a checkpoint of other artifacts: another base model, another depth, not a checkpoint, missing', async () => {
      await refused(['export', folder, '--checkpoint', path.join(otherSeed, 'checkpoint')], 'ADP5055', "belongs to another base model");
      await refused(['export', folder, '--checkpoint', path.join(deeper, 'checkpoint')], 'ADP5053', "'adapters.layer.2.attention.down.weight'");
      await refused(['export', folder, '--checkpoint', path.join(deeper, 'checkpoint'), '--adapters-only'], 'ADP5053');
      const garbage = out('garbage-checkpoint');
      writeFileSync(garbage, 'not a checkpoint at all');
      await refused(['export', folder, '--checkpoint', garbage], 'ADP3107');
      await refused(['export', folder, '--checkpoint', out('no-such-checkpoint')], 'ADP5052', 'does not exist');
    });

    it('a base model the adapters were not trained on', async () => {
      await refused(['export', '--base', out('other-seed.onnx'), '--adapters', adapters], 'ADP5059', 'its weights differ');
      await refused(['export', '--base', out('three-layers.onnx'), '--adapters', adapters], 'ADP5058', '2 layers and hidden size 32, but');
      await refused(['export', '--base', base, '--adapters', base], 'ADP5057');
    });

    it('a checkpoint that lacks a trained parameter, or holds one in another shape; an adapters file that lacks one', async () => {
      const compiled = decodeCheckpoint(new Uint8Array(readFileSync(trained.checkpoint)));
      const lacking = out('lacking-checkpoint');
      writeFileSync(lacking, encodeCheckpoint({ trainable: compiled.trainable.slice(1), frozen: compiled.frozen }));
      await refused(['export', folder, '--checkpoint', lacking], 'ADP5056', `no trained values for 1 parameter(s) these artifacts train ('${compiled.trainable[0]!.name}')`);
      const reshaped = out('reshaped-checkpoint');
      const [first, ...rest] = compiled.trainable;
      const flat = { ...first!, dims: [first!.dims.reduce((a, b) => a * b, 1)] };
      writeFileSync(reshaped, encodeCheckpoint({ trainable: [flat, ...rest], frozen: compiled.frozen }));
      await refused(['export', folder, '--checkpoint', reshaped], 'ADP5054', `Parameter '${first!.name}' is float32[${flat.dims[0]}] in the checkpoint`);

      const file = await readModel(adapters);
      const partial = out('partial.adapters');
      await writeModel({ ...file, graph: { ...file.graph, initializers: file.graph.initializers.slice(1) } }, partial);
      await refused(['export', '--base', base, '--adapters', partial], 'ADP5066', `the file has no values for '${file.graph.initializers[0]!.name}'`);
    });

    it('bad layer lists', async () => {
      await refused(['export', folder, '--drop-layers', 'x'], 'ADP5060', "'x' is neither a layer index nor a range");
      await refused(['export', folder, '--drop-layers', '1..0'], 'ADP5060', 'is empty');
      await refused(['export', folder, '--drop-layers', ''], 'ADP5060', 'it is empty');
      await refused(['export', folder, '--drop-layers', '0..7'], 'ADP5061', 'the model has 2 layers');
      await refused(['export', folder, '--adapters-only', '--drop-layers', '-3'], 'ADP5061');
      await refused(['export', '--base', base, '--adapters', adapters, '--drop-layers', '0,,1'], 'ADP5060');
    });

    it('an output that is an input, a spec that did not make the folder, wrong option combinations', async () => {
      await refused(['export', folder], 'ADP5065', undefined, path.join(folder, 'model.adapted.onnx'));
      await refused(['export', folder], 'ADP5065', undefined, path.join(folder, 'eval_model.onnx'));
      await refused(['export', folder, '--adapters-only'], 'ADP5065', undefined, spec);
      await refused(['export', '--base', base, '--adapters', adapters], 'ADP5065', undefined, adapters);
      await refused(['export', folder, '--adapters-only', '--spec', path.join(root, 'specs', 'ffn-only.adp')], 'ADP5064', 'it places 2 adapter(s)');
      await refused(['export', folder, '--spec', spec], 'ADP4001');
      await refused(['export', '--base', base], 'ADP4001', '--base and --adapters go together');
      await refused(['export', folder, '--base', base, '--adapters', adapters], 'ADP4001');
      const r = await cli(['export', folder]);
      expect(r.code).toBe(1);
      expect(r.stderr).toContain('needs the file to write');
    });
  });
});

describe('adapterc export from the command line', () => {
  it('is listed in adapterc --help and has its own help', async () => {
    expect((await cli(['--help'])).stdout).toMatch(/^ {2}export +merge trained parameters/m);
    const r = await cli(['export', '--help']);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('Usage: adapterc export <artifacts> -o <model.onnx>');
    expect(r.stdout).toContain('--drop-layers LAYERS');
  });

  it('finds the spec of --adapters-only by the relative path summary.json records, from the folder or beside it', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'adapterc-export-cwd-'));
    writeSyntheticBertSync({ preset: 'tiny', seed: 3 }, path.join(dir, 'base.onnx'));
    writeFileSync(path.join(dir, 'task.adp'), `import "${path.join(root, 'specs', 'houlsby.adp')}"\n`);
    expect((await cli(['compile', 'task.adp', 'base.onnx', '-o', 'art', '--inference'], dir)).code).toBe(0);
    const here = await cli(['export', 'art', '--adapters-only', '-o', 'a.adapters'], dir);
    expect(here.code, here.stderr).toBe(0);
    expect(here.stdout).toContain('spec       task.adp (and 2 imported files), 4 adapter(s)');
    const elsewhere = await cli(['export', path.join(dir, 'art'), '--adapters-only', '-o', path.join(dir, 'b.adapters')], root);
    expect(elsewhere.code, elsewhere.stderr).toBe(0);
    expect(readFileSync(path.join(dir, 'a.adapters')).equals(readFileSync(path.join(dir, 'b.adapters')))).toBe(true);
    // The spec file may go away once the adapters file holds its text.
    rmSync(path.join(dir, 'task.adp'));
    const attached = await cli(['export', '--base', 'base.onnx', '--adapters', 'a.adapters', '-o', 'attached.onnx'], dir);
    expect(attached.code, attached.stderr).toBe(0);
    expect(readFileSync(path.join(dir, 'attached.onnx')).equals(readFileSync(path.join(dir, 'art', 'model.adapted.onnx')))).toBe(true);
    const missing = await cli(['export', 'art', '--adapters-only', '-o', 'c.adapters'], dir);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain('error ADP5063');
    expect(missing.stderr).toContain('pass the spec with --spec');
  });
});

describe('the shared-base layout and a base model with external data', () => {
  it('merges, and an adapters file attached to the external-data base is the merged model (side file included)', async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'adapterc-export-external-'));
    const { model: base } = await writeExternalDataModel(dir, 11);

    const folder = path.join(dir, 'art');
    const c = await cli(['compile', specWithRate('houlsby.adp', 1e-2), base, '-o', folder, '--layout', 'shared-base']);
    expect(c.code, c.stderr).toBe(0);
    const trained = await trainToCheckpoint(folder, 5);
    expect(trained.frozen.size).toBe(0); // the shared-base checkpoint holds only what trains

    const merged = path.join(dir, 'merged.onnx');
    const adapters = path.join(dir, 'task.adapters');
    // The same file name in another folder: the side file's name is written into the model.
    mkdirSync(path.join(dir, 'attached'));
    const attached = path.join(dir, 'attached', 'merged.onnx');
    for (const args of [
      ['export', folder, '-o', merged],
      ['export', folder, '--adapters-only', '-o', adapters],
      ['export', '--base', base, '--adapters', adapters, '-o', attached],
    ]) {
      const r = await cli(args);
      expect(r.code, r.stderr).toBe(0);
      expect(r.stderr).toBe('');
    }
    expect(readFileSync(attached).equals(readFileSync(merged))).toBe(true);
    expect(readFileSync(`${attached}.data`).equals(readFileSync(`${merged}.data`))).toBe(true);

    const feeds = await taskFeeds(folder);
    const summary = JSON.parse(readFileSync(path.join(folder, 'summary.json'), 'utf8')) as { outputs: string[] };
    const head = summary.outputs[1]!;
    const frozen = new Map((await readModel(path.join(folder, 'model.adapted.onnx'))).graph.initializers.map((t) => [t.name!, t]));
    const evaluated = await runModel(path.join(folder, 'eval_model.onnx'), feeds, new Map([...frozen, ...trained.trained]));
    expect(maxAbsDiff((await runModel(merged, feeds))[head]!, evaluated[head]!)).toBeLessThanOrEqual(1e-5);
  });
});
