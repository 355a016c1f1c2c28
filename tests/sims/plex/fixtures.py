"""pytest fixtures for the Plex simulator (registered from tests/conftest.py via ``pytest_plugins``).

* ``plex_sim``: a running :class:`PlexSim` seeded with ``sample_library.json`` (function scope);
  ``.url``, ``.token``, ``.library``, ``.faults``, ``.writes``, ``.reads``, ``.providers``,
  ``.stop()``/``.start()``.
* ``plex_server``: a real ``plexapi.server.PlexServer`` connected to it.
* ``plex_sim_factory``: make more simulators (other libraries, tokens); all stopped at teardown.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.sims.plex.model import Library
from tests.sims.plex.seed import load_library
from tests.sims.plex.sim import DEFAULT_TOKEN, PlexSim, PlexSimFactory

SAMPLE_LIBRARY = Path(__file__).with_name("sample_library.json")


@pytest.fixture
def plex_sim_factory() -> Iterator[PlexSimFactory]:
    started: list[PlexSim] = []

    def make(library: Library | None = None, *, token: str | None = DEFAULT_TOKEN, port: int | None = None) -> PlexSim:
        sim = PlexSim(library if library is not None else load_library(SAMPLE_LIBRARY), token=token, port=port)
        sim.start()
        started.append(sim)
        return sim

    yield make
    for sim in started:
        sim.faults.clear()
        sim.stop()


@pytest.fixture
def plex_sim(plex_sim_factory: PlexSimFactory) -> PlexSim:
    return plex_sim_factory()


@pytest.fixture
def plex_server(plex_sim: PlexSim) -> Iterator[Any]:
    server = plex_sim.plexapi()
    yield server
    server._session.close()  # idle keep-alive connections would slow the simulator's shutdown
