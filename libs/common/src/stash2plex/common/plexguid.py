"""The GUID the provider gives a Stash scene in Plex, and the way back.

Plex stores ``<scheme>://<type>/<ratingKey>`` on every item its custom metadata provider
matched, and asks the provider for ``<ratingKey>`` on every refresh; so the ratingKey must
never change for a scene. It is built from the Stash scene id alone (``scene-<id>``), which
Stash never reuses, and holds only the characters Plex allows (``[A-Za-z0-9_-]``).

The provider builds GUIDs here; the syncer reads them back to find a Plex item bound to a
scene without knowing its file path.
"""

from __future__ import annotations

import re

IDENTIFIER = "tv.plex.agents.custom.stash2plex"
"""The provider's identifier, which is also the scheme of its GUIDs (letters, digits, dots after the prefix)."""
METADATA_TYPE = "movie"
"""Scenes are movies to Plex: the provider serves movie libraries only."""
RATING_KEY_PREFIX = "scene-"

_SCENE_ID = re.compile(r"^[1-9][0-9]{0,18}$")
_RATING_KEY = re.compile(r"^scene-(?P<id>[1-9][0-9]{0,18})$")
_ALLOWED = re.compile(r"^[A-Za-z0-9_-]+$")


class MalformedRatingKeyError(ValueError):
    """A ratingKey this provider never hands out (wrong shape or characters)."""


def rating_key(scene_id: str | int) -> str:
    """``scene-<id>`` for a Stash scene id (a positive integer, as Stash's ids are)."""
    text = str(scene_id)
    if not _SCENE_ID.match(text):
        raise ValueError(f"{text!r} is not a Stash scene id (a positive integer without leading zeros)")
    return RATING_KEY_PREFIX + text


def scene_id(rating_key_text: str) -> str:
    """The Stash scene id inside a ratingKey; :class:`MalformedRatingKeyError` says what is wrong otherwise."""
    match = _RATING_KEY.match(rating_key_text)
    if match:
        return match["id"]
    if not rating_key_text:
        raise MalformedRatingKeyError("the ratingKey is empty")
    if not _ALLOWED.match(rating_key_text):
        raise MalformedRatingKeyError(
            f"ratingKey {rating_key_text[:80]!r} has characters Plex never uses in one (only A-Z, a-z, 0-9, '-', '_')"
        )
    raise MalformedRatingKeyError(
        f"ratingKey {rating_key_text[:80]!r} is not one of ours: expected {RATING_KEY_PREFIX}<Stash scene id>, "
        f"e.g. {RATING_KEY_PREFIX}42"
    )


def guid(scene_id_value: str | int) -> str:
    """``tv.plex.agents.custom.stash2plex://movie/scene-<id>``: what Plex stores on the matched item."""
    return f"{IDENTIFIER}://{METADATA_TYPE}/{rating_key(scene_id_value)}"


def scene_id_from_guid(guid_text: str) -> str | None:
    """The scene id in one of our GUIDs; None for any other GUID (another agent's, ``local://``, malformed)."""
    prefix = f"{IDENTIFIER}://{METADATA_TYPE}/"
    if not guid_text.startswith(prefix):
        return None
    try:
        return scene_id(guid_text[len(prefix) :])
    except MalformedRatingKeyError:
        return None
