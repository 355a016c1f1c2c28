"""Pytest fixtures for the Stash simulator (registered through ``pytest_plugins``).

* ``stash_sim``: a running simulator per test, ApiKey enforced, seeded with a
  small generated library. Attributes: ``url``, ``graphql_url``, ``api_key``,
  ``data`` (a :class:`~tests.sims.stash.store.StashData` to change from the test),
  ``faults``, ``requests``, ``stop()`` / ``start()`` / ``down_for(s)``.
* ``stash_sim_factory``: build more simulators (other data, no key, Windows
  paths); each is stopped after the test.
* ``stash_settings``: :class:`StashSettings` pointing at ``stash_sim``, with a
  short timeout.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
from pydantic import AnyHttpUrl, SecretStr

from stash2plex.common.settings import StashSettings
from tests.sims.stash.generate import make_scenes
from tests.sims.stash.server import StashSim
from tests.sims.stash.store import StashData

SIM_API_KEY = "sim-api-key-0123456789abcdef"
DEFAULT_SCENES = 20

StashSimFactory = Callable[..., StashSim]


@pytest.fixture
def stash_sim_factory() -> Iterator[StashSimFactory]:
    """``factory(data=None, *, scenes=20, seed=1, api_key=SIM_API_KEY, **StashSim kwargs)`` → started simulator."""
    started: list[StashSim] = []

    def factory(
        data: StashData | None = None,
        *,
        scenes: int = DEFAULT_SCENES,
        seed: int = 1,
        api_key: str | None = SIM_API_KEY,
        **kwargs: Any,
    ) -> StashSim:
        sim = StashSim(data if data is not None else make_scenes(scenes, seed), api_key=api_key, **kwargs)
        started.append(sim)
        return sim.start()

    yield factory
    for sim in started:
        sim.faults.reset()
        sim.stop()


@pytest.fixture
def stash_sim(stash_sim_factory: StashSimFactory) -> StashSim:
    """A running simulated Stash with ApiKey auth and 20 generated scenes."""
    return stash_sim_factory()


@pytest.fixture
def stash_settings(stash_sim: StashSim) -> StashSettings:
    """Client settings for ``stash_sim``: its URL, its key, a 2 s timeout."""
    return StashSettings(
        url=AnyHttpUrl(stash_sim.url),
        api_key=SecretStr(stash_sim.api_key) if stash_sim.api_key else None,
        timeout_s=2.0,
    )
