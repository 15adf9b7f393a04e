/**
 * Files that are not readable ONNX models each give their own diagnostic, which names the file
 * and says what to do; no raw exception ever escapes.
 */
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { reportFailure } from '../../src/cli/main.js';
import { ExitCode } from '../../src/cli/io.js';
import { AdapterError, type Diagnostic } from '../../src/diagnostics/index.js';
import { DataType, makeTensor, makeValueInfo, type Model } from '../../src/ir/index.js';
import { decodeModel, encodeModel, readModel, writeModel } from '../../src/load/index.js';
import { corpusAvailable, corpusEntries, corpusPath, corpusSkipReason } from './corpus.js';

const scratch = mkdtempSync(join(tmpdir(), 'adapterc-errors-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

function file(name: string, bytes: Uint8Array): string {
  const path = join(scratch, name);
  writeFileSync(path, bytes);
  return path;
}

async function readFailure(path: string): Promise<Diagnostic> {
  const error = await readModel(path).then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(AdapterError);
  const [d] = (error as AdapterError).diagnostics;
  expect(d!.file).toBe(path);
  expect(d!.message).toContain(path);
  expect(d!.hint).toBeTruthy();
  // Reading without the large tensors' bytes (as compile does) gives up on anything odd and reads
  // the whole file, so it reports exactly the same problem.
  const sparse = await readModel(path, { deferTensorsFrom: 1 }).then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(sparse).toBeInstanceOf(AdapterError);
  expect((sparse as AdapterError).diagnostics).toEqual((error as AdapterError).diagnostics);
  return d!;
}

function decodeFailure(bytes: Uint8Array): Diagnostic | undefined {
  try {
    decodeModel(bytes, 'model.onnx');
    return undefined;
  } catch (error) {
    if (error instanceof AdapterError) return error.diagnostics[0];
    throw error;
  }
}

/** A small valid model with a 4 KB initializer, so there is something to cut. */
function smallModel(): Model {
  return {
    irVersion: 8,
    opsetImports: [{ domain: '', version: 13 }],
    metadata: [],
    graph: {
      name: 'g',
      nodes: [{ opType: 'Add', inputs: ['x', 'w'], outputs: ['y'], attributes: [] }],
      initializers: [makeTensor('w', [1024], new Float32Array(1024).fill(0.25))],
      inputs: [makeValueInfo('x', DataType.FLOAT, [1024])],
      outputs: [makeValueInfo('y', DataType.FLOAT, [1024])],
      valueInfo: [],
    },
  };
}

function seededBytes(seed: number, length: number): Buffer {
  let state = seed;
  const bytes = Buffer.alloc(length);
  for (let i = 0; i < length; i++) {
    state = (state * 1103515245 + 12345) >>> 0;
    bytes[i] = state >>> 24;
  }
  return bytes;
}

describe('reading files that are not ONNX models', () => {
  it('ADP2001 for a missing file', async () => {
    const d = await readFailure(join(scratch, 'nowhere.onnx'));
    expect(d.code).toBe('ADP2001');
    expect(d.message).toBe(`The model file '${join(scratch, 'nowhere.onnx')}' does not exist.`);
  });

  it('ADP2002 for a folder', async () => {
    const dir = join(scratch, 'folder.onnx');
    mkdirSync(dir);
    expect((await readFailure(dir)).code).toBe('ADP2002');
  });

  if (process.getuid?.() === 0) console.warn('Skipping the unreadable-file test: running as root, who may read anything.');
  it.skipIf(process.getuid?.() === 0)('ADP2002 for a file without read permission (skipped as root, who may read anything)', async () => {
    const path = file('locked.onnx', encodeModel(smallModel()));
    chmodSync(path, 0o000);
    const d = await readFailure(path);
    expect(d.code).toBe('ADP2002');
    expect(d.message).toContain('permission is denied');
  });

  it('ADP2003 for an empty file', async () => {
    expect((await readFailure(file('empty.onnx', new Uint8Array(0)))).code).toBe('ADP2003');
  });

  it('ADP2004 for a model cut short anywhere', async () => {
    const bytes = encodeModel(smallModel());
    for (const fraction of [0.001, 0.1, 0.5, 0.9, 0.999]) {
      const cut = Math.max(1, Math.floor(bytes.length * fraction));
      const d = await readFailure(file(`cut-${fraction}.onnx`, bytes.subarray(0, cut)));
      expect(d.code).toBe('ADP2004');
      expect(d.message).toContain(`it has ${cut} bytes`);
    }
  });

  it.skipIf(!corpusAvailable)(`ADP2004 for every truncated corpus model${corpusAvailable ? '' : ` (skipped: ${corpusSkipReason})`}`, () => {
    for (const entry of corpusEntries()) {
      const bytes = readFileSync(corpusPath(entry));
      expect(decodeFailure(bytes.subarray(0, Math.floor(bytes.length * 0.6)))?.code).toBe('ADP2004');
    }
  });

  it('ADP2005 for random bytes', async () => {
    for (let seed = 1; seed <= 50; seed++) {
      expect(decodeFailure(seededBytes(seed, 2000))?.code, `seed ${seed}`).toBe('ADP2005');
    }
    const d = await readFailure(file('random.onnx', seededBytes(7, 4096)));
    expect(d.message).toBe(`'${join(scratch, 'random.onnx')}' is not an ONNX model: its bytes are not an ONNX protobuf.`);
  });

  it('ADP2005 names common wrong formats', async () => {
    const zip = await readFailure(file('checkpoint.pt', Buffer.concat([Buffer.from('PK\x03\x04', 'latin1'), seededBytes(3, 100)])));
    expect(zip.code).toBe('ADP2005');
    expect(zip.message).toContain('ZIP archive');
    const text = await readFailure(file('model.txt', Buffer.from('ir_version: 8\ngraph {\n')));
    expect(text.message).toContain('text file');
  });

  it('ADP2006 for a protobuf without a graph', async () => {
    // ir_version = 7 and producer_name = "x": valid ModelProto fields, but no graph.
    const d = await readFailure(file('nograph.onnx', Buffer.from([0x08, 0x07, 0x12, 0x01, 0x78])));
    expect(d.code).toBe('ADP2006');
  });

  it('ADP2010 for integers an ONNX model cannot hold', () => {
    // ir_version = 2^60.
    const bytes = Buffer.from([0x08, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x10]);
    expect(decodeFailure(bytes)?.code).toBe('ADP2010');
  });

  it('ADP2011 for text fields that are not UTF-8', () => {
    expect(decodeFailure(Buffer.from([0x12, 0x02, 0xc3, 0x28]))?.code).toBe('ADP2011');
  });

  it('only ever throws AdapterErrors, whatever the bytes', () => {
    // Damaged copies of a small model and, when there, of a real export with attributes and all.
    const originals = [encodeModel(smallModel())];
    if (corpusAvailable) originals.push(readFileSync(corpusPath('ort-fused/attention_skiplayernorm_pruned_opset16.onnx')));
    let state = 99;
    const next = (n: number): number => {
      state = (state * 1103515245 + 12345) >>> 0;
      return state % n;
    };
    for (const original of originals) {
      for (let i = 0; i < 1500; i++) {
        const bytes = Buffer.from(original);
        for (let flips = 1 + next(4); flips > 0; flips--) bytes[next(bytes.length)] = next(256);
        const cut = next(3) === 0 ? bytes.subarray(0, next(bytes.length) + 1) : bytes;
        decodeFailure(cut); // rethrows anything that is not an AdapterError
      }
    }
  });

  it('is reported by the CLI with exit code 1', async () => {
    const error = await readModel(join(scratch, 'missing.onnx')).catch((e: unknown) => e);
    const lines: string[] = [];
    expect(reportFailure(error, { stdout: () => {}, stderr: (t) => lines.push(t), cwd: scratch })).toBe(ExitCode.userError);
    expect(lines.join('\n')).toContain('error ADP2001');
  });
});

describe('writing models', () => {
  async function writeFailure(path: string): Promise<Diagnostic> {
    const error = await writeModel(smallModel(), path).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(AdapterError);
    return (error as AdapterError).diagnostics[0]!;
  }

  it('creates missing parent folders', async () => {
    const file = join(scratch, 'no-such-folder', 'deeper', 'm.onnx');
    await writeModel(smallModel(), file);
    expect(existsSync(file)).toBe(true);
  });

  it('ADP4002 when a part of the path is a file, creating nothing', async () => {
    const dir = mkdtempSync(join(scratch, 'file-parent-'));
    writeFileSync(join(dir, 'plain'), 'x');
    const d = await writeFailure(join(dir, 'plain', 'sub', 'm.onnx'));
    expect(d.code).toBe('ADP4002');
    expect(d.hint).toContain('is a file');
    expect(readdirSync(dir)).toEqual(['plain']);
  });

  it('ADP4002 when a folder has the name, leaving no temporary file behind', async () => {
    const dir = mkdtempSync(join(scratch, 'target-'));
    mkdirSync(join(dir, 'm.onnx'));
    expect((await writeFailure(join(dir, 'm.onnx'))).code).toBe('ADP4002');
    expect(readdirSync(dir)).toEqual(['m.onnx']);
  });
});
