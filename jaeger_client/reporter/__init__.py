"""Reporters: the remote Reporter (bounded queue, one worker thread, batching) and in-process ones.

A package since it outgrew one module; every name upstream's ``jaeger_client.reporter`` had
still imports from here.
"""

from __future__ import annotations

from ._local import (
    BaseReporter,
    CompositeReporter,
    InMemoryReporter,
    LoggingReporter,
    NullReporter,
    default_logger,
)
from ._remote import Reporter
from ._support import ReporterMetrics, ReporterStats

__all__ = [
    "BaseReporter",
    "CompositeReporter",
    "InMemoryReporter",
    "LoggingReporter",
    "NullReporter",
    "Reporter",
    "ReporterMetrics",
    "ReporterStats",
    "default_logger",
]
