"""Failures to inject, switchable at runtime from a test or over HTTP (``POST /__sim/faults``).

A rule matches requests by path (a regular expression, searched) and method, may be
limited to its next N firings, and is one of:

* ``latency``: sleep ``seconds`` before answering (all matching latency rules add up);
* ``status``: answer ``status`` (401, 404, 429 with ``Retry-After``, 500, 503, ...);
* ``flap``: answer ``status`` on some matching requests only: ``every=N`` fails the 1st,
  (N+1)th, (2N+1)th... matching request; ``probability=p`` fails with a seeded RNG.

An outage is different: the listener is stopped, so connections are refused.
Everything is guarded by one lock because requests arrive on the server thread.
"""

from __future__ import annotations

import random
import re
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Literal

FaultKind = Literal["latency", "status", "flap"]


@dataclass
class FaultRule:
    kind: FaultKind
    id: int = 0
    status: int | None = None
    seconds: float = 0.0
    path: str | None = None
    methods: frozenset[str] | None = None
    remaining: int | None = None
    every: int | None = None
    probability: float | None = None
    retry_after: int | None = None
    seed: int = 0
    seen: int = 0
    fired: int = 0
    _rng: random.Random = field(default_factory=random.Random, repr=False)

    def matches(self, method: str, path: str) -> bool:
        if self.methods is not None and method.upper() not in self.methods:
            return False
        return self.path is None or re.search(self.path, path) is not None

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "kind": self.kind,
            "status": self.status,
            "seconds": self.seconds,
            "path": self.path,
            "methods": sorted(self.methods) if self.methods else None,
            "remaining": self.remaining,
            "every": self.every,
            "probability": self.probability,
            "retry_after": self.retry_after,
            "seen": self.seen,
            "fired": self.fired,
        }


@dataclass(frozen=True)
class Decision:
    """What to do with one request: wait ``delay`` seconds, then maybe answer ``status``."""

    delay: float = 0.0
    status: int | None = None
    retry_after: int | None = None


@dataclass(frozen=True)
class Injected:
    time: float
    method: str
    path: str
    rule_id: int
    kind: FaultKind
    status: int | None
    delay: float


