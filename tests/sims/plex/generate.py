"""Deterministic fake libraries of any size, built lazily so 100,000 items cost almost nothing.

An item is a pure function of ``(seed, index)``: listing a page rebuilds only that page,
and the cheap ``title_of`` lets the default title sort run over every item without
building them.
"""

from __future__ import annotations

import hashlib
import random
from collections.abc import Callable

from tests.sims.plex.model import Item, Library, Media, Part, TagValue

_ADJECTIVES = (
    "Silent",
    "Crimson",
    "Hidden",
    "Broken",
    "Golden",
    "Last",
    "Midnight",
    "Electric",
    "Frozen",
    "Lost",
    "Wild",
    "Quiet",
    "Burning",
    "Distant",
    "Hollow",
    "Velvet",
    "Iron",
    "Paper",
    "Secret",
    "Neon",
)
_NOUNS = (
    "River",
    "Garden",
    "Signal",
    "Harbor",
    "Mirror",
    "Empire",
    "Orchard",
    "Station",
    "Promise",
    "Horizon",
    "Lantern",
    "Canyon",
    "Letter",
    "Machine",
    "Island",
    "Summer",
    "Archive",
    "Voyage",
    "Circuit",
    "Meadow",
)
_STUDIOS = ("Northlight Pictures", "Blue Finch Films", "Harbor & Pike", "Odd Lantern", "Studio Kestrel")
GENRES: tuple[str, ...] = ("Action", "Comedy", "Drama", "Documentary", "Sci-Fi", "Thriller", "Romance", "Animation")
_PEOPLE = (
    "Ada Brenner",
    "Tomás Ruiz",
    "Mei Lin",
    "Jonah Okafor",
    "Sigrid Holm",
    "Priya Nair",
    "Luca Moretti",
    "Hana Sato",
    "Owen Price",
    "Zoë Laurent",
    "Kofi Mensah",
    "Ilse Vogel",
)
_RATINGS = ("G", "PG", "PG-13", "R", "NC-17", "XXX")
_BASE_EPOCH = 1_600_000_000


def _mix(seed: int, index: int) -> int:
    return int.from_bytes(hashlib.blake2b(f"{seed}:{index}".encode(), digest_size=8).digest(), "big")


def _slug(name: str) -> str:
    return "".join(c.lower() if c.isalnum() else "-" for c in name).strip("-")


def generated_title(seed: int, index: int) -> str:
    h = _mix(seed, index)
    prefix = "The " if h % 7 == 0 else ""
    return f"{prefix}{_ADJECTIVES[(h >> 8) % len(_ADJECTIVES)]} {_NOUNS[(h >> 16) % len(_NOUNS)]} {index + 1}"


def item_builder(
    seed: int, section_id: int, roots: list[str]
) -> tuple[Callable[[int, int], Item], Callable[[int], str]]:
    """The (build, title_of) pair :meth:`Library.add_generated` wants for one section."""

    def title_of(index: int) -> str:
        return generated_title(seed, index)

    def build(index: int, rk: int) -> Item:
        rng = random.Random(_mix(seed, index))
        title = title_of(index)
        year = 1990 + rng.randrange(35)
        studio = rng.choice(_STUDIOS)
        root = roots[index % len(roots)] if roots else "/media/movies"
        windows = "\\" in root
        ext = "mkv" if windows else "mp4"
        sep = "\\" if windows else "/"
        file = f"{root.rstrip(sep)}{sep}{studio}{sep}{title} ({year}).{ext}"
        added = _BASE_EPOCH + index * 60
        updated = added + 3600
        duration = 600_000 + rng.randrange(90) * 60_000
        media_id = 50_000_000 + rk * 2
        part = Part(id=media_id + 1, file=file, size=duration * 1000, container=ext, duration=duration)
        people = rng.sample(_PEOPLE, 4)
        actors = [
            TagValue(name, thumb=f"https://images.example.invalid/people/{_slug(name)}.jpg" if i % 2 == 0 else None)
            for i, name in enumerate(people[: 1 + rng.randrange(3)])
        ]
        guid_hash = hashlib.sha1(f"{seed}:{index}".encode()).hexdigest()[:24]
        return Item(
            rating_key=rk,
            section_id=section_id,
            title=title,
            guid=f"plex://movie/{guid_hash}",
            summary=f"{title} follows {people[0]} through {studio}'s {year} catalogue.",
            tagline=rng.choice(("Nothing stays hidden.", "One night. One chance.", "", "Home is a direction.")) or None,
            studio=studio,
            content_rating=rng.choice(_RATINGS),
            originally_available_at=f"{year}-{1 + rng.randrange(12):02d}-{1 + rng.randrange(28):02d}",
            year=year,
            rating=round(rng.uniform(3, 9.5), 1),
            audience_rating=round(rng.uniform(3, 9.5), 1),
            thumb=f"/library/metadata/{rk}/thumb/{updated}",
            art=f"/library/metadata/{rk}/art/{updated}",
            duration=duration,
            added_at=added,
            updated_at=updated,
            media=[Media(id=media_id, parts=[part], duration=duration, container=ext)],
            tags={
                "genre": [TagValue(g) for g in rng.sample(GENRES, 1 + rng.randrange(3))],
                "actor": actors,
                "director": [TagValue(people[3])],
                "country": [TagValue(rng.choice(("United States", "Germany", "Japan", "Brazil")))],
            },
            external_guids=[f"imdb://tt{rng.randrange(10**7):07d}"],
        )

    return build, title_of


def add_generated_items(library: Library, section_id: int, count: int, *, seed: int = 0) -> range:
    """Append ``count`` lazy items to a section, their files under the section's locations."""
    roots = list(library.section(section_id).locations)
    build, title_of = item_builder(seed * 1_000 + section_id, section_id, roots)
    return library.add_generated(section_id, count, build, title_of)


def make_library(n_items: int, seed: int = 0, *, windows_items: int = 0) -> Library:
    """A library shaped like a home server: two movie sections (POSIX and Windows paths), one TV section.

    ``n_items`` lazy movies go into section 1 "Movies"; ``windows_items`` into section 2,
    whose only location is a Windows path. Section 3 is an empty TV library so the
    simulator answers for a non-movie section too.
    """
    machine = hashlib.sha1(f"plex-sim-{seed}".encode()).hexdigest()
    library = Library(machine_identifier=machine)
    library.add_section("Movies", "movie", locations=["/media/movies", "/mnt/archive/movies"], section_id=1)
    library.add_section("Stash Scenes", "movie", locations=["D:\\Stash\\Scenes"], section_id=2)
    library.add_section("TV Shows", "show", locations=["/media/tv"], section_id=3)
    if n_items:
        add_generated_items(library, 1, n_items, seed=seed)
    if windows_items:
        add_generated_items(library, 2, windows_items, seed=seed)
    return library
