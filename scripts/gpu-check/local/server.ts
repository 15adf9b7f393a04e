/**
 * The other half of the local stand-in for Python's onnxruntime (`local/onnxruntime/__init__.py`):
 * runs models in onnxruntime-node for check.py, so the GPU check can be rehearsed on a machine with
 * Node and NumPy but no Python onnxruntime. One JSON request per stdin line, one reply per stdout line:
 *   {"open": path, "id": n, "profile": prefix?}  -> {"inputs": [...], "outputs": [...]}
 *   {"run": id, "feeds": {name: npyPath}, "dir": folder}  -> {"outputs": {name: npyPath}}
 *   {"endProfiling": id} -> {"file": path}
 */
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import * as path from 'node:path';
import { createInterface } from 'node:readline';
import * as ort from 'onnxruntime-node';
import { npyBytes, type NpyArray } from '../npy.js';

function readNpy(file: string): ort.Tensor {
  const bytes = readFileSync(file);
  const headerLength = bytes.readUInt16LE(8);
  const header = bytes.subarray(10, 10 + headerLength).toString('latin1');
  const descr = /'descr': '([^']+)'/.exec(header)![1]!;
  const dims = /'shape': \(([^)]*)\)/.exec(header)![1]!.split(',').map((s) => s.trim()).filter(Boolean).map(Number);
  const body = bytes.subarray(10 + headerLength);
  const copy = new Uint8Array(body).buffer;
  if (descr === '<f4') return new ort.Tensor('float32', new Float32Array(copy), dims);
  if (descr === '<i8') return new ort.Tensor('int64', new BigInt64Array(copy), dims);
  if (descr === '<i4') return new ort.Tensor('int32', new Int32Array(copy), dims);
  if (descr === '|b1') return new ort.Tensor('bool', new Uint8Array(copy), dims);
  throw new Error(`unsupported npy dtype ${descr}`);
}

const sessions = new Map<number, { session: ort.InferenceSession; profile?: string }>();
let counter = 0;
for await (const line of createInterface({ input: process.stdin })) {
  const request = JSON.parse(line) as Record<string, unknown>;
  let reply: unknown;
  try {
    if ('open' in request) {
      const profile = request.profile as string | undefined;
      const session = await ort.InferenceSession.create(request.open as string, profile ? { enableProfiling: true, profileFilePrefix: profile } : {});
      sessions.set(request.id as number, { session, ...(profile ? { profile } : {}) });
      reply = { inputs: session.inputNames, outputs: session.outputNames };
    } else if ('run' in request) {
      const { session } = sessions.get(request.run as number)!;
      const feeds = Object.fromEntries(Object.entries(request.feeds as Record<string, string>).map(([n, f]) => [n, readNpy(f)]));
      const result = await session.run(feeds);
      const outputs: Record<string, string> = {};
      for (const [name, t] of Object.entries(result)) {
        const file = path.join(request.dir as string, `out${counter++}.npy`);
        writeFileSync(file, npyBytes({ data: t.data as NpyArray['data'], dims: t.dims }));
        outputs[name] = file;
      }
      reply = { outputs };
    } else if ('endProfiling' in request) {
      const { session, profile } = sessions.get(request.endProfiling as number)!;
      session.endProfiling();
      const dir = path.dirname(profile!);
      const file = readdirSync(dir).filter((f) => f.startsWith(path.basename(profile!)) && f.endsWith('.json')).sort().at(-1)!;
      reply = { file: path.join(dir, file) };
    }
  } catch (error) {
    reply = { error: String(error) };
  }
  process.stdout.write(`${JSON.stringify(reply)}\n`);
}
