"""A Stash scene as Plex's Metadata: every field Stash has, in the types Plex's spec gives."""

from __future__ import annotations

import json
from typing import Any

import pytest

from stash2plex.provider import metadata
from stash2plex.provider.links import ImageLinks, stash_version
from stash2plex.provider.settings import PosterMode
from stash2plex.provider.stash import ProviderScene
from tests.unit.test_provider_spec import check_container, check_item

STASH = "http://stash.lan:9999"
BASE = "http://provider.example:9913/s3cret-segment-0123"
IDENTIFIER = "tv.plex.agents.custom.stash2plex"


def scene(**overrides: Any) -> ProviderScene:
    fields: dict[str, Any] = {
        "id": "42",
        "title": "Sunset Session",
        "details": "Two people, one sunset.",
        "date": "2024-05-01",
        "rating100": 87,
        "director": "Sigrid Holm",
        "created_at": "2024-06-01T10:00:00+02:00",
        "updated_at": "2024-06-02T10:00:00+02:00",
        "files": [
            {
                "id": "7",
                "path": "/data/videos/Studio X/2024-05-01 Sunset Session.mp4",
                "basename": "2024-05-01 Sunset Session.mp4",
                "duration": 1234.567,
            }
        ],
        "paths": {"screenshot": f"{STASH}/scene/42/screenshot?t=1717315200"},
        "studio": {"id": "3", "name": "Studio X", "parent_studio": {"id": "1", "name": "Network Y"}},
        "performers": [
            {"id": "5", "name": "Ada Brenner", "image_path": f"{STASH}/performer/5/image?t=1700000000"},
            {"id": "6", "name": "Zoë Øberg", "image_path": f"{STASH}/performer/6/image?t=1&default=true"},
        ],
        "tags": [{"id": "9", "name": "Outdoor"}, {"id": "10", "name": "Golden hour"}],
    }
    fields.update(overrides)
    return ProviderScene.model_validate(fields)


def links(mode: PosterMode = PosterMode.SCREENSHOT) -> ImageLinks:
    return ImageLinks(BASE, mode)


def movie(s: ProviderScene, mode: PosterMode = PosterMode.SCREENSHOT) -> dict[str, Any]:
    return metadata.movie(s, links(mode), content_rating="XXX", is_adult=True)


def test_every_field_stash_has_reaches_plex() -> None:
    item = movie(scene())
    assert item["ratingKey"] == "scene-42"
    assert item["key"] == "/library/metadata/scene-42"
    assert item["guid"] == f"{IDENTIFIER}://movie/scene-42"
    assert item["type"] == "movie"
    assert item["title"] == "Sunset Session"
    assert item["summary"] == "Two people, one sunset."
    assert (item["originallyAvailableAt"], item["year"]) == ("2024-05-01", 2024)
    assert item["studio"] == "Studio X"
    assert item["Studio"] == [{"tag": "Studio X"}, {"tag": "Network Y"}]
    assert (item["contentRating"], item["isAdult"]) == ("XXX", True)
    assert item["duration"] == 1_234_567
    assert item["rating"] == 8.7
    assert item["Genre"] == [{"tag": "Outdoor"}, {"tag": "Golden hour"}]
    assert item["Director"] == [{"tag": "Sigrid Holm"}]
    assert item["Role"] == [
        {"tag": "Ada Brenner", "order": 1, "thumb": f"{BASE}/images/performer/5?v=1700000000"},
        {"tag": "Zoë Øberg", "order": 2},  # Stash only has its default silhouette: no photo
    ]
    screenshot = f"{BASE}/images/scene/42/screenshot?v=1717315200"
    assert (item["thumb"], item["art"]) == (screenshot, screenshot)
    assert item["Image"] == [
        {"type": "coverPoster", "url": screenshot, "alt": "Sunset Session"},
        {"type": "background", "url": screenshot, "alt": "Sunset Session"},
    ]
    check_container(metadata.container(IDENTIFIER, 1, Metadata=[item]))


def test_letterbox_mode_points_the_poster_at_the_letterboxed_image() -> None:
    item = movie(scene(), PosterMode.LETTERBOX)
    assert item["thumb"] == f"{BASE}/images/scene/42/poster?v=1717315200"
    assert item["art"] == f"{BASE}/images/scene/42/screenshot?v=1717315200"
    check_item(item)


def test_plex_never_sees_a_stash_url_or_key() -> None:
    text = json.dumps(movie(scene(paths={"screenshot": f"{STASH}/scene/42/screenshot?t=5&apikey=SECRETKEY"})))
    assert "stash.lan" not in text
    assert "SECRETKEY" not in text


def test_a_bare_scene_still_gives_plex_its_required_fields() -> None:
    bare = scene(
        title=None, details=None, date=None, rating100=None, director=None, studio=None, performers=[], tags=[]
    )
    item = movie(bare)
    assert item["title"] == "2024-05-01 Sunset Session"  # the file name, as Stash itself shows it
    assert item["originallyAvailableAt"] == "2024-06-01"  # the day Stash got it: Plex requires a date
    assert "year" not in item  # but no year Stash does not know
    for absent in ("summary", "studio", "Studio", "Genre", "Role", "Director", "rating"):
        assert absent not in item
    check_item(item)
    assert metadata.is_empty(bare)
    assert not metadata.is_empty(scene(title=None))


def test_a_scene_without_files_is_named_by_its_id() -> None:
    assert metadata.display_title(scene(title="  ", files=[])) == "Scene 42"


def test_a_match_item_is_short_and_scored() -> None:
    item = metadata.match_item(scene(), links(), 85)
    assert item == {
        "ratingKey": "scene-42",
        "key": "/library/metadata/scene-42",
        "guid": f"{IDENTIFIER}://movie/scene-42",
        "type": "movie",
        "title": "Sunset Session",
        "originallyAvailableAt": "2024-05-01",
        "year": 2024,
        "summary": "Two people, one sunset.",
        "thumb": f"{BASE}/images/scene/42/screenshot?v=1717315200",
        "score": 85,
    }
    check_container(metadata.container(IDENTIFIER, 1, Metadata=[item]), match=True)


def test_images_and_empty_containers_count_what_they_hold() -> None:
    found = metadata.images(scene(), links())
    doc = metadata.container(IDENTIFIER, len(found), Image=found)
    assert doc["MediaContainer"] == {
        "offset": 0,
        "totalSize": 2,
        "identifier": IDENTIFIER,
        "size": 2,
        "Image": found,
    }
    check_container(doc)
    check_container(metadata.container(IDENTIFIER, 0, Metadata=[]))


@pytest.mark.parametrize(
    ("url", "version"),
    [
        (f"{STASH}/scene/1/screenshot?t=1700000000", "1700000000"),
        (f"{STASH}/performer/1/image?t=17&default=true", None),
        (f"{STASH}/performer/1/image", "0"),
        (None, None),
    ],
)
def test_image_versions_follow_stash(url: str | None, version: str | None) -> None:
    assert stash_version(url) == version
