"""When passes run on their own: never, hourly, daily, weekly, or a cron expression (croniter).

Every replica computes the same moments from the same expression, so replicas fire together and
the lease lets one of them run the pass (see :mod:`.lease`).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from croniter import croniter

NAMED = {"hourly": "0 * * * *", "daily": "0 3 * * *", "weekly": "0 3 * * 0"}
"""The named intervals; daily and weekly at 03:00, when a home library is least busy."""
NEVER = "never"


@dataclass(frozen=True)
class Schedule:
    """A parsed interval; ``expression`` is None for ``never``."""

    text: str
    expression: str | None

    @classmethod
    def parse(cls, text: str) -> Schedule:
        value = text.strip()
        lowered = value.lower()
        if lowered in ("", NEVER, "off", "0"):
            return cls(text=NEVER, expression=None)
        expression = NAMED.get(lowered, value)
        if len(expression.split()) not in (5, 6) or not croniter.is_valid(expression):
            raise ValueError(
                f"{text!r} is not never, hourly, daily, weekly or a cron expression "
                "(five fields, e.g. '30 3 * * *', or six with the seconds last)"
            )
        return cls(text=lowered if lowered in NAMED else value, expression=expression)

    @property
    def enabled(self) -> bool:
        return self.expression is not None

    def next_after(self, moment: datetime) -> datetime | None:
        """The first scheduled moment strictly after ``moment`` (aware, local time zone), None for never."""
        if self.expression is None:
            return None
        local = moment.astimezone()
        following: datetime = croniter(self.expression, local).get_next(datetime)
        return following
