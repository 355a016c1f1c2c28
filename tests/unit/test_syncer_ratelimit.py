"""The rate of jobs after an outage: low at first, climbing over the ramp, then unlimited again."""

from __future__ import annotations

import math

import pytest
from hypothesis import given
from hypothesis import strategies as st

from stash2plex.syncer.ratelimit import RampingTokenBucket

pytestmark = pytest.mark.unit


class FakeClock:
    def __init__(self, now: float = 1000.0) -> None:
        self.now = now
        self.slept: list[float] = []

    def __call__(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds


def bucket(clock: FakeClock, **overrides: float | None) -> RampingTokenBucket:
    options: dict[str, float | None] = {
        "steady_rate": None,
        "start_rate": 2,
        "ramp_to_rate": 20,
        "ramp_s": 60,
        "burst": 2,
    }
    options.update(overrides)
    return RampingTokenBucket(clock=clock, sleep=clock.sleep, **options)  # type: ignore[arg-type]


def drain(limiter: RampingTokenBucket, clock: FakeClock, until: float) -> int:
    """Take tokens as fast as the bucket allows until ``until``; how many were taken."""
    taken = 0
    while clock.now < until:
        wait = limiter.try_acquire()
        if wait == 0:
            taken += 1
        else:
            clock.now += wait
    return taken


def test_without_an_outage_an_unlimited_bucket_never_makes_anyone_wait() -> None:
    clock = FakeClock()
    limiter = bucket(clock)
    assert all(limiter.try_acquire() == 0 for _ in range(10_000))
    assert limiter.current_rate() is None
    assert not limiter.ramping


def test_right_after_recovery_only_the_burst_goes_at_once_then_the_start_rate_applies() -> None:
    clock = FakeClock()
    limiter = bucket(clock)
    limiter.start_ramp()
    assert limiter.ramping
    assert limiter.current_rate() == 2
    assert [limiter.try_acquire() for _ in range(2)] == [0, 0]
    wait = limiter.try_acquire()
    # the rate climbs 0.3/s every second from 2/s: 2w + 0.15w² = 1 token
    assert wait == pytest.approx((math.sqrt(4.6) - 2) / 0.3)
    assert 0.45 < wait < 0.5
    clock.now += wait
    assert limiter.try_acquire() == 0


def test_the_rate_climbs_linearly_then_the_bucket_is_unlimited_again() -> None:
    clock = FakeClock()
    limiter = bucket(clock)
    limiter.start_ramp()
    clock.now += 30
    assert limiter.current_rate() == pytest.approx(11)
    clock.now += 29.9
    assert limiter.current_rate() == pytest.approx(19.97)
    clock.now += 0.1
    assert limiter.current_rate() is None
    assert not limiter.ramping
    assert all(limiter.try_acquire() == 0 for _ in range(1000))


def test_a_backlog_drained_through_the_ramp_gets_the_tokens_the_ramp_allows_and_no_more() -> None:
    clock = FakeClock()
    limiter = bucket(clock)
    limiter.start_ramp()
    start = clock.now
    first_second = drain(limiter, clock, start + 1)
    assert first_second <= 2 + 3  # the burst plus about 2/s (slightly more as the ramp climbs)
    rest = drain(limiter, clock, start + 59.99)
    # burst + integral of a rate climbing from 2 to 20 over 60 s = 2 + 660
    assert first_second + rest == pytest.approx(662, abs=2)


def test_tokens_saved_up_during_the_ramp_follow_the_rate_as_it_climbs() -> None:
    clock = FakeClock()
    limiter = bucket(clock, burst=1000)
    limiter.start_ramp()

    def available() -> int:
        taken = 0
        while limiter.try_acquire() == 0:
            taken += 1
        return taken

    assert available() == 1000
    clock.now += 30
    # ∫₀³⁰ (2 + 0.3t) dt = 60 + 135 tokens: neither the start rate nor the rate at 30 s
    assert available() == 195


def test_nobody_is_told_to_wait_past_the_end_of_the_ramp_of_an_unlimited_bucket() -> None:
    clock = FakeClock()
    limiter = bucket(clock, burst=1)
    limiter.start_ramp()
    clock.now += 59.99
    assert limiter.try_acquire() == 0
    assert limiter.try_acquire() == pytest.approx(0.01)  # a token at ~20/s would take 0.05 s


def test_a_steady_rate_is_where_the_ramp_ends_and_stays() -> None:
    clock = FakeClock()
    limiter = bucket(clock, steady_rate=10, ramp_to_rate=None, ramp_s=10, burst=1)
    assert limiter.current_rate() == 10
    start = clock.now
    assert drain(limiter, clock, start + 10) == pytest.approx(101, abs=1)
    limiter.start_ramp()
    assert limiter.current_rate() == 2
    clock.now += 5
    assert limiter.current_rate() == pytest.approx(6)
    clock.now += 5
    assert limiter.current_rate() == 10
    start = clock.now
    assert drain(limiter, clock, start + 10) == pytest.approx(100, abs=2)


def test_an_unlimited_bucket_ramps_to_ten_times_the_start_rate_unless_told_otherwise() -> None:
    clock = FakeClock()
    limiter = RampingTokenBucket(steady_rate=None, start_rate=3, ramp_s=10, burst=1, clock=clock)
    limiter.start_ramp()
    clock.now += 9.999
    assert limiter.current_rate() == pytest.approx(30, abs=0.01)


def test_no_ramp_time_means_no_limit_after_recovery() -> None:
    clock = FakeClock()
    limiter = bucket(clock, ramp_s=0)
    limiter.start_ramp()
    assert not limiter.ramping
    assert all(limiter.try_acquire() == 0 for _ in range(100))


def test_a_second_recovery_restarts_the_ramp_from_the_bottom() -> None:
    clock = FakeClock()
    limiter = bucket(clock)
    limiter.start_ramp()
    clock.now += 50
    limiter.start_ramp()
    assert limiter.current_rate() == 2
    clock.now += 59
    assert limiter.ramping


@given(
    start=st.floats(min_value=0.1, max_value=50),
    factor=st.floats(min_value=1, max_value=20),
    ramp_s=st.floats(min_value=0.5, max_value=300),
    steady=st.booleans(),
    pauses=st.lists(st.floats(min_value=0, max_value=5), min_size=1, max_size=30),
)
def test_waiting_as_long_as_told_always_yields_a_token(
    start: float, factor: float, ramp_s: float, steady: bool, pauses: list[float]
) -> None:
    clock = FakeClock()
    target = start * factor
    limiter = RampingTokenBucket(
        steady_rate=target if steady else None,
        ramp_to_rate=None if steady else target,
        start_rate=start,
        ramp_s=ramp_s,
        burst=1,
        clock=clock,
    )
    limiter.start_ramp()
    for pause in pauses:
        clock.now += pause
        wait = limiter.try_acquire()
        if wait:
            assert wait <= 1 / start + 1e-9  # never longer than a token takes at the slowest rate
            clock.now += wait
            assert limiter.try_acquire() == 0


async def test_acquire_sleeps_until_a_token_is_there_without_spinning() -> None:
    clock = FakeClock()
    limiter = bucket(clock, burst=1)
    limiter.start_ramp()
    start = clock.now
    for _ in range(5):
        await limiter.acquire()
    assert len(clock.slept) == 4
    # 4 tokens beyond the burst: 2T + 0.15T² = 4
    assert clock.now - start == pytest.approx((math.sqrt(6.4) - 2) / 0.3)


@pytest.mark.parametrize(
    "overrides",
    [
        {"start_rate": 0},
        {"ramp_s": -1},
        {"burst": 0.5},
        {"steady_rate": 0, "ramp_to_rate": None},
        {"steady_rate": 10, "ramp_to_rate": 20},
        {"start_rate": 30, "ramp_to_rate": 20},
    ],
)
def test_settings_that_could_never_work_are_refused(overrides: dict[str, float | None]) -> None:
    with pytest.raises(ValueError, match=r"must|applies only|climb"):
        bucket(FakeClock(), **overrides)
