/**
 * In from AdapterHub: `init adapterhub(folder "…")` and a classifier's `adapterhub "…"` start a
 * spec's adapters and head from an adapter folder (here one `export --adapterhub` wrote; the interop
 * tier uses one that `adapters` saved after training in PyTorch). The compiled values are the
 * folder's exactly, and each way a folder can fail to fit is ADP6003 pointing at the spec's line.
 */
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { compile as compileApi } from '../../src/api/compile.js';
import { exportModel } from '../../src/api/export.js';
import { AdapterError } from '../../src/diagnostics/index.js';
import { readCheckpoint } from '../../src/emit/checkpoint/index.js';
import { readFloat32 } from '../../src/ir/index.js';
import { writeSyntheticBertSync } from '../../src/synth/index.js';

const dir = mkdtempSync(path.join(tmpdir(), 'adapterc-hub-in-'));
const model = path.join(dir, 'tiny.onnx');
writeSyntheticBertSync({ preset: 'tiny', seed: 4, layers: 2, hidden: 32, heads: 2 }, model);

const TRAIN = (head: string) => `train {\n  trainable adapters, head\n  head ${head}\n}\n`;
const ADAPTER = (init: string, size = 8, activation = 'relu') => `adapter a {\n  size ${size}\n  activation ${activation}\n  init ${init}\n}\n`;
const PLACES = 'place a after attention in layers all\nplace a after ffn in layers all\n';

function spec(name: string, text: string): string {
  const file = path.join(dir, name);
  writeFileSync(file, text);
  return file;
}

async function compiled(name: string, text: string): Promise<string> {
  const out = path.join(dir, `${name}.out`);
  await compileApi({ spec: spec(`${name}.adp`, text), model, out });
  return out;
}

const trainable = (folder: string) => new Map(readCheckpoint(path.join(folder, 'checkpoint'), Number.POSITIVE_INFINITY).trainable.map((t) => [t.name!, [...readFloat32(t)]]));

async function refusal(text: string): Promise<string> {
  try {
    await compiled(`refused-${Math.random().toString(36).slice(2)}`, text);
  } catch (error) {
    if (error instanceof AdapterError) return error.diagnostics.map((d) => `${d.code} ${d.message} @${d.span ? `${path.basename(d.span.file)}:${d.span.start.line}` : ''} ${d.hint ?? ''}`).join('\n');
    throw error;
  }
  throw new Error('expected a refusal');
}

