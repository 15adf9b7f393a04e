/**
 * The generated operator-schema table (src/target/op-schemas.data.ts) is what its generator writes
 * from the pinned onnx and Netron packages: regenerating it here changes nothing.
 */
import * as path from 'node:path';
import { expect, it } from 'vitest';
import { root, runPython } from './tier.js';

it('src/target/op-schemas.data.ts is up to date with scripts/op-schemas/generate.py', () => {
  const printed = runPython([path.join(root, 'scripts/op-schemas/generate.py'), '--check'], root);
  expect(printed).toMatch(/op-schemas\.data\.ts is up to date \(\d+ schemas\)/);
});
