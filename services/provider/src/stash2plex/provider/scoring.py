"""How sure a candidate scene is, from 0 to 100: pure functions, no I/O.

* ``path``: one of the scene's files is at exactly the (mapped) path Plex sent: 100.
* ``guid``: Plex sent one of our own GUIDs as a hint: 100.
* ``basename``: a file has the same name. 85 when the name matches exactly (80 ignoring
  case), +3 for each further folder that matches from the end (Plex often sends a path
  relative to its library, which shares the Stash path's tail), at most 98. When several
  scenes are equally good the file name cannot decide: each loses 20, so an automatic
  match (threshold 80) refuses to guess and a Fix Match lists them all.
* ``title``: 75 × the title similarity, +10 when the year agrees (+15 for the same
  date), −20 when it disagrees; an exact title needs the year to reach 80.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from difflib import SequenceMatcher
from typing import Literal

from stash2plex.provider.stash import ProviderScene

MatchMethod = Literal["guid", "path", "basename", "title"]

EXACT = 100
BASENAME_EXACT = 85
BASENAME_FOLDED = 80
PER_FOLDER = 3
BASENAME_CAP = 98
AMBIGUOUS_PENALTY = 20
TITLE_WEIGHT = 75
YEAR_AGREES = 10
DATE_AGREES = 15
YEAR_DISAGREES = -20

_SEPARATORS = re.compile(r"[\\/]+")
_WINDOWS_ABSOLUTE = re.compile(r"^[A-Za-z]:[\\/]")
_NOT_WORD = re.compile(r"[\W_]+")
_LEADING_DATE = re.compile(r"^\s*(?P<date>\d{4}-\d{2}-\d{2})[\s._-]*")
_DATE = re.compile(r"^\d{4}-(0[1-9]|1[0-2])-(0[1-9]|[12]\d|3[01])$")


@dataclass(frozen=True)
class Candidate:
    """A scene that may be the file Plex asked about, how sure we are, and how we found it."""

    scene: ProviderScene
    score: int
    method: MatchMethod


def parts(path: str) -> list[str]:
    """Path components, whichever separator the path uses (Plex and Stash may differ)."""
    return [part for part in _SEPARATORS.split(path) if part]


def is_absolute(path: str) -> bool:
    """A full path (``/…``, ``\\\\server\\…``, ``D:\\…``) rather than one relative to a library."""
    return path.startswith(("/", "\\")) or bool(_WINDOWS_ABSOLUTE.match(path))


def fold(text: str) -> str:
    """Case- and normalisation-insensitive form, for comparing names typed on different systems."""
    return unicodedata.normalize("NFKC", text).casefold()


def normalise_title(text: str) -> str:
    return " ".join(_NOT_WORD.sub(" ", fold(text)).split())


def split_leading_date(title: str) -> tuple[str | None, str]:
    """``"2024-05-01 Sunset Session"`` → ``("2024-05-01", "Sunset Session")``, as scene files are often named."""
    match = _LEADING_DATE.match(title)
    if match and _DATE.match(match["date"]) and match.end() < len(title):
        return match["date"], title[match.end() :].strip()
    return None, title.strip()


def title_similarity(wanted: str, title: str) -> float:
    """0–1: 1 for the same words whatever the case and punctuation."""
    a, b = normalise_title(wanted), normalise_title(title)
    if not a or not b:
        return 0.0
    if a == b:
        return 1.0
    return SequenceMatcher(None, a, b, autojunk=False).ratio()


def matching_tail(wanted: Sequence[str], have: Sequence[str], *, case_sensitive: bool) -> int:
    """How many components the two paths share counting from the file name backwards."""
    count = 0
    for a, b in zip(reversed(wanted), reversed(have), strict=False):
        if a != b and (case_sensitive or fold(a) != fold(b)):
            break
        count += 1
    return count


def basename_score(wanted: Sequence[str], file_path: str) -> int:
    """Score of one Stash file for the path components Plex sent; 0 when the file name differs."""
    have = parts(file_path)
    if not wanted or not have:
        return 0
    tail = matching_tail(wanted, have, case_sensitive=True)
    if tail:
        return min(BASENAME_EXACT + PER_FOLDER * (tail - 1), BASENAME_CAP)
    tail = matching_tail(wanted, have, case_sensitive=False)
    if tail:
        return min(BASENAME_FOLDED + PER_FOLDER * (tail - 1), BASENAME_CAP)
    return 0


def rank_by_basename(wanted: Sequence[str], scenes: Sequence[ProviderScene]) -> list[Candidate]:
    """Candidates among ``scenes`` whose file has the wanted name; ties lose :data:`AMBIGUOUS_PENALTY`."""
    scored = []
    for scene in scenes:
        best = max((basename_score(wanted, file.path) for file in scene.files), default=0)
        if best:
            scored.append(Candidate(scene, best, "basename"))
    if not scored:
        return []
    top = max(c.score for c in scored)
    if sum(1 for c in scored if c.score == top) > 1:
        scored = [Candidate(c.scene, max(c.score - AMBIGUOUS_PENALTY, 1), c.method) for c in scored]
    return scored


def year_of(date: str | None) -> int | None:
    if date and len(date) >= 4 and date[:4].isdigit():
        return int(date[:4])
    return None


def title_score(scene: ProviderScene, title: str, year: int | None, date: str | None) -> int:
    """Score of ``scene`` for a title (and year or date) Plex or a user gave."""
    similarity = title_similarity(title, scene.title or "")
    score = TITLE_WEIGHT * similarity
    scene_year = year_of(scene.date)
    if date and scene.date:
        score += DATE_AGREES if scene.date == date else YEAR_DISAGREES
    elif year and scene_year:
        score += YEAR_AGREES if scene_year == year else YEAR_DISAGREES
    return max(0, min(99, round(score)))


def adjust_for_title(candidates: list[Candidate], title: str | None, year: int | None) -> list[Candidate]:
    """Break ties between equally good file-name candidates with the title and year, by a point or two."""
    if not title or len(candidates) < 2:
        return candidates
    adjusted = []
    for c in candidates:
        bonus = 2 if title_similarity(title, c.scene.title or "") >= 0.9 else 0
        bonus += 1 if year and year_of(c.scene.date) == year else 0
        adjusted.append(Candidate(c.scene, min(c.score + bonus, BASENAME_CAP), c.method))
    return adjusted


def ranked(candidates: Sequence[Candidate]) -> list[Candidate]:
    """Best first; one entry per scene (its best score); equal scores in Stash id order."""
    best: dict[str, Candidate] = {}
    for c in candidates:
        kept = best.get(c.scene.id)
        if kept is None or c.score > kept.score:
            best[c.scene.id] = c
    return sorted(best.values(), key=lambda c: (-c.score, int(c.scene.id) if c.scene.id.isdigit() else 0, c.scene.id))
