"""One running simulator: state, switchboard, journal and a real listening socket."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from tests.harness.servers import ThreadedServer
from tests.sims.plex.app import build_app
from tests.sims.plex.faults import Faults
from tests.sims.plex.generate import make_library
from tests.sims.plex.journal import Reads, Writes
from tests.sims.plex.model import Library
from tests.sims.plex.providers import ProviderRegistry
from tests.sims.plex.web import SimContext

DEFAULT_TOKEN = "sim-plex-token"


def connect_plexapi(url: str, token: str | None) -> Any:
    """A real ``plexapi.server.PlexServer`` for ``url`` (typed ``Any``: plexapi is unannotated)."""
    from plexapi.server import PlexServer

    return PlexServer(url, token)  # type: ignore[no-untyped-call]


class PlexSim:
    """A Plex Media Server simulator on ``127.0.0.1:<port>``.

    ``library`` is live: change it from a test and the next request sees it.
    ``stop()``/``start()`` close and reopen the socket on the same port (connection refused
    in between); ``faults.outage()`` does the same through the switchboard.
    """

    def __init__(
        self,
        library: Library | None = None,
        *,
        token: str | None = DEFAULT_TOKEN,
        host: str = "127.0.0.1",
        port: int | None = None,
    ) -> None:
        self.library = library if library is not None else make_library(0)
        self.token = token
        self.faults = Faults()
        self.writes = Writes()
        self.reads = Reads()
        self.providers = ProviderRegistry()
        self.context = SimContext(self.library, self.faults, self.writes, self.reads, self.providers, token)
        self.in_flight = self.context.in_flight
        self.app = build_app(self.context)
        self.server = ThreadedServer(self.app, host=host, port=port)
        self.faults.bind(self.start, self.stop)

    @property
    def url(self) -> str:
        return self.server.url

    @property
    def port(self) -> int:
        return self.server.port

    @property
    def running(self) -> bool:
        return self.server.running

    def plexapi(self) -> Any:
        """A ``plexapi.server.PlexServer`` connected to this simulator with its token."""
        return connect_plexapi(self.url, self.token)

    def start(self) -> None:
        self.server.start()

    def stop(self) -> None:
        self.server.stop()

    def __enter__(self) -> PlexSim:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.faults.clear()
        self.stop()


#: What the ``plex_sim_factory`` fixture yields: ``make(library=None, *, token=..., port=None)``.
PlexSimFactory = Callable[..., PlexSim]
