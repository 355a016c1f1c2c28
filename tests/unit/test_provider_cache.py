"""The provider's caches forget after their TTL and beyond their size; identical lookups share one call."""

from __future__ import annotations

import asyncio

import pytest

from stash2plex.provider.cache import SingleFlight, TtlCache


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_entries_expire_after_their_ttl() -> None:
    clock = Clock()
    cache: TtlCache[str, int] = TtlCache("t1", max_entries=10, ttl_s=5, clock=clock)
    cache.put("a", 1)
    clock.now += 4.9
    assert cache.get("a") == 1
    clock.now += 0.2
    assert cache.get("a") is None
    assert len(cache) == 0


def test_the_least_recently_used_entry_goes_first() -> None:
    cache: TtlCache[str, int] = TtlCache("t2", max_entries=2, ttl_s=60)
    cache.put("a", 1)
    cache.put("b", 2)
    assert cache.get("a") == 1  # a is now the most recent
    cache.put("c", 3)
    assert (cache.get("a"), cache.get("b"), cache.get("c")) == (1, None, 3)


def test_none_is_remembered_as_an_answer() -> None:
    cache: TtlCache[str, int | None] = TtlCache("t3", max_entries=2, ttl_s=60)
    assert cache.lookup("gone") == (False, None)
    cache.put("gone", None)
    assert cache.lookup("gone") == (True, None)


def test_a_zero_ttl_keeps_nothing() -> None:
    cache: TtlCache[str, int] = TtlCache("t4", max_entries=2, ttl_s=0)
    cache.put("a", 1)
    assert cache.get("a") is None


def test_a_cache_needs_room_for_one() -> None:
    with pytest.raises(ValueError, match="max_entries"):
        TtlCache("t5", max_entries=0, ttl_s=1)


async def test_concurrent_identical_lookups_share_one_call() -> None:
    flight: SingleFlight[str, int] = SingleFlight("t6")
    calls = 0
    release = asyncio.Event()

    async def slow() -> int:
        nonlocal calls
        calls += 1
        await release.wait()
        return 42

    waiters = [asyncio.create_task(flight.run("k", slow)) for _ in range(50)]
    await asyncio.sleep(0)
    release.set()
    assert await asyncio.gather(*waiters) == [42] * 50
    assert calls == 1
    assert len(flight) == 0
    assert await flight.run("k", slow) == 42  # finished: the next lookup asks again
    assert calls == 2


async def test_a_failure_reaches_every_waiter_and_is_not_kept() -> None:
    flight: SingleFlight[str, int] = SingleFlight("t7")

    async def broken() -> int:
        await asyncio.sleep(0.01)
        raise RuntimeError("stash down")

    results = await asyncio.gather(*(flight.run("k", broken) for _ in range(3)), return_exceptions=True)
    assert all(isinstance(r, RuntimeError) for r in results)
    assert len(flight) == 0


async def test_one_caller_giving_up_does_not_cancel_the_others() -> None:
    flight: SingleFlight[str, int] = SingleFlight("t8")

    async def slow() -> int:
        await asyncio.sleep(0.05)
        return 7

    impatient = asyncio.create_task(flight.run("k", slow))
    patient = asyncio.create_task(flight.run("k", slow))
    await asyncio.sleep(0.01)
    impatient.cancel()
    assert await patient == 7
    assert impatient.cancelled()
