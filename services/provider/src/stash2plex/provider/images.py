"""The image proxy: Stash's screenshots and performer photos at URLs Plex can reach.

``/images/scene/<id>/screenshot``, ``/images/scene/<id>/poster`` (letterboxed, see
:mod:`.letterbox`) and ``/images/performer/<id>``. The proxy takes ids only, never a URL,
so it cannot be made to fetch anything but Stash's own images; it adds the API key on the
way to Stash and sends nothing of it back. Images stream through with a size limit and
long-lived cache headers: their URLs change whenever the image does (``?v=``).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator
from typing import Literal

import httpx

from stash2plex.common.settings import StashSettings, env_name
from stash2plex.common.stash.client import API_KEY_HEADER
from stash2plex.provider import letterbox, metrics
from stash2plex.provider.answers import Answer, error
from stash2plex.provider.cache import SingleFlight, TtlCache
from stash2plex.provider.settings import ProviderOptions

log = logging.getLogger(__name__)

ImageKind = Literal["screenshot", "poster", "performer"]
CHUNK = 64 * 1024
POSTERS_KEPT = 64
"""Letterboxed posters kept in memory (Plex fetches each once and stores it)."""

_STASH_PATHS: dict[ImageKind, str] = {
    "screenshot": "/scene/{id}/screenshot",
    "poster": "/scene/{id}/screenshot",
    "performer": "/performer/{id}/image",
}


class ImageProxy:
    """Fetches images from Stash for Plex; one connection pool for the process."""

    def __init__(self, stash: StashSettings, options: ProviderOptions) -> None:
        self._base = str(stash.url).rstrip("/") if stash.url is not None else None
        key = stash.api_key.get_secret_value() if stash.api_key is not None else None
        self._headers = {API_KEY_HEADER: key} if key else {}
        self._timeout = options.stash_timeout_s
        self._max_bytes = options.image_max_bytes
        self._cache_control = f"public, max-age={options.image_max_age_s}"
        self._posters: TtlCache[tuple[str, str], bytes] = TtlCache(
            "poster", POSTERS_KEPT, options.cache_ttl_s or options.image_max_age_s
        )
        self._poster_flight: SingleFlight[tuple[str, str], Answer] = SingleFlight("poster")
        self._client: httpx.AsyncClient | None = None

    async def close(self) -> None:
        if self._client is not None:
            client, self._client = self._client, None
            await client.aclose()

    def _http(self) -> httpx.AsyncClient:
        if self._client is None:
            self._client = httpx.AsyncClient(
                headers=self._headers, timeout=httpx.Timeout(self._timeout), follow_redirects=False
            )
        return self._client

    async def answer(self, kind: ImageKind, entity_id: str, version: str) -> Answer:
        """The image, or a JSON error: 404 when Stash has none, 502 when Stash fails or sends no image."""
        if self._base is None:
            return error(503, f"Stash is not configured: set {env_name('stash', 'url')}", "unavailable")
        if kind == "poster":
            return await self._poster_flight.run((entity_id, version), lambda: self._poster(entity_id, version))
        return await self._stream(kind, entity_id)

    async def _poster(self, scene_id: str, version: str) -> Answer:
        cached = self._posters.get((scene_id, version))
        if cached is None:
            fetched = await self._read(_STASH_PATHS["poster"].format(id=scene_id))
            if isinstance(fetched, Answer):
                return fetched
            try:
                cached = await asyncio.to_thread(letterbox.letterbox, fetched)
            except ValueError as problem:
                return error(502, f"Stash's screenshot of scene {scene_id} is not an image: {problem}", "error")
            self._posters.put((scene_id, version), cached)
        metrics.IMAGE_BYTES.inc(len(cached))
        return Answer(200, cached, "image/jpeg", self._image_headers(len(cached)))

    def _image_headers(self, length: int | None) -> tuple[tuple[str, str], ...]:
        headers = [("cache-control", self._cache_control), ("x-content-type-options", "nosniff")]
        if length is not None:
            headers.append(("content-length", str(length)))
        return tuple(headers)

    async def _open(self, path: str) -> httpx.Response | Answer:
        assert self._base is not None
        client = self._http()
        try:
            response = await client.send(client.build_request("GET", self._base + path), stream=True)
        except httpx.TimeoutException:
            metrics.STASH_ERRORS.labels("timeout").inc()
            return error(504, f"Stash did not send the image within {self._timeout:g}s", "unavailable")
        except httpx.HTTPError as problem:
            metrics.STASH_ERRORS.labels("unavailable").inc()
            return error(502, f"cannot reach Stash for the image: {type(problem).__name__}", "unavailable")
        if response.status_code == 200:
            content_type = response.headers.get("content-type", "")
            length = response.headers.get("content-length")
            if not content_type.startswith("image/"):
                await response.aclose()
                return error(502, f"Stash answered {content_type or 'no content type'}, not an image", "error")
            if length is not None and length.isdigit() and int(length) > self._max_bytes:
                await response.aclose()
                return error(502, f"the image is {length} bytes, over the limit of {self._max_bytes}", "error")
            return response
        await response.aclose()
        if response.status_code == 404:
            return error(404, "Stash has no such image", "not_found")
        if response.status_code in (401, 403):
            metrics.STASH_ERRORS.labels("auth").inc()
            detail = f"Stash refused the API key for images: check {env_name('stash', 'api_key')}"
            return error(502, detail, "error")
        metrics.STASH_ERRORS.labels("unavailable").inc()
        return error(502, f"Stash answered HTTP {response.status_code} for the image", "unavailable")

    async def _read(self, path: str) -> bytes | Answer:
        """The whole image (for letterboxing), within the size limit."""
        opened = await self._open(path)
        if isinstance(opened, Answer):
            return opened
        chunks, size = [], 0
        try:
            async for chunk in opened.aiter_bytes(CHUNK):
                size += len(chunk)
                if size > self._max_bytes:
                    return error(502, f"the image is over the limit of {self._max_bytes} bytes", "error")
                chunks.append(chunk)
        except httpx.HTTPError as problem:
            return error(502, f"Stash broke off sending the image: {type(problem).__name__}", "unavailable")
        finally:
            await opened.aclose()
        return b"".join(chunks)

    async def _stream(self, kind: ImageKind, entity_id: str) -> Answer:
        path = _STASH_PATHS[kind].format(id=entity_id)
        opened = await self._open(path)
        if isinstance(opened, Answer):
            return opened
        length = opened.headers.get("content-length")
        if length is None or not length.isdigit():
            # Without a length the limit can only be kept by reading first.
            await opened.aclose()
            body = await self._read(path)
            if isinstance(body, Answer):
                return body
            metrics.IMAGE_BYTES.inc(len(body))
            return Answer(200, body, opened.headers["content-type"], self._image_headers(len(body)))
        return Answer(
            200,
            b"",
            opened.headers["content-type"],
            self._image_headers(int(length)),
            stream=self._relay(opened, int(length)),
        )

    async def _relay(self, response: httpx.Response, length: int) -> AsyncIterator[bytes]:
        sent = 0
        try:
            async for chunk in response.aiter_bytes(CHUNK):
                sent += len(chunk)
                if sent > length:  # Stash sent more than it announced: stop at the promise
                    break
                yield chunk
        except httpx.HTTPError as problem:
            log.warning("Stash broke off an image after %d bytes: %s", sent, type(problem).__name__)
        finally:
            metrics.IMAGE_BYTES.inc(sent)
            await response.aclose()
