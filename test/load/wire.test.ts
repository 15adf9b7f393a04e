/** Wire-format details real exporters rely on: int64 range, packed and unpacked repeats, alignment. */
import { Buffer } from 'node:buffer';
import { describe, expect, it } from 'vitest';
import { attrInts, DataType, readFloat32, readInt64, readNumbers, type Model } from '../../src/ir/index.js';
import { decodeModel, encodeModel } from '../../src/load/index.js';
import { Reader, Writer } from '../../src/load/wire.js';

function bytesOf(write: (w: Writer) => void): Buffer {
  const w = new Writer();
  write(w);
  return w.joined();
}

/** A ModelProto with one graph holding one node with the given attribute bytes, and one initializer. */
function modelBytes(attribute: (w: Writer) => void, tensor: (w: Writer) => void): Buffer {
  return bytesOf((m) =>
    m.messageField(7, (g) => {
      g.messageField(1, (n) => {
        n.stringField(2, 'y');
        n.stringField(4, 'Slice');
        n.messageField(5, attribute);
      });
      g.messageField(5, tensor);
    }),
  );
}

describe('wire format', () => {
  it('round-trips varints across the int64 range', () => {
    const values = [0n, 1n, 127n, 128n, 2n ** 53n, -1n, -(2n ** 63n), 2n ** 63n - 1n];
    const bytes = bytesOf((w) => values.forEach((v) => w.varint64(v)));
    const r = new Reader(bytes);
    expect(values.map(() => r.int64())).toEqual(values);
    // Negative numbers take ten bytes, as protobuf writes them.
    expect(bytesOf((w) => w.signed(-1)).length).toBe(10);
  });

  it('reads attribute ints packed or unpacked, and keeps INT64_MAX exact', () => {
    const max = 2n ** 63n - 1n;
    const unpacked = modelBytes(
      (a) => {
        a.stringField(1, 'ends');
        a.int64Field(8, max);
        a.int64Field(8, -1n);
      },
      (t) => t.stringField(8, 'w'),
    );
    const packed = modelBytes(
      (a) => {
        a.stringField(1, 'ends');
        a.messageField(8, (p) => {
          p.varint64(max);
          p.varint64(-1n);
        });
      },
      (t) => t.stringField(8, 'w'),
    );
    for (const bytes of [unpacked, packed]) {
      const node = decodeModel(bytes, 'm.onnx').graph.nodes[0]!;
      expect(node.attributes[0]!.ints).toEqual([max, -1n]);
      expect(attrInts(node, 'ends')).toEqual([Number(max), -1]);
    }
    // protobuf writes onnx.proto's unpacked `ints` unpacked, and so does the encoder.
    expect(Buffer.compare(encodeModel(decodeModel(unpacked, 'm.onnx')), unpacked)).toBe(0);
  });

  it('reads typed tensor fields: float_data at any alignment, int64_data with negatives', () => {
    const floats = new Float32Array([1.5, -2, 3.25]);
    const bytes = modelBytes(
      (a) => a.stringField(1, 'a'),
      (t) => {
        t.varintField(1, 3);
        t.varintField(2, DataType.FLOAT);
        t.bytesField(4, new Uint8Array(floats.buffer));
        t.stringField(8, 'w');
      },
    );
    // Move the whole model by 0..3 bytes so that float_data lands at every alignment.
    for (const shift of [0, 1, 2, 3]) {
      const shifted = Buffer.concat([Buffer.alloc(shift), bytes]).subarray(shift);
      expect([...readFloat32(decodeModel(shifted, 'm.onnx').graph.initializers[0]!)]).toEqual([1.5, -2, 3.25]);
    }
    const ints = modelBytes(
      (a) => a.stringField(1, 'a'),
      (t) => {
        t.varintField(1, 2);
        t.varintField(2, DataType.INT64);
        t.messageField(7, (p) => {
          p.varint64(-5n);
          p.varint64(2n ** 40n);
        });
      },
    );
    const tensor = decodeModel(ints, 'm.onnx').graph.initializers[0]!;
    expect([...readInt64(tensor)]).toEqual([-5n, 2n ** 40n]);
    expect(readNumbers(tensor)).toEqual([-5, 2 ** 40]);
    expect(Buffer.compare(encodeModel(decodeModel(ints, 'm.onnx')), ints)).toBe(0);
  });

  it('keeps raw tensor data as a view into the input, not a copy', () => {
    const data = new Uint8Array(64 * 1024).fill(7);
    const bytes = modelBytes(
      (a) => a.stringField(1, 'a'),
      (t) => {
        t.varintField(1, data.length);
        t.varintField(2, DataType.UINT8);
        t.bytesField(9, data);
      },
    );
    const model: Model = decodeModel(bytes, 'm.onnx');
    const raw = model.graph.initializers[0]!.rawData!;
    expect(raw.buffer).toBe(bytes.buffer);
  });

  it('writes strings as UTF-8 with their byte length: ASCII, non-ASCII at any place, at and around 127 characters', () => {
    const texts = ['', 'a', '/layers.11/ln2/Add_1_output_0.grad', 'x'.repeat(127), 'x'.repeat(128), 'x'.repeat(300), 'naïve', 'ünder', 'end é', `${'y'.repeat(126)}é`, '雪', 'a\u0000b', '😀 emoji'];
    for (const text of texts) {
      const utf8 = Buffer.from(text, 'utf8');
      const length: number[] = [];
      for (let n = utf8.length; ; n = Math.floor(n / 0x80)) {
        if (n < 0x80) {
          length.push(n);
          break;
        }
        length.push((n % 0x80) | 0x80);
      }
      const expected = Buffer.concat([Buffer.from([(3 << 3) | 2, ...length]), utf8, Buffer.from([(4 << 3) | 0, 1])]);
      const written = bytesOf((w) => {
        w.stringField(3, text);
        w.varintField(4, 1);
      });
      expect(written.equals(expected), JSON.stringify(text)).toBe(true);
    }
  });

  it('reads strings as UTF-8, U+FFFD itself included, and refuses invalid UTF-8 where its field starts', () => {
    const valid = ['', 'a', '/layers.11/ln2/Add_1_output_0.grad', 'naïve', '雪', '😀 emoji', 'a\u0000b', 'replacement \uFFFD kept', 'x'.repeat(300)];
    const r = new Reader(bytesOf((w) => valid.forEach((text) => w.stringField(1, text))));
    expect(valid.map(() => (r.tagNumber(), r.string()))).toEqual(valid);
    const invalid = [[0xff], [0x61, 0xe2, 0x82], [0xc0, 0xaf], [0xed, 0xa0, 0x80], [0x61, 0x80, 0x62]];
    for (const bytes of invalid) {
      const field = Buffer.from([0x0a, 0x02, 0x61, 0x62, 0x0a, bytes.length, ...bytes]);
      const reader = new Reader(field);
      reader.tagNumber();
      expect(reader.string()).toBe('ab');
      reader.tagNumber();
      expect(() => reader.string(), JSON.stringify(bytes)).toThrow(expect.objectContaining({ kind: 'utf8', offset: 5 }));
    }
  });

  it('writes nested messages in place, around fields kept by reference, with minimal length prefixes', () => {
    // Reference: each message encoded bottom-up and concatenated, as protobuf's serializers do.
    const varint = (n: number) => {
      const out: number[] = [];
      for (; n >= 0x80; n = Math.floor(n / 0x80)) out.push((n % 0x80) | 0x80);
      return Buffer.from([...out, n]);
    };
    const field = (number: number, body: Buffer) => Buffer.concat([varint(number * 8 + 2), varint(body.length), body]);
    const large = (seed: number, length: number) => Buffer.from(Array.from({ length }, (_, k) => (k * 31 + seed) % 251));
    // Lengths around the prefix sizes (1, 2 and 3 bytes), and byte fields over the 16 KiB threshold
    // at every depth, first, last and between small fields.
    for (const [small, big] of [[5, 0], [200, 0], [20000, 0], [3, 16 * 1024], [300, 70000]] as const) {
      const text = 'x'.repeat(small);
      const expected = field(1, Buffer.concat([
        field(2, text.length ? Buffer.from(text) : Buffer.alloc(0)),
        field(3, Buffer.concat([field(4, large(1, big)), field(5, Buffer.from(text)), field(6, Buffer.concat([field(7, large(2, big))]))])),
        field(8, large(3, big)),
        field(9, Buffer.from(text)),
      ]));
      const written = bytesOf((w) =>
        w.messageField(1, (a) => {
          a.bytesField(2, Buffer.from(text));
          a.messageField(3, (b) => {
            b.bytesField(4, large(1, big));
            b.bytesField(5, Buffer.from(text));
            b.messageField(6, (c) => c.bytesField(7, large(2, big)));
          });
          a.bytesField(8, large(3, big));
          a.bytesField(9, Buffer.from(text));
        }),
      );
      expect(written.equals(expected), `small ${small}, big ${big}`).toBe(true);
    }
  });
});
