"""Draw the app icons (static/img/icons/*.png) from the mark in static/img/favicon.svg:
two overlapping circles, plum and lilac, here on the page's warm background.

Run once after changing the mark: `python scripts/make_icons.py`. Pure Python (zlib
only), so no imaging library is needed: each pixel is the mean of 4 × 4 samples.
"""

from __future__ import annotations

import struct
import zlib
from pathlib import Path

OUT = Path(__file__).resolve().parent.parent / "static" / "img" / "icons"
BACKGROUND = (0xF7, 0xF3, 0xEF)
PLUM = (0x6B, 0x3F, 0x73)
LILAC = (0xC9, 0xA2, 0xD1)
LILAC_ALPHA = 0.85
SAMPLES = 4


def draw(size: int, scale: float) -> bytes:
    """The mark at `scale` of the favicon's 32-unit box, centred on `size` pixels."""
    unit = size * scale / 32
    offset = (size - 32 * unit) / 2
    circles = [((12 * unit + offset, 16 * unit + offset), 9 * unit, PLUM, 1.0)]
    circles.append(((20 * unit + offset, 16 * unit + offset), 9 * unit, LILAC, LILAC_ALPHA))
    rows = bytearray()
    step = 1 / SAMPLES
    for y in range(size):
        rows.append(0)  # filter: none
        for x in range(size):
            total = [0.0, 0.0, 0.0]
            for sy in range(SAMPLES):
                for sx in range(SAMPLES):
                    px, py = x + (sx + 0.5) * step, y + (sy + 0.5) * step
                    colour: list[float] = list(BACKGROUND)
                    for (cx, cy), radius, fill, alpha in circles:
                        if (px - cx) ** 2 + (py - cy) ** 2 <= radius**2:
                            colour = [
                                c * (1 - alpha) + f * alpha
                                for c, f in zip(colour, fill, strict=False)
                            ]
                    total = [t + c for t, c in zip(total, colour, strict=False)]
            rows.extend(round(t / SAMPLES**2) for t in total)
    return png(size, bytes(rows))


def png(size: int, raw: bytes) -> bytes:
    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    header = struct.pack(">IIBBBBB", size, size, 8, 2, 0, 0, 0)  # 8-bit RGB
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(raw, 9))
        + chunk(b"IEND", b"")
    )


def main() -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    # "any" icons fill most of the square; a maskable one keeps the mark inside the
    # central 80% circle that every mask shape leaves visible.
    for name, size, scale in (
        ("icon-192.png", 192, 0.9),
        ("icon-512.png", 512, 0.9),
        ("icon-maskable-512.png", 512, 0.62),
        ("apple-touch-icon.png", 180, 0.8),
    ):
        (OUT / name).write_bytes(draw(size, scale))
        print(OUT / name)


if __name__ == "__main__":
    main()
