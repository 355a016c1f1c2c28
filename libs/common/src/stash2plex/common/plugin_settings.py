"""Settings changed in Stash's UI take effect without a restart.

The Stash plugin declares settings (shown under *Settings → Plugins → Stash2Plex*); Stash keeps
them in its configuration, readable through ``configuration { plugins }``. A service asks for
them at most once per ``ttl_s`` and lays them over its environment settings. A value the user
never set is absent and the environment value stands; a value that does not validate is
ignored with a warning naming the setting, never a crash.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Mapping
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

from stash2plex.common.settings import StashSettings
from stash2plex.common.stash.client import StashClient
from stash2plex.common.stash.errors import StashError
from stash2plex.common.stash.retry import RetryPolicy

log = logging.getLogger(__name__)

PLUGIN_ID = "Stash2Plex"
M = TypeVar("M", bound=BaseModel)


class PluginSettings:
    """The plugin's settings as Stash has them now, cached for ``ttl_s``."""

    def __init__(self, stash: StashSettings, ttl_s: float = 30.0, plugin_id: str = PLUGIN_ID) -> None:
        self.stash, self.ttl_s, self.plugin_id = stash, ttl_s, plugin_id
        self._values: dict[str, Any] = {}
        self._read_at = float("-inf")
        self._lock = asyncio.Lock()

    async def values(self) -> dict[str, Any]:
        """The current values; on a Stash failure, the last known ones (or none)."""
        if self.stash.url is None:
            return {}
        async with self._lock:
            if time.monotonic() - self._read_at < self.ttl_s:
                return self._values
            try:
                async with StashClient(self.stash, retry=RetryPolicy(attempts=1)) as client:
                    self._values = dict(await client.plugin_settings(self.plugin_id))
            except StashError as error:
                log.warning("could not read the Stash plugin's settings (%s); using the last known ones", error)
            self._read_at = time.monotonic()
            return self._values

    async def overlay(self, model: M, fields: Mapping[str, str]) -> M:
        """``model`` with each field in ``fields`` (plugin key → field name) replaced by the UI's value."""
        values = await self.values()
        return apply_overlay(model, values, fields)


def apply_overlay(model: M, values: Mapping[str, Any], fields: Mapping[str, str]) -> M:
    """Pure part of :meth:`PluginSettings.overlay`: validate each UI value on its own."""
    result = model
    for key, field in fields.items():
        if key not in values or values[key] in (None, ""):
            continue
        try:
            result = type(result).model_validate({**result.model_dump(), field: values[key]})
        except ValidationError as error:
            reason = error.errors()[0]["msg"]
            log.warning("ignoring the Stash plugin setting %s=%r: %s", key, values[key], reason)
    return result
