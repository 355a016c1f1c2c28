"""What reached the simulated Plex: every write in full, reads as counters.

Tests assert on this to prove exactly which requests a service sent (and that it sent
none during an outage). Requests refused by an injected fault or by the token check
never reach the server, so they are not recorded here (see ``Faults.injected``).
"""

from __future__ import annotations

import re
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any


@dataclass
class WriteRecord:
    seq: int
    time: float
    method: str
    path: str
    query: dict[str, str]
    query_pairs: list[tuple[str, str]]
    body_size: int
    body_sha256: str | None
    status: int = 0
    change: dict[str, Any] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        return {
            "seq": self.seq,
            "time": self.time,
            "method": self.method,
            "path": self.path,
            "query": self.query,
            "body_size": self.body_size,
            "body_sha256": self.body_sha256,
            "status": self.status,
            "change": self.change,
        }


class Writes:
    """Thread-safe list of :class:`WriteRecord`, oldest first."""

    def __init__(self) -> None:
        self._cond = threading.Condition()
        self._records: list[WriteRecord] = []
        self._seq = 0

    def begin(
        self, method: str, path: str, pairs: list[tuple[str, str]], body_size: int, body_sha256: str | None
    ) -> WriteRecord:
        with self._cond:
            self._seq += 1
            record = WriteRecord(
                seq=self._seq,
                time=time.time(),
                method=method,
                path=path,
                query=dict(pairs),
                query_pairs=pairs,
                body_size=body_size,
                body_sha256=body_sha256,
            )
            self._records.append(record)
            return record

    def finish(self, record: WriteRecord, status: int, change: dict[str, Any] | None) -> None:
        with self._cond:
            record.status = status
            record.change = change or {}
            self._cond.notify_all()

    def all(self) -> list[WriteRecord]:
        with self._cond:
            return list(self._records)

    def __iter__(self) -> Iterator[WriteRecord]:
        return iter(self.all())

    def __len__(self) -> int:
        with self._cond:
            return len(self._records)

    def __getitem__(self, index: int) -> WriteRecord:
        with self._cond:
            return self._records[index]

    def last(self) -> WriteRecord:
        with self._cond:
            if not self._records:
                raise LookupError("no writes recorded")
            return self._records[-1]

    def matching(self, method: str | None = None, path: str | None = None) -> list[WriteRecord]:
        """Writes with this method and a path matching the regular expression (searched)."""
        return [
            r
            for r in self.all()
            if (method is None or r.method == method.upper()) and (path is None or re.search(path, r.path))
        ]

    def clear(self) -> None:
        with self._cond:
            self._records.clear()

    def wait_for(self, predicate: Callable[[WriteRecord], bool], timeout: float = 5.0) -> WriteRecord:
        """Block until a finished write satisfies ``predicate`` (for services writing in the background)."""
        deadline = time.monotonic() + timeout
        with self._cond:
            while True:
                for record in self._records:
                    if record.status and predicate(record):
                        return record
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise TimeoutError(f"no matching write within {timeout}s ({len(self._records)} writes seen)")
                self._cond.wait(remaining)


class InFlight:
    """How many requests the server is answering at once (injected latency included), and the most seen."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.now = 0
        self.peak = 0

    def enter(self) -> None:
        with self._lock:
            self.now += 1
            self.peak = max(self.peak, self.now)

    def leave(self) -> None:
        with self._lock:
            self.now -= 1

    def reset_peak(self) -> None:
        with self._lock:
            self.peak = self.now


class Reads:
    """How many read requests reached the server, in total and by path."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._by_path: Counter[str] = Counter()

    def record(self, path: str) -> None:
        with self._lock:
            self._by_path[path] += 1

    @property
    def total(self) -> int:
        with self._lock:
            return sum(self._by_path.values())

    @property
    def by_path(self) -> Counter[str]:
        with self._lock:
            return Counter(self._by_path)

    def count(self, path: str) -> int:
        """Reads whose path matches the regular expression (searched)."""
        with self._lock:
            return sum(n for p, n in self._by_path.items() if re.search(path, p))

    def clear(self) -> None:
        with self._lock:
            self._by_path.clear()
