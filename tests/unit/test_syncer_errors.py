"""One place decides what kind of failure each error is."""

from __future__ import annotations

import pytest
import requests
from nats.errors import ConnectionClosedError
from nats.errors import TimeoutError as NatsTimeoutError

from stash2plex.common.contracts import ErrorClass
from stash2plex.common.stash.errors import StashAuthError, StashQueryError, StashUnavailable
from stash2plex.syncer.errors import ConfigurationProblem, ItemNotInPlex, PlexHTTPError, classify


@pytest.mark.parametrize(
    ("error", "error_class", "opens_circuit"),
    [
        (PlexHTTPError(401, "/library"), ErrorClass.CONFIGURATION, False),
        (PlexHTTPError(403, "/library"), ErrorClass.CONFIGURATION, False),
        (PlexHTTPError(404, "/library/metadata/9"), ErrorClass.NOT_FOUND, False),
        (PlexHTTPError(400, "/library/sections/1/all"), ErrorClass.PERMANENT, False),
        (PlexHTTPError(500, "/"), ErrorClass.TRANSIENT, True),
        (PlexHTTPError(503, "/"), ErrorClass.TRANSIENT, True),
        (requests.ConnectionError("refused"), ErrorClass.TRANSIENT, True),
        (requests.ReadTimeout("slow"), ErrorClass.TRANSIENT, True),
        (ItemNotInPlex("no item"), ErrorClass.NOT_FOUND, False),
        (ConfigurationProblem("no such library"), ErrorClass.CONFIGURATION, False),
        (StashAuthError("401"), ErrorClass.CONFIGURATION, False),
        (StashUnavailable("database is locked"), ErrorClass.TRANSIENT, False),
        (StashQueryError("bad field"), ErrorClass.PERMANENT, False),
        (NatsTimeoutError(), ErrorClass.TRANSIENT, False),
        (ConnectionClosedError(), ErrorClass.TRANSIENT, False),
        (ValueError("bug"), ErrorClass.PERMANENT, False),
    ],
)
def test_each_failure_has_one_class(error: BaseException, error_class: ErrorClass, opens_circuit: bool) -> None:
    failure = classify(error)
    assert failure.error_class is error_class
    assert failure.counts_for_circuit is opens_circuit


def test_429_honours_retry_after() -> None:
    failure = classify(PlexHTTPError(429, "/library", retry_after_s=42))
    assert failure.error_class is ErrorClass.TRANSIENT
    assert failure.retry_after_s == 42


def test_a_wrong_token_says_which_setting_to_fix() -> None:
    assert "STASH2PLEX_PLEX__TOKEN" in classify(PlexHTTPError(401, "/")).message
    assert "STASH2PLEX_STASH__API_KEY" in classify(StashAuthError("401")).message
