"""Every failure of a sync job is classified here, and only here.

The class decides what happens next (:mod:`.backoff`): a transient failure is retried with
backoff and counts towards opening the circuit; "not found" waits for Plex's next scan; a
permanent failure goes to the dead-letter queue at once; a configuration failure (a wrong
token, an unknown library) stops the whole flow instead of dead-lettering every job.
"""

from __future__ import annotations

from dataclasses import dataclass

import requests
from nats.errors import Error as NatsError

from stash2plex.common.contracts import ErrorClass
from stash2plex.common.stash.errors import StashAuthError, StashError, StashQueryError, StashUnavailable


class PlexHTTPError(Exception):
    """Plex answered with an error status (raised by the session hook in :mod:`.plex`)."""

    def __init__(self, status: int, url: str, retry_after_s: float | None = None, text: str = "") -> None:
        super().__init__(f"Plex answered {status} for {url}" + (f": {text[:200]}" if text else ""))
        self.status, self.url, self.retry_after_s = status, url, retry_after_s


class ItemNotInPlex(Exception):  # noqa: N818 - it says what happened
    """No Plex item has the scene's file (yet): Plex may not have scanned it."""


class SceneGone(Exception):  # noqa: N818
    """The scene no longer exists in Stash; there is nothing to sync (not a failure)."""


class ConfigurationProblem(Exception):  # noqa: N818
    """Something only the operator can fix (e.g. a configured library that does not exist)."""


@dataclass(frozen=True)
class Failure:
    error_class: ErrorClass
    message: str
    retry_after_s: float | None = None
    counts_for_circuit: bool = False
    """A failure of Plex itself (not of Stash, not of one item): opens the circuit when repeated."""


def classify(error: BaseException) -> Failure:
    """What kind of failure ``error`` is."""
    text = f"{type(error).__name__}: {error}"
    if isinstance(error, PlexHTTPError):
        status = error.status
        if status in (401, 403):
            return Failure(
                ErrorClass.CONFIGURATION, f"Plex rejected the token ({status}): check STASH2PLEX_PLEX__TOKEN"
            )
        if status == 404:
            return Failure(ErrorClass.NOT_FOUND, text)
        if status == 429:
            return Failure(ErrorClass.TRANSIENT, text, error.retry_after_s, counts_for_circuit=True)
        if status >= 500:
            return Failure(ErrorClass.TRANSIENT, text, error.retry_after_s, counts_for_circuit=True)
        return Failure(ErrorClass.PERMANENT, text)
    if isinstance(error, requests.ConnectionError | requests.Timeout):
        return Failure(ErrorClass.TRANSIENT, f"cannot reach Plex: {type(error).__name__}", counts_for_circuit=True)
    if isinstance(error, ItemNotInPlex):
        return Failure(ErrorClass.NOT_FOUND, str(error))
    if isinstance(error, ConfigurationProblem):
        return Failure(ErrorClass.CONFIGURATION, str(error))
    if isinstance(error, StashAuthError):
        return Failure(ErrorClass.CONFIGURATION, "Stash rejected the API key: check STASH2PLEX_STASH__API_KEY")
    if isinstance(error, StashUnavailable):
        return Failure(ErrorClass.TRANSIENT, f"Stash: {error}")  # not Plex's fault: the circuit stays as it is
    if isinstance(error, NatsError):
        # The broker stalled mid-job (a KV read or write timed out, a reconnect): nothing is wrong
        # with the job or with Plex, so it is retried and the circuit stays as it is.
        return Failure(ErrorClass.TRANSIENT, f"NATS: {text}")
    if isinstance(error, StashQueryError | StashError):
        return Failure(ErrorClass.PERMANENT, f"Stash: {error}")
    return Failure(ErrorClass.PERMANENT, f"unexpected {text}")