describe('init adapterhub', () => {
  it("starts the adapters and the head from the folder's values exactly", async () => {
    const source = await compiled('source', `${ADAPTER('normal(std 0.1)')}${TRAIN('classifier(labels 3, from first_token)')}${PLACES}`);
    await exportModel({ kind: 'adapterhub', artifacts: source, out: path.join(dir, 'hub', 'task') });
    const started = await compiled('started', `${ADAPTER('adapterhub(folder "hub/task")')}${TRAIN('classifier(labels 3, from first_token, adapterhub "hub/task")')}${PLACES}`);
    const [before, after] = [trainable(source), trainable(started)];
    expect([...after.keys()].sort()).toEqual([...before.keys()].sort());
    for (const [name, values] of before) expect(after.get(name), name).toEqual(values);
    expect(JSON.parse(readFileSync(path.join(started, 'summary.json'), 'utf8')).startsFrom).toEqual([path.join(dir, 'hub', 'task')]);
    // Exporting them unchanged is not "untrained": they were trained where they came from.
    const exported = await exportModel({ kind: 'merged', artifacts: started, out: path.join(dir, 'started.onnx') });
    expect(exported.warnings.map((w) => w.code)).not.toContain('ADP5067');
  });

  it('refuses a folder that does not fit, at the spec line that names it (ADP6003)', async () => {
    const source = await compiled('source2', `${ADAPTER('normal(std 0.1)')}${TRAIN('classifier(labels 3, from first_token)')}place a after ffn in layer 1\n`);
    const hub = path.join(dir, 'hub2', 'task');
    await exportModel({ kind: 'adapterhub', artifacts: source, out: hub });
    const init = ADAPTER('adapterhub(folder "hub2/task")');
    expect(await refusal(`${ADAPTER('adapterhub(folder "nowhere")')}${TRAIN('classifier(labels 3, from first_token)')}${PLACES}`)).toMatch(/^ADP6003 .*'.*nowhere' .*it does not exist\. @refused-\w+\.adp:4/);
    expect(await refusal(`${init}${TRAIN('classifier(labels 3, from first_token)')}place a after ffn in layers all\n`)).toContain('it has no weights for layer 0 ffn');
    expect(await refusal(`${ADAPTER('adapterhub(folder "hub2/task")', 4)}${TRAIN('classifier(labels 3, from first_token)')}place a after ffn in layer 1\n`)).toContain("is [8, 32], but adapter 'a' at layer 1 needs [4, 32] (size 4, hidden size 32)");
    expect(await refusal(`${ADAPTER('adapterhub(folder "hub2/task")', 8, 'gelu')}${TRAIN('classifier(labels 3, from first_token)')}place a after ffn in layer 1\n`)).toContain("its adapters use non_linearity 'relu', but adapter 'a' has activation gelu");
    expect(await refusal(`${ADAPTER('normal(std 0.1)')}${TRAIN('classifier(labels 2, from first_token, adapterhub "hub2/task")')}${PLACES}`)).toContain("'heads.task.1.weight' is [3, 32], but the classifier needs [2, 32]");
    expect(await refusal(`${ADAPTER('normal(std 0.1)')}${TRAIN('classifier(labels 3, from pooled, adapterhub "hub2/task")')}${PLACES}`)).toContain("its head reads the first token, but the spec's classifier reads the pooler output");

    // A folder saved without safetensors: its pickle is never read, and the message says how to re-save it.
    const pickled = path.join(dir, 'pickled');
    mkdirSync(pickled);
    copyFileSync(path.join(hub, 'adapter_config.json'), path.join(pickled, 'adapter_config.json'));
    copyFileSync(path.join(hub, 'adapter.safetensors'), path.join(pickled, 'pytorch_adapter.bin'));
    const message = await refusal(`${ADAPTER('adapterhub(folder "pickled")')}${TRAIN('classifier(labels 3, from first_token)')}place a after ffn in layer 1\n`);
    expect(message).toContain('its weights are only in pytorch_adapter.bin, a Python pickle, which adapterc does not read');
    expect(message).toContain("save_adapter('");
    expect(message).toContain('use_safetensors=True)');
    // A damaged safetensors file.
    const damaged = path.join(dir, 'damaged');
    mkdirSync(damaged);
    copyFileSync(path.join(hub, 'adapter_config.json'), path.join(damaged, 'adapter_config.json'));
    writeFileSync(path.join(damaged, 'adapter.safetensors'), readFileSync(path.join(hub, 'adapter.safetensors')).subarray(0, 100));
    expect(await refusal(`${ADAPTER('adapterhub(folder "damaged")')}${TRAIN('classifier(labels 3, from first_token)')}place a after ffn in layer 1\n`)).toMatch(/its adapter\.safetensors cannot be read: (its header length|tensor)/);
    // A folder whose config adapterc cannot compute (Pfeiffer's seq_bn placement) is named as from-adapterhub names it.
    const seq = path.join(dir, 'seq');
    mkdirSync(seq);
    const config = JSON.parse(readFileSync(path.join(hub, 'adapter_config.json'), 'utf8'));
    writeFileSync(path.join(seq, 'adapter_config.json'), JSON.stringify({ ...config, config: { ...config.config, original_ln_before: true } }));
    copyFileSync(path.join(hub, 'adapter.safetensors'), path.join(seq, 'adapter.safetensors'));
    expect(await refusal(`${ADAPTER('adapterhub(folder "seq")')}${TRAIN('classifier(labels 3, from first_token)')}place a after ffn in layer 1\n`)).toContain('ADP6002 The AdapterHub option original_ln_before=True');
  });

  it('imports an AdapterHub config or folder as a spec: "adapterhub:…"', async () => {
    // A config string: its adapters and placements, as from-adapterhub translates them.
    const fromString = await compiled('import-string', `import "adapterhub:double_seq_bn[reduction_factor=4, non_linearity='relu', leave_out=[0]]"\n\n${TRAIN('classifier(labels 3, from first_token)')}`);
    const summary = JSON.parse(readFileSync(path.join(fromString, 'summary.json'), 'utf8'));
    expect(summary.adapters.map((a: { layer: number; site: string; size: number; activation: string }) => `${a.layer} ${a.site} ${a.size} ${a.activation}`)).toEqual(['1 attention 8 relu', '1 ffn 8 relu']);
    // A folder: the adapters and the head start from its weights; the spec's own train settings still win where it sets them.
    const source = await compiled('import-source', `${ADAPTER('normal(std 0.1)')}${TRAIN('classifier(labels 3, from first_token)')}${PLACES}`);
    await exportModel({ kind: 'adapterhub', artifacts: source, out: path.join(dir, 'hub3', 'task') });
    const fromFolder = await compiled('import-folder', 'import "adapterhub:hub3/task"\n\ntrain {\n  trainable adapters, head\n}\n');
    const [before, after] = [trainable(source), trainable(fromFolder)];
    expect([...after.keys()].sort()).toEqual([...before.keys()].sort());
    for (const [name, values] of before) expect(after.get(name), name).toEqual(values);
    // What cannot be translated is reported at the import's string.
    expect(await refusal('import "adapterhub:seq_bn"\n\ntrain {\n  head classifier(labels 2, from first_token)\n}\n')).toMatch(/^ADP6002 The AdapterHub option original_ln_before=True .* @refused-\w+\.adp:1 /);
    // A folder outside the spec's folder tree (and every --import-root) is not read, as imported specs are not.
    mkdirSync(path.join(dir, 'inner'), { recursive: true });
    for (const text of ['import "adapterhub:../hub3/task"\n', `${ADAPTER('adapterhub(folder "../hub3/task")')}${TRAIN('classifier(labels 3, from first_token)')}${PLACES}`]) {
      const inner = path.join(dir, 'inner', 'outside.adp');
      writeFileSync(inner, text);
      const out = await compileApi({ spec: inner, model, out: path.join(dir, 'inner', 'out') }).then(() => 'compiled', (e: AdapterError) => e.diagnostics.map((d) => d.code).join(','));
      expect(out, text).toBe('ADP1206');
      expect(await compileApi({ spec: inner, model, out: path.join(dir, 'inner', 'out'), importRoots: [dir] }).then(() => 'compiled'), text).toBe('compiled');
    }
    expect(await refusal('import "adapterhub:nowhere/"\n')).toMatch(/^ADP6001 .*nowhere\/adapter_config\.json' cannot be translated: it cannot be read\. @refused-\w+\.adp:1 /);
  });
});

