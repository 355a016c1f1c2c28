"""``POST /library/metadata/matches``: which Stash scene is the file Plex scanned?

The steps, most certain first (scores in :mod:`.scoring`):

1. ``guid``: one of our own GUIDs sent as a hint names the scene.
2. ``path``: the file name Plex sent, mapped to Stash's path by the path rules, looked up
   exactly. Stash's ``EQUALS`` is a case-insensitive ``LIKE`` (``_`` and ``%`` are
   wildcards), so each hit is confirmed against the scene's real file paths.
3. ``basename``: Plex sends a relative path as often as a full one; the file name is
   searched as one quoted phrase and candidates ranked by how much of the path's tail they
   share.
4. ``title``: the title (and year or date) Plex or the user gave, searched as a phrase.

An automatic match (``manual`` 0) stops at the first step that finds a candidate sure enough
(``auto_min_score``) and answers the best one; none sure enough is no match. A Fix Match (``manual`` 1) answers
every candidate of every step, best first, with its ``score``.

Accepted and ignored: ``X-Plex-Language`` / ``X-Plex-Country`` (Stash keeps one language and
no certifications) and ``includeAdult`` (every scene is adult content; filtering it out
would leave an adult-only provider nothing to answer).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from stash2plex.common import plexguid
from stash2plex.common.pathmap import PathMapper
from stash2plex.provider import scoring
from stash2plex.provider.answers import BadRequestError
from stash2plex.provider.lookups import SceneLookups
from stash2plex.provider.scoring import Candidate

PLEX_TYPES = {1: "movie", 2: "show", 3: "season", 4: "episode"}
MAX_TEXT = 4096

MatchOutcome = Literal["guid", "path", "basename", "title", "none"]


class MatchBody(BaseModel):
    """The JSON body Plex sends; fields this provider does not use are accepted and ignored."""

    model_config = ConfigDict(extra="ignore", str_strip_whitespace=True)

    type: int = Field(description="Plex metadata type; this provider serves 1 (movie).")
    title: str | None = Field(default=None, max_length=MAX_TEXT)
    year: int | None = Field(default=None, ge=0, le=9999)
    date: str | None = Field(default=None, max_length=32, description="YYYY-MM-DD")
    filename: str | None = Field(default=None, max_length=MAX_TEXT, description="Full or library-relative path.")
    guid: str | None = Field(default=None, max_length=MAX_TEXT)
    manual: bool = Field(default=False, description="1: list every candidate (Fix Match); 0: the best only.")
    includeAdult: bool | None = None  # noqa: N815 - Plex's name

    @field_validator("type")
    @classmethod
    def _movie_only(cls, value: int) -> int:
        if value not in PLEX_TYPES:
            raise ValueError(f"{value} is not a Plex metadata type (1 movie, 2 show, 3 season, 4 episode)")
        if value != 1:
            raise ValueError(f"type {value} ({PLEX_TYPES[value]}) is not served: this provider declares movie (1) only")
        return value

    @field_validator("manual", "includeAdult", mode="before")
    @classmethod
    def _flag(cls, value: object) -> object:
        if value in (0, 1, "0", "1", True, False, None):
            return value in (1, "1", True)
        raise ValueError("must be 0 or 1")

    @field_validator("title", "filename", "guid", "date", mode="before")
    @classmethod
    def _text(cls, value: object) -> object:
        if isinstance(value, str) and "\x00" in value:
            raise ValueError("must not contain NUL characters")
        return value or None


def parse_body(raw: bytes) -> MatchBody:
    """The match body, or :class:`BadRequestError` naming what is wrong with it."""
    if not raw.strip():
        raise BadRequestError('the match request needs a JSON body, e.g. {"type": 1, "filename": "/media/x.mp4"}')
    try:
        return MatchBody.model_validate_json(raw)
    except ValidationError as error:
        problems = []
        for item in error.errors():
            where = ".".join(str(p) for p in item["loc"]) or "body"
            message = item["msg"].removeprefix("Value error, ")
            if item["type"] == "json_invalid":
                problems.append(f"not valid JSON ({item['ctx'].get('error', 'syntax error')})")
            elif item["type"] == "model_type":
                problems.append("the body must be a JSON object")
            else:
                problems.append(f"{where}: {message}")
        raise BadRequestError("invalid match request: " + "; ".join(problems)) from None


@dataclass(frozen=True)
class MatchResult:
    candidates: list[Candidate]
    method: MatchOutcome
    """How the best candidate was found (``none``: no candidate good enough)."""
    stash_path: str | None = None


class Matcher:
    """Runs the match steps against Stash through the cached lookups."""

    def __init__(self, lookups: SceneLookups, mapper: PathMapper, auto_min_score: int, manual_max: int) -> None:
        self.lookups = lookups
        self.mapper = mapper
        self.auto_min_score = auto_min_score
        self.manual_max = manual_max

    async def match(self, body: MatchBody) -> MatchResult:
        found: list[Candidate] = []
        stash_path = None
        for step in (self._by_guid, self._by_path, self._by_basename, self._by_title):
            candidates, path = await step(body)
            stash_path = stash_path or path
            found.extend(candidates)
            if not body.manual and any(c.score >= self.auto_min_score for c in candidates):
                break
        ranked = scoring.ranked(found)
        if body.manual:
            return MatchResult(ranked[: self.manual_max], ranked[0].method if ranked else "none", stash_path)
        if ranked and ranked[0].score >= self.auto_min_score:
            return MatchResult(ranked[:1], ranked[0].method, stash_path)
        return MatchResult([], "none", stash_path)

    async def _by_guid(self, body: MatchBody) -> tuple[list[Candidate], None]:
        scene_id = plexguid.scene_id_from_guid(body.guid or "")
        if scene_id is None:
            return [], None
        scene = await self.lookups.scene(scene_id)
        return ([Candidate(scene, scoring.EXACT, "guid")] if scene else []), None

    async def _by_path(self, body: MatchBody) -> tuple[list[Candidate], str | None]:
        if not body.filename:
            return [], None
        mapped = self.mapper.to_stash(body.filename)
        if mapped.rule is None and not scoring.is_absolute(body.filename):
            return [], None  # a library-relative path: only its tail can be compared (next step)
        want = PathMapper.key(mapped.path, case_sensitive=mapped.case_sensitive)
        scenes = await self.lookups.scenes_at_path(mapped.path)
        hits = [
            Candidate(scene, scoring.EXACT, "path")
            for scene in scenes
            if any(PathMapper.key(f.path, case_sensitive=mapped.case_sensitive) == want for f in scene.files)
        ]
        return hits, mapped.path

    async def _by_basename(self, body: MatchBody) -> tuple[list[Candidate], None]:
        if not body.filename:
            return [], None
        wanted = scoring.parts(body.filename)
        if not wanted:
            return [], None
        scenes = await self.lookups.scenes_named(wanted[-1])
        candidates = scoring.rank_by_basename(wanted, scenes)
        title = scoring.split_leading_date(body.title)[1] if body.title else None
        return scoring.adjust_for_title(candidates, title, body.year), None

    async def _by_title(self, body: MatchBody) -> tuple[list[Candidate], None]:
        if not body.title:
            return [], None
        leading_date, title = scoring.split_leading_date(body.title)
        if len(title) < 2:
            return [], None
        date = body.date or leading_date
        year = body.year or scoring.year_of(date)
        scenes = await self.lookups.scenes_titled(title)
        scored = [Candidate(s, scoring.title_score(s, title, year, date), "title") for s in scenes]
        return [c for c in scored if c.score > 0], None


def describe(body: MatchBody) -> dict[str, Any]:
    """The parts of a request worth logging (never the whole body)."""
    return {"filename": body.filename, "title": body.title, "year": body.year, "manual": body.manual}
