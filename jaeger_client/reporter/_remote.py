"""The remote Reporter: a bounded queue, one lazily started worker thread per process, batching."""

from __future__ import annotations

import collections
import logging
import os
import threading
import time
from collections.abc import Iterator, Mapping
from typing import TYPE_CHECKING, Any, Callable, Optional

from .._fork import after_fork_in_child, check_pid, is_uwsgi_master, warn_if_threads_starve
from .._future import CloseFuture
from ..constants import (
    DEFAULT_FLUSH_INTERVAL,
    DEFAULT_UDP_RESOLVE_INTERVAL,
    UDP_MAX_PACKET_SIZE,
    UDP_MAX_PAYLOAD_IPV6,
)
from ..metrics import LegacyMetricsFactory, Metrics, MetricsFactory
from ..utils import ErrorReporter, RateLimitedLogger
from ._local import BaseReporter, default_logger
from ._support import (
    ReporterHealth,
    ReporterMetrics,
    ReporterStats,
    _check_int,
    _check_seconds,
    _complete,
    _FlushRequest,
    _is_interpreter_exiting,
    _register_at_exit,
    _wait,
)

if TYPE_CHECKING:
    from ..senders import Sender
    from ..span import Span

__all__ = ["Reporter", "ReporterMetrics", "ReporterStats"]

_WORKER_NAME = "jaeger-reporter"
_LOG_INTERVAL = 60.0  # seconds between two log lines of one kind (the first one is immediate)
# How the worker shares the GIL with the application (see Reporter._drain):
_BULK_SPANS = 2000  # spans per hand-off when behind: ~5 full 65 KB datagrams
_BEHIND_SPANS = 1000  # a backlog this long (or a quarter of the queue) means behind
_SLICE_SECONDS = 0.0002  # calm: the worker yields the GIL after this long (see _PacedBatch)


class _PacedBatch(list["Span"]):
    """Spans for one ``Sender.send``; iterating them yields the GIL now and then while calm.

    A sender encodes a batch by iterating it, so this is where the worker's CPU goes. Every
    ``_SLICE_SECONDS`` of iteration, if ``is_calm()`` (the backlog is short), it sleeps for 0 s:
    an application thread waiting for the GIL (a timer due) gets it within one slice, not after
    the whole batch or a 5 ms switch interval. While behind it never yields: a CPU-bound
    application would keep the GIL for a switch interval each time.
    """

    __slots__ = ("_is_calm",)

    def __init__(self, spans: list[Span], is_calm: Callable[[], bool]) -> None:
        super().__init__(spans)
        self._is_calm = is_calm

    def __iter__(self) -> Iterator[Span]:
        perf_counter = time.perf_counter
        slice_end = perf_counter() + _SLICE_SECONDS
        for i, span in enumerate(super().__iter__()):
            if not i & 7 and perf_counter() >= slice_end:
                if self._is_calm():
                    time.sleep(0)  # releases the GIL: a waiting thread takes it
                slice_end = perf_counter() + _SLICE_SECONDS
            yield span


