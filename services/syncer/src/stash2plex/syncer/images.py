"""A scene's cover image for one job: fetched from Stash at most once, and only when an item needs it.

Uploads are decided by a digest of the bytes, not by the URL (Stash's cover URL carries the
scene's ``updated_at`` and so changes on every edit). When the URL is the one the bytes were last
fetched from, the recorded digest stands in and nothing is fetched at all.
"""

from __future__ import annotations

from collections.abc import Callable

from stash2plex.syncer.sync_record import ItemRecord, content_digest

ImageFetcher = Callable[[str], bytes]
"""Blocking: the image bytes at a Stash URL (the API key is the fetcher's business)."""

MAX_UPLOAD_BYTES = 10 * 1024 * 1024
"""Plex refuses bigger uploads (as reported by users; not documented)."""


class ImageRejected(Exception):  # noqa: N818 - it says what happened
    """Stash's image cannot be uploaded (empty or too large); the item keeps its picture."""


class CoverImages:
    """Not thread-safe: one per job, used by the one thread that writes that job."""

    def __init__(self, fetch: ImageFetcher) -> None:
        self._fetch = fetch
        self._bytes: dict[str, bytes] = {}
        self.fetched = 0

    def data(self, url: str) -> bytes:
        """The bytes at ``url``, fetched on first use; :class:`ImageRejected` when unusable."""
        if url not in self._bytes:
            data = self._fetch(url)
            self.fetched += 1
            if not data:
                raise ImageRejected(f"Stash returned an empty image for {url.split('?')[0]}")
            if len(data) > MAX_UPLOAD_BYTES:
                raise ImageRejected(f"the image at {url.split('?')[0]} is {len(data)} bytes, more than Plex takes")
            self._bytes[url] = data
        return self._bytes[url]

    def digest(self, element: str, url: str, previous: ItemRecord | None) -> str:
        """Digest of the image for ``element``; the recorded one when the URL has not changed."""
        if previous is not None and previous.image_urls.get(element) == url and element in previous.images:
            return previous.images[element]
        return content_digest(self.data(url))
