"""Adaptive concurrency: how many jobs run at once as Plex speeds up and slows down."""

from __future__ import annotations

import asyncio

import pytest
from hypothesis import given
from hypothesis import strategies as st

from stash2plex.syncer.concurrency import AdaptiveLimit, AdaptiveSemaphore

pytestmark = pytest.mark.unit

TARGET = 1.0
FAST, OK, SLOW = 0.2, 1.5, 2.5


def adaptive(minimum: int = 1, maximum: int = 8, initial: int | None = None, every: int = 10) -> AdaptiveLimit:
    return AdaptiveLimit(
        minimum=minimum, maximum=maximum, initial=initial, target_latency_s=TARGET, increase_every=every
    )


def test_it_starts_at_the_minimum_and_grows_by_one_per_run_of_fast_jobs_up_to_the_maximum() -> None:
    limit = adaptive(minimum=2, maximum=4)
    assert limit.limit == 2
    seen = []
    for _ in range(50):
        limit.on_success(FAST)
        seen.append(limit.limit)
    assert seen[8] == 2
    assert seen[9] == 3
    assert seen[19] == 4
    assert seen[-1] == 4


def test_a_job_slower_than_the_target_breaks_the_run() -> None:
    limit = adaptive(initial=3)
    for _ in range(9):
        limit.on_success(FAST)
    limit.on_success(OK)
    for _ in range(9):
        limit.on_success(FAST)
    assert limit.limit == 3
    limit.on_success(FAST)
    assert limit.limit == 4


def test_a_very_slow_job_lowers_the_limit_by_a_quarter_and_a_failure_halves_it() -> None:
    limit = adaptive(initial=8)
    limit.on_success(SLOW)
    assert limit.limit == 6
    other = adaptive(initial=8)
    other.on_failure()
    assert other.limit == 4


def test_the_limit_never_drops_below_the_minimum() -> None:
    limit = adaptive(minimum=3, maximum=8, initial=4)
    for _ in range(100):
        limit.on_failure()
        limit.on_success(SLOW)
    assert limit.limit == 3


def test_one_congestion_event_seen_by_every_job_in_flight_costs_one_decrease() -> None:
    limit = adaptive(initial=8)
    for _ in range(8):  # the eight jobs that were running when Plex slowed down all finish slowly
        limit.on_success(SLOW)
    assert limit.limit == 6


def test_congestion_that_persists_keeps_lowering_the_limit() -> None:
    limit = adaptive(initial=8)
    for _ in range(8):  # the eight jobs in flight at 8 fail: one halving
        limit.on_failure()
    assert limit.limit == 4
    limit.on_failure()  # a job started after that decrease fails too: Plex is still struggling
    assert limit.limit == 2
    for _ in range(4):
        limit.on_failure()
    assert limit.limit == 1


@given(
    st.lists(
        st.one_of(st.none(), st.floats(min_value=0, max_value=10)),
        max_size=200,
    ),
    st.integers(min_value=1, max_value=5),
    st.integers(min_value=0, max_value=10),
)
def test_the_limit_always_stays_within_the_configured_bounds(
    outcomes: list[float | None], minimum: int, spread: int
) -> None:
    limit = adaptive(minimum=minimum, maximum=minimum + spread, every=2)
    for outcome in outcomes:
        if outcome is None:
            limit.on_failure()
        else:
            limit.on_success(outcome)
        assert minimum <= limit.limit <= minimum + spread


@pytest.mark.parametrize(
    "kwargs",
    [
        {"minimum": 0, "maximum": 4},
        {"minimum": 5, "maximum": 4},
        {"minimum": 1, "maximum": 4, "initial": 5},
        {"minimum": 1, "maximum": 4, "increase_every": 0},
        {"minimum": 1, "maximum": 4, "target_latency_s": 0},
    ],
)
def test_impossible_bounds_are_refused(kwargs: dict[str, float]) -> None:
    with pytest.raises(ValueError, match="must"):
        AdaptiveLimit(**{"target_latency_s": 1.0, **kwargs})  # type: ignore[arg-type]


# -- the asyncio gate -------------------------------------------------------------------------


async def settle() -> None:
    for _ in range(5):
        await asyncio.sleep(0)


async def test_never_more_jobs_run_at_once_than_the_limit() -> None:
    gate = AdaptiveSemaphore(adaptive(initial=3))
    running, most = 0, 0

    async def job(i: int) -> None:
        nonlocal running, most
        await gate.acquire()
        running += 1
        most = max(most, running)
        for _ in range(i % 3 + 1):
            await asyncio.sleep(0)
        running -= 1
        gate.release(OK, ok=True)

    await asyncio.gather(*(job(i) for i in range(40)))
    assert most == 3
    assert gate.in_flight == 0


