"""PMS's side of custom metadata providers: the registry, Fix Match, and refresh through a provider.

When an item's guid uses a registered provider's scheme (``<identifier>://movie/<key>``),
a refresh or match fetches ``<metadata key>/<key>`` from that provider and copies the
values onto the item, skipping locked fields: the behaviour that makes field locks
matter when the push side and the provider write the same item. A guid without the
``/movie/`` segment cannot be resolved, and PMS then never calls the provider (seen in
a real PMS log); the simulator does the same and reports it in the write journal.
"""

from __future__ import annotations

import contextlib
import threading
from dataclasses import dataclass
from typing import Any

from tests.sims.plex.images import ImageFetchError, fetch_image
from tests.sims.plex.model import TEXT_FIELDS, Item, Library, TagValue
from tests.sims.plex.provider_client import MatchRequest, ProviderClient, ProviderError, parse_guid


@dataclass
class RegisteredProvider:
    id: int
    identifier: str
    title: str
    uri: str
    types: list[int]
    features: dict[str, str]
    root: dict[str, Any]


class DuplicateProviderError(Exception):
    pass


class ProviderRegistry:
    """Providers added with ``POST /media/providers/metadata?uri=...`` (thread-safe)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._providers: dict[int, RegisteredProvider] = {}
        self._next_id = 1
        self.language = "en-US"

    def register(self, uri: str, root: dict[str, Any]) -> RegisteredProvider:
        with self._lock:
            identifier = root["identifier"]
            if any(p.identifier == identifier for p in self._providers.values()):
                raise DuplicateProviderError(identifier)
            provider = RegisteredProvider(
                id=self._next_id,
                identifier=identifier,
                title=root.get("title", identifier),
                uri=uri.rstrip("/"),
                types=[t["type"] for t in root.get("Types", [])],
                features={f["type"]: f["key"] for f in root.get("Feature", [])},
                root=root,
            )
            self._providers[provider.id] = provider
            self._next_id += 1
            return provider

    def all(self) -> list[RegisteredProvider]:
        with self._lock:
            return list(self._providers.values())

    def get(self, provider_id: int) -> RegisteredProvider | None:
        with self._lock:
            return self._providers.get(provider_id)

    def remove(self, provider_id: int) -> RegisteredProvider | None:
        with self._lock:
            return self._providers.pop(provider_id, None)

    def by_identifier(self, identifier: str | None) -> RegisteredProvider | None:
        with self._lock:
            return next((p for p in self._providers.values() if p.identifier == identifier), None)

    def for_guid(self, guid: str) -> RegisteredProvider | None:
        """The provider whose scheme the guid uses, even if the rest of the guid is malformed."""
        scheme = guid.split("://", 1)[0] if "://" in guid else None
        return self.by_identifier(scheme)

    def client(self, provider: RegisteredProvider) -> ProviderClient:
        return ProviderClient(provider.uri, language=self.language, features=provider.features)


async def match_through(
    provider: RegisteredProvider, registry: ProviderRegistry, request: MatchRequest
) -> list[dict[str, Any]]:
    async with registry.client(provider) as client:
        container = await client.match(request)
    results: list[dict[str, Any]] = container.get("Metadata") or []
    return results


async def refresh_through(library: Library, item: Item, registry: ProviderRegistry) -> dict[str, Any] | None:
    """Refresh ``item`` from the provider owning its guid; None when no provider owns it.

    Returns the change (fields, tags, images) or an ``error`` entry when the provider fails.
    """
    provider = registry.for_guid(item.guid)
    if provider is None:
        return None
    parsed = parse_guid(item.guid)
    if parsed is None:
        return {
            "provider": provider.identifier,
            "error": f"primary provider {provider.identifier} failed to return a result for item ID {item.rating_key}",
        }
    _scheme, _type, rating_key = parsed
    try:
        async with registry.client(provider) as client:
            metadata = await client.metadata(rating_key)
    except ProviderError as exc:
        return {"provider": provider.identifier, "error": str(exc)}
    images = {}
    for element, key in (("thumb", "thumb"), ("art", "art")):
        url = metadata.get(key) or _image_url(metadata, "coverPoster" if element == "thumb" else "background")
        if url and element not in item.locks:
            # PMS keeps the old image when the provider's URL cannot be fetched.
            with contextlib.suppress(ImageFetchError):
                images[element] = (url, await fetch_image(url))
    with library.lock:
        change = apply_provider_metadata(library, item, metadata)
        for element, (url, data) in images.items():
            library.add_asset(item.rating_key, element, data=data, url=url)
            change.setdefault("images", {})[element] = url
        item.updated_at = max(item.updated_at + 1, library.now())
        library.touch(item.section_id)
    change["provider"] = provider.identifier
    return change


def _image_url(metadata: dict[str, Any], kind: str) -> str | None:
    for image in metadata.get("Image") or []:
        if isinstance(image, dict) and image.get("type") == kind and image.get("url"):
            return str(image["url"])
    return None


_PROVIDER_FIELDS = {
    "title": "title",
    "titleSort": "titleSort",
    "originalTitle": "originalTitle",
    "summary": "summary",
    "tagline": "tagline",
    "studio": "studio",
    "contentRating": "contentRating",
    "originallyAvailableAt": "originallyAvailableAt",
    "year": "year",
}
_PROVIDER_TAGS = {
    "Genre": "genre",
    "Role": "actor",
    "Director": "director",
    "Writer": "writer",
    "Producer": "producer",
    "Country": "country",
}


def apply_provider_metadata(library: Library, item: Item, metadata: dict[str, Any]) -> dict[str, Any]:
    """Copy a provider's Metadata object onto an item; locked fields and tag kinds stay as they are."""
    change: dict[str, Any] = {}
    skipped: list[str] = []
    for key, name in _PROVIDER_FIELDS.items():
        if key not in metadata:
            continue
        if name in item.locks:
            skipped.append(name)
            continue
        raw = metadata[key]
        value: object = str(raw) if name in TEXT_FIELDS and raw is not None else raw
        if name == "year" and raw is not None:
            value = int(raw)
        old = item.get_field(name)
        if old != value:
            item.set_field(name, value)
            change.setdefault("fields", {})[name] = [old, value]
    for key, kind in _PROVIDER_TAGS.items():
        if key not in metadata:
            continue
        if kind in item.locks:
            skipped.append(kind)
            continue
        new = [
            TagValue(str(t["tag"]), thumb=t.get("thumb"), role=t.get("role"))
            for t in metadata[key]
            if isinstance(t, dict) and t.get("tag")
        ]
        before = item.tags.get(kind, [])
        if new != before:
            item.tags[kind] = new
            change.setdefault("tags", {})[kind] = {"before": [t.tag for t in before], "after": [t.tag for t in new]}
    guids = [g["id"] for g in metadata.get("Guid") or [] if isinstance(g, dict) and g.get("id")]
    if guids:
        item.external_guids = guids
    if skipped:
        change["locked_skipped"] = skipped
    return change
