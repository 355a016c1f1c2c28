"""Lookups that arrive together are fetched together; exact paths become one regex Stash can run."""

from __future__ import annotations

import asyncio
import re

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


paths = st.text(alphabet=st.characters(exclude_categories=["Cs"], exclude_characters="\n\r"), max_size=60)


ASCII_UPPER = str.maketrans("abcdefghijklmnopqrstuvwxyz", "ABCDEFGHIJKLMNOPQRSTUVWXYZ")


@given(st.lists(paths, min_size=1, max_size=5))
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


def test_the_shared_folder_is_written_once() -> None:
    value = paths_regex(["/media/Clips/a.mp4", "/media/Clips/b.mp4", "/media/Movies/c.mkv"])["path"]["value"]
    assert value == "(?i)^/media/(?:Clips/a\\.mp4|Clips/b\\.mp4|Movies/c\\.mkv)$"


def test_only_metacharacters_are_escaped() -> None:
    assert literal_regex("D:\\Media\\[2020] a+b (1).mp4") == "D:\\\\Media\\\\\\[2020\\] a\\+b \\(1\\)\\.mp4"
    assert literal_regex("/data/Zoë 🌸 - #1 & co/ß.mkv") == "/data/Zoë 🌸 - #1 & co/ß\\.mkv"
