"""What the commands share: settings, the broker connection, and failing with the right exit code."""

from __future__ import annotations

import asyncio
import json
from collections.abc import Coroutine
from typing import Any, NoReturn, TypeVar

import typer
from rich.console import Console
from rich.text import Text

from stash2plex.cli import exits
from stash2plex.cli.broker import BrokerUnreachableError, nats_url
from stash2plex.common.settings import CommonSettings, SettingsError, load_settings

T = TypeVar("T")


def fail(command: str, message: str, code: int) -> NoReturn:
    """Say why on stderr and exit with ``code``."""
    Console(stderr=True, highlight=False).print(Text(f"stash2plex {command}: {message}", style="bold red"))
    raise typer.Exit(code)


def broker_url(command: str) -> str:
    try:
        return nats_url(load_settings(CommonSettings))
    except SettingsError as error:
        fail(command, str(error), exits.BAD_SETTINGS)


def run(command: str, coro: Coroutine[Any, Any, T]) -> T:
    """Run one async step; no broker means exit 3."""
    try:
        return asyncio.run(coro)
    except BrokerUnreachableError as error:
        fail(command, str(error), exits.UNREACHABLE)
    except KeyboardInterrupt:
        fail(command, "interrupted; whatever was queued goes on", exits.INTERRUPTED)


def dump(value: Any) -> None:
    """One JSON document on stdout, for ``--json``."""
    print(json.dumps(value, default=str))
