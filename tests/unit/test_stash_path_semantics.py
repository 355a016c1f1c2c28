"""Stash's filter semantics as the simulator implements them, and how the client classifies failures.

The simulator is only useful if it is as awkward as Stash: these tests pin the
awkward parts (LIKE wildcards, ASCII-only case folding, any-word INCLUDES, text
comparison of local-time timestamps) so a "fix" that makes it friendlier fails.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import httpx
import pytest
from gql.transport.exceptions import (
    TransportConnectionFailed,
    TransportProtocolError,
    TransportQueryError,
    TransportServerError,
)

from stash2plex.common.stash.errors import (
    StashAuthError,
    StashQueryError,
    StashUnavailable,
    classify,
    redact,
)
from stash2plex.common.stash.retry import RetryPolicy
from stash2plex.common.stash.timestamps import greater_than_value
from tests.sims.stash.filters import (
    FilterError,
    hierarchical_matches,
    int_matches,
    like,
    multi_matches,
    path_matches,
    search_terms,
    text_compare_matches,
)
from tests.sims.stash.store import StashData

pytestmark = pytest.mark.unit

SCENE = ["/data/Studio A/2024/Summer Beach Day.mp4"]


def crit(modifier: str, value: str = "") -> dict[str, str]:
    return {"modifier": modifier, "value": value}


# -- LIKE -------------------------------------------------------------------------------------


def test_like_folds_ascii_case_only() -> None:
    assert like("/Data/Clip.MP4", "/data/clip.mp4") is True
    # SQLite's LIKE does not fold non-ASCII letters: an accented capital is a different path.
    assert like("/data/Éclair.mp4", "/data/éclair.mp4") is False
    # Nor does it fold the letters Unicode folds to ASCII ones (the Kelvin sign, the long s).
    assert like("/data/\u212aelvin.mp4", "/data/kelvin.mp4") is False
    assert like("/data/kelvin.mp4", "/data/\u212aelvin.mp4") is False
    assert like("/data/\u017fun.mp4", "/data/sun.mp4") is False


def test_like_wildcards_stay_active_in_an_exact_value() -> None:
    assert like("/data/bXc.mp4", "/data/b_c.mp4") is True
    assert like("/data/b/deeper/c.mp4", "/data/b%c.mp4") is True
    assert like("/data/bc.mp4", "/data/b_c.mp4") is False


def test_like_on_null_is_null() -> None:
    assert like(None, "%") is None


# -- path criterion -----------------------------------------------------------------------------


def test_equals_matches_the_full_path_case_insensitively() -> None:
    assert path_matches(SCENE, crit("EQUALS", "/DATA/studio a/2024/summer beach day.mp4"))
    assert not path_matches(SCENE, crit("EQUALS", "/data/Studio A/2024"))  # no implicit wildcard


def test_equals_matches_when_any_file_of_the_scene_matches() -> None:
    files = ["/data/a.mp4", "/data/b.mp4"]
    assert path_matches(files, crit("EQUALS", "/data/b.mp4"))
    # NOT_EQUALS is per file too: one non-matching file is enough.
    assert path_matches(files, crit("NOT_EQUALS", "/data/b.mp4"))


def test_includes_unquoted_matches_any_word() -> None:
    assert path_matches(SCENE, crit("INCLUDES", "beach winter"))
    assert path_matches(SCENE, crit("INCLUDES", "winter   SUMMER"))
    assert not path_matches(SCENE, crit("INCLUDES", "winter autumn"))


def test_includes_quoted_is_one_phrase() -> None:
    assert path_matches(SCENE, crit("INCLUDES", '"Summer Beach"'))
    assert not path_matches(SCENE, crit("INCLUDES", '"Beach Summer"'))
    assert path_matches(SCENE, crit("INCLUDES", "Beach Summer"))


def test_excludes_requires_every_word_absent() -> None:
    assert path_matches(SCENE, crit("EXCLUDES", "winter autumn"))
    assert not path_matches(SCENE, crit("EXCLUDES", "winter beach"))
    assert path_matches(SCENE, crit("EXCLUDES", '"beach summer"'))


def test_scene_without_files_matches_only_is_null() -> None:
    assert not path_matches([], crit("EQUALS", "%"))
    assert not path_matches([], crit("NOT_EQUALS", "/x"))
    assert not path_matches([], crit("INCLUDES", "x"))
    assert path_matches([], crit("IS_NULL"))


def test_regex_is_case_sensitive_unless_asked() -> None:
    assert not path_matches(SCENE, crit("MATCHES_REGEX", "summer"))
    assert path_matches(SCENE, crit("MATCHES_REGEX", "(?i)summer"))
    with pytest.raises(FilterError, match="error parsing regexp"):
        path_matches(SCENE, crit("MATCHES_REGEX", "(unclosed"))


def test_search_terms_split_on_whitespace_unless_quoted() -> None:
    assert search_terms("  a  b\tc ") == (["a", "b", "c"], False)
    assert search_terms('"a  b"') == (["a  b"], True)
    assert search_terms('"half quoted') == (["half quoted"], True)


def test_windows_paths_use_the_servers_separator() -> None:
    data = StashData(path_style="windows")
    file = data.new_file(r"D:\Media\Clip.mp4")
    assert (file.folder, file.basename) == (r"D:\Media", "Clip.mp4")
    assert path_matches([data.file_path(file)], crit("EQUALS", r"d:\media\clip.mp4"))


# -- timestamps, numbers, relations -------------------------------------------------------------


def test_timestamps_compare_as_text_ignoring_the_offset() -> None:
    stored = "2026-01-10T08:00:00-05:00"  # 13:00 UTC
    assert not text_compare_matches(stored, crit("GREATER_THAN", "2026-01-10T12:00:00"), "9999")
    assert text_compare_matches(stored, crit("GREATER_THAN", "2026-01-10T07:59:59"), "9999")
    # Equal up to the seconds: the stored text is longer, so it sorts after.
    assert text_compare_matches(stored, crit("GREATER_THAN", "2026-01-10T08:00:00"), "9999")


def test_timestamp_between_defaults_its_upper_bound() -> None:
    stored = "2026-01-10T08:00:00-05:00"
    assert text_compare_matches(stored, crit("BETWEEN", "2026-01-01"), default_upper="2026-02-01T00:00:00Z")
    assert not text_compare_matches(stored, crit("BETWEEN", "2026-01-01"), default_upper="2026-01-05T00:00:00Z")


OFFSETS = [timedelta(minutes=m) for m in range(-12 * 60, 14 * 60 + 1, 15)]
MOMENTS = [datetime(2026, 1, 10, 12, 0, 0, 500_000, tzinfo=UTC), datetime(2025, 12, 31, 23, 59, 59, tzinfo=UTC)]
LATER = [timedelta(seconds=1), timedelta(minutes=7), timedelta(hours=11, minutes=59), timedelta(days=1)]


@pytest.mark.parametrize("offset", OFFSETS, ids=lambda o: f"{o.total_seconds() / 3600:+.2f}h")
def test_client_since_value_never_misses_a_later_update(offset: timedelta) -> None:
    """Whatever the server's zone, a scene updated after the moment passes Stash's text comparison."""
    server = StashData(tz=timezone(offset))
    for moment in MOMENTS:
        value = greater_than_value(moment)
        for later in LATER:
            stored = server.timestamp_text(moment + later)
            assert text_compare_matches(stored, crit("GREATER_THAN", value), "9999"), (stored, value)


@pytest.mark.parametrize("offset", OFFSETS[::4], ids=lambda o: f"{o.total_seconds() / 3600:+.2f}h")
@pytest.mark.parametrize("dst_shift", [timedelta(hours=-1), timedelta(0), timedelta(hours=1)], ids=str)
def test_known_server_zone_narrows_the_window_without_missing_updates(offset: timedelta, dst_shift: timedelta) -> None:
    """With the zone learned from Stash, a daylight-saving change since then still loses nothing."""
    learned = timezone(offset)
    server = StashData(tz=timezone(offset + dst_shift))
    for moment in MOMENTS:
        value = greater_than_value(moment, learned)
        for later in LATER:
            stored = server.timestamp_text(moment + later)
            assert text_compare_matches(stored, crit("GREATER_THAN", value), "9999"), (stored, value)
        long_before = server.timestamp_text(moment - timedelta(hours=4))
        assert not text_compare_matches(long_before, crit("GREATER_THAN", value), "9999")


def test_sending_utc_would_miss_updates_west_of_greenwich() -> None:
    # Why the client widens its value: the naive form loses a fresh update on a UTC-5 server.
    server = StashData(tz=timezone(timedelta(hours=-5)))
    moment = datetime(2026, 1, 10, 12, 0, tzinfo=UTC)
    stored = server.timestamp_text(moment + timedelta(minutes=5))
    assert not text_compare_matches(stored, crit("GREATER_THAN", moment.strftime("%Y-%m-%dT%H:%M:%S")), "9999")


def test_int_between_without_upper_bound_is_zero_like_stash() -> None:
    assert not int_matches([50], {"modifier": "BETWEEN", "value": 10})
    assert int_matches([50], {"modifier": "BETWEEN", "value": 10, "value2": 60})
    assert not int_matches([None], {"modifier": "NOT_EQUALS", "value": 1})


def test_multi_criterion_modifiers() -> None:
    scene = {1, 2}
    assert multi_matches(scene, {"modifier": "INCLUDES", "value": ["2", "9"]})
    assert not multi_matches(scene, {"modifier": "INCLUDES_ALL", "value": ["2", "9"]})
    assert multi_matches(scene, {"modifier": "EQUALS", "value": ["1", "2"]})
    assert not multi_matches(scene, {"modifier": "EXCLUDES", "value": ["2"]})
    assert multi_matches(set(), {"modifier": "IS_NULL"})
    with pytest.raises(FilterError, match="not supported"):
        multi_matches(scene, {"modifier": "NOT_EQUALS", "value": ["1"]})
    with pytest.raises(FilterError, match=r"strconv\.Atoi"):
        multi_matches(scene, {"modifier": "INCLUDES", "value": ["abc"]})


def test_hierarchical_criterion_expands_to_children_by_depth() -> None:
    data = StashData()
    parent = data.add_studio("Network")
    child = data.add_studio("Label", parent_id=parent.id)
    grandchild = data.add_studio("Imprint", parent_id=child.id)

    def expand(roots: list[int], depth: int | None) -> set[int]:
        return data.descendants("studio", roots, depth)

    scene = {grandchild.id}
    assert not hierarchical_matches(scene, {"modifier": "INCLUDES", "value": [str(parent.id)]}, expand)
    assert not hierarchical_matches(scene, {"modifier": "INCLUDES", "value": [str(parent.id)], "depth": 1}, expand)
    assert hierarchical_matches(scene, {"modifier": "INCLUDES", "value": [str(parent.id)], "depth": -1}, expand)
    assert not hierarchical_matches(scene, {"modifier": "EXCLUDES", "value": [str(child.id)], "depth": -1}, expand)


# -- error classification ------------------------------------------------------------------------


def test_locked_database_is_transient() -> None:
    error = TransportQueryError("x", errors=[{"message": "database is locked", "path": ["findScene"]}])
    assert isinstance(classify(error, "FindScene"), StashUnavailable)
    wrapped = TransportQueryError("x", errors=[{"message": "begin transaction: database is locked (SQLITE_BUSY)"}])
    assert isinstance(classify(wrapped, "FindScene"), StashUnavailable)


def test_other_graphql_errors_are_the_querys_fault() -> None:
    error = TransportQueryError("x", errors=[{"message": 'Cannot query field "nope" on type "Scene".'}])
    classified = classify(error, "FindScene")
    assert isinstance(classified, StashQueryError)
    assert classified.errors == ('Cannot query field "nope" on type "Scene".',)


@pytest.mark.parametrize(
    ("status", "kind"),
    [(401, StashAuthError), (403, StashAuthError), (500, StashUnavailable), (502, StashUnavailable),
     (503, StashUnavailable), (429, StashUnavailable), (404, StashQueryError), (400, StashQueryError)],
)  # fmt: skip
def test_http_statuses(status: int, kind: type[Exception]) -> None:
    assert isinstance(classify(TransportServerError("boom", status), "Version"), kind)


@pytest.mark.parametrize(
    "error",
    [
        TransportConnectionFailed("[Errno 111] Connection refused"),
        TimeoutError(),
        httpx.ConnectError("refused"),
        httpx.ReadTimeout("slow"),
        TransportProtocolError("Server did not return a GraphQL result: <html>"),
    ],
)
def test_network_failures_are_transient(error: Exception) -> None:
    assert isinstance(classify(error, "Version"), StashUnavailable)


def test_messages_never_carry_the_api_key() -> None:
    key = "s3cr3t-api-key"
    error = TransportQueryError("x", errors=[{"message": f"bad request with apikey={key}"}])
    classified = classify(error, "FindScene", secrets=[key])
    assert key not in str(classified)
    assert key not in str(classify(TransportConnectionFailed(f"http://h/?apikey={key}"), "Version", [key]))
    assert redact(f"a {key} b {key}", [key]) == "a *** b ***"


def test_retry_policy_rejects_nonsense() -> None:
    with pytest.raises(ValueError, match="attempts"):
        RetryPolicy(attempts=0)
    with pytest.raises(ValueError, match="waits"):
        RetryPolicy(initial_wait_s=2, max_wait_s=1)
