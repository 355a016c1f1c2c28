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

from prometheus_client import REGISTRY, CollectorRegistry
from prometheus_client.core import CounterMetricFamily, HistogramMetricFamily, Metric
from prometheus_client.utils import floatToGoString

_bucket_label: Callable[[float], str] = floatToGoString
"""``le`` as ``prometheus_client`` writes it (``0.005``, ``1.0``), so series keep their labels."""


class TallyChild:
    """One labelled series of a :class:`Tally`."""

    __slots__ = ("value",)

    def __init__(self) -> None:
        self.value = 0.0

    def inc(self, amount: float = 1.0) -> None:
        if amount < 0:
            raise ValueError("a counter only goes up")
        self.value += amount


class Tally:
    """A Prometheus counter (``<name>_total``) with the ``labels(...).inc()`` API of ``prometheus_client``."""

    def __init__(
        self, name: str, documentation: str, labelnames: Sequence[str], registry: CollectorRegistry | None = REGISTRY
    ) -> None:
        self.name, self.documentation, self.labelnames = name, documentation, tuple(labelnames)
        self._children: dict[tuple[str, ...], TallyChild] = {}
        if registry is not None:
            registry.register(self)

    def labels(self, *values: str) -> TallyChild:
        if len(values) != len(self.labelnames):
            raise ValueError(f"{self.name} takes labels {self.labelnames}, got {values}")
        child = self._children.get(values)
        if child is None:
            child = self._children[values] = TallyChild()
        return child

    def describe(self) -> Iterator[Metric]:
        """The family without samples: lets the registry refuse a name registered twice."""
        yield CounterMetricFamily(self.name, self.documentation, labels=self.labelnames)

    def collect(self) -> Iterator[Metric]:
        family = CounterMetricFamily(self.name, self.documentation, labels=self.labelnames)
        for values, child in list(self._children.items()):
            family.add_metric(values, child.value)
        yield family


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


class TallyHistogram:
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
        self.name, self.documentation, self.labelnames = name, documentation, tuple(labelnames)
        self.bounds = bounds
        self._children: dict[tuple[str, ...], TallyHistogramChild] = {}
        if registry is not None:
            registry.register(self)

    def labels(self, *values: str) -> TallyHistogramChild:
        if len(values) != len(self.labelnames):
            raise ValueError(f"{self.name} takes labels {self.labelnames}, got {values}")
        child = self._children.get(values)
        if child is None:
            child = self._children[values] = TallyHistogramChild(self.bounds)
        return child

    def describe(self) -> Iterator[Metric]:
        yield HistogramMetricFamily(self.name, self.documentation, labels=self.labelnames)

    def collect(self) -> Iterator[Metric]:
        family = HistogramMetricFamily(self.name, self.documentation, labels=self.labelnames)
        edges = [_bucket_label(b) for b in self.bounds] + ["+Inf"]
        for values, child in list(self._children.items()):
            running, buckets = 0, []
            for edge, count in zip(edges, list(child.counts), strict=True):
                running += count
                buckets.append((edge, float(running)))
            family.add_metric(values, buckets, child.sum)
        yield family
