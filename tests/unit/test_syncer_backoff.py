"""Retry delays and giving up, per error class."""

from __future__ import annotations

import random

import pytest
from hypothesis import given
from hypothesis import strategies as st

from stash2plex.common.contracts import ErrorClass
from stash2plex.syncer.backoff import (
    DEFAULT_POLICIES,
    RetryPolicy,
    decide,
    full_jitter_delay,
    human_duration,
)

pytestmark = pytest.mark.unit

HOUR = 3600.0
policies = st.builds(
    lambda base, factor, attempts: RetryPolicy(base_s=base, cap_s=base * factor, max_attempts=attempts, window_s=None),
    st.floats(min_value=1e-3, max_value=1e4),
    st.floats(min_value=1, max_value=1e4),
    st.none() | st.integers(min_value=1, max_value=50),
)


@given(policies, st.integers(min_value=1, max_value=10**6), st.integers(min_value=0, max_value=2**32))
def test_a_delay_stays_between_zero_and_the_capped_exponential(policy: RetryPolicy, attempt: int, seed: int) -> None:
    delay = full_jitter_delay(policy, attempt, random.Random(seed))
    assert 0 <= delay <= policy.cap_s
    if attempt <= 60:
        assert delay <= policy.base_s * 2 ** (attempt - 1)


def test_delays_are_spread_over_the_whole_range_so_failed_jobs_do_not_retry_together() -> None:
    policy = RetryPolicy(base_s=2, cap_s=300, max_attempts=None, window_s=None)
    rng = random.Random(7)
    delays = [full_jitter_delay(policy, 5, rng) for _ in range(500)]  # ceiling 2·2⁴ = 32 s
    assert min(delays) < 3
    assert max(delays) > 29
    assert len({round(d, 3) for d in delays}) > 450


def test_the_ceiling_doubles_per_attempt_until_the_cap() -> None:
    policy = RetryPolicy(base_s=2, cap_s=300, max_attempts=None, window_s=None)
    rng = random.Random(1)

    def largest(attempt: int) -> float:
        return max(full_jitter_delay(policy, attempt, rng) for _ in range(400))

    assert 3.8 < largest(2) <= 4
    assert 15 < largest(4) <= 16
    assert 290 < largest(10_000) <= 300


def test_attempts_count_from_one() -> None:
    with pytest.raises(ValueError, match="from 1"):
        full_jitter_delay(DEFAULT_POLICIES[ErrorClass.TRANSIENT], 0)
    with pytest.raises(ValueError, match="from 1"):
        decide(ErrorClass.TRANSIENT, 0, 0.0, 0.0)


def test_a_transient_failure_is_retried_eleven_times_then_given_up_after_the_twelfth_delivery() -> None:
    for attempt in range(1, 12):
        decision = decide(ErrorClass.TRANSIENT, attempt, 0.0, 10 * HOUR)
        assert decision.retry, attempt
        assert 0 <= decision.delay_s <= 300
    given_up = decide(ErrorClass.TRANSIENT, 12, 0.0, 1.0)
    assert not given_up.retry
    assert given_up.reason == "12 attempts"


def test_not_found_is_retried_for_two_hours_however_many_attempts_it_takes() -> None:
    assert decide(ErrorClass.NOT_FOUND, 500, 1000.0, 1000.0 + 2 * HOUR - 1).retry
    given_up = decide(ErrorClass.NOT_FOUND, 3, 1000.0, 1000.0 + 2 * HOUR)
    assert not given_up.retry
    assert given_up.reason == "not found for 2 h"


@given(st.floats(min_value=0, max_value=2 * HOUR - 1e-3), st.integers(min_value=1, max_value=10**4))
def test_a_not_found_retry_never_lands_after_the_window(elapsed: float, attempt: int) -> None:
    decision = decide(ErrorClass.NOT_FOUND, attempt, 0.0, elapsed, rng=random.Random(attempt))
    assert decision.retry
    assert elapsed + decision.delay_s <= 2 * HOUR + 1e-6


def test_a_permanent_failure_is_dead_lettered_at_once_and_says_why() -> None:
    decision = decide(ErrorClass.PERMANENT, 1, 0.0, 0.0)
    assert not decision.retry
    assert "not retried" in decision.reason


def test_a_configuration_failure_is_never_given_up() -> None:
    decision = decide(ErrorClass.CONFIGURATION, 100_000, 0.0, 365 * 24 * HOUR)
    assert decision.retry
    assert 0 <= decision.delay_s <= 300


@given(st.floats(min_value=0.1, max_value=3000), st.integers(min_value=1, max_value=11), st.integers(0, 2**32))
def test_retry_after_is_a_floor_on_the_delay(retry_after: float, attempt: int, seed: int) -> None:
    decision = decide(ErrorClass.TRANSIENT, attempt, 0.0, 0.0, retry_after_s=retry_after, rng=random.Random(seed))
    assert decision.retry
    assert decision.delay_s >= retry_after


def test_retry_after_that_outlasts_the_window_gives_the_job_up_rather_than_retrying_early() -> None:
    window_end = 2 * HOUR
    decision = decide(ErrorClass.NOT_FOUND, 4, 0.0, window_end - 60, retry_after_s=120)
    assert not decision.retry
    assert "2 min" in decision.reason


def test_custom_policies_replace_the_defaults() -> None:
    patient = {**DEFAULT_POLICIES, ErrorClass.PERMANENT: RetryPolicy(base_s=1, cap_s=5, max_attempts=3, window_s=None)}
    assert decide(ErrorClass.PERMANENT, 2, 0.0, 0.0, policies=patient).retry
    assert not decide(ErrorClass.PERMANENT, 3, 0.0, 0.0, policies=patient).retry


def test_a_first_failure_stamped_by_a_clock_running_ahead_does_not_break_the_window() -> None:
    decision = decide(ErrorClass.NOT_FOUND, 1, 100.0, 90.0, rng=random.Random(3))
    assert decision.retry
    assert 0 <= decision.delay_s <= 60


@pytest.mark.parametrize(
    ("base", "cap", "attempts", "window"),
    [(0, 10, None, None), (5, 4, None, None), (1, 10, 0, None), (1, 10, None, 0), (float("nan"), 10, None, None)],
)
def test_nonsensical_policies_are_refused(base: float, cap: float, attempts: int | None, window: float | None) -> None:
    with pytest.raises(ValueError, match="must"):
        RetryPolicy(base_s=base, cap_s=cap, max_attempts=attempts, window_s=window)


@pytest.mark.parametrize(("seconds", "said"), [(45, "45 s"), (900, "15 min"), (7200, "2 h"), (9000, "2.5 h")])
def test_durations_read_naturally_in_log_lines(seconds: float, said: str) -> None:
    assert human_duration(seconds) == said
