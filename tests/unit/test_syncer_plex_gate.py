"""The syncer's concurrency bound counts Plex requests, across the worker threads that make them."""

from __future__ import annotations

import threading
import time

import pytest

from stash2plex.syncer.concurrency import AdaptiveLimit
from stash2plex.syncer.plex_gate import PlexGate

pytestmark = pytest.mark.unit


def limit(initial: int, maximum: int = 8, every: int = 2) -> AdaptiveLimit:
    return AdaptiveLimit(minimum=1, maximum=maximum, initial=initial, target_latency_s=1.0, increase_every=every)


def test_never_more_requests_at_once_than_the_limit() -> None:
    gate = PlexGate(limit(initial=3, maximum=3))
    running, most = 0, 0
    lock = threading.Lock()

    def request() -> None:
        nonlocal running, most
        gate.enter()
        with lock:
            running += 1
            most = max(most, running)
        time.sleep(0.01)
        with lock:
            running -= 1
        gate.leave(0.01, overload=False)

    threads = [threading.Thread(target=request) for _ in range(24)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert most == 3
    assert gate.in_flight == 0


def test_fast_answers_raise_the_limit_and_an_overload_halves_it() -> None:
    gate = PlexGate(limit(initial=4))
    for _ in range(4):
        gate.enter()
        gate.leave(0.05, overload=False)
    assert gate.limit.limit == 6
    gate.enter()
    gate.leave(0.05, overload=True)
    assert gate.limit.limit == 3


def test_unmeasured_requests_take_a_slot_but_do_not_move_the_limit() -> None:
    gate = PlexGate(limit(initial=2))
    with gate.unmeasured():
        for _ in range(10):
            gate.enter()
            gate.leave(0.01, overload=False)
        gate.enter()
        gate.leave(0.01, overload=True)  # an overload still counts
    assert gate.limit.limit == 1
    gate.enter()
    gate.leave(0.01, overload=False)  # measured again outside the block
    gate.enter()
    gate.leave(0.01, overload=False)
    assert gate.limit.limit == 2
