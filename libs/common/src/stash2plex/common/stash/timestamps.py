"""Turning "updated since this moment" into a filter value Stash compares correctly.

Stash stores ``created_at``/``updated_at`` as RFC3339 text in the *server's* local
time zone (``2026-01-10T14:03:22+01:00``) and its timestamp criteria compare that
text with the value sent, as text. The offset is therefore ignored, and the client
does not know the server's zone. Sending the moment in UTC would miss updates on a
server west of Greenwich.

So the value sent is the moment minus the largest westward offset (12 h), in the
``YYYY-MM-DDTHH:MM:SS`` form the Stash UI sends: every scene updated after the
moment sorts after it whatever the server's zone, at the price of up to 12 h of
extra scenes, which the client then drops by comparing real instants.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

# No time zone is further west than UTC-12:00.
MAX_WESTWARD_OFFSET = timedelta(hours=12)


def greater_than_value(moment: datetime) -> str:
    """The ``updated_at GREATER_THAN`` value that includes every scene changed after ``moment``.

    A stored value equal to the sent one up to the seconds still sorts after it
    (it is longer: it carries an offset), so truncating to seconds loses nothing.
    """
    if moment.tzinfo is None:
        raise ValueError("updated_since must be timezone-aware (a naive time is ambiguous)")
    widened = moment.astimezone(UTC) - MAX_WESTWARD_OFFSET
    return widened.strftime("%Y-%m-%dT%H:%M:%S")
