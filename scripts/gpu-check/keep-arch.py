"""Zeroes every CUDA binary in a shared library's fat binaries except those for one architecture.

    python3 scripts/gpu-check/keep-arch.py IN OUT 90

onnxruntime-gpu's libonnxruntime_providers_cuda.so (272 MB; 178 MB as xz) holds its kernels for
sm_75, 80, 86, 89, 90 and 120. Only the device's own are loaded, so zeroing the others' payloads
(headers kept, so every offset and size stays as it was) lets the library travel to an H100/H200 in
one 64 MiB transfer (50 MB as xz). Layout of a fat binary (CUDA's fatbinary.h): a 16-byte header
(magic 0xBA55ED50, version 1, header size, size of the entries), then entries, each a header
(kind: 1 PTX, 2 ELF; its header size; padded payload size; ...; the SM version at byte 28) and its
payload.
"""
import collections
import struct
import sys

MAGIC = struct.pack('<I', 0xBA55ED50)


def entries(data):
    pos = 0
    while (start := data.find(MAGIC, pos)) >= 0:
        version, header, size = struct.unpack_from('<HHQ', data, start + 4)
        if version != 1 or header != 16 or start + header + size > len(data):
            pos = start + 4
            continue
        e, end = start + header, start + header + size
        while e < end:
            kind, _, entry_header, padded = struct.unpack_from('<HHIQ', data, e)
            sm = struct.unpack_from('<I', data, e + 28)[0]
            yield e + entry_header, padded, kind, sm
            e += entry_header + padded
        pos = end


def main(source, target, keep):
    data = bytearray(open(source, 'rb').read())
    kept, zeroed = collections.Counter(), collections.Counter()
    for start, padded, kind, sm in list(entries(data)):
        if kind == 2 and sm == keep:
            kept[sm] += padded
        else:
            zeroed[(kind, sm)] += padded
            data[start:start + padded] = bytes(padded)
    if not kept:
        sys.exit(f'{source}: no sm_{keep} binaries in it; nothing written')
    open(target, 'wb').write(data)
    names = ', '.join(('PTX ' if kind == 1 else 'sm_') + str(sm) for kind, sm in sorted(zeroed))
    print(f'kept sm_{keep}: {kept[keep]:,} bytes; zeroed {sum(zeroed.values()):,} bytes ({names})')


if __name__ == '__main__':
    main(sys.argv[1], sys.argv[2], int(sys.argv[3]))
