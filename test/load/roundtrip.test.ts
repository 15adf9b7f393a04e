/**
 * Every corpus model: decoding agrees field by field with protobufjs's decoder of onnx.proto
 * (onnx-proto), and decode + encode (in memory and through files) gives back the identical bytes.
 */
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { onnx } from 'onnx-proto';
import { afterAll, expect, it } from 'vitest';
import type { Attribute, Graph, Model, Tensor, ValueInfo } from '../../src/ir/index.js';
import { decodeModel, encodeModel, readModel, writeModel } from '../../src/load/index.js';
import { corpusEntries, corpusPath, describeCorpus } from './corpus.js';

const scratch = mkdtempSync(join(tmpdir(), 'adapterc-roundtrip-'));
afterAll(() => rmSync(scratch, { recursive: true, force: true }));

/** protobufjs gives int64 as number or Long; compare as decimal text. */
const int = (v: unknown): string => String(v ?? 0);
const bytes = (v: Uint8Array | undefined | null): string => Buffer.from(v ?? new Uint8Array(0)).toString('hex');

function expectTensor(mine: Tensor, ref: onnx.ITensorProto): void {
  expect(mine.name ?? '').toBe(ref.name ?? '');
  expect(mine.dataType ?? 0).toBe(ref.dataType ?? 0);
  expect(mine.dims.map(String)).toEqual((ref.dims ?? []).map(int));
  expect(bytes(mine.rawData)).toBe(bytes(ref.rawData));
  // Compared as bytes: element-wise equality of large arrays is slow in expect.
  expect(bytes(new Uint8Array((mine.floatData ?? new Float32Array(0)).slice().buffer))).toBe(bytes(new Uint8Array(Float32Array.from(ref.floatData ?? []).buffer)));
  expect([...(mine.int32Data ?? [])]).toEqual(ref.int32Data ?? []);
  expect([...(mine.int64Data ?? [])].map(String)).toEqual((ref.int64Data ?? []).map(int));
  expect([...(mine.doubleData ?? [])]).toEqual(ref.doubleData ?? []);
  expect((mine.externalData ?? []).map((e) => [e.key, e.value])).toEqual((ref.externalData ?? []).map((e) => [e.key, e.value]));
}

function expectAttribute(mine: Attribute, ref: onnx.IAttributeProto): void {
  expect(mine.name).toBe(ref.name);
  expect(mine.type ?? 0).toBe(ref.type ?? 0);
  expect(mine.f ?? 0).toBe(ref.f ?? 0);
  expect(String(mine.i ?? 0)).toBe(int(ref.i));
  expect(bytes(mine.s)).toBe(bytes(ref.s));
  expect(mine.floats ?? []).toEqual(ref.floats ?? []);
  expect((mine.ints ?? []).map(String)).toEqual((ref.ints ?? []).map(int));
  expect((mine.strings ?? []).map(bytes)).toEqual((ref.strings ?? []).map(bytes));
  expect(mine.t === undefined).toBe(ref.t == null);
  if (mine.t && ref.t) expectTensor(mine.t, ref.t);
  expect(mine.g === undefined).toBe(ref.g == null);
  if (mine.g && ref.g) expectGraph(mine.g, ref.g);
}

function expectValueInfos(mine: readonly ValueInfo[], ref: readonly onnx.IValueInfoProto[]): void {
  const summary = (name: string, type: onnx.ITypeProto | null | undefined): unknown => ({
    name,
    elem: type?.tensorType?.elemType ?? 0,
    dims: type?.tensorType?.shape?.dim?.map((d) => (d.dimParam ? d.dimParam : int(d.dimValue))),
  });
  expect(mine.map((v) => ({
    name: v.name,
    elem: v.type?.tensor?.elemType ?? 0,
    dims: v.type?.tensor?.shape?.dims.map((d) => d.param ?? String(d.value ?? 0)),
  }))).toEqual(ref.map((v) => summary(v.name ?? '', v.type)));
}

function expectGraph(mine: Graph, ref: onnx.IGraphProto): void {
  expect(mine.name ?? '').toBe(ref.name ?? '');
  const nodes = ref.node ?? [];
  expect(mine.nodes.length).toBe(nodes.length);
  mine.nodes.forEach((n, i) => {
    const r = nodes[i]!;
    expect([n.opType, n.domain ?? '', n.name ?? '']).toEqual([r.opType, r.domain ?? '', r.name ?? '']);
    expect(n.inputs).toEqual(r.input ?? []);
    expect(n.outputs).toEqual(r.output ?? []);
    expect(n.attributes.length).toBe((r.attribute ?? []).length);
    n.attributes.forEach((a, j) => expectAttribute(a, r.attribute![j]!));
  });
  const initializers = ref.initializer ?? [];
  expect(mine.initializers.length).toBe(initializers.length);
  mine.initializers.forEach((t, i) => expectTensor(t, initializers[i]!));
  expectValueInfos(mine.inputs, ref.input ?? []);
  expectValueInfos(mine.outputs, ref.output ?? []);
  expectValueInfos(mine.valueInfo, ref.valueInfo ?? []);
}

function expectModel(mine: Model, ref: onnx.ModelProto): void {
  expect(String(mine.irVersion)).toBe(int(ref.irVersion));
  expect([mine.producerName ?? '', mine.producerVersion ?? '', mine.domain ?? '', mine.docString ?? '']).toEqual([
    ref.producerName,
    ref.producerVersion,
    ref.domain,
    ref.docString,
  ]);
  expect(mine.opsetImports.map((o) => [o.domain ?? '', String(o.version)])).toEqual(ref.opsetImport.map((o) => [o.domain ?? '', int(o.version)]));
  expect(mine.metadata.map((e) => [e.key, e.value])).toEqual(ref.metadataProps.map((e) => [e.key, e.value]));
  expectGraph(mine.graph, ref.graph!);
}

describeCorpus('corpus models round-trip', () => {
  for (const entry of corpusEntries()) {
    it(`${entry.path}: decodes like onnx.proto's reference decoder`, () => {
      const bytes = readFileSync(corpusPath(entry));
      expectModel(decodeModel(bytes, entry.path), onnx.ModelProto.decode(bytes));
    });

    it(`${entry.path}: re-encodes to identical bytes, in memory and through files`, async () => {
      const original = readFileSync(corpusPath(entry));
      const model = decodeModel(original, entry.path);
      expect(Buffer.compare(encodeModel(model), original)).toBe(0);

      const copy = join(scratch, entry.path.replaceAll('/', '_'));
      await writeModel(await readModel(corpusPath(entry)), copy);
      expect(Buffer.compare(readFileSync(copy), original)).toBe(0);
    });
  }
});
