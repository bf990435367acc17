"""The remote Reporter's small parts: metrics, stats, argument checks, the exit hook, futures."""

from __future__ import annotations

import atexit
import concurrent.futures
import math
import sys
import threading
import time
import weakref
from typing import Any, NamedTuple, Optional, Protocol

from .._future import CloseFuture
from ..metrics import MetricsFactory

__all__ = ["ReporterHealth", "ReporterMetrics", "ReporterStats"]


class ReporterMetrics:
    """Reporter counters and gauge, with upstream's metric names and tags."""

    def __init__(self, metrics_factory: MetricsFactory) -> None:
        c = metrics_factory.create_counter
        self.reporter_success = c("jaeger:reporter_spans", {"result": "ok"})
        self.reporter_failure = c("jaeger:reporter_spans", {"result": "err"})
        self.reporter_dropped = c("jaeger:reporter_spans", {"result": "dropped"})
        self.reporter_queue_length = metrics_factory.create_gauge("jaeger:reporter_queue_length")


class ReporterStats(NamedTuple):
    """Where every span handed to ``report_span`` in this process went (a consistent snapshot).

    ``sent + dropped + too_large + failed + queued`` equals the number of spans reported.
    """

    sent: int  # accepted by the sender (handed to the socket or collector)
    dropped: int  # not queued: the queue was full, or the reporter was closed
    too_large: int  # larger than one packet even alone; dropped by the sender
    failed: int  # encoding or transport errors
    queued: int  # waiting in the queue or in the batch being sent right now

    @property
    def reported(self) -> int:
        return self.sent + self.dropped + self.too_large + self.failed + self.queued


class ReporterHealth(NamedTuple):
    """What a health check wants to know about sending (``Reporter.health()``), one snapshot.

    ``last_error`` is not cleared when sending recovers: compare ``last_error_at`` with
    ``last_sent_at``.
    """

    stats: ReporterStats  # the counts, taken together with the rest
    last_sent_at: Optional[float]  # time.time() when the sender last accepted a batch
    # the last failure: a send or encode error ("cannot send to ...: ..."), or spans too large
    last_error: Optional[str]
    last_error_at: Optional[float]  # time.time() of that failure


class _FlushRequest:
    """One ``flush()`` call waiting for the worker."""

    __slots__ = ("done", "is_ok")

    def __init__(self) -> None:
        self.done = threading.Event()
        self.is_ok = True


def _check_int(name: str, value: Any, minimum: int, maximum: Optional[int] = None) -> None:
    if not isinstance(value, int) or isinstance(value, bool) or value < minimum:
        raise ValueError(f"{name} must be an integer >= {minimum}, got {value!r}")
    if maximum is not None and value > maximum:
        raise ValueError(f"{name} must be an integer <= {maximum}, got {value!r}")


def _check_seconds(name: str, value: Any, *, allow_zero: bool) -> None:
    ok = isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)
    if not ok or value < 0 or (value == 0 and not allow_zero):
        bound = ">= 0" if allow_zero else "> 0"
        raise ValueError(f"{name} must be a finite number of seconds {bound}, got {value!r}")


# ---- interpreter exit ------------------------------------------------------------------------


class _FlushesAtExit(Protocol):
    def _flush_at_exit(self, start: float) -> None: ...


# Reporters alive in this process; one atexit hook serves them all and holds them weakly, so
# it neither keeps a reporter alive nor piles up one hook per reporter.
_live: weakref.WeakSet[_FlushesAtExit] = weakref.WeakSet()
_live_lock = threading.Lock()
_is_hook_registered = False


def _flush_all_at_exit() -> None:
    start = time.monotonic()  # every reporter's exit_flush_timeout counts from here
    for reporter in list(_live):
        reporter._flush_at_exit(start)


def _register_at_exit(reporter: _FlushesAtExit) -> None:
    global _is_hook_registered
    with _live_lock:
        _live.add(reporter)
        if not _is_hook_registered:
            atexit.register(_flush_all_at_exit)
            _is_hook_registered = True


def _is_interpreter_exiting() -> bool:
    """Whether the interpreter is exiting, when no thread may start (3.12 raises RuntimeError).

    ``threading._SHUTTING_DOWN`` (3.9 to 3.13) is set before non-daemon threads are joined and
    atexit hooks run; it is private, so a missing flag falls back to catching the RuntimeError.
    """
    return sys.is_finalizing() or bool(getattr(threading, "_SHUTTING_DOWN", False))


# ---- futures ---------------------------------------------------------------------------------


def _wait(future: concurrent.futures.Future[Any], timeout: Optional[float]) -> bool:
    try:
        future.result(timeout)
    except Exception:  # timed out, cancelled by a user, or failed: not all sent
        return False
    return True


def _complete(future: CloseFuture) -> None:
    try:
        future.set_result(None)
    except concurrent.futures.InvalidStateError:  # already completed, or cancelled by a user
        pass
