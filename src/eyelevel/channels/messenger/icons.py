"""The app icon: a speech bubble with two eyes on one level, drawn for eyelevel.

``icons/icon.svg`` is the vector original; the PNG sizes a web app manifest needs are drawn
from the same geometry with Pillow when first asked for and kept in memory.
"""

from __future__ import annotations

import functools
import io

from PIL import Image, ImageDraw

BLUE = (31, 95, 214, 255)
WHITE = (255, 255, 255, 255)
SIZES = (192, 512)
_SCALE = 4  # drawn larger, then reduced: smooth edges without an antialiasing renderer


@functools.cache
def png(size: int, *, maskable: bool = False) -> bytes:
    """The icon as PNG, ``size`` pixels square; ``maskable`` fills the whole square.

    The bubble stays inside the central circle of 80 % diameter that a maskable icon keeps.
    """
    big = size * _SCALE
    unit = big / 512
    image = Image.new("RGBA", (big, big), (0, 0, 0, 0))
    draw = ImageDraw.Draw(image)

    def box(x0: float, y0: float, x1: float, y1: float) -> tuple[float, float, float, float]:
        return (x0 * unit, y0 * unit, x1 * unit, y1 * unit)

    if maskable:
        draw.rectangle(box(0, 0, 512, 512), fill=BLUE)
    else:
        draw.rounded_rectangle(box(0, 0, 512, 512), radius=112 * unit, fill=BLUE)
    draw.rounded_rectangle(box(112, 136, 400, 344), radius=64 * unit, fill=WHITE)
    draw.polygon(
        [(160 * unit, 330 * unit), (160 * unit, 400 * unit), (236 * unit, 344 * unit)], fill=WHITE
    )
    for cx in (208, 304):
        draw.ellipse(box(cx - 28, 212, cx + 28, 268), fill=BLUE)
    out = io.BytesIO()
    image.resize((size, size), Image.Resampling.LANCZOS).save(out, format="PNG", optimize=True)
    return out.getvalue()
