/**
 * A model adapterc adapted (compiled with --inference, or exported) is recognised as such: its
 * adapters are listed as adapters, not taken for the model's feed-forward block. The case from the
 * field: FFN size 2 with adapters of size 64 was reported as "FFN size 64".
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import * as path from 'node:path';
import { describe, expect, it } from 'vitest';
import { inspect } from '../../src/api/inspect.js';
import { writeSyntheticBertSync } from '../../src/synth/index.js';
import { root } from '../artifacts/harness.js';
import { cli } from '../helpers/cli.js';

describe('an adapted model', () => {
  // TensorFlow's graph order is the one where the adapter's projections were met first.
  it.each(['pytorch', 'tf'] as const)('reports the base FFN size and lists the adapters, for the adapted and the exported model (%s style)', async (style) => {
    const dir = mkdtempSync(path.join(tmpdir(), 'adapterc-adapted-'));
    const model = path.join(dir, 'tiny.onnx');
    writeSyntheticBertSync({ preset: 'tiny', seed: 2, hidden: 32, heads: 2, ffn: 2, layers: 2, style }, model);
    const before = await inspect(model);
    expect(before.kind === 'model' && before.discovery.ffn).toBe(2);
    const spec = path.join(dir, 'wide.adp');
    writeFileSync(spec, `import "${path.join(root, 'specs', 'houlsby.adp')}"\n`);
    const compiled = await cli(['compile', spec, model, '-o', path.join(dir, 'out'), '--import-root', root]);
    expect(compiled.code, compiled.stderr).toBe(0);
    expect((await cli(['export', path.join(dir, 'out'), '-o', path.join(dir, 'exported.onnx')])).code).toBe(0);
    for (const file of [path.join(dir, 'out', 'model.adapted.onnx'), path.join(dir, 'exported.onnx')]) {
      const r = await inspect(file);
      if (r.kind !== 'model') throw new Error('expected a model');
      expect(r.discovery.ffn, file).toBe(2);
      expect(r.discovery.heads, file).toBe(before.kind === 'model' ? before.discovery.heads : -1);
      const sites = r.discovery.layers.flatMap((l) => [l.attention, l.ffn]);
      expect(sites.map((s) => s?.adapter && `${s.adapter.prefix} ${s.adapter.size}`)).toEqual(['adapters.layer.0.attention 64', 'adapters.layer.0.ffn 64', 'adapters.layer.1.attention 64', 'adapters.layer.1.ffn 64']);
      const printed = await cli(['inspect', file]);
      expect(printed.stdout).toContain('FFN size 2');
      expect(printed.stdout).toContain('adapted by adapterc  4 bottleneck adapters of size 64');
    }
    // The model it started from has none.
    expect(before.kind === 'model' && before.discovery.layers.every((l) => !l.attention?.adapter && !l.ffn?.adapter)).toBe(true);
  });
});
