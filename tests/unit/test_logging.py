"""Logs are JSON lines with context, and never contain a secret."""

from __future__ import annotations

import io
import json
import logging

import pytest

from stash2plex.common.logs import REDACTED, Redactor, configure_logging, log_context
from stash2plex.common.settings import LogSettings


@pytest.fixture
def out() -> io.StringIO:
    stream = io.StringIO()
    configure_logging("syncer", LogSettings(), secrets=["plex-token-abc123", "stash-key-xyz789"], stream=stream)
    return stream


def lines(out: io.StringIO) -> list[dict[str, object]]:
    return [json.loads(line) for line in out.getvalue().splitlines() if line.strip()]


def test_one_json_object_a_line_with_service_scene_and_trace(out: io.StringIO) -> None:
    captured = logging.getLogger("test.logs")
    with log_context(scene_id="42", trace_id="t-1"):
        captured.info("synced %s", "scene")
    captured.info("outside")
    first, second = lines(out)
    assert first["message"] == "synced scene"
    assert first["service"] == "syncer"
    assert first["scene_id"] == "42"
    assert first["trace_id"] == "t-1"
    assert first["level"] == "INFO"
    assert "scene_id" not in second


def test_configured_secrets_never_reach_the_log(out: io.StringIO) -> None:
    captured = logging.getLogger("test.logs")
    captured.warning("calling plex with plex-token-abc123", extra={"header": "stash-key-xyz789"})
    try:
        raise RuntimeError("auth failed for stash-key-xyz789")
    except RuntimeError:
        captured.exception("boom")
    text = json.dumps(lines(out))
    assert "plex-token-abc123" not in text
    assert "stash-key-xyz789" not in text
    assert text.count(REDACTED) >= 3


@pytest.mark.parametrize(
    "raw",
    [
        "GET http://plex:32400/library?X-Plex-Token=unknownsecret1",
        "headers {'ApiKey': 'unknownsecret1'}",
        "Authorization: Bearer unknownsecret1",
        "POST /hook?token=unknownsecret1&x=1",
        '{"api_key": "unknownsecret1"}',
    ],
)
def test_credential_shaped_values_are_masked_even_if_unregistered(raw: str) -> None:
    redacted = Redactor()(raw)
    assert "unknownsecret1" not in redacted
    assert REDACTED in redacted


def test_paths_are_obfuscated_only_on_request() -> None:
    text = "no item for /media/videos/Private Folder/scene.mp4 or C:\\Videos\\x\\scene.mkv"
    assert Redactor()(text) == text
    hidden = Redactor(obfuscate_paths=True)(text)
    assert "/media/videos" not in hidden
    assert "C:\\Videos" not in hidden
    assert hidden.count("<path:") == 2
    assert Redactor(obfuscate_paths=True)(text) == hidden  # stable: the same path, the same hash


def test_text_format_is_redacted_too() -> None:
    stream = io.StringIO()
    configure_logging("ingest", LogSettings(format="text"), secrets=["sekrit-value"], stream=stream)
    logging.getLogger("t").error("token sekrit-value")
    err = stream.getvalue()
    assert "sekrit-value" not in err
    assert "ingest" in err