class Faults:
    """The fault switchboard of one simulator."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._rules: list[FaultRule] = []
        self._next_id = 1
        self._injected: list[Injected] = []
        self._start: Callable[[], None] | None = None
        self._stop: Callable[[], None] | None = None
        self._outage_timer: threading.Timer | None = None
        self.in_outage = False

    # ---- rules -------------------------------------------------------------------------
    def add(self, rule: FaultRule) -> FaultRule:
        if rule.kind == "flap" and not rule.every and rule.probability is None:
            raise ValueError("a flapping fault needs every=N or probability=p")
        if rule.kind in {"status", "flap"} and not rule.status:
            raise ValueError(f"a {rule.kind} fault needs a status")
        with self._lock:
            rule.id = self._next_id
            self._next_id += 1
            rule._rng = random.Random(rule.seed)
            self._rules.append(rule)
            return rule

    def latency(
        self,
        seconds: float,
        *,
        path: str | None = None,
        methods: str | list[str] | None = None,
        count: int | None = None,
    ) -> FaultRule:
        return self.add(FaultRule("latency", seconds=seconds, path=path, methods=_methods(methods), remaining=count))

    def error(
        self,
        status: int,
        *,
        path: str | None = None,
        methods: str | list[str] | None = None,
        count: int | None = None,
        retry_after: int | None = None,
    ) -> FaultRule:
        return self.add(
            FaultRule(
                "status",
                status=status,
                path=path,
                methods=_methods(methods),
                remaining=count,
                retry_after=retry_after,
            )
        )

    def unauthorized(self, **kw: Any) -> FaultRule:
        return self.error(401, **kw)

    def not_found(self, **kw: Any) -> FaultRule:
        return self.error(404, **kw)

    def rate_limited(self, retry_after: int = 30, **kw: Any) -> FaultRule:
        return self.error(429, retry_after=retry_after, **kw)

    def server_error(self, status: int = 500, **kw: Any) -> FaultRule:
        if not 500 <= status <= 599:
            raise ValueError("server_error wants a 5xx status")
        return self.error(status, **kw)

    def flapping(
        self,
        status: int = 503,
        *,
        every: int | None = 2,
        probability: float | None = None,
        seed: int = 0,
        path: str | None = None,
        methods: str | list[str] | None = None,
        count: int | None = None,
        retry_after: int | None = None,
    ) -> FaultRule:
        return self.add(
            FaultRule(
                "flap",
                status=status,
                every=None if probability is not None else every,
                probability=probability,
                seed=seed,
                path=path,
                methods=_methods(methods),
                remaining=count,
                retry_after=retry_after,
            )
        )

    def remove(self, rule_id: int) -> bool:
        with self._lock:
            before = len(self._rules)
            self._rules = [r for r in self._rules if r.id != rule_id]
            return len(self._rules) != before

    def clear(self) -> None:
        """Drop every rule (an outage in progress is left alone; see :meth:`restore`)."""
        with self._lock:
            self._rules.clear()

    def rules(self) -> list[FaultRule]:
        with self._lock:
            return list(self._rules)

    @property
    def injected(self) -> list[Injected]:
        with self._lock:
            return list(self._injected)

    def add_spec(self, spec: dict[str, Any]) -> FaultRule:
        """A rule from the JSON the control endpoint receives (same names as the methods)."""
        kind = spec.get("kind")
        common = {
            "path": spec.get("path"),
            "methods": spec.get("methods"),
            "count": spec.get("count"),
        }
        if kind == "latency":
            return self.latency(float(spec["seconds"]), **common)
        if kind == "flap":
            return self.flapping(
                int(spec.get("status", 503)),
                every=spec.get("every", 2),
                probability=spec.get("probability"),
                seed=int(spec.get("seed", 0)),
                retry_after=spec.get("retry_after"),
                **common,
            )
        if kind in {"status", "error"}:
            return self.error(int(spec["status"]), retry_after=spec.get("retry_after"), **common)
        raise ValueError(f"unknown fault kind {kind!r} (latency, status, flap; outage has its own call)")

    # ---- deciding ----------------------------------------------------------------------
    def decide(self, method: str, path: str) -> Decision:
        with self._lock:
            delay = 0.0
            status: int | None = None
            retry_after: int | None = None
            now = time.time()
            for rule in list(self._rules):
                if not rule.matches(method, path):
                    continue
                if rule.kind == "latency":
                    delay += rule.seconds
                    self._fire(rule, now, method, path, None, rule.seconds)
                    continue
                if status is not None:
                    continue
                rule.seen += 1
                if rule.kind == "flap":
                    if rule.probability is not None:
                        hit = rule._rng.random() < rule.probability
                    else:
                        hit = (rule.seen - 1) % (rule.every or 1) == 0
                    if not hit:
                        continue
                status, retry_after = rule.status, rule.retry_after
                self._fire(rule, now, method, path, status, 0.0)
            return Decision(delay=delay, status=status, retry_after=retry_after)

    def _fire(self, rule: FaultRule, now: float, method: str, path: str, status: int | None, delay: float) -> None:
        rule.fired += 1
        self._injected.append(Injected(now, method, path, rule.id, rule.kind, status, delay))
        if rule.remaining is not None:
            rule.remaining -= 1
            if rule.remaining <= 0:
                self._rules.remove(rule)

    # ---- outage ------------------------------------------------------------------------
    def bind(self, start: Callable[[], None], stop: Callable[[], None]) -> None:
        """Give the switchboard the listener's start/stop, which an outage needs."""
        self._start, self._stop = start, stop

    def outage(self, seconds: float | None = None) -> None:
        """Stop listening (connections are refused); come back by itself after ``seconds``."""
        if self._stop is None:
            raise RuntimeError("no listener bound; the simulator is not running on a socket")
        self._cancel_timer()
        self.in_outage = True
        self._stop()
        if seconds is not None:
            timer = threading.Timer(seconds, self.restore)
            timer.daemon = True
            self._outage_timer = timer
            timer.start()

    def restore(self) -> None:
        """End an outage: listen again on the same port."""
        self._cancel_timer()
        self.in_outage = False  # cleared first: whoever sees the port answer also sees the flag down
        if self._start is not None:
            self._start()

    def _cancel_timer(self) -> None:
        timer, self._outage_timer = self._outage_timer, None
        if timer is not None and timer is not threading.current_thread():
            timer.cancel()


def _methods(methods: str | list[str] | None) -> frozenset[str] | None:
    if not methods:
        return None
    names = methods.split(",") if isinstance(methods, str) else methods
    return frozenset(m.strip().upper() for m in names if m.strip())
