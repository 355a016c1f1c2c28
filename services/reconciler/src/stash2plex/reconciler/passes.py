"""One reconciliation pass, end to end: Plex's listing, then Stash page by page, then Plex's leftovers.

1. **Plex** (``phase="plex"``): every movie of the configured libraries into the syncer's index,
   with a few facts per item (:mod:`.plex_side`), page by page in a worker thread.
2. **Stash** (``"stash"``): pages of scenes in id order (only those changed since the scope's
   start for 24 h / 7 d: Stash's text comparison is widened, the exact moment applied here), the
   next page requested while this one is compared. For each page the sync records are read
   (pipelined, a bounded number in flight: :mod:`.records`), each scene is judged
   (:mod:`.compare`), Plex is asked to scan the folders of scenes it lacks, and the page's gaps are
   published (:mod:`.gaps`).
3. **Plex only** (``"plex_only"``): items no scene claimed are ``missing_in_stash``. A scoped pass
   has not seen every scene, so it looks only at items Plex added within the scope and asks Stash
   for each one's scene by GUID and path.

Only one page of Stash scenes is held at a time; what stays for the whole pass is the compact
Plex index and the set of items a scene claimed.
"""

from __future__ import annotations

import asyncio
import gc
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import datetime

from stash2plex.common.contracts import Gap
from stash2plex.common.pathmap import PathMapper
from stash2plex.common.plexguid import scene_id_from_guid
from stash2plex.common.reconciliation import PassProgress, Phase, Scope, Trigger, no_gaps
from stash2plex.common.stash.client import StashClient
from stash2plex.common.stash.models import Scene
from stash2plex.common.subjects import GapKind
from stash2plex.reconciler import metrics
from stash2plex.reconciler.compare import Verdict, judge
from stash2plex.reconciler.gaps import GapPublisher
from stash2plex.reconciler.plex_side import PlexLibrary, PlexReader, folder_of
from stash2plex.reconciler.records import RecordReader, parse_record
from stash2plex.reconciler.settings import ReconcilerSettings
from stash2plex.syncer.mapping import desired_metadata
from stash2plex.syncer.plex_listing import IndexedItem
from stash2plex.syncer.writer import PlexWriter

log = logging.getLogger(__name__)

STASH_LOOKUPS = 4
"""Stash requests in flight at once when a scoped pass checks Plex's new items."""
YIELD_EVERY = 200
"""Scenes compared between two returns to the event loop (the next page and the lease keep moving)."""

CircuitCheck = Callable[[], Awaitable[str | None]]


class PassAbortedError(RuntimeError):
    """The pass cannot go on (Plex went down during it); the reason goes into the history."""


@dataclass
class Tally:
    """A running pass's counters; :meth:`progress` is what the lease carries."""

    pass_id: str
    scope: Scope
    trigger: Trigger
    holder: str
    started_at: datetime
    phase: Phase = "plex"
    plex_items: int = 0
    plex_total: int | None = None
    scenes_compared: int = 0
    scenes_total: int | None = None
    gaps: dict[str, int] = field(default_factory=no_gaps)
    ambiguous: int = 0
    scans: int = 0
    stash_started: float | None = None

    def progress(self, now: datetime, clock_s: float) -> PassProgress:
        eta: float | None = None
        if self.phase == "stash" and self.stash_started is not None and self.scenes_total and self.scenes_compared:
            rate = self.scenes_compared / max(clock_s - self.stash_started, 1e-6)
            eta = max(0.0, (self.scenes_total - self.scenes_compared) / rate)
        return PassProgress(
            pass_id=self.pass_id,
            scope=self.scope,
            trigger=self.trigger,
            holder=self.holder,
            started_at=self.started_at,
            phase=self.phase,
            plex_items=self.plex_items,
            plex_total=self.plex_total,
            scenes_compared=self.scenes_compared,
            scenes_total=self.scenes_total,
            gaps=dict(self.gaps),
            eta_s=None if eta is None else round(eta, 1),
            updated_at=now,
        )


