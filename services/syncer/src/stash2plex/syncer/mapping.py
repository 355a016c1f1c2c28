"""What a Stash scene should look like in Plex: pure, so every rule can be tested on its own.

The result, :class:`DesiredMetadata`, names only the fields whose toggle is on: a field absent
from it is never touched. A field present with an empty value means "Stash has nothing here";
what that does to Plex is decided in :mod:`.diff` (the emptied-field rule and the metadata gate).

Text is cleaned the way Plex needs it: control characters removed (line breaks kept in the
summary only), unpaired surrogates dropped, and lengths capped. Plex documents no limits; the
caps below are assumptions (a 255-character title column is the common database layout), and
the cut keeps whole characters. Unicode is kept as Stash has it.
"""

from __future__ import annotations

import hashlib
import re
from datetime import date
from functools import lru_cache
from urllib.parse import parse_qsl, urlsplit, urlunsplit

from pydantic import AwareDatetime, BaseModel, ConfigDict

from stash2plex.common.stash.models import Performer, Scene
from stash2plex.syncer.sync_options import FieldToggles, WriteOptions

TITLE_MAX = 255
"""Title, sort title, tagline, studio, and every tag, actor and collection name."""
SUMMARY_MAX = 10_000

# Plex field names, as the edit API spells them.
TITLE, TITLE_SORT, SUMMARY, TAGLINE = "title", "titleSort", "summary", "tagline"
DATE, YEAR, STUDIO, USER_RATING = "originallyAvailableAt", "year", "studio", "userRating"
GENRE, ACTOR, COLLECTION = "genre", "actor", "collection"
POSTER, BACKGROUND = "thumb", "art"

_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\ud800-\udfff\ufffe\uffff]")
_LINE_BREAKS = re.compile(r"[\t\r\n\u2028\u2029]+")
_CONTROL_OR_BREAK = re.compile(r"[\x00-\x1f\x7f-\x9f\ud800-\udfff\ufffe\uffff\u2028\u2029]+")


class Actor(BaseModel):
    """A performer as a Plex actor; ``photo`` is a URL Plex fetches itself."""

    model_config = ConfigDict(frozen=True)

    name: str
    photo: str | None = None


class DesiredMetadata(BaseModel):
    """Everything the syncer wants one scene's Plex item(s) to show, plus what finds the item."""

    model_config = ConfigDict(frozen=True)

    scene_id: str
    fields: dict[str, str]
    """Plex field → value; "" means Stash has none. Only fields whose toggle is on."""
    genres: tuple[str, ...] | None = None
    actors: tuple[Actor, ...] | None = None
    collections: tuple[str, ...] | None = None
    images: dict[str, str] = {}
    """``thumb``/``art`` → the Stash image URL to upload from (only toggled-on elements)."""
    meaningful: bool
    """Stash has a studio, performers, tags, details or a date: the scene is identified."""
    files: tuple[str, ...]
    """The scene's file paths as Stash sees them, primary first."""
    title_hint: str | None = None
    """The scene's own title (not the file-name fallback), for the title fallback of matching."""
    duration_s: float | None = None
    created_at: AwareDatetime
    content_hash: str = ""
    """Hash of everything above plus the options that shape a write; equal hashes mean equal writes."""


def one_line(text: str | None, limit: int = TITLE_MAX) -> str:
    """A single-line value: line breaks become one space, other control characters go."""
    if not text:
        return ""
    cleaned = _CONTROL_OR_BREAK.sub(lambda m: " " if _LINE_BREAKS.search(m.group()) else "", text)
    return _cap(cleaned.strip(), limit)


def multi_line(text: str | None, limit: int = SUMMARY_MAX) -> str:
    """A summary: line breaks kept (as ``\\n``), other control characters removed."""
    if not text:
        return ""
    cleaned = _CONTROL.sub("", text.replace("\r\n", "\n").replace("\r", "\n"))
    return _cap(cleaned.strip(), limit)


