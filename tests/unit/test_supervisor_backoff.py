"""Restart backoff of ``stash2plex up``."""

from __future__ import annotations

from stash2plex.cli.supervisor import RESTART_FIRST_DELAY_S, RESTART_MAX_DELAY_S, STABLE_AFTER_S, next_delay


def test_crash_loop_backs_off_exponentially_up_to_a_cap() -> None:
    delays: list[float] = []
    delay: float | None = None
    for _ in range(10):
        delay = next_delay(delay, ran_for=0.5)
        delays.append(delay)
    assert delays[:4] == [RESTART_FIRST_DELAY_S, 2.0, 4.0, 8.0]
    assert delays[-1] == RESTART_MAX_DELAY_S
    assert delays == sorted(delays)


def test_a_stable_child_starts_again_quickly() -> None:
    assert next_delay(RESTART_MAX_DELAY_S, ran_for=STABLE_AFTER_S + 1) == RESTART_FIRST_DELAY_S
