"""URLs of a scene's images on the provider's own image proxy, which Plex can reach.

Stash's image URLs only work on Stash's network and with its API key; Plex gets these
instead, and the proxy (:mod:`.images`) fetches from Stash. Each URL carries the image's
version (Stash's ``t`` parameter), so a new cover is a new URL and caches never go stale.
No URL ever carries the API key.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any
from urllib.parse import parse_qs, urlsplit

from stash2plex.common.stash.models import Performer
from stash2plex.provider.settings import PosterMode, ProviderOptions
from stash2plex.provider.stash import ProviderScene

IMAGES = "/images"


def stash_version(url: str | None) -> str | None:
    """Stash's cache-buster (``?t=1700000000``) of an image URL; None when Stash serves its default image."""
    if not url:
        return None
    query = parse_qs(urlsplit(url).query)
    if query.get("default", [""])[0].lower() == "true":
        return None
    version = query.get("t", [""])[0]
    return version if version.isdigit() else "0"


class ImageLinks:
    """Builds image URLs under ``base`` (public URL plus the secret segment, if any)."""

    def __init__(self, base: str, poster_mode: PosterMode) -> None:
        self.base = base.rstrip("/")
        self.poster_mode = poster_mode

    def screenshot(self, scene: ProviderScene) -> str | None:
        version = stash_version(scene.paths.screenshot)
        if version is None:
            return None
        return f"{self.base}{IMAGES}/scene/{scene.id}/screenshot?v={version}"

    def poster(self, scene: ProviderScene) -> str | None:
        if self.poster_mode is PosterMode.SCREENSHOT:
            return self.screenshot(scene)
        version = stash_version(scene.paths.screenshot)
        if version is None:
            return None
        return f"{self.base}{IMAGES}/scene/{scene.id}/poster?v={version}"

    def performer(self, performer: Performer) -> str | None:
        version = stash_version(performer.image_path)
        if version is None:
            return None
        return f"{self.base}{IMAGES}/performer/{performer.id}?v={version}"


def public_base(options: ProviderOptions, scope: Mapping[str, Any]) -> str:
    """Where Plex reaches the provider: the ``public_url`` setting, else the address this request used.

    The secret segment, when set, is part of it: image URLs must carry it like every other.
    """
    if options.public_url is not None:
        return str(options.public_url).rstrip("/") + options.mount
    host = next((v.decode("latin-1") for k, v in scope["headers"] if k == b"host"), None)
    if not host:
        server = scope.get("server") or ("127.0.0.1", 80)
        host = f"{server[0]}:{server[1]}"
    return f"{scope.get('scheme', 'http')}://{host}{options.mount}"
