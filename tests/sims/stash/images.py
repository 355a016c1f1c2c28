"""Real JPEG bytes for the simulator's image endpoints, the same bytes for the same inputs.

Posters are uploaded to Plex as bytes, so the project must handle real images:
a screenshot is 16:9 like Stash's, a performer portrait 2:3, a studio logo wide.
"""

from __future__ import annotations

import hashlib
import io
from functools import lru_cache
from typing import Literal

from PIL import Image, ImageDraw

ImageKind = Literal["scene", "performer", "studio", "tag", "group"]

SIZES: dict[ImageKind, tuple[int, int]] = {
    "scene": (320, 180),
    "performer": (200, 300),
    "studio": (300, 100),
    "tag": (120, 120),
    "group": (200, 300),
}


@lru_cache(maxsize=512)
def jpeg(kind: ImageKind, entity_id: int, version: int = 0, default: bool = False) -> bytes:
    """A JPEG for one entity; changing ``version`` (a new cover) changes the bytes."""
    digest = hashlib.sha256(f"{kind}:{entity_id}:{version}:{default}".encode()).digest()
    width, height = SIZES[kind]
    background = (96, 96, 96) if default else (digest[0], digest[1], digest[2])
    image = Image.new("RGB", (width, height), background)
    draw = ImageDraw.Draw(image)
    accent = (255 - background[0], 255 - background[1], 255 - background[2])
    for i in range(4):
        x0 = digest[3 + i] % (width // 2)
        y0 = digest[7 + i] % (height // 2)
        draw.rectangle((x0, y0, x0 + width // 3, y0 + height // 3), outline=accent, width=3)
    draw.text((8, height - 20), f"{kind} {entity_id}", fill=accent)
    out = io.BytesIO()
    image.save(out, format="JPEG", quality=85)
    return out.getvalue()
