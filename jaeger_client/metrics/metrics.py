"""Upstream's ``jaeger_client.metrics.metrics`` import path: the classes live in the package."""

from __future__ import annotations

from . import LegacyMetricsFactory, Metrics, MetricsFactory

__all__ = ["LegacyMetricsFactory", "Metrics", "MetricsFactory"]
