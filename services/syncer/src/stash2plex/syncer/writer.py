"""What a sync job does to Plex: find the scene's items, read each, write only the difference.

Each item costs one read (``GET /library/metadata/<rk>``), then at most one batched edit
(``PUT /library/sections/<id>/all``), a rating (``PUT /:/rate``) when it changed, and one upload
per image whose bytes changed. The rules of what to write are in :mod:`.mapping` and :mod:`.diff`;
this module only talks to Plex, through plexapi's server and session (thread-safe: jobs run in
worker threads).

A failure part-way keeps what succeeded: the returned sync record lists what is still pending,
so the retry reads the item again and redoes only that.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from urllib.parse import quote_plus

from plexapi.utils import joinArgs

from stash2plex.common.stash.models import Scene
from stash2plex.syncer.diff import DiffOptions, EditPlan, plan_edit
from stash2plex.syncer.errors import ItemNotInPlex, PlexHTTPError
from stash2plex.syncer.images import CoverImages, ImageFetcher, ImageRejected
from stash2plex.syncer.mapping import ACTOR, COLLECTION, GENRE, USER_RATING, DesiredMetadata, desired_metadata
from stash2plex.syncer.matching import Matcher
from stash2plex.syncer.plex import connect
from stash2plex.syncer.plex_gate import PlexGate
from stash2plex.syncer.plex_index import MatchQuery
from stash2plex.syncer.plex_item import PlexItemState, parse_detail, parse_item
from stash2plex.syncer.plex_listing import PlexListing
from stash2plex.syncer.settings import SyncerSettings
from stash2plex.syncer.sync_record import FIELDS_PENDING, ItemRecord, SyncRecord, now_utc

log = logging.getLogger(__name__)

UPLOAD_PATHS = {"thumb": "posters", "art": "arts"}
ALL_LOCKABLE = (
    "title",
    "titleSort",
    "summary",
    "tagline",
    "originallyAvailableAt",
    "year",
    "studio",
    GENRE,
    ACTOR,
    COLLECTION,
    "thumb",
    "art",
)


class AmbiguousMatch(ItemNotInPlex):
    """Several Plex items could be the scene and strict matching does not guess; retried like a miss
    (Plex's library may change), and dead-lettered with this message when it never resolves."""


class CoverPending(ItemNotInPlex):
    """The fields are written; the new scene's cover is uploaded on a later attempt."""


@dataclass(frozen=True)
class WriteContext:
    """What one job adds to the scene: where its images come from, and whether it is brand new."""

    fetch: ImageFetcher
    stash_updated_at: datetime
    new_scene: bool = False


@dataclass(frozen=True)
class WriteOutcome:
    record: SyncRecord | None
    """The record to keep (None: keep the one there is)."""
    edited: int
    error: BaseException | None = None
    """Raise this once the record is stored: part of the work is still to do."""


class PlexWriter:
    """One per syncer process; its index and connection are shared by the worker threads."""

    def __init__(
        self, settings: SyncerSettings, clock: Callable[[], float] = time.time, gate: PlexGate | None = None
    ) -> None:
        self.settings, self.clock, self.gate = settings, clock, gate
        options = settings.syncer
        self.fields, self.write_options = options.fields, options.write
        self.mapper = settings.paths.mapper()
        self.listing = PlexListing(self.server, gate=gate)
        self.matcher = Matcher(self.listing, self.mapper, options.match, options.index_refresh_min_s)
        self._server: Any = None
        self._lock = threading.Lock()
        stash_url = settings.stash.url
        self._photo_base = str(stash_url).rstrip("/") if stash_url else None

    def server(self) -> Any:
        with self._lock:
            if self._server is None:
                self._server = connect(self.settings.plex, self.gate)
            return self._server

    def reset(self) -> None:
        """Forget the connection (after an outage or a token change)."""
        with self._lock:
            self._server = None

    # -- deciding without Plex ---------------------------------------------------------------
    def prepare(self, scene: Scene) -> DesiredMetadata:
        return desired_metadata(scene, self.fields, self.write_options, photo_base_url=self._photo_base)

    @staticmethod
    def query(desired: DesiredMetadata) -> MatchQuery:
        return MatchQuery(
            scene_id=desired.scene_id, files=desired.files, title=desired.title_hint, duration_s=desired.duration_s
        )

    def up_to_date(self, desired: DesiredMetadata, record: SyncRecord | None) -> bool:
        """Nothing to do: the last sync wrote this very content, completely, to the items Plex still has."""
        if record is None or not record.complete or record.content_hash != desired.content_hash:
            return False
        seen = self.matcher.peek(self.query(desired))
        return seen is None or (seen.found and tuple(sorted(seen.rating_keys)) == record.rating_keys)

    # -- writing ---------------------------------------------------------------------------
    def write(
        self,
        desired: DesiredMetadata,
        record: SyncRecord | None,
        context: WriteContext,
        read: Mapping[str, PlexItemState | None] | None = None,
    ) -> WriteOutcome:
        """Bring every Plex item of the scene in step; see :class:`WriteOutcome`.

        ``read`` holds items already read for this job (None: gone from Plex); the others are read here.
        """
        result = self.matcher.match(self.query(desired))
        if result.ambiguous:
            log.warning("scene %s is not written: %s", desired.scene_id, result.detail)
            raise AmbiguousMatch(f"scene {desired.scene_id} is ambiguous: {result.detail}")
        if not result.found:
            return self._not_found(desired, record, context, result.detail)
        age_s = self.clock() - desired.created_at.timestamp()
        options = DiffOptions(
            preserve_plex_edits=self.write_options.preserve_plex_edits,
            defer_images=bool(desired.images) and age_s < self.write_options.screenshot_wait_s,
        )
        covers = CoverImages(context.fetch)
        items: list[ItemRecord] = []
        edited = 0
        error: BaseException | None = None
        keys = list(result.rating_keys)
        for position, rating_key in enumerate(keys):
            previous = record.item(rating_key) if record else None
            try:
                current = self._current(rating_key, read)
                item, wrote, error = self._write_item(current, desired, previous, covers, options)
            except ItemNotInPlex as gone:
                error = gone
                keys_left = keys[position + 1 :]
            except Exception as failed:
                error = failed
                items.append(_still_pending(rating_key, previous))
                keys_left = keys[position + 1 :]
            else:
                items.append(item)
                edited += wrote
                if error is None:
                    continue
                keys_left = keys[position + 1 :]
            items.extend(_still_pending(rk, record.item(rk) if record else None) for rk in keys_left)
            break
        if error is None and options.defer_images and any(item.pending for item in items):
            error = CoverPending(
                f"scene {desired.scene_id} is {age_s:.0f}s old: its cover is uploaded once Stash has generated it"
            )
        new_record = SyncRecord(
            scene_id=desired.scene_id,
            stash_updated_at=context.stash_updated_at,
            content_hash=desired.content_hash,
            items=tuple(items),
            confidence=result.confidence.value if result.confidence else None,
            scan_requested_at=record.scan_requested_at if record else None,
            synced_at=now_utc(),
        )
        return WriteOutcome(record=new_record, edited=edited, error=error)

    def _not_found(
        self, desired: DesiredMetadata, record: SyncRecord | None, context: WriteContext, detail: str
    ) -> WriteOutcome:
        missing = ItemNotInPlex(f"no Plex item for scene {desired.scene_id} yet: {detail}")
        asked = record.scan_requested_at if record else None
        if not (context.new_scene and self.write_options.scan_on_create and asked is None):
            raise missing
        folders = self._scan_folders(desired.files)
        if not folders:
            raise missing
        log.info("asked Plex to scan %s for new scene %s", ", ".join(folders), desired.scene_id)
        marked = SyncRecord(
            scene_id=desired.scene_id,
            stash_updated_at=context.stash_updated_at,
            content_hash="",
            items=record.items if record else (),
            scan_requested_at=self.clock(),
            synced_at=now_utc(),
        )
        return WriteOutcome(record=marked, edited=0, error=missing)

    def _current(self, rating_key: str, read: Mapping[str, PlexItemState | None] | None) -> PlexItemState:
        if read is None or rating_key not in read:
            return self.read_item(rating_key)
        state = read[rating_key]
        if state is None:
            self.matcher.forget(rating_key)
            raise ItemNotInPlex(f"Plex item {rating_key} is gone")
        return state

    def _write_item(
        self,
        current: PlexItemState,
        desired: DesiredMetadata,
        previous: ItemRecord | None,
        covers: CoverImages,
        options: DiffOptions,
    ) -> tuple[ItemRecord, int, BaseException | None]:
        rating_key = current.rating_key
        digests: dict[str, str] = {}
        if not options.defer_images:
            for element, url in desired.images.items():
                try:
                    digests[element] = covers.digest(element, url, previous)
                except ImageRejected as rejected:
                    log.warning("scene %s: %s", desired.scene_id, rejected)
        plan = plan_edit(current, desired, previous, digests, options)
        if plan.held:
            log.info(
                "scene %s is held by the metadata gate: Plex item %s has metadata and the scene has none yet",
                desired.scene_id,
                rating_key,
            )
        if plan.params:
            self.edit(plan)
        if plan.user_rating is not None:
            self.rate(rating_key, plan.user_rating)
        images = dict(previous.images) if previous else {}
        urls = dict(previous.image_urls) if previous else {}
        for element, digest in digests.items():
            if images.get(element) == digest:
                urls[element] = desired.images[element]  # same bytes under a new URL: no fetch next time
        pending = list(plan.deferred)
        error: BaseException | None = None
        for element in plan.uploads:
            url = desired.images[element]
            try:
                self.upload(rating_key, element, covers.data(url))
            except ImageRejected as rejected:
                log.warning("scene %s: %s", desired.scene_id, rejected)
                continue
            except Exception as failed:
                pending.append(element)
                error = error or failed
                continue
            images[element], urls[element] = digests[element], url
        item = ItemRecord(
            rating_key=rating_key,
            section_id=current.section_id,
            written=plan.written,
            collections=plan.collections,
            images=images,
            image_urls=urls,
            pending=tuple(pending),
        )
        return item, int(plan.writes), error

    # -- Plex requests ---------------------------------------------------------------------
    def read_item(self, rating_key: str) -> PlexItemState:
        try:
            state = parse_detail(self.listing.get(f"/library/metadata/{rating_key}"))
        except PlexHTTPError as error:
            if error.status != 404:
                raise
            state = None
        if state is None:
            self.matcher.forget(rating_key)
            raise ItemNotInPlex(f"Plex item {rating_key} is gone")
        return state

    def read_items(self, rating_keys: list[str]) -> dict[str, PlexItemState | None]:
        """Several items in one request (``/library/metadata/1,2,3``); None for each Plex does not have."""
        try:
            root = self.listing.get("/library/metadata/" + ",".join(rating_keys))
        except PlexHTTPError as error:
            if error.status != 404:
                raise
            return dict.fromkeys(rating_keys)  # Plex has none of them
        found = {state.rating_key: state for state in map(parse_item, root.iter("Video"))}
        return {rating_key: found.get(rating_key) for rating_key in rating_keys}

    def edit(self, plan: EditPlan) -> None:
        self._put(f"/library/sections/{plan.section_id}/all", {"type": "1", "id": plan.rating_key, **plan.params})

    def rate(self, rating_key: str, value: str) -> None:
        args = {"key": rating_key, "identifier": "com.plexapp.plugins.library", "rating": value or "-1"}
        self._put("/:/rate", args)

    def upload(self, rating_key: str, element: str, data: bytes) -> None:
        server = self.server()
        server.query(f"/library/metadata/{rating_key}/{UPLOAD_PATHS[element]}", method=server._session.post, data=data)

    def _put(self, path: str, args: dict[str, str]) -> None:
        server = self.server()
        server.query(path + joinArgs(args), method=server._session.put)  # type: ignore[no-untyped-call]

    def _scan_folders(self, files: tuple[str, ...]) -> list[str]:
        """Ask Plex to scan the folder of each file in the libraries that hold it; the folders asked for."""
        scanned: list[str] = []
        server = self.server()
        for path in files:
            mapped = self.mapper.to_plex(path)
            cut = max(mapped.path.rfind("/"), mapped.path.rfind("\\"))
            folder = mapped.path[:cut] if cut > 0 else mapped.path
            if folder in scanned:
                continue
            for section in self.matcher.section_for_folder(folder, mapped.case_sensitive):
                server.query(f"/library/sections/{section.id}/refresh?path={quote_plus(folder)}")
                if folder not in scanned:
                    scanned.append(folder)
        return scanned

    # -- destroyed scenes --------------------------------------------------------------------
    def unlock(self, scene_id: str, record: SyncRecord | None, paths: list[str]) -> int:
        """Give the fields Stash2Plex locked back to Plex's agents; returns how many items were unlocked."""
        targets: list[tuple[str, str, list[str]]] = []
        if record is not None and record.items:
            for item in record.items:
                names = [n for n in item.written if n != USER_RATING] + list(item.images)
                if item.collections:
                    names.append(COLLECTION)
                targets.append((item.rating_key, item.section_id, names))
        elif paths:
            result = self.matcher.match(MatchQuery(scene_id=scene_id, files=tuple(paths)))
            if result.found and result.score >= 1.0:
                for rating_key in result.rating_keys:
                    state = self.read_item(rating_key)
                    targets.append((rating_key, state.section_id, list(ALL_LOCKABLE)))
        for rating_key, section_id, names in targets:
            params = {f"{name}.locked": "0" for name in sorted(set(names))}
            if params:
                self.edit(EditPlan(rating_key=rating_key, section_id=section_id, params=params))
        return len(targets)


def _still_pending(rating_key: str, previous: ItemRecord | None) -> ItemRecord:
    """An item this job did not finish: what it had before, with everything still to do."""
    if previous is None:
        return ItemRecord(rating_key=rating_key, section_id="", pending=(FIELDS_PENDING,))
    return previous.model_copy(update={"pending": tuple(dict.fromkeys((*previous.pending, FIELDS_PENDING)))})
