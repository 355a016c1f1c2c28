"""What the provider asks Stash, in one operation (``queries/ProviderFindScenes.graphql``).

The shared :class:`StashClient` does the transport, retries and error classification; this
subclass adds the one query the provider needs: scenes with their director, by ids or by
a filter, so every lookup also brings what the metadata answer needs.
"""

from __future__ import annotations

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

    The paths are written as a trie: text they share (a library's folder, a studio's, a file
    name's start) appears once, and alternatives begin only where paths part. The same files
    match as with fifty plain alternatives, and a backtracking regex engine compares each
    file's path once instead of once per alternative.
    """
    root: _Trie = {}
    for path in paths:
        node = root
        for char in path:
            node = node.setdefault(char, {})
        node[_END] = {}
    return {"path": {"value": f"(?i)^{_trie_regex(root)}$", "modifier": "MATCHES_REGEX"}}


_Trie = dict[str, "_Trie"]
_END = ""
"""The key marking a node where a path ends (no character is the empty string)."""


def _trie_regex(node: _Trie) -> str:
    """The regex of what may follow ``node``: depth is the number of places paths part (at most one per path)."""
    branches = []
    for char, child in node.items():
        if char == _END:
            continue
        run = [char]
        while len(child) == 1 and _END not in child:  # a stretch no path leaves: one literal
            ((char, child),) = child.items()
            run.append(char)
        branches.append(literal_regex("".join(run)) + _trie_regex(child))
    if not branches:
        return ""
    if _END in node:
        return "(?:" + "|".join(branches) + ")?"
    return branches[0] if len(branches) == 1 else "(?:" + "|".join(branches) + ")"


def path_contains(text: str) -> dict[str, Any]:
    """Paths containing ``text`` as one phrase (the quotes stop Stash splitting it into words)."""
    return {"path": {"value": f'"{text}"', "modifier": "INCLUDES"}}


def title_contains(text: str) -> dict[str, Any]:
    return {"title": {"value": f'"{text}"', "modifier": "INCLUDES"}}
