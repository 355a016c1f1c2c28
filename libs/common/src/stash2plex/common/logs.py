"""Logging: one JSON object a line, with the service, scene id and trace id on every record,
and every secret blanked before it can reach a log file.

Redaction works twice: known secret values (the Stash API key, the Plex token, the ingest
token) are replaced wherever they appear, and anything shaped like a credential
(``X-Plex-Token=…``, ``ApiKey: …``, ``Authorization: Bearer …``) is masked even if nobody
registered its value.
"""

from __future__ import annotations

import hashlib
import logging
import re
import sys
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import TextIO

from pythonjsonlogger.json import JsonFormatter

from stash2plex.common.settings import LogSettings

REDACTED = "***"

scene_id_var: ContextVar[str | None] = ContextVar("scene_id", default=None)
trace_id_var: ContextVar[str | None] = ContextVar("trace_id", default=None)

_CREDENTIAL_PATTERNS = [
    re.compile(r"(?i)(x-plex-token[\"']?\s*[=:]\s*[\"']?)([^\s&\"',;}]+)"),
    re.compile(r"(?i)(apikey[\"']?\s*[=:]\s*[\"']?)([^\s&\"',;}]+)"),
    re.compile(r"(?i)(api_key[\"']?\s*[=:]\s*[\"']?)([^\s&\"',;}]+)"),
    re.compile(r"(?i)(authorization[\"']?\s*[=:]\s*[\"']?(?:bearer|basic)\s+)([^\s&\"',;}]+)"),
    re.compile(r"(?i)([?&]token=)([^\s&\"']+)"),
]
_PATH = re.compile(r"(?:[A-Za-z]:\\|\\\\|/)(?:[^\s\"'<>|:*?]+[/\\])+[^\s\"'<>|:*?]*")


class Redactor:
    """Blanks secrets (and, on request, file paths) in a piece of text."""

    def __init__(self, secrets: Iterable[str] = (), obfuscate_paths: bool = False) -> None:
        # Longest first, so a secret that contains another is blanked whole.
        self.secrets = sorted({s for s in secrets if len(s) >= 4}, key=len, reverse=True)
        self.obfuscate_paths = obfuscate_paths

    def add_secret(self, secret: str) -> None:
        if len(secret) >= 4 and secret not in self.secrets:
            self.secrets = sorted([*self.secrets, secret], key=len, reverse=True)

    def __call__(self, text: str) -> str:
        for secret in self.secrets:
            text = text.replace(secret, REDACTED)
        for pattern in _CREDENTIAL_PATTERNS:
            text = pattern.sub(lambda m: m.group(1) + REDACTED, text)
        if self.obfuscate_paths:
            text = _PATH.sub(lambda m: "<path:" + hashlib.sha256(m.group(0).encode()).hexdigest()[:10] + ">", text)
        return text


class ContextFilter(logging.Filter):
    """Stamps every record with the service name and the current scene and trace ids."""

    def __init__(self, service: str) -> None:
        super().__init__()
        self.service = service

    def filter(self, record: logging.LogRecord) -> bool:
        record.service = self.service
        for name, var in (("scene_id", scene_id_var), ("trace_id", trace_id_var)):
            value = var.get()
            if value is not None and not hasattr(record, name):
                setattr(record, name, value)
        record.__dict__.pop("color_message", None)  # uvicorn's ANSI copy of the message
        return True


class RedactingJsonFormatter(JsonFormatter):
    """JSON lines whose whole text has passed the redactor (message, extras and tracebacks alike)."""

    def __init__(self, redactor: Redactor) -> None:
        super().__init__(
            "%(asctime)s %(levelname)s %(name)s %(message)s",
            rename_fields={"asctime": "time", "levelname": "level", "name": "logger"},
            datefmt="%Y-%m-%dT%H:%M:%S%z",
        )
        self.redactor = redactor

    def format(self, record: logging.LogRecord) -> str:
        return self.redactor(super().format(record))


class RedactingTextFormatter(logging.Formatter):
    """Human-readable lines for a terminal, redacted the same way."""

    def __init__(self, redactor: Redactor) -> None:
        super().__init__("%(asctime)s %(levelname)-7s %(service)s %(name)s: %(message)s", datefmt="%H:%M:%S")
        self.redactor = redactor

    def format(self, record: logging.LogRecord) -> str:
        return self.redactor(super().format(record))


def configure_logging(
    service: str, settings: LogSettings, secrets: Iterable[str] = (), stream: TextIO | None = None
) -> Redactor:
    """Send every logger (uvicorn's and the libraries' too) through one redacting handler on stderr."""
    redactor = Redactor(secrets, obfuscate_paths=settings.obfuscate_paths)
    handler = logging.StreamHandler(stream or sys.stderr)
    handler.addFilter(ContextFilter(service))
    handler.setFormatter(
        RedactingJsonFormatter(redactor) if settings.format == "json" else RedactingTextFormatter(redactor)
    )
    root = logging.getLogger()
    for old in list(root.handlers):
        root.removeHandler(old)
    root.addHandler(handler)
    root.setLevel(settings.level)
    for noisy in ("httpx", "httpcore", "gql.transport", "nats"):
        logging.getLogger(noisy).setLevel(max(logging.WARNING, root.level))
    for name in ("uvicorn", "uvicorn.error", "uvicorn.access"):
        logging.getLogger(name).handlers.clear()
        logging.getLogger(name).propagate = True
    return redactor


@contextmanager
def log_context(scene_id: str | None = None, trace_id: str | None = None) -> Iterator[None]:
    """Attach a scene id and trace id to every record logged inside the block."""
    tokens = [scene_id_var.set(scene_id), trace_id_var.set(trace_id)]
    try:
        yield
    finally:
        trace_id_var.reset(tokens[1])
        scene_id_var.reset(tokens[0])
