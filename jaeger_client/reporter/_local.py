"""In-process reporters: Null, InMemory, Logging and Composite, and upstream's ``BaseReporter``."""

from __future__ import annotations

import logging
import threading
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Optional

from .._future import CloseFuture, completed_future
from ..constants import LOGGER_NAME
from ._support import ReporterHealth, ReporterStats

if TYPE_CHECKING:
    from ..span import Span

__all__ = [
    "BaseReporter",
    "CompositeReporter",
    "InMemoryReporter",
    "LoggingReporter",
    "NullReporter",
    "default_logger",
]

default_logger = logging.getLogger(LOGGER_NAME)


class BaseReporter:
    """Upstream's abstract reporter: subclasses implement ``report_span``."""

    def set_process(self, service_name: str, tags: Mapping[str, Any], max_length: int) -> None:
        """Receive the process description (service name and tags) sent with every batch."""

    def report_span(self, span: Span) -> None:
        raise NotImplementedError()

    def flush(self, timeout: Optional[float] = None) -> bool:
        """Send everything reported so far; return whether it was all sent within ``timeout``."""
        return True

    def close(self) -> CloseFuture:
        """Release resources; the future completes once every reported span is handled."""
        return completed_future()


class NullReporter(BaseReporter):
    """Discards every span."""

    def report_span(self, span: Span) -> None:
        pass


class InMemoryReporter(BaseReporter):
    """Keeps finished spans in memory (for tests); thread-safe."""

    def __init__(self) -> None:
        self.spans: list[Span] = []
        self.lock = threading.Lock()

    def report_span(self, span: Span) -> None:
        with self.lock:
            self.spans.append(span)

    def get_spans(self) -> list[Span]:
        with self.lock:
            return self.spans[:]

    def clear(self) -> None:
        with self.lock:
            self.spans = []


class LoggingReporter(BaseReporter):
    """Logs ``Reporting span <span>`` at INFO for every finished span."""

    def __init__(self, logger: Optional[logging.Logger] = None) -> None:
        self.logger = logger if logger else default_logger

    def report_span(self, span: Span) -> None:
        self.logger.info("Reporting span %s", span)


class CompositeReporter(BaseReporter):
    """Fans every span out to several reporters; ``close()`` completes when all of them have."""

    def __init__(self, *reporters: Any) -> None:
        self.reporters = reporters

    def set_process(self, service_name: str, tags: Mapping[str, Any], max_length: int) -> None:
        for reporter in self.reporters:
            if hasattr(reporter, "set_process"):
                reporter.set_process(service_name, tags, max_length)

    def report_span(self, span: Span) -> None:
        for reporter in self.reporters:
            reporter.report_span(span)

    def health(self) -> Optional[ReporterHealth]:
        """The first reporter's that has ``health()`` (the remote one, beside a logging one)."""
        result: Optional[ReporterHealth] = self._first("health")
        return result

    def stats(self) -> Optional[ReporterStats]:
        """The first reporter's that has ``stats()``."""
        result: Optional[ReporterStats] = self._first("stats")
        return result

    def _first(self, method: str) -> Any:
        """``reporter.method()`` of the first reporter that has it; None if none has."""
        for reporter in self.reporters:
            call = getattr(reporter, method, None)
            if callable(call):
                return call()
        return None

    def flush(self, timeout: Optional[float] = None) -> bool:
        ok = True
        for reporter in self.reporters:
            flush = getattr(reporter, "flush", None)
            if flush is not None and not flush(timeout):
                ok = False
        return ok

    def close(self) -> CloseFuture:
        futures = [reporter.close() for reporter in self.reporters]
        result = CloseFuture()
        pending = [f for f in futures if f is not None and hasattr(f, "add_done_callback")]
        if not pending:
            result.set_result(None)
            return result
        remaining = [len(pending)]
        lock = threading.Lock()

        def one_done(_: Any) -> None:
            with lock:
                remaining[0] -= 1
                last = remaining[0] == 0
            if last:
                result.set_result(None)

        for f in pending:
            f.add_done_callback(one_done)
        return result
