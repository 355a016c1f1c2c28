"""Realistic, reproducible Stash libraries: the same ``seed`` always gives the same data.

The awkward cases are deliberate: titles in CJK, with emoji and accents, 500
characters long or missing; scenes with 300 tags; basenames shared by files in
different folders; ``_`` and ``%`` in file names (SQL LIKE wildcards); a second
file on some scenes; studios with parents; Windows paths on request.
"""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta, timezone

from tests.sims.stash.model import SimSceneGroup
from tests.sims.stash.store import DEFAULT_TZ, PathStyle, StashData

ANCHOR = datetime(2025, 1, 1, tzinfo=UTC)

_NETWORKS = ["Aurora Media", "Éclair Films", "東京スタジオ", "Nordic Light", "Ćwiczenia Group", "Sol y Sombra"]
_CHILD_STUDIOS = [
    "Aurora Red", "Aurora Blue", "Éclair Noir", "Éclair Rosé", "東京 Night", "東京 Day",
    "Nordic Frost", "Nordic Fjord", "Ćwiczenia Plus", "Sol Naciente", "Sombra 🌙", "Indie Works",
]  # fmt: skip
_FIRST = ["Zoë", "Björk", "Ana", "Mia", "Léa", "Chloé", "Yuki", "Sakura", "Olga", "Ines", "Nina", "Jean-Luc", "Ömer"]
_LAST = ["Álvarez", "Sæther", "O'Neil", "Dubois", "Nguyễn", "Kowalska", "Müller", "Rossi", "Smith", "Øberg"]
_CJK_NAMES = ["山田 花子", "佐藤 美咲", "김 지수", "Анна Петрова"]
_GENDERS = ["FEMALE", "MALE", "TRANSGENDER_FEMALE", "TRANSGENDER_MALE", "NON_BINARY", "INTERSEX", None]
_TAG_CATEGORIES = ["Setting", "Lighting", "Mood", "Camera", "Season", "Location", "Style", "Era", "Colour", "Sound"]
_WORDS = ["morning", "sunset", "hotel", "garden", "city", "rain", "studio", "beach", "night", "café", "winter"]
_EXTENSIONS = [".mp4", ".mp4", ".mp4", ".mkv", ".wmv", ".avi", ".mov"]


def _title(rng: random.Random, n: int) -> str | None:
    roll = rng.random()
    if roll < 0.05:
        return None
    if roll < 0.13:
        words: list[str] = []
        while len(" ".join(words)) < 500:
            words.append(rng.choice([*_WORDS, "très", "longue", "histoire", "ångström", "naïve"]))
        return " ".join(words)[:500].rstrip() or "x" * 500
    if roll < 0.30:
        return f"夏の思い出 第{n}話"
    if roll < 0.45:
        return f"Sunset 🌅 Session #{n} 🔥"
    if roll < 0.60:
        return f"Rendez-vous à l'hôtel Éden {n}"
    return f"Scene {n}: The {rng.choice(_WORDS).title()} After"


def _basename(rng: random.Random, n: int, title: str | None) -> str:
    ext = rng.choice(_EXTENSIONS)
    if n % 50 == 0:
        return "intro" + ext  # the same basename in several folders
    if n % 37 == 0:
        return f"clip_{n}_100%{ext}"  # LIKE wildcards in a real file name
    stem = (title or f"untitled {n}")[:60].strip()
    stem = "".join(c for c in stem if c not in '\\/:*?"<>|').strip() or f"scene {n}"
    return f"{stem} [{n}]{ext}"


def _hex(rng: random.Random, length: int) -> str:
    return "".join(rng.choice("0123456789abcdef") for _ in range(length))


