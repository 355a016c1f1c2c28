"""Stash's 16:9 screenshots as 2:3 posters: the image centred on a black canvas, never cropped.

A movie library shows posters in 2:3; a 16:9 screenshot there is cropped to its middle
third. Letterboxing keeps the whole picture. The geometry is pure; the drawing needs
Pillow, imported only when the mode is on.
"""

from __future__ import annotations

import io
from dataclasses import dataclass

POSTER_RATIO = (2, 3)
"""Width to height of a Plex movie poster."""
JPEG_QUALITY = 90


@dataclass(frozen=True)
class Geometry:
    """A canvas of ``width`` × ``height`` with the image pasted at (``x``, ``y``) in its own size."""

    width: int
    height: int
    x: int
    y: int


def geometry(width: int, height: int, ratio: tuple[int, int] = POSTER_RATIO) -> Geometry:
    """The smallest canvas of the poster ratio that holds a ``width`` × ``height`` image, image centred."""
    if width < 1 or height < 1:
        raise ValueError(f"an image of {width}x{height} pixels cannot be letterboxed")
    rw, rh = ratio
    if width * rh >= height * rw:  # wider than the poster: bars above and below
        canvas_w, canvas_h = width, -(-width * rh // rw)
    else:  # taller: bars left and right
        canvas_w, canvas_h = -(-height * rw // rh), height
    return Geometry(canvas_w, canvas_h, (canvas_w - width) // 2, (canvas_h - height) // 2)


def pillow_available() -> bool:
    try:
        import PIL.Image  # noqa: F401
    except ImportError:
        return False
    return True


def letterbox(image_bytes: bytes) -> bytes:
    """A 2:3 JPEG poster of any image Pillow can read (``ValueError`` for anything else)."""
    from PIL import Image, UnidentifiedImageError

    try:
        with Image.open(io.BytesIO(image_bytes)) as source:
            source.load()
            picture = source.convert("RGB")
    except (UnidentifiedImageError, OSError, Image.DecompressionBombError) as error:
        raise ValueError(f"not an image Pillow can read: {error}") from None
    box = geometry(*picture.size)
    canvas = Image.new("RGB", (box.width, box.height), (0, 0, 0))
    canvas.paste(picture, (box.x, box.y))
    out = io.BytesIO()
    canvas.save(out, format="JPEG", quality=JPEG_QUALITY)
    return out.getvalue()