class Reporter(BaseReporter):
    """Sends finished spans out of process (to jaeger-agent over UDP, or through ``sender``).

    Thread model: application threads call ``report_span``, which appends to a bounded deque in
    O(1) without locks, I/O or waking anybody, and only sets an Event once a batch is waiting.
    One daemon thread per process, ``jaeger-reporter``, started by the first reported span,
    drains the deque in batches and is the only caller of the sender (and so owns its socket).
    ``flush()`` and ``close()`` may be called from any thread; ``close()`` returns at once with a
    future. A forked child gets an empty queue, a reset sender and its own worker; at
    interpreter exit queued spans are flushed within ``exit_flush_timeout``.

    Hand-offs and the GIL: the worker hands the sender up to 2,000 spans (or ``batch_size``, if
    larger) at a time, which it packs into datagrams by bytes, up to ``max_packet_size``. While
    the backlog is short the worker yields the GIL (``time.sleep(0)``) after every 0.2 ms of
    encoding, so an application thread whose timer is due waits at most that long. While the
    backlog is 1,000 spans or more (or a quarter of the queue) it is behind and does not yield: a
    CPU-bound application (a burst) would keep the GIL for a switch interval each time, starve
    the worker and overflow the queue.

    What a burst can count on: one that fits in the queue is never dropped, however little of
    the GIL or the CPU the worker gets meanwhile. Past that, an application thread that never
    blocks and the worker each get about half of the GIL (each keeps it until the other has
    waited a switch interval), so the worker keeps up only while encoding a span costs it less
    than making one costs the application; whatever does not fit is dropped and counted, never
    waited for.

    :param channel: where the agent is (``LocalAgentSender``: ``host``, ``reporting_port``);
        ignored when ``sender`` is given
    :param queue_capacity: spans held before new ones are dropped (upstream's default was 100)
    :param batch_size: spans to accumulate before sending: this many queued spans wake the
        worker (upstream's default was 10). It does not cap a datagram: the sender cuts
        datagrams by bytes, up to ``max_packet_size``
    :param flush_interval: seconds between two flushes of a partial batch
    :param io_loop: accepted for compatibility and ignored: no Tornado is used
    :param error_reporter: counts and logs send failures; by default they are logged on the
        ``jaeger_tracing`` logger, the first at once, then at most one a minute
    :param metrics: deprecated, use ``metrics_factory``
    :param sender: what encodes and sends batches (a :class:`jaeger_client.senders.Sender`);
        by default a ``UDPSender`` to ``channel``, created on the worker thread
    :param max_packet_size: the largest UDP datagram the default sender writes
    :param exit_flush_timeout: seconds the interpreter may wait at exit for queued spans;
        0 disables the exit flush
    :param resolve_interval: seconds between two resolutions of the agent's host by the default
        sender (it also resolves after a failed send); None: only then
    :param logger: where the reporter logs (upstream's ``logger`` keyword)
    """

    def __init__(
        self,
        channel: Any,
        queue_capacity: int = 10000,
        batch_size: int = 100,
        flush_interval: float = DEFAULT_FLUSH_INTERVAL,
        io_loop: Any = None,
        error_reporter: Optional[ErrorReporter] = None,
        metrics: Optional[Metrics] = None,
        metrics_factory: Optional[MetricsFactory] = None,
        *,
        sender: Optional[Sender] = None,
        max_packet_size: int = UDP_MAX_PACKET_SIZE,
        exit_flush_timeout: float = 2.0,
        resolve_interval: Optional[float] = DEFAULT_UDP_RESOLVE_INTERVAL,
        logger: Optional[logging.Logger] = None,
    ) -> None:
        _check_int("queue_capacity", queue_capacity, 1)
        _check_int("batch_size", batch_size, 1, queue_capacity)
        _check_seconds("flush_interval", flush_interval, allow_zero=False)
        _check_seconds("exit_flush_timeout", exit_flush_timeout, allow_zero=True)
        _check_int("max_packet_size", max_packet_size, 1, UDP_MAX_PAYLOAD_IPV6)
        if sender is None and not (hasattr(channel, "host") and hasattr(channel, "reporting_port")):
            raise TypeError(
                "channel must have 'host' and 'reporting_port' (a LocalAgentSender) unless "
                f"sender= is given, got {channel!r}"
            )
        self._channel = channel
        self.queue_capacity = queue_capacity
        self.batch_size = batch_size
        self.flush_interval = float(flush_interval)
        self.io_loop = io_loop
        self.logger = logger if logger is not None else default_logger
        self.metrics_factory = metrics_factory or LegacyMetricsFactory(metrics or Metrics())
        self.metrics = ReporterMetrics(self.metrics_factory)
        self.error_reporter = error_reporter or ErrorReporter(
            None, logger=self.logger, log_interval_minutes=_LOG_INTERVAL / 60.0
        )
        self._warn = RateLimitedLogger(self.logger, _LOG_INTERVAL)
        self._sender = sender
        self._max_packet_size = max_packet_size
        self._resolve_interval = resolve_interval
        self._exit_flush_timeout = float(exit_flush_timeout)
        self._process: Optional[tuple[str, dict[str, Any], int]] = None
        self._process_version = 0
        self._sender_process_version = 0
        self._is_closed = False
        self._is_exiting = False
        self._close_future: Optional[CloseFuture] = None
        if sender is None:
            # Built here, not on the worker: importing it there would release the GIL on every
            # file read, and a busy application thread then holds it 5 ms each time.
            self._sender = self._new_default_sender()
        self._init_process_state()
        after_fork_in_child(self._after_fork_in_child)
        _register_at_exit(self)

    def _init_process_state(self) -> None:
        """Everything that belongs to one process: queue, locks, worker and counters."""
        self._pid = os.getpid()
        self._queue: collections.deque[Span] = collections.deque()
        self._wake = threading.Event()
        self._is_wake_pending = False  # set by _wake_worker, cleared with the Event by the worker
        # Guards counters, flush requests and the hand-off of a batch to the sender; memory
        # only: never held across a send, and taken by application threads only to drop.
        self._lock = threading.Lock()
        self._start_lock = threading.Lock()
        self._inline_lock = threading.Lock()
        self._worker: Optional[threading.Thread] = None
        self._has_worker = False
        self._retry_start_at = 0.0
        self._uwsgi_master_logged = False
        self._deadline = 0.0
        self._flush_requests: list[_FlushRequest] = []
        self._in_flight = 0
        self._sent = 0
        self._dropped_queue_full = 0
        self._dropped_after_close = 0
        self._too_large = 0
        self._failed = 0
        self._dropped_logged = 0
        # for health checks (health()): time.time() of the last accepted batch, the last failure
        self._last_sent_at: Optional[float] = None
        self._last_error: Optional[tuple[float, str]] = None

    def _after_fork_in_child(self) -> None:
        # The parent's queued spans are the parent's to send: start empty, with our own worker.
        self._init_process_state()
        if self._close_future is not None:
            # The parent's future (and its lock) is the parent's; the child is closed already.
            self._close_future = CloseFuture()
            self._close_future.set_result(None)
        if self._sender is not None:
            try:
                self._sender.reset_after_fork()
            except Exception as exc:  # at-fork hooks must not raise into os.fork()
                self.error_reporter.error("Failed to reset the span sender after fork:", exc)

    def getProtocol(self, transport: Any) -> Any:  # upstream's name
        """Thrift's ``TProtocolFactory`` interface, as upstream's Reporter had it: a compact
        protocol on ``transport``. Nothing here uses it; the senders write their own bytes."""
        from thrift.protocol import TCompactProtocol

        return TCompactProtocol.TCompactProtocolFactory().getProtocol(transport)

    # ---- application threads --------------------------------------------------------------

    def set_process(self, service_name: str, tags: Mapping[str, Any], max_length: int) -> None:
        """Set the process sent with every batch; the worker forwards it to the sender."""
        with self._lock:
            self._process = (service_name, dict(tags), max_length)
            self._process_version += 1

    def report_span(self, span: Span) -> None:
        """Queue a finished span; O(1), never blocks and never raises."""
        if not self._has_worker:
            # first: in a child forked without fork hooks this resets the queue (check_pid)
            self._ensure_worker()
        queue = self._queue
        if self._is_closed or len(queue) >= self.queue_capacity:
            self._drop_span()
            return
        queue.append(span)
        # _is_wake_pending mirrors the Event: a plain attribute, where is_set() is a call
        if len(queue) >= self.batch_size and not self._is_wake_pending:
            self._wake_worker()

    def _drop_span(self) -> None:
        # Dropping beats blocking a request thread. Rare path: a lock keeps the count exact.
        with self._lock:
            if self._is_closed:
                self._dropped_after_close += 1
            else:
                self._dropped_queue_full += 1
        try:
            self.metrics.reporter_dropped(1)
        except Exception:  # a user's metrics callback must not break Span.finish()
            pass

    def _late_fork_reset(self) -> None:
        """Run the fork hooks in a child forked without them (``check_pid``), this reporter's
        included. The spans queued then are the parent's or ones finished here since the fork
        (started before it): they cannot be told apart, so they are dropped, and counted."""
        queue = self._queue
        check_pid(time.time())
        if self._queue is not queue and queue:
            lost = len(queue)
            with self._lock:
                self._dropped_queue_full += lost
            try:
                self.metrics.reporter_dropped(lost)
            except Exception:  # a user's metrics callback must not break reporting
                pass

    def _wake_worker(self) -> None:
        if os.getpid() != self._pid:  # forked without fork hooks, and no span started since
            self._late_fork_reset()
            return
        self._is_wake_pending = True
        self._wake.set()

    def _ensure_worker(self) -> bool:
        """Start this process's worker unless it runs; return whether one runs now."""
        if os.getpid() != self._pid:  # forked without fork hooks, and no span started since
            self._late_fork_reset()
        worker = self._worker
        if worker is not None and worker.is_alive():
            return True
        if self._is_exiting or _is_interpreter_exiting() or time.monotonic() < self._retry_start_at:
            return False
        if is_uwsgi_master():  # each worker starts its own (see _fork.is_uwsgi_master)
            if not self._uwsgi_master_logged:
                self._uwsgi_master_logged = True
                self.logger.info(
                    "uWSGI master: the %s thread starts in each worker; spans reported here "
                    "are sent by flush(), close() or at exit",
                    _WORKER_NAME,
                )
            return False
        with self._start_lock:
            worker = self._worker
            if worker is not None and worker.is_alive():
                return True
            warn_if_threads_starve()
            worker = threading.Thread(target=self._run, name=_WORKER_NAME, daemon=True)
            self._deadline = time.monotonic() + self.flush_interval
            try:
                worker.start()
            except RuntimeError as exc:  # out of threads, or the interpreter is shutting down
                self._retry_start_at = time.monotonic() + self.flush_interval
                self._warn.log(
                    "start",
                    logging.WARNING,
                    "Cannot start the %s thread (%s); queued spans wait for flush(), close() "
                    "or interpreter exit",
                    _WORKER_NAME,
                    exc,
                )
                return False
            self._worker = worker
            self._has_worker = True
            return True

    def health(self) -> ReporterHealth:
        """The counts, when a batch was last sent, and the last failure, in one snapshot."""
        with self._lock:
            stats = self._stats_locked()
            sent_at, error = self._last_sent_at, self._last_error
        return ReporterHealth(
            stats=stats,
            last_sent_at=sent_at,
            last_error=None if error is None else error[1],
            last_error_at=None if error is None else error[0],
        )

    def stats(self) -> ReporterStats:
        """Counts for this process (a forked child starts from zero)."""
        with self._lock:
            return self._stats_locked()

    def _stats_locked(self) -> ReporterStats:
        return ReporterStats(
            sent=self._sent,
            dropped=self._dropped_queue_full + self._dropped_after_close,
            too_large=self._too_large,
            failed=self._failed,
            queued=len(self._queue) + self._in_flight,
        )

    def flush(self, timeout: Optional[float] = None) -> bool:
        """Send every span reported before this call; return whether all were sent in time.

        Blocks the calling thread up to ``timeout`` seconds (None: until done). Returns False on
        timeout, if any of those spans failed or were too large, or if called from the worker.
        """
        deadline = None if timeout is None else time.monotonic() + timeout
        if threading.current_thread() is self._worker:
            return False  # the worker would wait for itself
        if os.getpid() != self._pid:  # forked without fork hooks, and no span started since
            self._late_fork_reset()
        request = _FlushRequest()
        with self._lock:
            future = self._close_future
            if future is None:
                if not self._queue and not self._in_flight:
                    return True
                self._flush_requests.append(request)
        if future is not None:
            return _wait(future, timeout)
        if self._ensure_worker():
            self._wake.set()
            return request.done.wait(timeout) and request.is_ok
        with self._lock:  # no worker, and none may start: send from this thread
            if request in self._flush_requests:
                self._flush_requests.remove(request)
        return self._send_inline(deadline)

    def close(self) -> CloseFuture:
        """Send every queued span, then close the sender; idempotent (same future each time).

        Returns at once where a worker thread runs. The future completes when the worker is done,
        even if the sender fails; a sender that blocks delays it, so bound the wait with
        ``.result(timeout)``. Where no worker may run (uWSGI's master) the queue is sent on the
        calling thread first.
        Spans reported afterwards are counted as dropped.
        """
        if os.getpid() != self._pid:  # forked without fork hooks, and no span started since
            self._late_fork_reset()
        with self._lock:
            if self._close_future is not None:
                return self._close_future
            future = self._close_future = CloseFuture()
            self._is_closed = True
            is_idle = not self._queue and not self._in_flight
        worker = self._worker
        if worker is not None and worker.is_alive():
            self._wake.set()
        elif is_idle:  # no worker ever ran here, so nothing else touches the sender
            self._close_sender()
            _complete(future)
        elif self._ensure_worker():
            self._wake.set()
        elif self._inline_lock.acquire(timeout=self._exit_flush_timeout):
            try:
                self._finish([])
            finally:
                self._inline_lock.release()
        return future

    # ---- the worker thread ---------------------------------------------------------------

    def _run(self) -> None:
        wake = self._wake
        try:
            while True:
                try:
                    timeout = self._work_step()
                except Exception as exc:  # top of the worker's loop: nothing may stop reporting
                    self._report_error("Unexpected error in the span reporter:", exc)
                    timeout = self.flush_interval
                if timeout is None:
                    return
                wake.wait(timeout)
        finally:
            if self._worker is threading.current_thread():
                self._has_worker = False  # lets the next span start a new worker if we died

    def _work_step(self) -> Optional[float]:
        """One pass of the worker: send what is due; return seconds to sleep, or None to stop."""
        self._wake.clear()  # before draining, so a span appended from now on wakes us again
        # after the clear: a report_span that still saw True appended before the count below
        self._is_wake_pending = False
        with self._lock:
            requests, self._flush_requests = self._flush_requests, []
            is_closing = self._is_closed
            due = len(self._queue)  # FIFO: covers every span reported before these requests
        if is_closing:
            self._finish(requests)
            return None
        now = time.monotonic()
        is_periodic = now >= self._deadline
        if requests or is_periodic:
            is_ok = self._drain(due)
            for request in requests:
                request.is_ok = is_ok
                request.done.set()
        else:  # woken by a full batch: send full batches, leave the rest for the deadline
            self._drain(due - due % self.batch_size)
        if is_periodic:
            self._deadline = now + self.flush_interval
        self._log_drops()
        return max(0.0, self._deadline - time.monotonic())

    def _drain(self, count: Optional[int], deadline: Optional[float] = None) -> bool:
        """Send ``count`` queued spans (None: until empty) in batches; return whether all sent."""
        queue = self._queue
        popleft = queue.popleft
        behind_at = max(1, min(_BEHIND_SPANS, self.queue_capacity // 4))

        def is_calm() -> bool:
            return len(queue) < behind_at

        def is_never_calm() -> bool:
            return False

        is_ok = True
        while count is None or count > 0:
            if deadline is not None and time.monotonic() >= deadline:
                return False
            with self._lock:
                backlog = len(queue)
                size = min(backlog, max(_BULK_SPANS, self.batch_size))
                if count is not None:
                    size = min(size, count)
                batch = _PacedBatch(
                    [popleft() for _ in range(size)],
                    is_calm if backlog < behind_at else is_never_calm,
                )
                self._in_flight = size
            if not batch:
                break
            if count is not None:
                count -= size
            is_ok = self._send(batch) and is_ok
        self._update_gauge()
        return is_ok

    def _send(self, batch: list[Span]) -> bool:
        size = len(batch)
        sent, too_large, failed = 0, 0, size
        reason: Optional[str] = None  # of a failure, for health(): the sender's, if it noted one
        try:
            sender = self._get_sender()
            if sender is None:
                reason = "Reporter.set_process() was not called"
            else:
                noted = getattr(sender, "last_error", None)
                result = sender.send(batch, self._dropped_queue_full)
                sent = min(max(result.sent, 0), size)
                too_large = min(max(result.too_large, 0), size - sent)
                failed = size - sent - too_large  # whatever the sender did not account for
                after = getattr(sender, "last_error", None)
                if after is not noted and isinstance(after, str):  # noted during this send
                    reason = after
        except Exception as exc:  # a Sender never raises by contract; a broken one must not stop us
            self._report_error("Failed to send spans:", exc)
            reason = f"the sender raised {exc!r}"
        now = time.time()
        error: Optional[tuple[float, str]] = None
        if failed:
            error = (now, reason or f"{failed} of {size} spans could not be sent")
        elif too_large:
            error = (now, f"{too_large} spans larger than one packet were dropped")
        with self._lock:
            self._sent += sent
            self._too_large += too_large
            self._failed += failed
            self._in_flight = 0
            if sent:
                self._last_sent_at = now
            if error is not None:
                self._last_error = error
        try:
            if sent:
                self.metrics.reporter_success(sent)
            if failed or too_large:
                self.metrics.reporter_failure(failed + too_large)
        except Exception as exc:  # a user's metrics callback is not our failure to count
            self._report_error("Metrics callback failed:", exc)
        if failed:
            self.error_reporter.error(f"Failed to send {failed} of {size} spans")
        if too_large and not getattr(self._sender, "logs_too_large", False):
            # our senders log each oversize span themselves (with its size); one line, not two
            self._warn.log(
                "too-large",
                logging.WARNING,
                "Dropped %d spans larger than one packet (max_packet_size=%d)",
                too_large,
                self._max_packet_size,
            )
        return sent == size

    def _get_sender(self) -> Optional[Sender]:
        with self._lock:
            process, version = self._process, self._process_version
        if process is None:
            self._warn.log("no-process", logging.ERROR, "Reporter.set_process() was not called")
            return None
        sender = self._sender
        if sender is None:
            sender = self._sender = self._new_default_sender()
        if version != self._sender_process_version:
            sender.set_process(*process)
            self._sender_process_version = version
        return sender

    def _new_default_sender(self) -> Sender:
        from ..senders import UDPSender

        channel = self._channel
        return UDPSender(
            channel.host,
            channel.reporting_port,
            max_packet_size=self._max_packet_size,
            resolve_interval=self._resolve_interval,
        )

    def _finish(self, requests: list[_FlushRequest]) -> None:
        """Closing: send everything, close the sender, complete the close future."""
        is_ok = False
        try:
            is_ok = self._drain(None)
            self._close_sender()
        except Exception as exc:  # close() must complete whatever happens here
            self._report_error("Unexpected error while closing the span reporter:", exc)
        finally:
            with self._lock:  # spans that raced with close() count as dropped after close
                leftover = len(self._queue)
                self._queue.clear()
                self._dropped_after_close += leftover
            for request in requests:
                request.is_ok = is_ok and not leftover
                request.done.set()
            if self._close_future is not None:
                _complete(self._close_future)

    def _close_sender(self) -> None:
        sender = self._sender
        if sender is not None:
            try:
                sender.close()
            except Exception as exc:  # closing is best effort; the sockets die with us anyway
                self._report_error("Failed to close the span sender:", exc)

    def _send_inline(self, deadline: Optional[float]) -> bool:
        """Send from the calling thread; only when no worker runs (at exit, or out of threads)."""
        timeout = -1.0 if deadline is None else max(0.0, deadline - time.monotonic())
        if not self._inline_lock.acquire(timeout=timeout):
            return False
        try:
            return self._drain(len(self._queue), deadline) and not self._queue
        finally:
            self._inline_lock.release()

    def _update_gauge(self) -> None:
        try:
            self.metrics.reporter_queue_length(len(self._queue))
        except Exception as exc:  # a user's metrics callback is not our failure to count
            self._report_error("Metrics callback failed:", exc)

    def _log_drops(self) -> None:
        dropped = self._dropped_queue_full - self._dropped_logged
        if dropped and self._warn.log(
            "queue-full",
            logging.WARNING,
            "Dropped %d spans: the reporter queue is full (queue_capacity=%d)",
            dropped,
            self.queue_capacity,
        ):
            self._dropped_logged += dropped

    def _report_error(self, message: str, exc: BaseException) -> None:
        self.error_reporter.error(message, exc)

    # ---- interpreter exit ------------------------------------------------------------------

    def _flush_at_exit(self, start: float) -> None:
        """atexit: give queued spans ``exit_flush_timeout`` seconds, counted from ``start``."""
        self._is_exiting = True  # from now on no thread may start
        if os.getpid() != self._pid or self._exit_flush_timeout <= 0:
            return
        remaining = start + self._exit_flush_timeout - time.monotonic()
        if remaining <= 0:
            return
        try:
            future = self._close_future
            if future is not None:
                _wait(future, remaining)
            else:
                self.flush(remaining)
        except Exception as exc:  # never raise from an atexit hook
            self._report_error("Failed to flush spans at exit:", exc)
