"""The Plex simulator features the syncer's writes rely on, through the real plexapi and the
syncer's own listing reader: user ratings, changed-since filters, trimmed listings; and the
syncer's stable client identity."""

from __future__ import annotations

from typing import Any

from stash2plex.common.settings import PlexSettings
from stash2plex.syncer.plex import CLIENT_IDENTIFIER, plex_session
from stash2plex.syncer.plex import connect as connect_syncer
from stash2plex.syncer.plex_listing import PlexListing
from tests.sims.plex.model import Library
from tests.sims.plex.sim import PlexSim, PlexSimFactory


def connect(sim: PlexSim) -> Any:
    from plexapi.server import PlexServer

    return PlexServer(sim.url, sim.token, session=plex_session())  # type: ignore[no-untyped-call]


def small_library() -> tuple[Library, list[int]]:
    library = Library()
    section = library.add_section("Movies", locations=["/m"])
    keys = [
        int(library.add_item(section.id, f"Movie {i}", files=[f"/m/{i}.mp4"], tags={"genre": ["Drama"]}).rating_key)
        for i in range(3)
    ]
    return library, keys


def test_plexapi_rate_sets_and_clears_the_user_rating(plex_sim_factory: PlexSimFactory) -> None:
    library, keys = small_library()
    sim = plex_sim_factory(library)
    movie = connect(sim).fetchItem(keys[0])
    movie.rate(7.5)
    assert library.get(keys[0]).user_rating == 7.5
    assert movie.reload().userRating == 7.5
    movie.rate()
    assert library.get(keys[0]).user_rating is None
    assert sim.writes.last().change == {"ratingKey": keys[0], "userRating": [7.5, None]}


def test_a_listing_filtered_on_updated_at_holds_only_changed_items(plex_sim_factory: PlexSimFactory) -> None:
    library, keys = small_library()
    sim = plex_sim_factory(library)
    for rk in keys:
        library.get(rk).updated_at = 1_000
    library.get(keys[1]).updated_at = 2_000
    library.touch(1)
    listing = PlexListing(lambda: connect(sim))
    assert [i.rating_key for i in listing.items("1", changed_since=2_000)] == [str(keys[1])]
    assert len(list(listing.items("1"))) == 3


def test_listings_leave_out_excluded_elements_and_fields(plex_sim_factory: PlexSimFactory) -> None:
    library, _ = small_library()
    library.get(1).summary = "long text"
    sim = plex_sim_factory(library)
    server = connect(sim)
    trimmed = server.query("/library/sections/1/all?excludeElements=Genre&excludeFields=summary")
    full = server.query("/library/sections/1/all")
    assert trimmed.find("Video/Genre") is None
    assert full.find("Video/Genre") is not None
    assert "summary" not in trimmed.find("Video").attrib
    assert trimmed.find("Video/Media/Part").get("file") == "/m/0.mp4"


def test_every_request_carries_the_syncers_stable_client_identifier(plex_sim: PlexSim) -> None:
    settings = PlexSettings.model_validate({"url": plex_sim.url, "token": plex_sim.token})
    sent: list[str] = []
    for _ in range(2):  # two starts: the same device to Plex
        server: Any = connect_syncer(settings)
        server._session.hooks["response"].append(
            lambda response, *args, **kwargs: sent.append(response.request.headers["X-Plex-Client-Identifier"])
        )
        server.query("/library/sections")
        server.fetchItem(101)
    assert sent == [CLIENT_IDENTIFIER] * 4
