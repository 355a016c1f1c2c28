"""What the project asked the simulator, so tests can assert on calls rather than only on results."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from typing import Any


@dataclass
class RecordedRequest:
    """One HTTP request the simulator received (control endpoints excluded)."""

    kind: str
    """``graphql`` or ``image``."""
    method: str
    path: str
    operation_name: str | None = None
    root_fields: tuple[str, ...] = ()
    variables: dict[str, Any] = field(default_factory=dict)
    query: str | None = None
    api_key_sent: bool = False
    status: int | None = None
    fault: str | None = None
    """Which fault answered it (``slow``, ``unauthorized``, ``db_locked``, ``status``), if any."""


class RequestLog:
    """Thread-safe, ordered list of :class:`RecordedRequest`."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._items: list[RecordedRequest] = []

    def add(self, request: RecordedRequest) -> RecordedRequest:
        with self._lock:
            self._items.append(request)
        return request

    def clear(self) -> None:
        with self._lock:
            self._items.clear()

    def all(self) -> list[RecordedRequest]:
        with self._lock:
            return list(self._items)

    def graphql(self, operation_name: str | None = None) -> list[RecordedRequest]:
        """GraphQL requests, optionally only those of one operation."""
        return [
            r
            for r in self.all()
            if r.kind == "graphql" and (operation_name is None or r.operation_name == operation_name)
        ]

    def operations(self) -> list[str | None]:
        """Operation names of the GraphQL requests, in order."""
        return [r.operation_name for r in self.graphql()]

    def as_json(self) -> list[dict[str, Any]]:
        return [asdict(r) for r in self.all()]

    def __len__(self) -> int:
        with self._lock:
            return len(self._items)

    def __iter__(self) -> Iterator[RecordedRequest]:
        return iter(self.all())
