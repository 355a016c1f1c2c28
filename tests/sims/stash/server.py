"""One running simulated Stash: the app on a real socket, with its data, faults and request log."""

from __future__ import annotations

import threading
from pathlib import Path

from tests.harness.servers import ThreadedServer
from tests.sims.stash.app import SimState, create_app
from tests.sims.stash.faults import Faults
from tests.sims.stash.request_log import RequestLog
from tests.sims.stash.schema import load_schema
from tests.sims.stash.store import StashData


class StashSim:
    """A Stash a real client can reach over HTTP; ``stop()`` makes connections be refused."""

    def __init__(
        self,
        data: StashData | None = None,
        *,
        api_key: str | None = None,
        host: str = "127.0.0.1",
        port: int | None = None,
        schema_dir: Path | None = None,
    ) -> None:
        self.data = data or StashData()
        self.api_key = api_key
        self.faults = Faults()
        self.requests = RequestLog()
        self._state = SimState(
            schema=load_schema(schema_dir),
            data=self.data,
            faults=self.faults,
            requests=self.requests,
            api_key=api_key,
            on_down=self._down_from_request,
        )
        self.app = create_app(self._state)
        self._server = ThreadedServer(self.app, host=host, port=port)
        self._restart: threading.Timer | None = None

    @property
    def url(self) -> str:
        """Base URL, e.g. ``http://127.0.0.1:41234`` (what ``STASH2PLEX_STASH__URL`` would hold)."""
        return self._server.url

    @property
    def graphql_url(self) -> str:
        return self.url + "/graphql"

    @property
    def running(self) -> bool:
        return self._server.running

    def start(self) -> StashSim:
        self._server.start()
        return self

    def stop(self) -> None:
        """Close the listener (and in-flight slow requests); the port stays reserved for :meth:`start`."""
        if self._restart is not None:
            self._restart.cancel()
            self._restart = None
        self.faults.release_sleepers()
        self._server.stop()

    def down_for(self, seconds: float) -> None:
        """Refuse connections for ``seconds``, then listen again on the same port."""
        self.stop()
        self._restart = threading.Timer(seconds, self._server.start)
        self._restart.daemon = True
        self._restart.start()

    def _down_from_request(self, seconds: float) -> None:
        # The request asking for it runs on the server thread, which cannot wait for itself to stop.
        threading.Thread(target=self.down_for, args=(seconds,), name="stash-sim-down", daemon=True).start()

    def __enter__(self) -> StashSim:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
