"""A Stash simulator that executes Stash's real GraphQL schema over HTTP.

Pieces: :mod:`.store` (the data), :mod:`.filters` and :mod:`.scene_query` (Stash's
filter semantics), :mod:`.output` and :mod:`.resolvers` (GraphQL objects),
:mod:`.app` (HTTP), :mod:`.server` (a running instance), :mod:`.generate` (test
libraries), :mod:`.fixtures` (pytest). Run it alone with ``python -m tests.sims.stash``.
"""

from tests.sims.stash.faults import Faults
from tests.sims.stash.generate import make_scenes
from tests.sims.stash.request_log import RecordedRequest, RequestLog
from tests.sims.stash.server import StashSim
from tests.sims.stash.store import StashData

__all__ = ["Faults", "RecordedRequest", "RequestLog", "StashData", "StashSim", "make_scenes"]
