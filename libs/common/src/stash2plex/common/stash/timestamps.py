"""Turning "updated since this moment" into a filter value Stash compares correctly.

Stash stores ``created_at``/``updated_at`` as RFC3339 text in the *server's* local
time zone (``2026-01-10T14:03:22+01:00``) and its timestamp criteria compare that
text with the value sent, as text: the offset is not interpreted. Sending the
moment in UTC would miss updates on a server west of Greenwich.

So the value is the moment in the server's local time, minus a margin, in the
``YYYY-MM-DDTHH:MM:SS`` form the Stash UI sends. The client learns the server's
offset from a timestamp Stash returned; the margin covers a daylight-saving
change since then. Without a known offset the margin is the largest westward
offset there is (12 h). Either way every scene updated after the moment is
included, plus some updated shortly before it: callers de-duplicate.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, tzinfo

# No time zone is further west than UTC-12:00.
MAX_WESTWARD_OFFSET = timedelta(hours=12)
# Daylight saving moves an offset by an hour (30 minutes in a few places); allow two.
KNOWN_ZONE_MARGIN = timedelta(hours=2)


def greater_than_value(moment: datetime, server_tz: tzinfo | None = None) -> str:
    """The ``updated_at GREATER_THAN`` value that includes every scene changed after ``moment``.

    A stored value equal to the sent one up to the seconds still sorts after it
    (it is longer: it carries an offset), so truncating to seconds loses nothing.
    """
    if moment.tzinfo is None:
        raise ValueError("updated_since must be timezone-aware (a naive time is ambiguous)")
    if server_tz is None:
        widened = moment.astimezone(UTC) - MAX_WESTWARD_OFFSET
    else:
        widened = moment.astimezone(server_tz) - KNOWN_ZONE_MARGIN
    return widened.strftime("%Y-%m-%dT%H:%M:%S")


def offset_of(stash_timestamp: str) -> tzinfo | None:
    """The UTC offset in a timestamp Stash returned (its server's zone at that time)."""
    try:
        return datetime.fromisoformat(stash_timestamp.replace("Z", "+00:00")).tzinfo
    except ValueError:
        return None
