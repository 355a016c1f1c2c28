"""Every request of the syncer's Plex session passes the gate, and an overload answer lowers the limit."""

from __future__ import annotations

import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import ClassVar

import pytest
import requests

from stash2plex.syncer.plex import plex_session
from stash2plex.syncer.plex_gate import PlexGate
from tests.unit.test_syncer_plex_gate import limit

pytestmark = pytest.mark.integration


class Answers(BaseHTTPRequestHandler):
    statuses: ClassVar[list[int]] = []

    def do_GET(self) -> None:
        self.send_response(self.statuses.pop(0) if self.statuses else 200)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *args: object) -> None:
        pass


def test_the_plex_session_passes_every_request_through_the_gate_and_reports_overloads() -> None:
    server = ThreadingHTTPServer(("127.0.0.1", 0), Answers)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    url = f"http://127.0.0.1:{server.server_address[1]}/"
    try:
        gate = PlexGate(limit(initial=4))
        session = plex_session(gate)
        session.get(url)
        session.get(url)
        assert gate.limit.limit == 5  # two fast answers: one step up
        Answers.statuses[:] = [503]
        with pytest.raises(Exception, match="503"):
            session.get(url)
        assert gate.limit.limit == 2
        assert gate.in_flight == 0
    finally:
        server.shutdown()


def test_a_refused_connection_is_an_overload() -> None:
    gate = PlexGate(limit(initial=4))
    session = plex_session(gate)
    with pytest.raises(requests.ConnectionError):
        session.get("http://127.0.0.1:9/", timeout=1)
    assert gate.limit.limit == 2
    assert gate.in_flight == 0
