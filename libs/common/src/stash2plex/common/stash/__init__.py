"""Stash2Plex's client of Stash's GraphQL API: typed answers, classified failures, bounded retries."""

from stash2plex.common.stash.client import EntityKind, SceneSort, StashClient
from stash2plex.common.stash.errors import StashAuthError, StashError, StashQueryError, StashUnavailable
from stash2plex.common.stash.models import (
    Fingerprint,
    Folder,
    Group,
    Performer,
    PluginSettings,
    Scene,
    SceneFile,
    SceneGroup,
    SceneIdPage,
    ScenePage,
    ScenePaths,
    Studio,
    StudioRef,
    Tag,
    Version,
)
from stash2plex.common.stash.retry import RetryPolicy

__all__ = [
    "EntityKind",
    "Fingerprint",
    "Folder",
    "Group",
    "Performer",
    "PluginSettings",
    "RetryPolicy",
    "Scene",
    "SceneFile",
    "SceneGroup",
    "SceneIdPage",
    "ScenePage",
    "ScenePaths",
    "SceneSort",
    "StashAuthError",
    "StashClient",
    "StashError",
    "StashQueryError",
    "StashUnavailable",
    "Studio",
    "StudioRef",
    "Tag",
    "Version",
]
