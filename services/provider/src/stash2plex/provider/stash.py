"""What the provider asks Stash, in one operation (``queries/ProviderFindScenes.graphql``).

The shared :class:`StashClient` does the transport, retries and error classification; this
subclass adds the one query the provider needs: scenes with their director, by ids or by
a filter, so every lookup also brings what the metadata answer needs.
"""

from __future__ import annotations

import os
import re
from collections.abc import Sequence
from typing import Any

from pydantic import BaseModel

from stash2plex.common.stash.client import StashClient
from stash2plex.common.stash.models import Scene

OPERATION = "ProviderFindScenes"


class ProviderScene(Scene):
    """A scene as the provider reads it (fragment ``ProviderSceneFields``: fingerprints, groups and
    other fields only the syncer uses stay at their defaults)."""

    director: str | None = None


class ProviderStashClient(StashClient):
    """The shared client plus the provider's query."""

    async def provider_scenes(
        self, *, ids: Sequence[str] | None = None, scene_filter: dict[str, Any] | None = None, limit: int
    ) -> list[ProviderScene]:
        """Scenes with these ids, or matching ``scene_filter``: at most ``limit``, in id order."""
        if ids is None and scene_filter is None:
            raise ValueError("give ids or a scene filter")
        variables = {"ids": list(ids) if ids is not None else None, "scene_filter": scene_filter, "per_page": limit}
        answer = await self._execute_as(OPERATION, variables, _ProviderAnswer)  # validated from the bytes
        return list(answer.findScenes.scenes)


class _ProviderFound(BaseModel):
    scenes: tuple[ProviderScene, ...] = ()


class _ProviderAnswer(BaseModel):
    """The ``data`` of a ``ProviderFindScenes`` answer."""

    findScenes: _ProviderFound  # noqa: N815 - the field as Stash names it


def path_equals(path: str) -> dict[str, Any]:
    """Stash's ``EQUALS`` on a path: SQL ``LIKE``, so case-insensitive with ``_``/``%`` wildcards (confirm!)."""
    return {"path": {"value": path, "modifier": "EQUALS"}}


_REGEX_SPECIALS = re.compile(r"[\\.+*?()|\[\]{}^$]")


def literal_regex(text: str) -> str:
    """``text`` as a regex matching itself, in the syntax Go's regexp (Stash) and Python's ``re`` share.

    Only the metacharacters are escaped: Go rejects escapes of letters, digits and spaces.
    """
    return _REGEX_SPECIALS.sub(r"\\\g<0>", text)


def paths_regex(paths: Sequence[str]) -> dict[str, Any]:
    """Files at any of ``paths``, ignoring case: one scan of Stash's files for a whole batch.

    The paths' common beginning (a library's folder) is written once, before the alternatives:
    the same files match, and a backtracking regex engine stops comparing it fifty times a file.
    """
    shared = os.path.commonprefix(list(paths))  # noqa: RUF071 - characters are meant: any shared text, not only whole folders
    alternatives = "|".join(literal_regex(p[len(shared) :]) for p in paths)
    return {"path": {"value": f"(?i)^{literal_regex(shared)}(?:{alternatives})$", "modifier": "MATCHES_REGEX"}}


def path_contains(text: str) -> dict[str, Any]:
    """Paths containing ``text`` as one phrase (the quotes stop Stash splitting it into words)."""
    return {"path": {"value": f'"{text}"', "modifier": "INCLUDES"}}


def title_contains(text: str) -> dict[str, Any]:
    return {"title": {"value": f'"{text}"', "modifier": "INCLUDES"}}
