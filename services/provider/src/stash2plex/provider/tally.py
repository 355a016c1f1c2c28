"""Counters and histograms for the provider's per-request path, exported as ordinary Prometheus metrics.

A cached match answer costs tens of microseconds, and ``prometheus_client`` takes a lock
for every increment: the five a request makes (request, latency sum and bucket, match
method, cache lookup) were a quarter of the provider's own time per answer. Every request
is handled on the one event-loop thread, so these keep plain numbers that the registry
reads at scrape time; names, labels and types on ``/metrics`` are what a
``prometheus_client`` Counter or Histogram would show.

Only code on the event-loop thread may update them (worker threads would race).
"""

from __future__ import annotations

from bisect import bisect_left
from collections.abc import Callable, Iterator, Sequence
from typing import Generic, TypeVar

from prometheus_client import REGISTRY, CollectorRegistry
from prometheus_client.core import CounterMetricFamily, HistogramMetricFamily, Metric
from prometheus_client.utils import floatToGoString

_bucket_label: Callable[[float], str] = floatToGoString
"""``le`` as ``prometheus_client`` writes it (``0.005``, ``1.0``), so series keep their labels."""


C = TypeVar("C")


class _Family(Generic[C]):
    """A metric family: its name, help and label names, and one child per label values."""

    def __init__(
        self,
        name: str,
        documentation: str,
        labelnames: Sequence[str],
        new_child: Callable[[], C],
        registry: CollectorRegistry | None,
    ) -> None:
        self.name, self.documentation, self.labelnames = name, documentation, tuple(labelnames)
        self._new_child = new_child
        self._children: dict[tuple[str, ...], C] = {}
        if registry is not None:
            registry.register(self)  # a Collector by its collect() and describe()

    def labels(self, *values: str) -> C:
        if len(values) != len(self.labelnames):
            raise ValueError(f"{self.name} takes labels {self.labelnames}, got {values}")
        child = self._children.get(values)
        if child is None:
            child = self._children[values] = self._new_child()
        return child

    def describe(self) -> Iterator[Metric]:
        """The family without samples: lets the registry refuse a name registered twice."""
        yield self._empty()

    def collect(self) -> Iterator[Metric]:
        family = self._empty()
        for values, child in list(self._children.items()):
            self._add(family, values, child)
        yield family

    def _empty(self) -> Metric:
        raise NotImplementedError

    def _add(self, family: Metric, values: tuple[str, ...], child: C) -> None:
        raise NotImplementedError


class TallyChild:
    """One labelled series of a :class:`Tally`."""

    __slots__ = ("value",)

    def __init__(self) -> None:
        self.value = 0.0

    def inc(self, amount: float = 1.0) -> None:
        if amount < 0:
            raise ValueError("a counter only goes up")
        self.value += amount


class Tally(_Family[TallyChild]):
    """A Prometheus counter (``<name>_total``) with the ``labels(...).inc()`` API of ``prometheus_client``."""

    def __init__(
        self, name: str, documentation: str, labelnames: Sequence[str], registry: CollectorRegistry | None = REGISTRY
    ) -> None:
        super().__init__(name, documentation, labelnames, TallyChild, registry)

    def _empty(self) -> Metric:
        return CounterMetricFamily(self.name, self.documentation, labels=self.labelnames)

    def _add(self, family: Metric, values: tuple[str, ...], child: TallyChild) -> None:
        assert isinstance(family, CounterMetricFamily)
        family.add_metric(values, child.value)


class TallyHistogramChild:
    """One labelled series of a :class:`TallyHistogram`: a count per bucket and the sum."""

    __slots__ = ("_bounds", "counts", "sum")

    def __init__(self, bounds: tuple[float, ...]) -> None:
        self._bounds = bounds
        self.counts = [0] * (len(bounds) + 1)  # the last one is +Inf
        self.sum = 0.0

    def observe(self, value: float) -> None:
        self.counts[bisect_left(self._bounds, value)] += 1
        self.sum += value


class TallyHistogram(_Family[TallyHistogramChild]):
    """A Prometheus histogram (``_bucket``, ``_count``, ``_sum``); ``le`` bounds are inclusive, as Prometheus wants."""

    def __init__(
        self,
        name: str,
        documentation: str,
        labelnames: Sequence[str],
        buckets: Sequence[float],
        registry: CollectorRegistry | None = REGISTRY,
    ) -> None:
        bounds = tuple(float(b) for b in buckets if b != float("inf"))
        if not bounds or list(bounds) != sorted(set(bounds)):
            raise ValueError("histogram buckets must be increasing and not empty")
        self.bounds = bounds
        self._edges = [_bucket_label(b) for b in bounds] + ["+Inf"]
        super().__init__(name, documentation, labelnames, lambda: TallyHistogramChild(bounds), registry)

    def _empty(self) -> Metric:
        return HistogramMetricFamily(self.name, self.documentation, labels=self.labelnames)

    def _add(self, family: Metric, values: tuple[str, ...], child: TallyHistogramChild) -> None:
        assert isinstance(family, HistogramMetricFamily)
        running, buckets = 0, []
        for edge, count in zip(self._edges, list(child.counts), strict=True):
            running += count
            buckets.append((edge, float(running)))
        family.add_metric(values, buckets, child.sum)
