/**
 * AdapterHub configs as spec text (`adapterc from-adapterhub`): the bottleneck configs translate to
 * adapter definitions and placements that check, in canonical form; every option a spec cannot
 * express is ADP6002 naming it; other methods and unreadable configs are ADP6001. The interop tier
 * checks the config defaults against `adapters` itself.
 */
import { mkdtempSync, readFileSync, writeFileSync, mkdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { fromAdapterHub } from '../../src/api/from-adapterhub.js';
import { AdapterError } from '../../src/diagnostics/index.js';
import { checkSpecText } from '../../src/check/check.js';
import { parseSpec } from '../../src/parse/parse.js';
import { printSpec } from '../../src/print/print.js';
import { cli } from '../helpers/cli.js';

function refusal(run: () => unknown): string[] {
  try {
    run();
  } catch (error) {
    if (error instanceof AdapterError) return error.diagnostics.map((d) => `${d.code} ${d.message}`);
    throw error;
  }
  throw new Error('expected a refusal');
}

/** The placements a translated text makes, as `site layers` lines, checked as part of a complete spec. */
function placements(text: string): string[] {
  const dir = mkdtempSync(path.join(tmpdir(), 'adapterc-hub-'));
  writeFileSync(path.join(dir, 'hub.adp'), text);
  const main = path.join(dir, 'main.adp');
  const spec = 'import "hub.adp"\n\ntrain {\n  trainable adapters, head\n  head classifier(labels 2, from first_token)\n}\n';
  writeFileSync(main, spec);
  const checked = checkSpecText(spec, main);
  expect(checked.diagnostics.filter((d) => d.severity === 'error')).toEqual([]);
  return checked.plan!.placements.map((p) => `${p.site} ${p.adapter.name} ${p.adapter.size.kind === 'reduction' ? `r${p.adapter.size.factor}` : p.adapter.size.units} ${p.adapter.activation} ${p.layers.kind}${p.layers.kind === 'all' ? p.layers.except.map((r) => ` -${r.start}`).join('') : p.layers.items.map((r) => ` ${r.start}`).join('')}`);
}

describe('from-adapterhub', () => {
  it('translates double_seq_bn (Houlsby) with its defaults, in canonical form', () => {
    const { text } = fromAdapterHub('double_seq_bn');
    expect(text).toBe(printSpec(parseSpec(text, 'x.adp').spec));
    expect(text).toContain('adapter double_seq_bn {\n  reduction 16\n  activation swish\n  init normal(std 0.02)\n}');
    expect(placements(text)).toEqual(['attention double_seq_bn r16 swish all', 'ffn double_seq_bn r16 swish all']);
    expect(fromAdapterHub('houlsby').text.replace(/houlsby/g, 'double_seq_bn')).toBe(text);
  });

  it('translates options: factor, activation, sites, leave_out, per-layer factors', () => {
    expect(placements(fromAdapterHub("double_seq_bn[reduction_factor=12, non_linearity='gelu', leave_out=[0, 5]]").text)).toEqual(['attention double_seq_bn r12 gelu all -0 -5', 'ffn double_seq_bn r12 gelu all -0 -5']);
    expect(placements(fromAdapterHub("seq_bn[original_ln_before=False, non_linearity='linear']", { name: 'pf' }).text)).toEqual(['ffn pf r16 identity all']);
    expect(placements(fromAdapterHub("double_seq_bn[mh_adapter=False, reduction_factor={'default': 16, '1': 4}]").text)).toEqual(['ffn double_seq_bn r16 swish all -1', 'ffn double_seq_bn_r4 r4 swish list 1']);
  });

  it('translates par_bn (He et al.\'s parallel adapter, AdapterHub\'s defaults) and mam_adapter init', () => {
    const { text } = fromAdapterHub('par_bn');
    expect(text).toContain('adapter par_bn {\n  reduction 2\n  activation relu\n  init mam\n  parallel(scaling 4)\n}');
    expect(placements(text)).toEqual(['ffn par_bn r2 relu all']);
    expect(fromAdapterHub("par_bn[mh_adapter=True, scaling=2.0, init_weights='bert']").text).toContain('  init normal(std 0.02)\n  parallel(scaling 2)');
  });

  it('names each option the spec cannot express (ADP6002)', () => {
    const cases: Array<[string, string]> = [
      ['seq_bn', 'original_ln_before=True'],
      ['double_seq_bn[original_ln_after=False]', 'original_ln_after=False'],
      ['double_seq_bn[ln_before=True]', 'ln_before=True'],
      ['double_seq_bn[ln_after=True]', 'ln_after=True'],
      ["double_seq_bn[is_parallel='yes']", "is_parallel='yes'"],
      ['double_seq_bn[scaling=2.0]', 'scaling=2'],
      ["par_bn[scaling='learned']", "scaling='learned'"],
      ["double_seq_bn[scaling='learned']", "scaling='learned'"],
      ['double_seq_bn[use_gating=True]', 'use_gating=True'],
      ['double_seq_bn[phm_layer=True]', 'phm_layer=True'],
      ["double_seq_bn[inv_adapter='nice']", "inv_adapter='nice'"],
      ['double_seq_bn[cross_adapter=True]', 'cross_adapter=True'],
      ['double_seq_bn[dropout=0.1]', 'dropout=0.1'],
      ["double_seq_bn[residual_before_ln='post_add']", "residual_before_ln='post_add'"],
      ["double_seq_bn[non_linearity='gelu_new']", "non_linearity='gelu_new'"],
      ["double_seq_bn[init_weights='lora']", "init_weights='lora'"],
      ['double_seq_bn[mh_adapter=False, output_adapter=False]', 'mh_adapter=False'],
      ['double_seq_bn[reduction_factor=1.5]', 'reduction_factor=1.5'],
      ["double_seq_bn[reduction_factor={'first': 2}]", "reduction_factor={'first': 2}"],
      ["double_seq_bn[leave_out='0']", "leave_out='0'"],
    ];
    for (const [config, option] of cases) {
      const messages = refusal(() => fromAdapterHub(config));
      expect(messages, config).toHaveLength(1);
      expect(messages[0], config).toMatch(new RegExp(`^ADP6002 The AdapterHub option ${option.replace(/[.*+?^${}()|[\]\\]/g, '\\$&')} in '`));
    }
    // Several at once: each named.
    expect(refusal(() => fromAdapterHub('seq_bn[dropout=0.1, use_gating=True]')).map((m) => m.slice(0, 7))).toEqual(['ADP6002', 'ADP6002', 'ADP6002']);
  });

  it('refuses other methods, unions, unknown names and options, and what is not a Python literal (ADP6001)', () => {
    expect(refusal(() => fromAdapterHub('lora[r=8]'))[0]).toContain("'lora' is LoRA, which adapterc does not build yet");
    expect(refusal(() => fromAdapterHub('scaled_par_bn'))[0]).toContain('a parallel bottleneck with a learned scaling');
    expect(refusal(() => fromAdapterHub('double_seq_bn|lora'))[0]).toContain('ConfigUnion');
    expect(refusal(() => fromAdapterHub('double_seq'))[0]).toContain("AdapterHub has no config named 'double_seq'");
    expect(refusal(() => fromAdapterHub('double_seq_bn[reduction=16]'))[0]).toContain("DoubleSeqBnConfig has no option 'reduction'");
    expect(refusal(() => fromAdapterHub('double_seq_bn[non_linearity=relu]'))[0]).toContain("'relu' at column 15 is not a Python literal (quote a string: 'relu')");
    expect(refusal(() => fromAdapterHub("double_seq_bn[leave_out=[0, 1]")).join('')).toContain('ADP6001');
  });

  it("reads adapter_config.json (save_adapter's), or the folder holding it, and refuses what is not one", async () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'adapterc-hub-json-'));
    const folder = path.join(dir, 'task');
    mkdirSync(folder);
    writeFileSync(path.join(folder, 'adapter_config.json'), JSON.stringify({ config: { ...JSON.parse('{}'), architecture: null, mh_adapter: true, output_adapter: true, reduction_factor: 8, non_linearity: 'relu', original_ln_before: false, original_ln_after: true, ln_before: false, ln_after: false, init_weights: 'bert', is_parallel: false, scaling: 1.0, use_gating: false, residual_before_ln: true, leave_out: [], dropout: 0.0, phm_layer: false, inv_adapter: null, cross_adapter: false }, name: 'my task', version: 'adapters.1.0.1' }));
    const fromFolder = fromAdapterHub(folder);
    expect(placements(fromFolder.text)).toEqual(['attention my_task r8 relu all', 'ffn my_task r8 relu all']);
    expect(fromAdapterHub(path.join(folder, 'adapter_config.json')).text).toBe(fromFolder.text);
    writeFileSync(path.join(dir, 'lora.json'), JSON.stringify({ config: { architecture: 'lora', r: 8 } }));
    expect(refusal(() => fromAdapterHub(path.join(dir, 'lora.json')))[0]).toContain("its architecture is 'lora'");
    writeFileSync(path.join(dir, 'bad.json'), '{ not json');
    expect(refusal(() => fromAdapterHub(path.join(dir, 'bad.json')))[0]).toMatch(/^ADP6001 .*is not valid JSON/);
    expect(refusal(() => fromAdapterHub(path.join(dir, 'missing.json')))[0]).toMatch(/^ADP6001 .*missing\.json' cannot be translated: it cannot be read\./);

    // The CLI: printed, or written with -o; a refusal exits 1 and writes nothing.
    const printed = await cli(['from-adapterhub', folder]);
    expect(printed.code, printed.stderr).toBe(0);
    expect(printed.stdout.trimEnd()).toBe(fromFolder.text.trimEnd());
    const out = path.join(dir, 'hub.adp');
    expect((await cli(['from-adapterhub', "double_seq_bn[reduction_factor=8]", '-o', out])).code).toBe(0);
    expect(readFileSync(out, 'utf8')).toBe(fromAdapterHub('double_seq_bn[reduction_factor=8]').text);
    const refused = await cli(['from-adapterhub', 'seq_bn', '-o', path.join(dir, 'no.adp')]);
    expect(refused.code).toBe(1);
    expect(refused.stderr).toContain('ADP6002');
  });
});
