"""Query root of the simulated Stash, and the resolver every other field goes through."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from graphql import GraphQLError, GraphQLResolveInfo

from tests.sims.stash.faults import DATABASE_LOCKED
from tests.sims.stash.filters import FilterError, parse_ids
from tests.sims.stash.model import SimScene
from tests.sims.stash.output import Obj, Renderer
from tests.sims.stash.scene_query import SceneQuery
from tests.sims.stash.schema import zero_value
from tests.sims.stash.store import StashData

_ROOT_TYPES = ("Query", "Mutation", "Subscription")
_MISSING = object()


@dataclass
class RequestContext:
    """What one GraphQL request's resolvers need."""

    data: StashData
    base_url: str
    api_key: str | None
    db_locked: bool = False


def field_resolver(source: Any, info: GraphQLResolveInfo[Any], **args: Any) -> Any:
    """Read the field from the source dict; call it if it is a callable; else the type's zero value.

    A root field the simulator does not implement is an error, so a test learns it
    asked for something the simulator cannot answer truthfully.
    """
    value = source.get(info.field_name, _MISSING) if isinstance(source, Mapping) else _MISSING
    if value is _MISSING:
        if info.parent_type.name in _ROOT_TYPES:
            raise GraphQLError(f"stash sim: {info.parent_type.name}.{info.field_name} is not simulated")
        return zero_value(info.return_type)
    return value(**args) if callable(value) else value


def _one_id(value: Any) -> int:
    return parse_ids([value])[0]


def query_root(context: RequestContext) -> dict[str, Callable[..., Any]]:
    """The ``Query`` fields the simulator answers, bound to one request."""
    data, render = context.data, Renderer(context.data, context.base_url, context.api_key)

    def scenes_result(count: int, scenes: list[SimScene]) -> Obj:
        return {
            "count": count,
            "duration": sum(f.duration for s in scenes for f in s.files[:1]),
            "filesize": float(sum(f.size for s in scenes for f in s.files[:1])),
            "scenes": [render.scene(s) for s in scenes],
        }

    def find_scene(id: Any = None, checksum: str | None = None) -> Obj | None:
        if id is not None:
            scene = data.scenes.get(_one_id(id))
        elif checksum is not None:
            scene = next(
                (s for s in data.scenes.values() if any(f.fingerprints.get("md5") == checksum for f in s.files)), None
            )
        else:
            scene = None
        return render.scene(scene) if scene else None

    def find_scene_by_hash(input: Mapping[str, Any]) -> Obj | None:
        for kind, key in (("md5", "checksum"), ("oshash", "oshash")):
            wanted = input.get(key)
            if wanted:
                for scene in sorted(data.scenes.values(), key=lambda s: s.id):
                    if any(f.fingerprints.get(kind) == wanted for f in scene.files):
                        return render.scene(scene)
        return None

    def find_scenes(
        scene_filter: Mapping[str, Any] | None = None,
        scene_ids: list[int] | None = None,
        ids: list[Any] | None = None,
        filter: Mapping[str, Any] | None = None,
    ) -> Obj:
        wanted = ids if ids is not None else scene_ids
        return scenes_result(*SceneQuery(data).run(scene_filter, filter, wanted))

    def find_scenes_by_path_regex(filter: Mapping[str, Any] | None = None) -> Obj:
        find_filter = dict(filter or {})
        q = find_filter.pop("q", None) or ""
        scene_filter = {"path": {"value": "(?i)" + q, "modifier": "MATCHES_REGEX"}}
        return scenes_result(*SceneQuery(data).run(scene_filter, find_filter))

    def find_by_id(table: Mapping[int, Any], renderer: Callable[[Any], Obj]) -> Callable[..., Obj | None]:
        def find(id: Any) -> Obj | None:
            record = table.get(_one_id(id))
            return renderer(record) if record is not None else None

        return find

    def plugins(include: list[str] | None = None) -> dict[str, Any]:
        if not include:
            return {k: dict(v) for k, v in data.plugins.items()}
        return {k: dict(data.plugins[k]) for k in include if k in data.plugins}

    root: dict[str, Callable[..., Any]] = {
        "version": lambda: {"version": data.version, "hash": "b23b0267", "build_time": "2025-12-18 10:00:00"},
        "systemStatus": lambda: {
            "databaseSchema": 72,
            "appSchema": 72,
            "status": "OK",
            "os": "linux",
            "workingDir": "/",
            "homeDir": "/root",
        },
        "configuration": lambda: {"general": {"apiKey": context.api_key or ""}, "plugins": plugins, "ui": {}},
        "findScene": find_scene,
        "findSceneByHash": find_scene_by_hash,
        "findScenes": find_scenes,
        "findScenesByPathRegex": find_scenes_by_path_regex,
        "findPerformer": find_by_id(data.performers, render.performer),
        "findStudio": find_by_id(data.studios, render.studio),
        "findTag": find_by_id(data.tags, render.tag),
        "findGroup": find_by_id(data.groups, render.group),
    }
    return {name: _guarded(resolver, context) for name, resolver in root.items()}


def _guarded(resolver: Callable[..., Any], context: RequestContext) -> Callable[..., Any]:
    """Root resolvers fail as Stash's do: a locked database, or a filter Stash rejects."""

    def run(**args: Any) -> Any:
        if context.db_locked:
            raise GraphQLError(DATABASE_LOCKED)
        try:
            return resolver(**args)
        except FilterError as error:
            raise GraphQLError(str(error)) from None

    return run
