"""Child-process helpers shared by the embedded broker and ``stash2plex up``."""

from __future__ import annotations

import ctypes
import signal
import sys
from collections.abc import Callable

_PR_SET_PDEATHSIG = 1


def die_with_parent() -> Callable[[], None] | None:
    """A ``preexec_fn`` that makes a child get SIGTERM when its parent dies (Linux only).

    Without it a SIGKILLed supervisor would leave an orphaned nats-server holding the port
    and the store lock, and the next start would fail.
    """
    if not sys.platform.startswith("linux"):
        return None

    def set_death_signal() -> None:
        libc = ctypes.CDLL("libc.so.6", use_errno=True)
        libc.prctl(_PR_SET_PDEATHSIG, signal.SIGTERM)

    return set_death_signal
