"""The simulator's database: records, a lock, Stash's clock and Stash's timestamp text.

Tests change it from their own thread while the server reads it from the server
thread, so every read and write goes through :attr:`StashData.lock`.
"""

from __future__ import annotations

import dataclasses
import json
import threading
from collections.abc import Callable, Iterable
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from typing import Any, Literal, Protocol, TypeVar

from tests.sims.stash.model import (
    SimFile,
    SimGroup,
    SimPerformer,
    SimScene,
    SimSceneGroup,
    SimStudio,
    SimTag,
)

PathStyle = Literal["posix", "windows"]

# West of Greenwich by default: a client that compares Stash's local-time text
# with UTC text misses updates on such a server, and the tests should catch that.
DEFAULT_TZ = timezone(timedelta(hours=-5))

_T = TypeVar("_T")


def parse_offset(text: str) -> timezone:
    """``+02:00`` / ``-05:00`` / ``Z`` as a fixed time zone."""
    if text in ("Z", "z", "UTC"):
        return UTC
    sign = -1 if text.startswith("-") else 1
    hours, _, minutes = text.lstrip("+-").partition(":")
    return timezone(sign * timedelta(hours=int(hours), minutes=int(minutes or 0)))


def format_offset(tz: timezone) -> str:
    offset = tz.utcoffset(None)
    total = int(offset.total_seconds()) // 60
    sign = "-" if total < 0 else "+"
    return f"{sign}{abs(total) // 60:02d}:{abs(total) % 60:02d}"


