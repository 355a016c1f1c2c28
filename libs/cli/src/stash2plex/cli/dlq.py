"""``stash2plex dlq``: look at, requeue and purge dead letters."""

from __future__ import annotations

import asyncio
import json
from datetime import UTC, datetime, timedelta
from typing import Any

from rich.console import Console
from rich.table import Table

from stash2plex.cli.broker import jetstream
from stash2plex.common import dlq
from stash2plex.common.contracts import ErrorClass


async def list_letters(url: str, error_class: ErrorClass | None, older_than_days: float | None) -> list[dict[str, Any]]:
    async with jetstream(url) as js:
        return [
            {"seq": e.seq, **e.letter.model_dump(mode="json")}
            async for e in dlq.entries(js)
            if dlq.matches(e, error_class, older_than_days)
        ]


async def requeue(url: str, error_class: ErrorClass | None, scene_id: str | None) -> int:
    async with jetstream(url) as js:
        return await dlq.requeue(js, error_class, scene_id)


async def purge(url: str, error_class: ErrorClass | None, older_than_days: float | None) -> int:
    async with jetstream(url) as js:
        return await dlq.purge(js, error_class, older_than_days)


def age(iso: str) -> str:
    seconds = (datetime.now(UTC) - datetime.fromisoformat(iso)).total_seconds()
    return str(timedelta(seconds=round(seconds)))


def render(letters: list[dict[str, Any]], console: Console) -> None:
    table = Table(title=f"{len(letters)} dead letter(s)", title_justify="left")
    for column in ("scene", "class", "attempts", "last failure", "error"):
        table.add_column(column)
    for letter in letters:
        table.add_row(
            letter["job"]["scene_id"], letter["error_class"], str(letter["attempts"]),
            f"{age(letter['last_failure_at'])} ago", letter["error"][:80],
        )  # fmt: skip
    console.print(table)


def run(coro: Any) -> Any:
    return asyncio.run(coro)


def dump(value: Any) -> None:
    print(json.dumps(value, default=str))
