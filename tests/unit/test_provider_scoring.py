"""Ranking candidates: exact paths beat file names, file names are ranked by the folders they share,
ties refuse to guess, and titles need their year to be trusted."""

from __future__ import annotations

from typing import Any

import pytest

from stash2plex.provider import scoring
from stash2plex.provider.scoring import Candidate
from stash2plex.provider.stash import ProviderScene


def scene(scene_id: str, *paths: str, title: str | None = None, date: str | None = None) -> ProviderScene:
    files: list[dict[str, Any]] = [
        {"id": f"{scene_id}{n}", "path": p, "basename": scoring.parts(p)[-1]} for n, p in enumerate(paths)
    ]
    return ProviderScene.model_validate(
        {
            "id": scene_id,
            "title": title,
            "date": date,
            "files": files,
            "created_at": "2024-01-01T00:00:00Z",
            "updated_at": "2024-01-01T00:00:00Z",
        }
    )


@pytest.mark.parametrize(
    ("path", "expected"),
    [
        ("/data/videos/a.mp4", ["data", "videos", "a.mp4"]),
        ("D:\\Media\\Studio X\\a.mp4", ["D:", "Media", "Studio X", "a.mp4"]),
        ("Movies/Studio X//a.mp4", ["Movies", "Studio X", "a.mp4"]),
        ("\\\\nas\\share\\a.mp4", ["nas", "share", "a.mp4"]),
    ],
)
def test_paths_split_on_either_separator(path: str, expected: list[str]) -> None:
    assert scoring.parts(path) == expected


@pytest.mark.parametrize(
    ("path", "absolute"),
    [
        ("/data/a.mp4", True),
        ("D:\\a.mp4", True),
        ("d:/a.mp4", True),
        ("\\\\nas\\a.mp4", True),
        ("Movies/a.mp4", False),
        ("a.mp4", False),
    ],
)
def test_absolute_paths_are_told_from_library_relative_ones(path: str, absolute: bool) -> None:
    assert scoring.is_absolute(path) is absolute


def test_more_shared_folders_score_higher_and_case_costs_a_little() -> None:
    wanted = scoring.parts("Movies/Studio X/2024/clip.mp4")
    assert scoring.basename_score(wanted, "/data/other/clip.mp4") == 85
    assert scoring.basename_score(wanted, "/data/2024/clip.mp4") == 88
    assert scoring.basename_score(wanted, "/data/Studio X/2024/clip.mp4") == 91
    assert scoring.basename_score(wanted, "/data/studio x/2024/CLIP.mp4") == 86
    assert scoring.basename_score(wanted, "/data/Studio X/2024/clip.mkv") == 0


def test_a_unique_file_name_is_a_confident_match() -> None:
    (only,) = scoring.rank_by_basename(["clip.mp4"], [scene("1", "/data/a/clip.mp4")])
    assert (only.score, only.method) == (85, "basename")


def test_equally_good_file_names_refuse_an_automatic_guess() -> None:
    twins = [scene("1", "/data/a/intro.mp4"), scene("2", "/data/b/intro.mp4")]
    ranked = scoring.rank_by_basename(["intro.mp4"], twins)
    assert [c.score for c in ranked] == [65, 65]  # below the automatic threshold of 80


def test_the_folder_tells_twins_apart() -> None:
    twins = [scene("1", "/data/a/intro.mp4"), scene("2", "/data/b/intro.mp4")]
    ranked = scoring.ranked(scoring.rank_by_basename(["Movies", "b", "intro.mp4"], twins))
    assert [(c.scene.id, c.score) for c in ranked] == [("2", 88), ("1", 85)]


def test_title_and_year_break_a_tie_between_twins() -> None:
    twins = [
        scene("1", "/data/a/intro.mp4", title="Morning Intro", date="2021-03-01"),
        scene("2", "/data/b/intro.mp4", title="Evening Intro", date="2023-03-01"),
    ]
    adjusted = scoring.adjust_for_title(scoring.rank_by_basename(["intro.mp4"], twins), "Evening Intro", 2023)
    assert [(c.scene.id, c.score) for c in scoring.ranked(adjusted)] == [("2", 68), ("1", 65)]


@pytest.mark.parametrize(
    ("title", "year", "date", "expected"),
    [
        ("Sunset Session", 2024, None, 85),  # exact title, same year: confident
        ("sunset  session!", None, None, 75),  # exact title, no year: listed, not trusted alone
        ("Sunset Session", 2023, None, 55),  # the year disagrees
        ("Sunset Session", None, "2024-05-01", 90),  # the same date
        ("Sunset Session", None, "2024-05-02", 55),
    ],
)
def test_title_scores(title: str, year: int | None, date: str | None, expected: int) -> None:
    candidate = scene("1", "/x.mp4", title="Sunset Session", date="2024-05-01")
    assert scoring.title_score(candidate, title, year, date) == expected


def test_an_unrelated_title_stays_far_below_trust_even_in_the_right_year() -> None:
    candidate = scene("1", "/x.mp4", title="Sunset Session", date="2024-05-01")
    assert scoring.title_score(candidate, "Something Else Entirely", 2024, None) < 50


@pytest.mark.parametrize(
    ("given", "expected"),
    [
        ("2024-05-01 Sunset Session", ("2024-05-01", "Sunset Session")),
        ("2024-05-01_Sunset", ("2024-05-01", "Sunset")),
        ("2024-13-01 Sunset", (None, "2024-13-01 Sunset")),
        ("2024-05-01", (None, "2024-05-01")),
        ("Sunset Session", (None, "Sunset Session")),
    ],
)
def test_a_leading_date_is_read_off_the_title(given: str, expected: tuple[str | None, str]) -> None:
    assert scoring.split_leading_date(given) == expected


def test_ranking_keeps_each_scene_once_best_first_then_by_id() -> None:
    a, b, c = scene("10", "/a.mp4"), scene("9", "/b.mp4"), scene("11", "/c.mp4")
    ranked = scoring.ranked(
        [
            Candidate(a, 70, "title"),
            Candidate(b, 85, "basename"),
            Candidate(a, 100, "path"),
            Candidate(c, 85, "title"),
        ]
    )
    assert [(x.scene.id, x.score, x.method) for x in ranked] == [
        ("10", 100, "path"),
        ("9", 85, "basename"),
        ("11", 85, "title"),
    ]
