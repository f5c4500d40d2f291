#!/usr/bin/env python3
"""Draws Kuager's icon (an eye: a witness) as RGBA PNGs, with the standard library only."""
import struct, sys, zlib, math

def png(size):
    rows = []
    c = size / 2
    for y in range(size):
        row = bytearray([0])
        for x in range(size):
            dx, dy = (x + 0.5 - c) / c, (y + 0.5 - c) / c
            r = math.hypot(dx, dy)
            # rounded square background
            q = max(abs(dx), abs(dy))
            bg = q < 0.92 or math.hypot(max(abs(dx) - 0.72, 0), max(abs(dy) - 0.72, 0)) < 0.2
            px = (0, 0, 0, 0)
            if bg:
                px = (31, 78, 95, 255)
                # the eye: intersection of two circles, white, with a dark iris
                up = math.hypot(dx, dy - 0.55) < 0.95
                down = math.hypot(dx, dy + 0.55) < 0.95
                if up and down:
                    px = (245, 241, 232, 255)
                    if r < 0.26:
                        px = (31, 78, 95, 255)
                    if r < 0.11:
                        px = (12, 30, 38, 255)
            row += bytes(px)
        rows.append(bytes(row))
    raw = b"".join(rows)
    def chunk(t, d):
        return struct.pack(">I", len(d)) + t + d + struct.pack(">I", zlib.crc32(t + d) & 0xFFFFFFFF)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", size, size, 8, 6, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(raw, 9)) + chunk(b"IEND", b""))

out = sys.argv[1]
for size, name in [(512, "icon.png"), (128, "128x128.png"), (32, "32x32.png")]:
    with open(f"{out}/{name}", "wb") as f:
        f.write(png(size))
