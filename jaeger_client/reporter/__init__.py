"""Reporters: the remote Reporter (bounded queue, one worker thread, batching) and in-process ones.

A package since it outgrew one module; every name upstream's ``jaeger_client.reporter`` had
still imports from here.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from .. import _compat_names
from ._local import (
    BaseReporter,
    CompositeReporter,
    InMemoryReporter,
    LoggingReporter,
    NullReporter,
    default_logger,
)
from ._remote import Reporter
from ._support import ReporterHealth, ReporterMetrics, ReporterStats

__all__ = [
    "BaseReporter",
    "CompositeReporter",
    "InMemoryReporter",
    "LoggingReporter",
    "NullReporter",
    "Reporter",
    "ReporterHealth",
    "ReporterMetrics",
    "ReporterStats",
    "default_logger",
]


if TYPE_CHECKING:  # upstream's names held here by import (see _compat_names)
    from ..constants import DEFAULT_FLUSH_INTERVAL as DEFAULT_FLUSH_INTERVAL
    from ..metrics import LegacyMetricsFactory as LegacyMetricsFactory
    from ..metrics import Metrics as Metrics
    from ..metrics import MetricsFactory as MetricsFactory
    from ..span import Span as Span
    from ..utils import ErrorReporter as ErrorReporter
else:
    __getattr__ = _compat_names.module_getattr(
        __name__,
        {
            "jaeger_client.constants": ("DEFAULT_FLUSH_INTERVAL",),
            "jaeger_client.metrics": ("LegacyMetricsFactory", "Metrics", "MetricsFactory"),
            "jaeger_client.span": ("Span",),
            "jaeger_client.utils": ("ErrorReporter",),
        },
    )
