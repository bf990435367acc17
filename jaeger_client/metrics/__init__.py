"""Metrics seams with upstream's names: MetricsFactory, LegacyMetricsFactory, Metrics."""

from __future__ import annotations

from typing import Any, Callable, Optional

__all__ = ["LegacyMetricsFactory", "Metrics", "MetricsFactory", "NoopMetricsFactory"]

Counter = Callable[[int], Any]
Gauge = Callable[[int], Any]
Timer = Callable[[float], Any]


def _noop(*args: Any) -> None:
    return None


class MetricsFactory:
    """Creates counters, timers and gauges; this base class creates no-ops."""

    def __init__(self) -> None:
        pass

    def create_counter(self, name: str, tags: Optional[dict[str, str]] = None) -> Counter:
        """Return a callable that increments the counter ``name`` (``tags``) by its argument."""
        return _noop

    def create_timer(self, name: str, tags: Optional[dict[str, str]] = None) -> Timer:
        """Return a callable that records a duration in microseconds."""
        return _noop

    def create_gauge(self, name: str, tags: Optional[dict[str, str]] = None) -> Gauge:
        """Return a callable that sets the gauge ``name``."""
        return _noop


class NoopMetricsFactory(MetricsFactory):
    """Explicitly discards every metric (``Config(metrics=False)``)."""


class Metrics:
    """Upstream's legacy callback interface: ``count(key, value)``, ``gauge``, ``timing``.

    Deprecated upstream in favour of :class:`MetricsFactory`; still accepted everywhere.
    """

    def __init__(
        self,
        count: Optional[Callable[[str, Any], Any]] = None,
        gauge: Optional[Callable[[str, Any], Any]] = None,
        timing: Optional[Callable[[str, Any], Any]] = None,
    ) -> None:
        self._count = count if callable(count) else None
        self._gauge = gauge if callable(gauge) else None
        self._timing = timing if callable(timing) else None

    def count(self, key: str, value: Any) -> None:
        if self._count is not None:
            self._count(key, value)

    def timing(self, key: str, value: Any) -> None:
        if self._timing is not None:
            self._timing(key, value)

    def gauge(self, key: str, value: Any) -> None:
        if self._gauge is not None:
            self._gauge(key, value)

    @staticmethod
    def _noop(*args: Any) -> None:
        return None


class LegacyMetricsFactory(MetricsFactory):
    """Adapts a legacy :class:`Metrics` to the factory interface.

    The key is the name followed by ``.k_v`` for each tag in sorted order, e.g.
    ``jaeger:traces.sampled_y.state_started``. With no callbacks configured, returns no-ops, so
    the hot path pays nothing for metrics nobody reads.
    """

    def __init__(self, metrics: Metrics) -> None:
        self._metrics = metrics

    def create_counter(self, name: str, tags: Optional[dict[str, str]] = None) -> Counter:
        count = self._metrics._count
        if count is None:
            return _noop
        key = self._get_key(name, tags)

        def increment(value: int) -> Any:
            return count(key, value)

        return increment

    def create_timer(self, name: str, tags: Optional[dict[str, str]] = None) -> Timer:
        timing = self._metrics._timing
        if timing is None:
            return _noop
        key = self._get_key(name, tags)

        def record(value: float) -> Any:
            return timing(key, value / 1000.0)  # microseconds in, milliseconds out (upstream)

        return record

    def create_gauge(self, name: str, tags: Optional[dict[str, str]] = None) -> Gauge:
        gauge = self._metrics._gauge
        if gauge is None:
            return _noop
        key = self._get_key(name, tags)

        def update(value: int) -> Any:
            return gauge(key, value)

        return update

    @staticmethod
    def _get_key(name: str, tags: Optional[dict[str, str]] = None) -> str:
        if not tags:
            return name
        return name + "".join(f".{k}_{tags[k]}" for k in sorted(tags))