async def test_when_the_limit_shrinks_running_jobs_finish_and_new_ones_wait_below_it() -> None:
    gate = AdaptiveSemaphore(adaptive(initial=4))
    for _ in range(4):
        await gate.acquire()
    waiter = asyncio.create_task(gate.acquire())
    gate.release(None, ok=False)  # overload: the limit halves to 2 while 3 are still running
    assert gate.limit.limit == 2
    await settle()
    assert not waiter.done()
    gate.release(None, ok=True)  # 2 running: still not below the limit
    await settle()
    assert not waiter.done()
    gate.release(None, ok=True)  # 1 running: room for the waiter
    await settle()
    assert waiter.done()
    assert gate.in_flight == 2


async def test_a_growing_limit_lets_several_waiters_in_at_once() -> None:
    gate = AdaptiveSemaphore(adaptive(initial=1, every=1))
    await gate.acquire()
    waiters = [asyncio.create_task(gate.acquire()) for _ in range(3)]
    await settle()
    gate.release(FAST, ok=True)  # a fast job: the limit grows to 2 and the slot it freed is reused
    await settle()
    assert sum(w.done() for w in waiters) == 2
    assert gate.in_flight == 2


async def test_waiters_are_served_in_arrival_order() -> None:
    gate = AdaptiveSemaphore(adaptive(initial=1))
    await gate.acquire()
    order: list[int] = []

    async def job(i: int) -> None:
        await gate.acquire()
        order.append(i)
        gate.release(None, ok=True)

    tasks = [asyncio.create_task(job(i)) for i in range(5)]
    await settle()
    gate.release(None, ok=True)
    await asyncio.gather(*tasks)
    assert order == [0, 1, 2, 3, 4]


async def test_a_cancelled_waiter_does_not_keep_a_slot() -> None:
    gate = AdaptiveSemaphore(adaptive(initial=1))
    await gate.acquire()
    cancelled = asyncio.create_task(gate.acquire())
    await settle()
    gate.release(None, ok=True)  # hands the slot to the waiter…
    cancelled.cancel()  # …which is cancelled before it runs
    await settle()
    assert cancelled.cancelled()
    assert gate.in_flight == 0
    await asyncio.wait_for(gate.acquire(), timeout=1)


async def test_a_waiter_cancelled_while_queued_lets_the_next_one_in() -> None:
    gate = AdaptiveSemaphore(adaptive(initial=1))
    await gate.acquire()
    first = asyncio.create_task(gate.acquire())
    second = asyncio.create_task(gate.acquire())
    await settle()
    first.cancel()
    await settle()
    gate.release(None, ok=True)
    await settle()
    assert second.done()
    assert gate.in_flight == 1


async def test_waiting_for_a_slot_does_not_take_it() -> None:
    gate = AdaptiveSemaphore(adaptive(initial=1))
    await gate.acquire()
    watcher = asyncio.create_task(gate.wait_for_slot())
    await settle()
    assert not watcher.done()
    gate.release(None, ok=True)
    await settle()
    assert watcher.done()
    assert gate.in_flight == 0


async def test_an_outcome_that_says_nothing_about_plex_leaves_the_limit_alone() -> None:
    gate = AdaptiveSemaphore(adaptive(initial=4))
    for _ in range(4):
        await gate.acquire()
    for _ in range(4):
        gate.release(None, ok=True)
    assert gate.limit.limit == 4


def test_releasing_more_than_was_acquired_is_a_bug_caught_at_once() -> None:
    gate = AdaptiveSemaphore(adaptive())
    with pytest.raises(RuntimeError, match="without a matching acquire"):
        gate.release(None, ok=True)


async def test_jobs_may_outnumber_the_limit_by_the_given_factor() -> None:
    limit = adaptive(initial=3)
    gate = AdaptiveSemaphore(limit, per_unit=2)
    for _ in range(6):
        await gate.acquire()
    waiting = asyncio.ensure_future(gate.acquire())
    await settle()
    assert not waiting.done()
    assert gate.capacity == 6
    gate.release(None, ok=True)
    await settle()
    assert waiting.done()
    assert limit.limit == 3  # a job's release says nothing of Plex: the gate in front of Plex does


def test_a_factor_below_one_is_refused() -> None:
    with pytest.raises(ValueError, match="per_unit"):
        AdaptiveSemaphore(adaptive(), per_unit=0)
