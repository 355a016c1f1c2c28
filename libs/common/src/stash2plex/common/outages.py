"""The history of Plex outages, and the reliability figures an operator asks for (MTTR, MTBF).

A pure, immutable model: every change returns a new history, which the caller stores with a
compare-and-swap (:mod:`.outage_log`). Replicas on different hosts write it, so small clock
differences are absorbed rather than producing negative durations.
"""

from __future__ import annotations

from datetime import datetime
from statistics import fmean

from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, model_validator

MAX_OUTAGES = 30
"""Outages kept; older ones are dropped so the KV value stays small."""


class Outage(BaseModel):
    model_config = ConfigDict(frozen=True)

    started_at: AwareDatetime
    ended_at: AwareDatetime | None = None
    jobs_held: int = Field(default=0, ge=0)
    """Jobs waiting in the stream when the outage ended."""
    cause: str = ""

    @model_validator(mode="after")
    def _ends_after_it_starts(self) -> Outage:
        if self.ended_at is not None and self.ended_at < self.started_at:
            raise ValueError("an outage cannot end before it starts")
        return self

    @property
    def duration_s(self) -> float | None:
        """How long Plex was down; ``None`` while the outage goes on."""
        if self.ended_at is None:
            return None
        return (self.ended_at - self.started_at).total_seconds()

    def ongoing(self) -> bool:
        return self.ended_at is None


class OutageHistory(BaseModel):
    """The last :data:`MAX_OUTAGES` outages, oldest first; at most the last one is ongoing."""

    model_config = ConfigDict(frozen=True)

    outages: list[Outage] = Field(default_factory=list)

    def current(self) -> Outage | None:
        """The outage going on now, if any."""
        if self.outages and self.outages[-1].ongoing():
            return self.outages[-1]
        return None

    def start(self, at: datetime, cause: str) -> OutageHistory:
        """A new outage; unchanged if one is already going on (another replica saw it first)."""
        if self.current() is not None:
            return self
        if self.outages and self.outages[-1].ended_at is not None:
            at = max(_aware(at), self.outages[-1].ended_at)  # another host's clock may run slightly ahead
        outage = Outage(started_at=at, cause=cause)
        return OutageHistory(outages=[*self.outages, outage][-MAX_OUTAGES:])

    def end(self, at: datetime, jobs_held: int) -> OutageHistory:
        """Close the ongoing outage; unchanged if there is none (another replica closed it)."""
        outage = self.current()
        if outage is None:
            return self
        ended = Outage(
            started_at=outage.started_at,
            ended_at=max(_aware(at), outage.started_at),  # another host's clock may run slightly behind
            jobs_held=jobs_held,
            cause=outage.cause,
        )
        return OutageHistory(outages=[*self.outages[:-1], ended])

    def mttr_s(self) -> float | None:
        """Mean time to recovery: the mean duration of the outages that have ended."""
        durations = [o.duration_s for o in self.outages if o.duration_s is not None]
        return fmean(durations) if durations else None

    def mtbf_s(self) -> float | None:
        """Mean time between failures: the mean uptime from the end of one outage to the start of the next.

        Only complete intervals count: the uptime before the first recorded outage and since
        the last one are open-ended and would bias the figure. ``None`` with fewer than two outages.
        """
        uptimes = [
            (after.started_at - before.ended_at).total_seconds()
            for before, after in zip(self.outages, self.outages[1:], strict=False)
            if before.ended_at is not None
        ]
        return fmean(uptimes) if uptimes else None


def _aware(at: datetime) -> datetime:
    if at.tzinfo is None:
        raise ValueError(f"outage times must carry a time zone, not {at!r}")
    return at
