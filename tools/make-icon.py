#!/usr/bin/env python3
"""Writes src/icon.png, the packages' 128 x 128 icon, with the standard library only (zlib + struct).

The picture: a heat map of a learned feature matrix M (a bright block-diagonal on a dark blue ground), the
library's main object. Run `python3 tools/make-icon.py` from the repository root to regenerate it.
"""
import math
import struct
import zlib

SIZE = 128
CELLS = 8


def colour(v):
    """A dark-blue -> teal -> yellow ramp for v in [0, 1]."""
    stops = [(0.0, (18, 24, 64)), (0.5, (32, 150, 150)), (1.0, (250, 220, 70))]
    for (a, ca), (b, cb) in zip(stops, stops[1:]):
        if v <= b:
            t = (v - a) / (b - a)
            return tuple(round(x + (y - x) * t) for x, y in zip(ca, cb))
    return stops[-1][1]


def value(i, j):
    """An 8 x 8 'metric': strong diagonal, two blocks of coupled features, a weak background."""
    if i == j:
        return 1.0
    if i // 4 == j // 4:
        return 0.55 + 0.1 * math.cos(i + j)
    return 0.08 + 0.05 * math.sin(3 * i + j)


def main():
    cell = SIZE // CELLS
    gap = 1
    rows = []
    for y in range(SIZE):
        row = bytearray([0])  # filter type 0 for each scanline
        for x in range(SIZE):
            i, j = y // cell, x // cell
            if y % cell < gap or x % cell < gap:
                r, g, b = 10, 12, 30
            else:
                r, g, b = colour(value(i, j))
            row += bytes((r, g, b, 255))
        rows.append(bytes(row))
    raw = b"".join(rows)

    def chunk(kind, data):
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body) & 0xFFFFFFFF)

    png = b"\x89PNG\r\n\x1a\n"
    png += chunk(b"IHDR", struct.pack(">IIBBBBB", SIZE, SIZE, 8, 6, 0, 0, 0))
    png += chunk(b"IDAT", zlib.compress(raw, 9))
    png += chunk(b"IEND", b"")
    with open("src/icon.png", "wb") as f:
        f.write(png)


if __name__ == "__main__":
    main()