def _cap(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[:limit].rstrip()


def plex_rating(rating100: int | None) -> str:
    """Stash's 0–100 as Plex's 0–10 with one decimal ("" when unrated)."""
    if rating100 is None:
        return ""
    return f"{min(max(rating100, 0), 100) / 10:.1f}"


def valid_date(text: str | None) -> str:
    """``YYYY-MM-DD`` when Stash's date is a real date, else "" (Plex refuses anything else)."""
    if not text:
        return ""
    try:
        return date.fromisoformat(text.strip()).isoformat()
    except ValueError:
        return ""


def file_title(scene: Scene) -> str:
    """The primary file's name without its extension: Plex needs a title when Stash has none."""
    primary = scene.primary_file
    if primary is None:
        return ""
    stem, dot, _ = primary.basename.rpartition(".")
    return stem if dot and stem else primary.basename


def unique(names: list[str], limit: int | None = None) -> tuple[str, ...]:
    """Cleaned names, first spelling of each (Plex compares tags ignoring case), in Stash's order."""
    seen: set[str] = set()
    out: list[str] = []
    for raw in names:
        name = one_line(raw)
        key = name.casefold()
        if not name or key in seen:
            continue
        seen.add(key)
        out.append(name)
        if limit is not None and len(out) >= limit:
            break
    return tuple(out)


def photo_url(performer: Performer, base_url: str | None) -> str | None:
    """The performer's photo for Plex; None for Stash's placeholder image (``default=true``)."""
    return _photo_url(performer.image_path, base_url) if performer.image_path else None


@lru_cache(maxsize=4096)
def _photo_url(image_path: str, base_url: str | None) -> str | None:
    """Cached: a performer is in many scenes, and a reconciliation pass maps 100,000 of them."""
    parts = urlsplit(image_path)
    if any(k == "default" and v == "true" for k, v in parse_qsl(parts.query)):
        return None
    query = "&".join(f"{k}={v}" for k, v in parse_qsl(parts.query, keep_blank_values=True) if k.lower() != "apikey")
    if base_url is None:
        return urlunsplit((parts.scheme, parts.netloc, parts.path, query, ""))
    return base_url.rstrip("/") + parts.path + (f"?{query}" if query else "")


def actors_of(scene: Scene, base_url: str | None) -> tuple[Actor, ...]:
    seen: set[str] = set()
    out: list[Actor] = []
    for performer in scene.performers:
        name = one_line(performer.name)
        if not name or name.casefold() in seen:
            continue
        seen.add(name.casefold())
        out.append(Actor(name=name, photo=photo_url(performer, base_url)))
    return tuple(out)


def is_meaningful(scene: Scene) -> bool:
    """Whether Stash has identified the scene: any of studio, performers, tags, details, date."""
    return bool(scene.studio or scene.performers or scene.tags or (scene.details or "").strip() or scene.date)


def desired_metadata(
    scene: Scene, toggles: FieldToggles, options: WriteOptions, *, photo_base_url: str | None = None
) -> DesiredMetadata:
    """The Plex metadata ``scene`` maps to under ``toggles`` and ``options``."""
    fields: dict[str, str] = {}
    genres = actors = collections = None
    images: dict[str, str] = {}
    if toggles.enabled:
        if toggles.title:
            title = one_line(scene.title) or one_line(file_title(scene))
            if title:
                fields[TITLE] = fields[TITLE_SORT] = title
        if toggles.summary:
            fields[SUMMARY] = multi_line(scene.details)
        if toggles.tagline:
            fields[TAGLINE] = one_line(scene.code)
        if toggles.date:
            day = valid_date(scene.date)
            fields[DATE], fields[YEAR] = day, day[:4]
        if toggles.studio:
            fields[STUDIO] = one_line(scene.studio.name if scene.studio else None)
        if toggles.rating:
            fields[USER_RATING] = plex_rating(scene.rating100)
        if toggles.tags:
            genres = unique([tag.name for tag in scene.tags], options.tag_limit)
        if toggles.performers:
            base = str(options.actor_photo_base_url) if options.actor_photo_base_url else photo_base_url
            actors = actors_of(scene, base)
        if toggles.collections:
            names = ([scene.studio.name] if scene.studio else []) + [g.group.name for g in scene.groups]
            collections = unique(names)
        cover = scene.paths.screenshot
        if cover and toggles.poster:
            images[POSTER] = cover
        if cover and toggles.background:
            images[BACKGROUND] = cover
    primary = scene.primary_file
    desired = DesiredMetadata(
        scene_id=scene.id,
        fields=fields,
        genres=genres,
        actors=actors,
        collections=collections,
        images=images,
        meaningful=is_meaningful(scene),
        files=tuple(f.path for f in scene.files),
        title_hint=one_line(scene.title) or None,
        duration_s=primary.duration if primary else None,
        created_at=scene.created_at,
    )
    shaping = f"preserve={options.preserve_plex_edits}"
    digest = hashlib.blake2b((desired.model_dump_json() + shaping).encode(), digest_size=12).hexdigest()
    return desired.model_copy(update={"content_hash": digest})
