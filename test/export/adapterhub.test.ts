/**
 * `adapterc export --adapterhub`: the folder AdapterHub's `save_adapter(..., use_safetensors=True)`
 * writes (the interop tier loads it in `adapters` and compares logits). Here, without Python: the
 * safetensors layout, the config adapterc's placements translate to, the weights transposed to
 * torch.nn.Linear's layout under AdapterHub's module names, and the refusals for what one
 * AdapterHub config cannot describe.
 */
import { mkdtempSync, readFileSync, readdirSync, writeFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { exportModel } from '../../src/api/export.js';
import { AdapterError } from '../../src/diagnostics/index.js';
import { readCheckpoint } from '../../src/emit/checkpoint/index.js';
import { encodeSafetensors } from '../../src/adapterhub/safetensors.js';
import { readFloat32 } from '../../src/ir/index.js';
import { writeSyntheticBertSync } from '../../src/synth/index.js';
import { compile } from '../artifacts/harness.js';
import { cli } from '../helpers/cli.js';

/** A safetensors file's header and each tensor's float32 values, read as the format defines them. */
function readSafetensors(bytes: Buffer): { header: Record<string, { dtype: string; shape: number[]; data_offsets: [number, number] }>; metadata: unknown; values: Map<string, Float32Array>; dataStart: number } {
  const length = Number(bytes.readBigUInt64LE(0));
  const parsed = JSON.parse(bytes.subarray(8, 8 + length).toString('utf8')) as Record<string, unknown>;
  const { __metadata__: metadata, ...header } = parsed;
  const values = new Map<string, Float32Array>();
  for (const [name, entry] of Object.entries(header as Record<string, { data_offsets: [number, number] }>)) {
    const [begin, end] = entry.data_offsets;
    const slice = bytes.subarray(8 + length + begin, 8 + length + end);
    values.set(name, new Float32Array(slice.buffer.slice(slice.byteOffset, slice.byteOffset + slice.length)));
  }
  return { header: header as never, metadata, values, dataStart: 8 + length };
}

function specFile(text: string): string {
  const dir = mkdtempSync(path.join(tmpdir(), 'adapterc-ah-spec-'));
  writeFileSync(path.join(dir, 'spec.adp'), text);
  return path.join(dir, 'spec.adp');
}

const TRAIN = `train {
  trainable adapters, head
  head classifier(labels 3, from first_token)
  loss cross_entropy
  optimizer adamw(lr 1e-3, weight_decay 0)
}
`;
const ADAPTER = (size: number, activation = 'relu') => `adapter a {\n  size ${size}\n  activation ${activation}\n  init normal(std 1e-2)\n}\n`;

async function compiled(spec: string): Promise<string> {
  const model = path.join(mkdtempSync(path.join(tmpdir(), 'adapterc-ah-model-')), 'tiny.onnx');
  writeSyntheticBertSync({ preset: 'tiny', seed: 11, layers: 3, hidden: 32, heads: 2 }, model);
  return (await compile(specFile(spec), model)).folder;
}

async function refusal(promise: Promise<unknown>): Promise<string> {
  try {
    await promise;
  } catch (error) {
    if (error instanceof AdapterError) return error.diagnostics.map((d) => `${d.code} ${d.message}`).join('\n');
    throw error;
  }
  throw new Error('expected a refusal');
}

describe('safetensors', () => {
  it('writes the 8-byte header length, a JSON header padded to 8 bytes, and the values in name order', () => {
    const bytes = encodeSafetensors(
      [
        { name: 'b', dims: [2, 3], values: Float32Array.from([1, 2, 3, 4, 5, 6]) },
        { name: 'a', dims: [1], values: Float32Array.from([-0.5]) },
      ],
      { format: 'pt' },
    );
    const read = readSafetensors(bytes);
    expect(read.dataStart % 8).toBe(0);
    expect(read.metadata).toEqual({ format: 'pt' });
    expect(read.header['a']).toEqual({ dtype: 'F32', shape: [1], data_offsets: [0, 4] });
    expect(read.header['b']).toEqual({ dtype: 'F32', shape: [2, 3], data_offsets: [4, 28] });
    expect([...read.values.get('b')!]).toEqual([1, 2, 3, 4, 5, 6]);
    expect(bytes.length).toBe(read.dataStart + 28);
  });
});

describe('export --adapterhub', () => {
  it('writes the Houlsby config, the adapters under AdapterHub names as [out, in], and the head', async () => {
    const folder = await compiled(`${ADAPTER(8)}${TRAIN}place a after attention in layers 1..2\nplace a after ffn in layers 1..2\n`);
    const out = path.join(mkdtempSync(path.join(tmpdir(), 'adapterc-ah-out-')), 'task');
    const r = await cli(['export', folder, '--adapterhub', '-o', out]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain("AdapterHub adapter 'task' (4 adapters and the classifier head)");
    expect(readdirSync(out).sort()).toEqual(['adapter.safetensors', 'adapter_config.json', 'head_config.json', 'model_head.safetensors']);

    const config = JSON.parse(readFileSync(path.join(out, 'adapter_config.json'), 'utf8'));
    expect(config.name).toBe('task');
    expect(config.model_class).toBe('BertAdapterModel');
    expect(config.config).toMatchObject({ mh_adapter: true, output_adapter: true, reduction_factor: 4, non_linearity: 'relu', leave_out: [0], residual_before_ln: true, original_ln_after: true, original_ln_before: false, scaling: 1 });
    // Python must read scaling as a float: AdapterHub rejects an int.
    expect(readFileSync(path.join(out, 'adapter_config.json'), 'utf8')).toContain('"scaling": 1.0,');
    const head = JSON.parse(readFileSync(path.join(out, 'head_config.json'), 'utf8'));
    expect(head.config).toMatchObject({ head_type: 'classification', layers: 1, num_labels: 3, use_pooler: false });

    const checkpoint = new Map(readCheckpoint(path.join(folder, 'checkpoint'), Number.POSITIVE_INFINITY).trainable.map((t) => [t.name!, t]));
    const adapters = readSafetensors(readFileSync(path.join(out, 'adapter.safetensors')));
    expect(adapters.values.size).toBe(16);
    const down = readFloat32(checkpoint.get('adapters.layer.2.ffn.down.weight')!); // [32, 8]: MatMul's [in, out]
    const entry = adapters.header['bert.encoder.layer.2.output.adapters.task.adapter_down.0.weight']!;
    expect(entry.shape).toEqual([8, 32]);
    const written = adapters.values.get('bert.encoder.layer.2.output.adapters.task.adapter_down.0.weight')!;
    for (let i = 0; i < 32; i++) for (let o = 0; o < 8; o++) expect(written[o * 32 + i]).toBe(down[i * 8 + o]);
    expect(adapters.header['bert.encoder.layer.1.attention.output.adapters.task.adapter_up.weight']!.shape).toEqual([32, 8]);
    const headWeights = readSafetensors(readFileSync(path.join(out, 'model_head.safetensors')));
    expect(headWeights.header['heads.task.1.weight']!.shape).toEqual([3, 32]);
    expect([...headWeights.values.get('heads.task.1.bias')!]).toEqual([...readFloat32(checkpoint.get('head.classifier.bias')!)]);

    // Exporting again replaces the folder adapterc wrote; a folder AdapterHub (or anyone) wrote is never replaced.
    expect((await cli(['export', folder, '--adapterhub', '-o', out])).code).toBe(0);
    const theirs = path.join(path.dirname(out), 'theirs');
    mkdirSync(theirs);
    writeFileSync(path.join(theirs, 'adapter_config.json'), JSON.stringify({ version: 'adapters.1.0.1' }));
    const refused = await cli(['export', folder, '--adapterhub', '-o', theirs]);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain('ADP4002');
  });

  it('refuses what one AdapterHub config cannot describe, naming why', async () => {
    const out = (name: string) => path.join(mkdtempSync(path.join(tmpdir(), 'adapterc-ah-no-')), name);
    const sizes = await compiled(`${ADAPTER(8)}adapter b {\n  size 4\n  activation relu\n}\n${TRAIN}place a after attention in layers all\nplace b after ffn in layers all\n`);
    expect(await refusal(exportModel({ kind: 'adapterhub', artifacts: sizes, out: out('x') }))).toMatch(/^ADP5070 .*one AdapterHub configuration describes every adapter alike, but layer 0 ffn differs/);
    const layers = await compiled(`${ADAPTER(8)}${TRAIN}place a after attention in layers 0\nplace a after ffn in layers all\n`);
    expect(await refusal(exportModel({ kind: 'adapterhub', artifacts: layers, out: out('x') }))).toContain('the attention and FFN adapters sit in different layers');
    const layerNorms = await compiled(`${ADAPTER(8)}${TRAIN.replace('trainable adapters, head', 'trainable adapters, layernorm, head')}place a after ffn in layers all\n`);
    expect(await refusal(exportModel({ kind: 'adapterhub', artifacts: layerNorms, out: out('x') }))).toContain("AdapterHub's folders hold adapters and a head, but the artifacts also train");
    const odd = await compiled(`${ADAPTER(5)}${TRAIN}place a after ffn in layers all\n`);
    expect(await refusal(exportModel({ kind: 'adapterhub', artifacts: odd, out: out('x') }))).toContain('size 5 is not hidden size 32 divided by a reduction factor');
    const named = await compiled(`${ADAPTER(8)}${TRAIN}place a after ffn in layers all\n`);
    expect(await refusal(exportModel({ kind: 'adapterhub', artifacts: named, out: out('x'), name: '1st task' }))).toContain('is not a Python identifier');
    // Inside the artifacts folder: refused, nothing written there.
    expect(await refusal(exportModel({ kind: 'adapterhub', artifacts: named, out: path.join(named, 'hub') }))).toMatch(/^ADP5065/);
    expect(readdirSync(named)).not.toContain('hub');
  });

  it("writes the adapters alone, with a warning, when the spec keeps the model's own head", async () => {
    const folder = await compiled(`${ADAPTER(8, 'gelu')}train {\n  trainable adapters\n  head output\n  loss cross_entropy\n}\nplace a after ffn in layers all\n`);
    const out = path.join(mkdtempSync(path.join(tmpdir(), 'adapterc-ah-nohead-')), 'task');
    const result = await exportModel({ kind: 'adapterhub', artifacts: folder, out });
    expect(result.warnings.map((w) => w.code)).toContain('ADP5071');
    expect(readdirSync(out).sort()).toEqual(['adapter.safetensors', 'adapter_config.json']);
    expect(JSON.parse(readFileSync(path.join(out, 'adapter_config.json'), 'utf8')).config).toMatchObject({ mh_adapter: false, output_adapter: true, non_linearity: 'gelu', leave_out: [] });
  });
});
