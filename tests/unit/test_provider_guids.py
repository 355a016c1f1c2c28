"""GUIDs and ratingKeys of the provider: stable, in Plex's alphabet, and refused when they are not ours."""

from __future__ import annotations

import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from stash2plex.common import plexguid
from stash2plex.common.plexguid import MalformedRatingKeyError

PLEX_RATING_KEY = re.compile(r"^[A-Za-z0-9_-]+$")
PLEX_IDENTIFIER = re.compile(r"^tv\.plex\.agents\.custom\.[A-Za-z0-9.]+$")


def test_the_guid_has_the_shape_plex_resolves() -> None:
    assert plexguid.guid("1234") == "tv.plex.agents.custom.stash2plex://movie/scene-1234"
    assert PLEX_IDENTIFIER.match(plexguid.IDENTIFIER)


@given(st.integers(min_value=1, max_value=10**18))
def test_rating_keys_round_trip_and_use_only_plex_characters(scene: int) -> None:
    key = plexguid.rating_key(scene)
    assert PLEX_RATING_KEY.match(key)
    assert plexguid.rating_key(str(scene)) == key  # the same scene, whatever type the id came as
    assert plexguid.scene_id(key) == str(scene)
    assert plexguid.scene_id_from_guid(plexguid.guid(scene)) == str(scene)


@pytest.mark.parametrize(
    ("key", "reason"),
    [
        ("", "empty"),
        ("scene-12/images", "characters"),
        ("scene 12", "characters"),
        ("12", "not one of ours"),
        ("scene-", "not one of ours"),
        ("scene-012", "not one of ours"),
        ("scene-abc", "not one of ours"),
        ("movie-12", "not one of ours"),
    ],
)
def test_malformed_rating_keys_say_what_is_wrong(key: str, reason: str) -> None:
    with pytest.raises(MalformedRatingKeyError, match=reason):
        plexguid.scene_id(key)


@pytest.mark.parametrize("bad", ["0", "-3", "abc", "01", ""])
def test_a_scene_id_stash_never_hands_out_is_refused(bad: str) -> None:
    with pytest.raises(ValueError, match="not a Stash scene id"):
        plexguid.rating_key(bad)


@pytest.mark.parametrize(
    "other",
    [
        "plex://movie/5d7768244de0ee001fcc7fed",
        "local://201",
        "tv.plex.agents.custom.stash2plex://scene-12",  # the type segment missing
        "tv.plex.agents.custom.stash2plex://show/scene-12",
        "tv.plex.agents.custom.stash2plex://movie/scene-x",
    ],
)
def test_other_guids_name_no_scene(other: str) -> None:
    assert plexguid.scene_id_from_guid(other) is None
