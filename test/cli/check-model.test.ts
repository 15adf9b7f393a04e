/**
 * `adapterc check SPEC --model FILE` (src/api/check-model.ts): the plan for the model's own layers
 * and hidden size, ADP2206 when a pooled head meets a model without a pooler, ADP2211 when one of
 * adapterc's specs per architecture meets a model of another architecture, each naming the spec
 * that fits. (Every architecture's real exports: interop/tests/architectures.test.ts.)
 */
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { readModel, writeModel } from '../../src/load/index.js';
import { pruneUnused } from '../../src/rewrite/prune.js';
import { writeSyntheticBert } from '../../src/synth/index.js';
import { root } from '../artifacts/harness.js';
import { cli } from '../helpers/cli.js';

let bert: string;
let bertWithoutPooler: string;
const spec = (name: string) => path.join(root, 'specs', name);

beforeAll(async () => {
  const dir = mkdtempSync(path.join(tmpdir(), 'adapterc-check-model-'));
  bert = path.join(dir, 'bert.onnx');
  // 'none': the encoder's outputs, last_hidden_state and pooler_output.
  await writeSyntheticBert({ layers: 3, hidden: 128, heads: 4, ffn: 256, vocab: 200, seed: 5, head: 'none' }, bert);
  // The same model as optimum exports it: without the pooler output and the nodes computing only it.
  const model = await readModel(bert);
  model.graph.outputs = model.graph.outputs.filter((o) => o.name !== 'pooler_output');
  pruneUnused(model.graph);
  bertWithoutPooler = path.join(dir, 'bert-no-pooler.onnx');
  await writeModel(model, bertWithoutPooler);
});

describe('check --model', () => {
  it("binds the plan to the model's layers and hidden size and names its architecture and spec", async () => {
    const r = await cli(['check', spec('bert-base/houlsby.adp'), '--model', bert]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toBe('');
    expect(r.stdout).toContain('Placement in a model of 3 layers, hidden size d = 128');
    expect(r.stdout).toContain(`Model ${bert}: 3 layers, hidden size 128, a pooler`);
    expect(r.stdout).toMatch(/architecture +BERT \(token type ids, a pooler/);
    expect(r.stdout).toMatch(/spec that fits +specs\/bert-base\/houlsby\.adp/);
  });

  it("warns (ADP2211) when a spec of another architecture's folder meets the model, naming the one that fits", async () => {
    const r = await cli(['check', spec('distilbert/houlsby.adp'), '--model', bert, '--json']);
    expect(r.code).toBe(0);
    const json = JSON.parse(r.stdout) as { ok: boolean; diagnostics: Array<{ code: string; message: string; hint: string }>; model: { architecture: { name: string } } };
    expect(json.ok).toBe(true);
    expect(json.model.architecture.name).toBe('BERT');
    expect(json.diagnostics.map((d) => d.code)).toEqual(['ADP2211']);
    expect(json.diagnostics[0]!.message).toContain("'specs/distilbert/houlsby.adp' is written for DistilBERT (6 layers, hidden 768)");
    expect(json.diagnostics[0]!.hint).toBe('use specs/bert-base/houlsby.adp, which fits it');
  });

  it('refuses (ADP2206) a pooled head on a model without a pooler, naming the first-token spec that fits', async () => {
    const r = await cli(['check', spec('bert-base/houlsby.adp'), '--model', bertWithoutPooler]);
    expect(r.code).toBe(1);
    expect(r.stdout).toBe('');
    expect(r.stderr).toContain('error ADP2206');
    expect(r.stderr).toContain("use specs/electra-base/houlsby.adp or specs/bert-base/first-token.adp, which fits ELECTRA, or BERT exported without its pooler output; or 'head classifier(labels N, from first_token)'");
    const fitting = await cli(['check', spec('bert-base/first-token.adp'), '--model', bertWithoutPooler]);
    expect(fitting.code, fitting.stderr).toBe(0);
    expect(fitting.stderr).toBe('');
  });

  it('compile refuses the same spec on that model with ADP2206 naming the spec that fits', async () => {
    const out = path.join(mkdtempSync(path.join(tmpdir(), 'adapterc-check-model-out-')), 'out');
    const r = await cli(['compile', spec('bert-base/houlsby.adp'), bertWithoutPooler, '-o', out, '--inference']);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('error ADP2206');
    expect(r.stderr).toContain("help: use specs/electra-base/houlsby.adp or specs/bert-base/first-token.adp, which fits ELECTRA, or BERT exported without its pooler output; or 'head classifier(labels N, from first_token)'");
    expect((await cli(['compile', spec('bert-base/first-token.adp'), bertWithoutPooler, '-o', out, '--inference'])).code).toBe(0);
  });

  it('without --model, checks as before (BERT-base shape, no model section)', async () => {
    const r = await cli(['check', spec('distilbert/houlsby.adp')]);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('Placement in a model of 12 layers, hidden size d = 768');
    expect(r.stdout).not.toContain('spec that fits');
  });
});
