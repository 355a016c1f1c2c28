"""The simulator's records rendered as Stash's GraphQL objects.

Objects are dicts keyed by schema field name. Related objects (and image URLs, which
cost a timestamp each) are zero-argument callables (or callables taking the field's
arguments) so they are only built when a query selects them; fields a dict lacks get
their zero value (see :func:`tests.sims.stash.schema.zero_value`).
"""

from __future__ import annotations

import zlib
from datetime import datetime
from typing import Any

from tests.sims.stash.model import SimFile, SimGroup, SimPerformer, SimScene, SimStudio, SimTag
from tests.sims.stash.store import StashData

Obj = dict[str, Any]


def unix(moment: datetime) -> int:
    return int(moment.timestamp())


class Renderer:
    """Renders records for one request; URLs use the host name that request came in on, as Stash does."""

    def __init__(self, data: StashData, base_url: str, api_key: str | None) -> None:
        self.data = data
        self.base_url = base_url.rstrip("/")
        self.api_key = api_key

    def time(self, moment: datetime) -> str:
        return self.data.timestamp_text(moment)

    def _image_url(self, path: str, updated_at: datetime, has_image: bool) -> str:
        url = f"{self.base_url}{path}?t={unix(updated_at)}"
        return url if has_image else url + "&default=true"

    # -- scenes ------------------------------------------------------------------------------

    def scene(self, scene: SimScene) -> Obj:
        data = self.data
        return {
            "id": scene.id,
            "title": scene.title,
            "code": scene.code,
            "details": scene.details,
            "director": scene.director,
            "url": scene.urls[0] if scene.urls else None,
            "urls": list(scene.urls),
            "date": scene.date,
            "rating100": scene.rating100,
            "organized": scene.organized,
            "o_counter": scene.o_counter,
            "play_count": scene.play_count,
            "created_at": lambda: self.time(scene.created_at),
            "updated_at": lambda: self.time(scene.updated_at),
            "files": lambda: [self.file(f) for f in scene.files],
            "paths": lambda: self.scene_paths(scene),
            "studio": lambda: self.studio(data.studios[scene.studio_id]) if scene.studio_id in data.studios else None,
            "performers": lambda: [self.performer(data.performers[i]) for i in scene.performer_ids],
            "tags": lambda: [self.tag(data.tags[i]) for i in scene.tag_ids],
            "groups": lambda: [
                {"group": self.group(data.groups[g.group_id]), "scene_index": g.scene_index} for g in scene.groups
            ],
            "movies": lambda: [
                {"movie": self.group(data.groups[g.group_id]), "scene_index": g.scene_index} for g in scene.groups
            ],
            "sceneStreams": lambda: [
                {"url": self.scene_paths(scene)["stream"], "mime_type": "video/mp4", "label": "Direct stream"}
            ],
        }

    def scene_paths(self, scene: SimScene) -> Obj:
        base = f"{self.base_url}/scene/{scene.id}"
        stream = f"{base}/stream" + (f"?apikey={self.api_key}" if self.api_key else "")
        return {
            "screenshot": f"{base}/screenshot?t={unix(scene.updated_at)}",
            "preview": f"{base}/preview",
            "stream": stream,
            "webp": f"{base}/webp",
            "vtt": f"{self.base_url}/scene/{scene.id}_thumbs.vtt",
            "sprite": f"{self.base_url}/scene/{scene.id}_sprite.jpg",
            "funscript": f"{base}/funscript",
            "interactive_heatmap": f"{base}/interactive_heatmap",
            "caption": f"{base}/caption",
        }

    def file(self, file: SimFile) -> Obj:
        fingerprints = dict(file.fingerprints)
        return {
            "__typename": "VideoFile",
            "id": file.id,
            "path": self.data.file_path(file),
            "basename": file.basename,
            "parent_folder": lambda: self.folder(file.folder),
            "parent_folder_id": self._folder_id(file.folder),
            "mod_time": lambda: self.time(file.mod_time),
            "size": file.size,
            "fingerprint": lambda type: fingerprints.get(type),
            "fingerprints": [{"type": k, "value": v} for k, v in fingerprints.items()],
            "format": file.format,
            "width": file.width,
            "height": file.height,
            "duration": file.duration,
            "video_codec": file.video_codec,
            "audio_codec": file.audio_codec,
            "frame_rate": file.frame_rate,
            "bit_rate": file.bit_rate,
            "created_at": lambda: self.time(file.created_at),
            "updated_at": lambda: self.time(file.updated_at),
        }

    def _folder_id(self, path: str) -> int:
        return zlib.crc32(path.encode()) % 10_000_000 + 1

    def folder(self, path: str) -> Obj:
        parent, _, _ = path.rpartition(self.data.separator)
        return {
            "id": self._folder_id(path),
            "path": path,
            "parent_folder": (lambda: self.folder(parent)) if parent else None,
            "mod_time": self.time(self.data.now()),
            "created_at": self.time(self.data.now()),
            "updated_at": self.time(self.data.now()),
        }

    # -- related entities -------------------------------------------------------------------

    def _scene_count(self, test: Any) -> int:
        return sum(1 for s in self.data.scenes.values() if test(s))

    def studio(self, studio: SimStudio) -> Obj:
        data = self.data

        def count(depth: int | None = None) -> int:
            ids = data.descendants("studio", [studio.id], depth)
            return self._scene_count(lambda s: s.studio_id in ids)

        return {
            "id": studio.id,
            "name": studio.name,
            "url": studio.urls[0] if studio.urls else None,
            "urls": list(studio.urls),
            "aliases": list(studio.aliases),
            "details": studio.details,
            "parent_studio": lambda: (
                self.studio(data.studios[studio.parent_id]) if studio.parent_id in data.studios else None
            ),
            "child_studios": lambda: [self.studio(s) for s in data.studios.values() if s.parent_id == studio.id],
            "image_path": lambda: self._image_url(f"/studio/{studio.id}/image", studio.updated_at, studio.has_image),
            "scene_count": count,
            "created_at": lambda: self.time(studio.created_at),
            "updated_at": lambda: self.time(studio.updated_at),
        }

    def performer(self, performer: SimPerformer) -> Obj:
        return {
            "id": performer.id,
            "name": performer.name,
            "disambiguation": performer.disambiguation,
            "gender": performer.gender,
            "url": performer.urls[0] if performer.urls else None,
            "urls": list(performer.urls),
            "alias_list": list(performer.alias_list),
            "favorite": performer.favorite,
            "image_path": self._image_url(
                f"/performer/{performer.id}/image", performer.updated_at, performer.has_image
            ),
            "scene_count": lambda: self._scene_count(lambda s: performer.id in s.performer_ids),
            "scenes": lambda: [self.scene(s) for s in self.data.scenes.values() if performer.id in s.performer_ids],
            "created_at": lambda: self.time(performer.created_at),
            "updated_at": lambda: self.time(performer.updated_at),
        }

    def tag(self, tag: SimTag) -> Obj:
        data = self.data

        def count(depth: int | None = None) -> int:
            ids = data.descendants("tag", [tag.id], depth)
            return self._scene_count(lambda s: bool(ids.intersection(s.tag_ids)))

        def children() -> list[SimTag]:  # a walk over every tag: only when the query asks
            return [t for t in data.tags.values() if tag.id in t.parent_ids]

        return {
            "id": tag.id,
            "name": tag.name,
            "description": tag.description,
            "aliases": list(tag.aliases),
            "image_path": lambda: self._image_url(f"/tag/{tag.id}/image", tag.updated_at, tag.has_image),
            "scene_count": count,
            "parents": lambda: [self.tag(data.tags[i]) for i in tag.parent_ids if i in data.tags],
            "children": lambda: [self.tag(t) for t in children()],
            "parent_count": len(tag.parent_ids),
            "child_count": lambda: len(children()),
            "created_at": lambda: self.time(tag.created_at),
            "updated_at": lambda: self.time(tag.updated_at),
        }

    def group(self, group: SimGroup) -> Obj:
        data = self.data

        def count(depth: int | None = None) -> int:
            ids = data.descendants("group", [group.id], depth)
            return self._scene_count(lambda s: any(g.group_id in ids for g in s.groups))

        return {
            "id": group.id,
            "name": group.name,
            "date": group.date,
            "synopsis": group.synopsis,
            "studio": lambda: self.studio(data.studios[group.studio_id]) if group.studio_id in data.studios else None,
            "front_image_path": lambda: self._image_url(
                f"/group/{group.id}/frontimage", group.updated_at, group.has_image
            ),
            "scene_count": count,
            "sub_groups": lambda: [
                {"group": self.group(data.groups[i]), "description": None} for i in group.sub_group_ids
            ],
            "containing_groups": lambda: [
                {"group": self.group(g), "description": None}
                for g in data.groups.values()
                if group.id in g.sub_group_ids
            ],
            "created_at": lambda: self.time(group.created_at),
            "updated_at": lambda: self.time(group.updated_at),
        }
