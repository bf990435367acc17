"""Tracer metrics as Prometheus counters and gauges; the only module that imports prometheus_client.

Metric names are upstream's (``jaeger:traces``, ``jaeger:reporter_spans``, ...); prometheus_client
exposes counters with a ``_total`` suffix (``jaeger:traces_total{sampled="y",state="started"}``).
"""

from __future__ import annotations

import threading
import weakref
from collections.abc import Sequence
from typing import Any, Optional

try:
    import prometheus_client
except ImportError as e:  # pragma: no cover - exercised in a subprocess test
    raise ImportError(
        "jaeger_client.metrics.prometheus needs prometheus_client; "
        "install it with: pip install 'jaeger_client[prometheus]'"
    ) from e

from . import Counter, Gauge, MetricsFactory

__all__ = ["PrometheusMetricsFactory"]

_CollectorKey = tuple[str, str, tuple[str, ...]]  # (kind, full name, sorted label names)

# Collectors are cached per registry, not per factory: a second factory (a second tracer, a test
# suite) then reuses what the first registered instead of failing with "Duplicated timeseries".
_collectors: weakref.WeakKeyDictionary[Any, dict[_CollectorKey, Any]] = weakref.WeakKeyDictionary()
_collectors_lock = threading.Lock()


def _get_collector(
    registry: Any, kind: type[Any], namespace: str, name: str, labelnames: Sequence[str]
) -> Any:
    full_name = f"{namespace}_{name}" if namespace else name
    key = (kind.__name__, full_name, tuple(labelnames))
    with _collectors_lock:
        per_registry = _collectors.get(registry)
        if per_registry is None:
            per_registry = _collectors[registry] = {}
        collector = per_registry.get(key)
        if collector is None:
            try:
                collector = kind(
                    name=name,
                    documentation=name,
                    labelnames=labelnames,
                    namespace=namespace,
                    registry=registry,
                )
            except ValueError as exc:
                if "Duplicated" not in str(exc):  # an invalid name or label: as it is
                    raise
                others = sorted(labels for k, n, labels in per_registry if n == full_name)
                raise ValueError(
                    f"PrometheusMetricsFactory: {full_name} with labels {list(labelnames)} "
                    f"cannot be registered ({exc}); "
                    + (
                        f"another factory registered it with labels {[list(o) for o in others]}:"
                        " factories sharing a registry must agree on service_name_label, or "
                        "pass each its own registry="
                        if others
                        else "something else in this registry uses the name"
                    )
                ) from exc
            per_registry[key] = collector
        return collector


class PrometheusMetricsFactory(MetricsFactory):
    """Creates counters and gauges in a Prometheus ``CollectorRegistry``; timers are no-ops.

    :param namespace: prefix joined to every name with ``_`` (prometheus_client's ``namespace``)
    :param service_name_label: when given, every metric carries the label ``service=<value>``
    :param registry: where to register; None means prometheus_client's default ``REGISTRY``.
        Factories sharing a registry share the collectors, so several tracers can use one.
    """

    def __init__(
        self,
        namespace: str = "",
        service_name_label: Optional[str] = None,
        *,
        registry: Optional[prometheus_client.CollectorRegistry] = None,
    ) -> None:
        super().__init__()
        self._namespace = namespace
        self._service_name_label = service_name_label
        self._registry = prometheus_client.REGISTRY if registry is None else registry

    def _labels(self, tags: Optional[dict[str, str]]) -> dict[str, str]:
        labels = dict(tags) if tags else {}  # copy: upstream added "service" to the caller's dict
        if self._service_name_label:
            labels["service"] = self._service_name_label
        return labels

    def _child(self, kind: type[Any], name: str, tags: Optional[dict[str, str]]) -> Any:
        labels = self._labels(tags)
        collector = _get_collector(self._registry, kind, self._namespace, name, sorted(labels))
        return collector.labels(**labels) if labels else collector

    def create_counter(self, name: str, tags: Optional[dict[str, str]] = None) -> Counter:
        """Return a callable that increments the Prometheus counter ``name`` by its argument."""
        increment: Counter = self._child(prometheus_client.Counter, name, tags).inc
        return increment

    def create_gauge(self, name: str, tags: Optional[dict[str, str]] = None) -> Gauge:
        """Return a callable that sets the Prometheus gauge ``name``."""
        update: Gauge = self._child(prometheus_client.Gauge, name, tags).set
        return update