def make_scenes(
    n: int,
    seed: int = 0,
    *,
    path_style: PathStyle = "posix",
    tz: timezone = DEFAULT_TZ,
) -> StashData:
    """A library of ``n`` scenes plus the studios, performers, tags and groups they refer to."""
    rng = random.Random(seed)
    data = StashData(path_style=path_style, tz=tz, clock=lambda: datetime.now(UTC))
    root = "D:\\Media\\Videos" if path_style == "windows" else "/data/videos"
    sep = data.separator

    def when(days: float) -> datetime:
        return ANCHOR + timedelta(days=days)

    networks = [data.add_studio(name, has_image=i % 3 != 2, created_at=when(-400)) for i, name in enumerate(_NETWORKS)]
    studios = list(networks)
    for i, name in enumerate(_CHILD_STUDIOS):
        parent = networks[i % len(networks)] if i < 10 else None
        studios.append(data.add_studio(name, parent_id=parent.id if parent else None, created_at=when(-390)))

    performers = []
    for i in range(40):
        name = _CJK_NAMES[i % len(_CJK_NAMES)] if i % 9 == 0 else f"{rng.choice(_FIRST)} {rng.choice(_LAST)}"
        if i % 13 == 5:
            name += " 🌸"
        performers.append(
            data.add_performer(
                name,
                disambiguation="II" if i % 11 == 3 else None,
                gender=rng.choice(_GENDERS),
                has_image=i % 7 != 6,
                created_at=when(-380),
            )
        )

    categories = [data.add_tag(name, created_at=when(-500)) for name in _TAG_CATEGORIES]
    tags = list(categories)
    for i in range(440):
        category = categories[i % len(categories)]
        tags.append(data.add_tag(f"{category.name} · {i:03d}", parent_ids=[category.id], created_at=when(-500)))

    groups = []
    for i in range(12):
        groups.append(
            data.add_group(
                f"Series {'ⅠⅡⅢⅣⅤⅥ'[i % 6]} — {rng.choice(_WORDS)}",
                studio_id=rng.choice(studios).id,
                created_at=when(-300),
            )
        )

    for n_scene in range(1, n + 1):
        title = _title(rng, n_scene)
        created = when(n_scene * 0.5 + rng.random() * 0.4)
        updated = created + timedelta(days=rng.random() * 120, seconds=rng.randrange(86_400))
        studio = rng.choice(studios) if rng.random() < 0.9 else None
        folder = sep.join([root, studio.name if studio else "Unsorted", str(2015 + n_scene % 10)])
        files = []
        for copy in range(2 if rng.random() < 0.15 else 1):
            name = _basename(rng, n_scene, title)
            if copy:
                name = name.replace(".", " (1080p).", 1) if "." in name else name + " (1080p)"
            duration = round(rng.uniform(60, 7200), 3)
            files.append(
                data.new_file(
                    folder + sep + name,
                    duration=duration,
                    size=int(duration * 5_000_000 / 8),
                    fingerprints={"oshash": _hex(rng, 16), "md5": _hex(rng, 32), "phash": _hex(rng, 16)},
                    mod_time=created - timedelta(days=3),
                    created_at=created,
                    updated_at=created,
                )
            )
        tag_count = 300 if n_scene % 40 == 7 else rng.randrange(0, 13)
        scene_groups = []
        if rng.random() < 0.15:
            scene_groups.append(SimSceneGroup(rng.choice(groups).id, rng.choice([None, 1, 2, 3, 12])))
        data.add_scene(
            title=title,
            code=f"{rng.choice(['ABC', 'XYZ', 'SOL'])}-{rng.randrange(1000, 9999)}" if rng.random() < 0.4 else None,
            details=(
                f"{title or 'Untitled'}.\n\nRecorded in {rng.choice(_WORDS)} light — «{rng.choice(_WORDS)}»."
                if rng.random() < 0.7
                else None
            ),
            urls=[f"https://example.com/scenes/{n_scene}"] if rng.random() < 0.5 else [],
            date=(created - timedelta(days=rng.randrange(0, 900))).date().isoformat() if rng.random() < 0.8 else None,
            rating100=rng.randrange(1, 101) if rng.random() < 0.6 else None,
            organized=rng.random() < 0.5,
            studio_id=studio.id if studio else None,
            performer_ids=[p.id for p in rng.sample(performers, rng.randrange(0, 5))],
            tag_ids=[t.id for t in rng.sample(tags, tag_count)],
            groups=scene_groups,
            files=files,
            created_at=created,
            updated_at=updated,
        )
    return data