class ReconciliationPass:
    """Runs once; ``tally`` shows how far it got at any moment."""

    def __init__(
        self,
        settings: ReconcilerSettings,
        stash: StashClient,
        records: RecordReader,
        reader: PlexReader,
        publisher: GapPublisher,
        circuit_open: CircuitCheck,
        tally: Tally,
        clock_s: Callable[[], float],
    ) -> None:
        self.settings, self.options = settings, settings.reconciler
        self.fields, self.write, self.match = settings.syncer.fields, settings.syncer.write, settings.syncer.match
        self.stash, self.records, self.reader, self.publisher = stash, records, reader, publisher
        self.circuit_open, self.tally, self.clock_s = circuit_open, tally, clock_s
        self.mapper: PathMapper = reader.mapper
        stash_url = settings.stash.url
        self.photo_base = str(stash_url).rstrip("/") if stash_url else None
        self.claimed: set[str] = set()
        self.scanned: set[tuple[str, bool]] = set()

    async def run(self) -> None:
        tally = self.tally
        since = tally.scope.since(tally.started_at)

        # The index is a million-odd long-lived objects. Left to the cyclic collector, every full
        # collection walks all of them (~0.3 s at 100,000 items, twenty-odd times a pass); frozen,
        # they are not walked, while refcounting still frees them when the pass lets go. The
        # collector gets them back when the pass ends (only one pass runs in a process).
        freezing = True

        def on_plex(seen: int, total: int | None) -> None:
            tally.plex_items, tally.plex_total = seen, total
            if freezing:  # a cancelled pass's reader thread reads on: it freezes nothing after the end
                gc.freeze()  # the page just indexed stays for the pass

        try:
            library = await asyncio.to_thread(self.reader.read, on_plex)
            gc.freeze()
            tally.plex_items = len(library)
            log.info("pass %s: %d Plex item(s) in %d library(ies)", tally.pass_id, len(library), len(library.sections))

            tally.phase, tally.stash_started = "stash", self.clock_s()
            await self._stash_side(library, since)
            await self.publisher.flush()

            tally.phase = "plex_only"
            await self._plex_only(library, since)
            await self.publisher.flush()
            tally.scenes_total = tally.scenes_compared
        finally:
            freezing = False
            gc.unfreeze()

    # -- Stash, page by page -----------------------------------------------------------------
    async def _stash_side(self, library: PlexLibrary, since: datetime | None) -> None:
        per_page = self.options.stash_page_size
        number = 1
        upcoming = asyncio.create_task(self.stash.compare_scenes_page(number, per_page, since))
        try:
            while True:
                page = await upcoming
                if self.tally.scenes_total is None:
                    self.tally.scenes_total = page.count
                more = bool(page.scenes) and page.has_next
                if more:
                    number += 1
                    upcoming = asyncio.create_task(self.stash.compare_scenes_page(number, per_page, since))
                reason = await self.circuit_open()
                if reason:
                    raise PassAbortedError(f"Plex went down during the pass: {reason}")
                scenes = [s for s in page.scenes if since is None or s.changed_since(since)]
                await self._compare(scenes, library)
                if not more:
                    return
        finally:
            if not upcoming.done():
                upcoming.cancel()

    async def _compare(self, scenes: list[Scene], library: PlexLibrary) -> None:
        # As stored: a record is parsed when its scene is judged (a page of parsed records is ~7 MB).
        values = await self.records.values([s.id for s in scenes])
        found: list[tuple[Scene, Verdict]] = []
        strict, preserve = self.match.strict, self.write.preserve_plex_edits
        for n, (scene, value) in enumerate(zip(scenes, values, strict=True), start=1):
            record = parse_record(scene.id, value)
            desired = desired_metadata(scene, self.fields, self.write, photo_base_url=self.photo_base)
            match = library.index.lookup(PlexWriter.query(desired), strict=strict)
            verdict = judge(scene, desired, match, record, library.facts, preserve_plex_edits=preserve)
            self.claimed.update(verdict.rating_keys)
            if verdict.ambiguous:
                self.tally.ambiguous += 1
            if verdict.kind is not None:
                found.append((scene, verdict))
            self.tally.scenes_compared += 1
            if n % YIELD_EVERY == 0:
                await asyncio.sleep(0)
        metrics.ITEMS_COMPARED.inc(len(scenes))
        for scene, verdict in found:
            if verdict.kind is GapKind.MISSING_IN_PLEX and self.options.scan_missing:
                await self._scan_for(scene, library)
            assert verdict.kind is not None
            gap = Gap(kind=verdict.kind, scene_id=scene.id, detail=verdict.detail, pass_id=self.tally.pass_id)
            await self._gap(gap)

    async def _scan_for(self, scene: Scene, library: PlexLibrary) -> None:
        """Ask Plex to scan the folders of a scene it has no item for (each folder once a pass, up to the limit)."""
        for file in scene.files:
            mapped = self.mapper.to_plex(file.path)
            folder = (folder_of(mapped.path), mapped.case_sensitive)
            if folder in self.scanned or len(self.scanned) >= self.options.scan_limit:
                continue
            self.scanned.add(folder)
            try:
                asked = await asyncio.to_thread(self.reader.scan, library.sections, *folder)
            except Exception as error:  # a scan is a courtesy: the gap is published either way
                log.warning("could not ask Plex to scan a folder of scene %s: %s", scene.id, error)
                continue
            if asked:
                self.tally.scans += 1

    async def _gap(self, gap: Gap) -> None:
        self.tally.gaps[gap.kind.value] += 1
        await self.publisher.publish(gap)

    # -- Plex items without a scene ------------------------------------------------------------
    async def _plex_only(self, library: PlexLibrary, since: datetime | None) -> None:
        items = library.index.items
        if since is None:
            for rating_key, item in items.items():
                if rating_key not in self.claimed:
                    await self._missing_in_stash(item)
            return
        after = since.timestamp()
        fresh = [items[rk] for rk, fact in library.facts.items() if fact.added_at >= after and rk not in self.claimed]
        slots = asyncio.Semaphore(STASH_LOOKUPS)

        async def check(item: IndexedItem) -> None:
            async with slots:
                if not await self._has_scene(item):
                    await self._missing_in_stash(item)

        await asyncio.gather(*(check(item) for item in fresh))

    async def _has_scene(self, item: IndexedItem) -> bool:
        bound = scene_id_from_guid(item.guid) if item.guid else None
        if bound is not None and await self.stash.find_scene(bound) is not None:
            return True
        for file in item.files:
            mapped = self.mapper.to_stash(file)
            wanted = PathMapper.key(mapped.path, case_sensitive=mapped.case_sensitive)
            for scene in await self.stash.find_scenes_by_path(mapped.path):
                if any(PathMapper.key(f.path, case_sensitive=mapped.case_sensitive) == wanted for f in scene.files):
                    return True
        return False

    async def _missing_in_stash(self, item: IndexedItem) -> None:
        gap = Gap(
            kind=GapKind.MISSING_IN_STASH,
            plex_rating_key=item.rating_key,
            plex_path=item.files[0] if item.files else None,
            detail=f"no Stash scene has the file of Plex item {item.rating_key} ({item.title})",
            pass_id=self.tally.pass_id,
        )
        await self._gap(gap)