class StashData:
    """Everything the simulated Stash knows; mutate it from tests through the methods below."""

    def __init__(
        self,
        *,
        path_style: PathStyle = "posix",
        tz: timezone = DEFAULT_TZ,
        version: str = "v0.30.1",
        clock: Callable[[], datetime] | None = None,
    ) -> None:
        self.lock = threading.RLock()
        self.path_style: PathStyle = path_style
        self.tz = tz
        self.version = version
        self._clock = clock or (lambda: datetime.now(UTC))
        self.scenes: dict[int, SimScene] = {}
        self.studios: dict[int, SimStudio] = {}
        self.performers: dict[int, SimPerformer] = {}
        self.tags: dict[int, SimTag] = {}
        self.groups: dict[int, SimGroup] = {}
        self.plugins: dict[str, dict[str, Any]] = {}
        self._next_file_id = 1
        self._high_ids: dict[int, tuple[int, int]] = {}
        """Per table (by ``id()``): its size and highest id when last seen, so a new id costs no scan."""
        self._texts: dict[tuple[datetime, timezone], str] = {}
        self._sorted_ids: tuple[tuple[int, int], list[int]] = ((-1, -1), [])

    # -- Stash's clock and timestamp text --------------------------------------------------

    @property
    def separator(self) -> str:
        """The path separator of the (simulated) Stash host."""
        return "\\" if self.path_style == "windows" else "/"

    def now(self) -> datetime:
        """Now, in the server's zone, to the second (Stash stores whole seconds)."""
        return self._clock().astimezone(self.tz).replace(microsecond=0)

    def timestamp_text(self, moment: datetime) -> str:
        """How Stash stores and returns a timestamp: RFC3339 in the server's local zone."""
        key = (moment, self.tz)
        text = self._texts.get(key)
        if text is None:
            local = moment.astimezone(self.tz).replace(microsecond=0)
            offset = format_offset(self.tz)
            text = local.strftime("%Y-%m-%dT%H:%M:%S") + ("Z" if offset == "+00:00" else offset)
            if len(self._texts) >= 500_000:  # a big library renders each of its timestamps once
                self._texts.clear()
            self._texts[key] = text
        return text

    def sorted_scene_ids(self) -> list[int]:
        """Scene ids in order, kept until the set of ids changes (a sum of them tells, cheaply)."""
        with self.lock:
            key = (len(self.scenes), sum(self.scenes))
            if self._sorted_ids[0] != key:
                self._sorted_ids = (key, sorted(self.scenes))
            return self._sorted_ids[1]

    def file_path(self, file: SimFile) -> str:
        return file.folder + self.separator + file.basename

    def split_path(self, path: str) -> tuple[str, str]:
        folder, _, basename = path.rpartition(self.separator)
        return folder, basename

    # -- writes ----------------------------------------------------------------------------

    def _next_id(self, table: dict[int, Any]) -> int:
        """One more than the highest id (SQLite's rowid rule); a table changed behind the methods' back is rescanned."""
        size, high = self._high_ids.get(id(table), (-1, 0))
        if size != len(table):
            high = max(table, default=0)
        self._high_ids[id(table)] = (len(table) + 1, high + 1)
        return high + 1

    def new_file(self, path: str, **fields: Any) -> SimFile:
        """A file record at ``path`` (split on the server's separator) with a fresh id."""
        with self.lock:
            folder, basename = self.split_path(path)
            _whole_seconds(fields)
            file = SimFile(id=self._next_file_id, folder=folder, basename=basename, **fields)
            self._next_file_id += 1
            return file

    def add_scene(self, *, paths: Iterable[str] = (), **fields: Any) -> SimScene:
        """Insert a scene (timestamps default to now); ``paths`` creates one file per path."""
        with self.lock:
            now = self.now()
            fields.setdefault("created_at", now)
            fields.setdefault("updated_at", fields["created_at"])
            _whole_seconds(fields)
            files = list(fields.pop("files", [])) + [self.new_file(p) for p in paths]
            scene = SimScene(id=fields.pop("id", None) or self._next_id(self.scenes), files=files, **fields)
            self._adopt_file_ids(scene.files)
            self.scenes[scene.id] = scene
            return scene

    def update_scene(self, scene_id: int, **changes: Any) -> SimScene:
        """Change a scene the way a save in Stash does: ``updated_at`` becomes now unless given."""
        with self.lock:
            scene = self.scenes[scene_id]
            changes.setdefault("updated_at", self.now())
            _whole_seconds(changes)
            for name, value in changes.items():
                if not hasattr(scene, name):
                    raise AttributeError(f"scenes have no field {name!r}")
                setattr(scene, name, value)
            self._adopt_file_ids(scene.files)
            return scene

    def remove_scene(self, scene_id: int) -> None:
        with self.lock:
            del self.scenes[scene_id]

    def add_studio(self, name: str, **fields: Any) -> SimStudio:
        with self.lock:
            return self._insert(self.studios, SimStudio, name=name, **fields)

    def add_performer(self, name: str, **fields: Any) -> SimPerformer:
        with self.lock:
            return self._insert(self.performers, SimPerformer, name=name, **fields)

    def add_tag(self, name: str, **fields: Any) -> SimTag:
        with self.lock:
            return self._insert(self.tags, SimTag, name=name, **fields)

    def add_group(self, name: str, **fields: Any) -> SimGroup:
        with self.lock:
            return self._insert(self.groups, SimGroup, name=name, **fields)

    def update_entity(self, table: dict[int, _T], entity_id: int, **changes: Any) -> _T:
        """Change a studio/performer/tag/group (``updated_at`` becomes now); scenes keep theirs, as in Stash."""
        with self.lock:
            record = table[entity_id]
            changes.setdefault("updated_at", self.now())
            _whole_seconds(changes)
            for name, value in changes.items():
                if not hasattr(record, name):
                    raise AttributeError(f"{type(record).__name__} has no field {name!r}")
                setattr(record, name, value)
            return record

    def set_plugin_settings(self, plugin_id: str, settings: dict[str, Any]) -> None:
        with self.lock:
            self.plugins[plugin_id] = dict(settings)

    def replace_with(self, other: StashData) -> None:
        """Take over another data set's records (e.g. a generated one) in place."""
        with self.lock, other.lock:
            self.path_style, self.tz, self.version = other.path_style, other.tz, other.version
            self.scenes, self.studios, self.performers = other.scenes, other.studios, other.performers
            self.tags, self.groups, self.plugins = other.tags, other.groups, other.plugins
            self._next_file_id = other._next_file_id
            self._high_ids.clear()
            self._texts.clear()

    def _insert(self, table: dict[int, _T], cls: Callable[..., _T], **fields: Any) -> _T:
        now = self.now()
        fields.setdefault("created_at", now)
        fields.setdefault("updated_at", fields["created_at"])
        _whole_seconds(fields)
        entity_id = fields.pop("id", None) or self._next_id(table)
        record = cls(id=entity_id, **fields)
        table[entity_id] = record
        return record

    def _adopt_file_ids(self, files: Iterable[SimFile]) -> None:
        for file in files:
            self._next_file_id = max(self._next_file_id, file.id + 1)

    # -- relations -------------------------------------------------------------------------

    def descendants(self, kind: Literal["studio", "tag", "group"], roots: Iterable[int], depth: int | None) -> set[int]:
        """``roots`` and their children down to ``depth`` levels (-1: all), as Stash's hierarchical filters expand."""
        with self.lock:
            children: dict[int, list[int]] = {}
            if kind == "studio":
                for studio in self.studios.values():
                    if studio.parent_id is not None:
                        children.setdefault(studio.parent_id, []).append(studio.id)
            elif kind == "tag":
                for tag in self.tags.values():
                    for parent in tag.parent_ids:
                        children.setdefault(parent, []).append(tag.id)
            else:
                for group in self.groups.values():
                    children[group.id] = list(group.sub_group_ids)
            found = set(roots)
            frontier = set(found)
            level = 0
            limit = 0 if depth is None else depth
            while frontier and (limit < 0 or level < limit):
                frontier = {c for parent in frontier for c in children.get(parent, ())} - found
                found |= frontier
                level += 1
            return found

    # -- JSON seed files -------------------------------------------------------------------

    def to_json(self) -> dict[str, Any]:
        """A JSON-able dump that :meth:`from_json` reads back."""

        def dump(record: Any) -> dict[str, Any]:
            out = dataclasses.asdict(record)
            return json.loads(json.dumps(out, default=lambda v: v.isoformat()))  # type: ignore[no-any-return]

        with self.lock:
            return {
                "path_style": self.path_style,
                "tz_offset": format_offset(self.tz),
                "version": self.version,
                "studios": [dump(r) for r in self.studios.values()],
                "performers": [dump(r) for r in self.performers.values()],
                "tags": [dump(r) for r in self.tags.values()],
                "groups": [dump(r) for r in self.groups.values()],
                "scenes": [dump(r) for r in self.scenes.values()],
                "plugins": self.plugins,
            }

    @classmethod
    def from_json(cls, document: dict[str, Any]) -> StashData:
        """Load a seed document; files may give ``path`` instead of ``folder`` + ``basename``."""
        data = cls(
            path_style=document.get("path_style", "posix"),
            tz=parse_offset(document.get("tz_offset", format_offset(DEFAULT_TZ))),
            version=document.get("version", "v0.30.1"),
        )
        _load(data.studios, SimStudio, document.get("studios", []))
        _load(data.performers, SimPerformer, document.get("performers", []))
        _load(data.tags, SimTag, document.get("tags", []))
        _load(data.groups, SimGroup, document.get("groups", []))
        for item in document.get("scenes", []):
            item = dict(item)
            files = []
            for raw in item.pop("files", []):
                raw = dict(raw)
                if "path" in raw:
                    raw["folder"], raw["basename"] = data.split_path(raw.pop("path"))
                raw.setdefault("id", data._next_file_id)
                files.append(_record(SimFile, raw))
                data._adopt_file_ids(files)
            groups = [SimSceneGroup(**g) for g in item.pop("groups", [])]
            scene = _record(SimScene, item, files=files, groups=groups)
            data.scenes[scene.id] = scene
        data.plugins = {k: dict(v) for k, v in document.get("plugins", {}).items()}
        return data

    @classmethod
    def from_json_file(cls, path: Path) -> StashData:
        return cls.from_json(json.loads(path.read_text(encoding="utf-8")))


def _whole_seconds(fields: dict[str, Any]) -> None:
    """Stash stores timestamps to the second; so does the simulator, whatever a test passes."""
    for name, value in fields.items():
        if isinstance(value, datetime):
            fields[name] = value.replace(microsecond=0)


class _Record(Protocol):
    id: int


_R = TypeVar("_R", bound=_Record)


def _load(table: dict[int, _R], cls: type[_R], items: Iterable[dict[str, Any]]) -> None:
    for item in items:
        record = _record(cls, item)
        table[record.id] = record


def _record(cls: type[_T], item: dict[str, Any], **extra: Any) -> _T:
    """A dataclass from JSON, with ISO timestamps turned back into datetimes."""
    names = {f.name for f in dataclasses.fields(cls)}  # type: ignore[arg-type]
    values: dict[str, Any] = {}
    for name, value in item.items():
        if name not in names:
            raise ValueError(f"{cls.__name__}: unknown field {name!r} in seed data")
        if isinstance(value, str) and name in ("created_at", "updated_at", "mod_time"):
            value = datetime.fromisoformat(value.replace("Z", "+00:00"))
        values[name] = value
    values.update(extra)
    return cls(**values)
