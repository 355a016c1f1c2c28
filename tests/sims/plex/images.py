"""Image bytes the simulator serves: a placeholder for items whose poster it never received,
and downloads for ``?url=`` uploads (PMS fetches the URL itself)."""

from __future__ import annotations

import struct
import zlib

import httpx


def _png(width: int, height: int, rgb: tuple[int, int, int]) -> bytes:
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    row = b"\x00" + bytes(rgb) * width
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(row * height))
        + chunk(b"IEND", b"")
    )


#: Served at an item's thumb/art URL when no upload exists (seeded and generated items).
PLACEHOLDER_PNG = _png(2, 3, (90, 90, 110))


_FETCH_TIMEOUT = 10.0


class ImageFetchError(Exception):
    pass


async def fetch_image(url: str, *, max_bytes: int = 10 * 1024 * 1024) -> bytes:
    """Download an image like PMS does for ``?url=``; refuse errors, non-images and huge bodies."""
    try:
        async with httpx.AsyncClient(timeout=_FETCH_TIMEOUT, follow_redirects=True) as client:
            response = await client.get(url)
    except httpx.HTTPError as exc:
        raise ImageFetchError(f"cannot fetch {url}: {exc.__class__.__name__}") from exc
    if response.status_code != 200:
        raise ImageFetchError(f"{url} answered {response.status_code}")
    if len(response.content) > max_bytes:
        raise ImageFetchError(f"{url} is larger than {max_bytes} bytes")
    ctype = response.headers.get("content-type", "")
    if ctype and not ctype.startswith("image/") and not ctype.startswith("application/octet-stream"):
        raise ImageFetchError(f"{url} is {ctype}, not an image")
    return response.content
