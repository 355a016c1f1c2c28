"""Lookups that arrive together are fetched together; exact paths become one regex Stash can run."""

from __future__ import annotations

import asyncio
import re
import time

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from stash2plex.common.batching import Batcher
from stash2plex.provider.stash import literal_regex, paths_regex


class Fetcher:
    def __init__(self) -> None:
        self.calls: list[list[str]] = []
        self.release = asyncio.Event()
        self.release.set()

    async def __call__(self, keys: list[str]) -> dict[str, str]:
        self.calls.append(keys)
        await self.release.wait()
        if "boom" in keys:
            raise RuntimeError("stash down")
        return {k: k.upper() for k in keys}


async def test_keys_asked_in_one_turn_go_out_in_one_fetch() -> None:
    fetch = Fetcher()
    batcher = Batcher(fetch, max_batch=10, in_flight=2)
    values = await asyncio.gather(*(batcher.get(k) for k in "abcde"))
    assert values == list("ABCDE")
    assert fetch.calls == [list("abcde")]


async def test_keys_arriving_while_fetches_run_wait_and_go_together() -> None:
    fetch = Fetcher()
    fetch.release.clear()
    batcher = Batcher(fetch, max_batch=10, in_flight=1)
    first = asyncio.create_task(batcher.get("a"))
    await asyncio.sleep(0)
    later = [asyncio.create_task(batcher.get(k)) for k in "bcd"]
    await asyncio.sleep(0.01)
    assert fetch.calls == [["a"]]  # the others wait for the one in flight
    fetch.release.set()
    assert await asyncio.gather(first, *later) == list("ABCD")
    assert fetch.calls == [["a"], list("bcd")]


async def test_a_batch_never_exceeds_its_size() -> None:
    fetch = Fetcher()
    batcher = Batcher(fetch, max_batch=2, in_flight=3)
    await asyncio.gather(*(batcher.get(k) for k in "abcde"))
    assert [len(c) for c in fetch.calls] == [2, 2, 1]


async def test_a_failed_fetch_fails_its_keys_only() -> None:
    fetch = Fetcher()
    batcher = Batcher(fetch, max_batch=10, in_flight=2)
    results = await asyncio.gather(batcher.get("boom"), batcher.get("x"), return_exceptions=True)
    assert all(isinstance(r, RuntimeError) for r in results)
    assert await batcher.get("y") == "Y"


def test_batches_need_room() -> None:
    with pytest.raises(ValueError, match="at least 1"):
        Batcher(Fetcher(), max_batch=0, in_flight=1)
    with pytest.raises(ValueError, match="negative"):
        Batcher(Fetcher(), max_batch=1, in_flight=1, settle_turns=-1)


async def after_turns(batcher: Batcher[str], key: str, turns: int) -> str:
    """``key`` asked after ``turns`` turns of the loop: a burst read off the sockets a few requests at a time."""
    for _ in range(turns):
        await asyncio.sleep(0)
    return await batcher.get(key)


async def test_a_burst_spread_over_turns_goes_in_one_fetch_once_it_settles() -> None:
    spread, settled = Fetcher(), Fetcher()
    eager = Batcher(spread, max_batch=50, in_flight=2)
    patient = Batcher(settled, max_batch=50, in_flight=2, settle_turns=3)
    for batcher in (eager, patient):
        values = await asyncio.gather(*(after_turns(batcher, k, 2 * i) for i, k in enumerate("abcdef")))
        assert values == list("ABCDEF")
    assert len(spread.calls) > 1  # without settling, the first keys go alone
    assert settled.calls == [list("abcdef")]


async def test_a_lone_key_waits_a_few_turns_not_the_linger() -> None:
    fetch = Fetcher()
    batcher = Batcher(fetch, max_batch=50, in_flight=2, settle_turns=3, max_linger_s=30)
    assert await asyncio.wait_for(batcher.get("a"), timeout=1) == "A"


async def test_a_steady_stream_of_keys_is_cut_at_the_linger_or_when_the_batch_is_full() -> None:
    fetch = Fetcher()
    batcher = Batcher(fetch, max_batch=10**9, in_flight=2, settle_turns=3, max_linger_s=0.02)
    asked: list[asyncio.Task[str]] = []
    deadline = time.monotonic() + 3  # far beyond the linger: only a batch that never goes reaches it
    while not fetch.calls and time.monotonic() < deadline:  # a new key every turn, never a quiet one
        asked.append(asyncio.create_task(batcher.get(f"k{len(asked)}")))
        await asyncio.sleep(0)
    assert fetch.calls, "the batch waited for the stream to stop"
    for _ in range(10):  # the stream goes on after the cut
        asked.append(asyncio.create_task(batcher.get(f"k{len(asked)}")))
        await asyncio.sleep(0)
    await asyncio.gather(*asked)
    assert len(fetch.calls[0]) < len(asked)
    assert sum(len(call) for call in fetch.calls) == len(asked)

    full = Fetcher()
    small = Batcher(full, max_batch=3, in_flight=1, settle_turns=1000, max_linger_s=30)
    assert await asyncio.wait_for(asyncio.gather(*(small.get(k) for k in "xyz")), timeout=1) == list("XYZ")
    assert full.calls == [list("xyz")]


paths = st.text(alphabet=st.characters(exclude_categories=["Cs"], exclude_characters="\n\r"), max_size=60)


ASCII_UPPER = str.maketrans("abcdefghijklmnopqrstuvwxyz", "ABCDEFGHIJKLMNOPQRSTUVWXYZ")


@given(st.lists(paths, min_size=1, max_size=12))
def test_the_paths_regex_matches_the_paths_whatever_their_ascii_case_and_nothing_longer(wanted: list[str]) -> None:
    assume(not any(w.endswith(".mp4") or w.startswith("/prefix") for w in wanted))
    pattern = re.compile(paths_regex(wanted)["path"]["value"])
    for path in wanted:
        assert pattern.search(path)
        assert pattern.search(path.translate(ASCII_UPPER))
        assert not pattern.search(path + "/x.mp4")
        assert not pattern.search("/prefix" + path)
        if path[:-1] and not any(re.fullmatch(re.escape(w), path[:-1], re.IGNORECASE) for w in wanted):
            assert not pattern.search(path[:-1])  # the shared beginning alone is not a match


def test_shared_text_is_written_once_and_alternatives_start_where_paths_part() -> None:
    value = paths_regex(["/media/Clips/a.mp4", "/media/Clips/b.mp4", "/media/Movies/c.mkv"])["path"]["value"]
    assert value == "(?i)^/media/(?:Clips/(?:a\\.mp4|b\\.mp4)|Movies/c\\.mkv)$"
    # a path that is the start of another is still matched on its own, and nothing between
    nested = re.compile(paths_regex(["/a/b.mkv", "/a/b.mkv.part", "/a/b.mkv"])["path"]["value"])
    assert [bool(nested.search(p)) for p in ("/a/b.mkv", "/a/b.mkv.part", "/a/b.mkv.p", "/a/b")] == [
        True,
        True,
        False,
        False,
    ]


def test_only_metacharacters_are_escaped() -> None:
    assert literal_regex("D:\\Media\\[2020] a+b (1).mp4") == "D:\\\\Media\\\\\\[2020\\] a\\+b \\(1\\)\\.mp4"
    assert literal_regex("/data/Zoë 🌸 - #1 & co/ß.mkv") == "/data/Zoë 🌸 - #1 & co/ß\\.mkv"
