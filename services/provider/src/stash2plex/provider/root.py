"""The provider's root document: what Plex reads when the provider is registered or refreshed.

It is ``{"MediaProvider": {...}}`` with no MediaContainer around it. Feature keys are
relative to the URL registered in Plex (which holds the secret segment, if one is set), so
they never repeat that prefix.
"""

from __future__ import annotations

from importlib.metadata import PackageNotFoundError, version
from typing import Any

from stash2plex.common import plexguid

MOVIE = 1
METADATA_FEATURE = "/library/metadata"
MATCH_FEATURE = "/library/metadata/matches"


def provider_version() -> str:
    try:
        return version("stash2plex-provider")
    except PackageNotFoundError:
        return "0.0.0"


def media_provider(title: str) -> dict[str, Any]:
    return {
        "MediaProvider": {
            "identifier": plexguid.IDENTIFIER,
            "title": title,
            "version": provider_version(),
            "Types": [{"type": MOVIE, "Scheme": [{"scheme": plexguid.IDENTIFIER}]}],
            "Feature": [
                {"type": "metadata", "key": METADATA_FEATURE},
                {"type": "match", "key": MATCH_FEATURE},
            ],
        }
    }
