"""Debug-span throttling: credits per operation, fetched from the agent's ``/credits`` endpoint."""

from __future__ import annotations

import logging
import threading
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Callable, Optional

from . import _compat_names, constants
from ._fork import after_fork_in_child
from .local_agent_net import (
    FetchError,
    HTTPFetcher,
    Poller,
    channel_url,
    check_seconds,
    decode_json,
)
from .metrics import MetricsFactory
from .rate_limiter import _check_number
from .sampler._local import _check_max_operations
from .utils import ErrorReporter

__all__ = ["RemoteThrottler", "Throttler", "ThrottlerMetrics"]

MINIMUM_CREDITS = constants.MINIMUM_CREDITS
default_logger = logging.getLogger(constants.LOGGER_NAME)


class Throttler:
    """Decides whether a debug span (``jaeger-debug-id``, ``sampling.priority``) may start."""

    def set_client_id(self, client_id: int) -> None:
        """Called by the tracer with its client id (the ``client-uuid`` process tag)."""

    def _set_client_id(self, client_id: int) -> None:
        self.set_client_id(client_id)

    def is_allowed(self, operation: str) -> bool:
        raise NotImplementedError()

    def close(self) -> None:
        pass


def _counter_pair(*counters: Callable[[int], Any]) -> Callable[[int], None]:
    def increment(value: int) -> None:
        for counter in counters:
            counter(value)

    return increment


class ThrottlerMetrics:
    """Throttler counters.

    Updates are counted under both ``jaeger:throttler_updates`` (Go's and Java's name) and
    upstream Python's singular ``jaeger:throttler_update``, so existing dashboards keep working.
    """

    def __init__(self, metrics_factory: MetricsFactory) -> None:
        c = metrics_factory.create_counter
        self.throttled_debug_spans = c("jaeger:throttled_debug_spans")
        self.throttler_update_success = _counter_pair(
            c("jaeger:throttler_updates", {"result": "ok"}),
            c("jaeger:throttler_update", {"result": "ok"}),
        )
        self.throttler_update_failure = _counter_pair(
            c("jaeger:throttler_updates", {"result": "err"}),
            c("jaeger:throttler_update", {"result": "err"}),
        )


def _parse_balances(response: Any) -> list[tuple[str, float]]:
    """Validate ``{"balances": [{"operation": str, "balance": number >= 0}]}``; ValueError."""
    if not isinstance(response, Mapping):
        raise ValueError(f"credits response must be a JSON object, got {response!r:.100}")
    balances = response.get(constants.CREDITS_BALANCES_KEY)
    if not isinstance(balances, list):
        raise ValueError(f"credits response: balances must be a list, got {balances!r:.100}")
    result = []
    for i, entry in enumerate(balances):
        where = f"balances[{i}]"
        if not isinstance(entry, Mapping):
            raise ValueError(f"{where} must be an object, got {entry!r:.100}")
        operation = entry.get(constants.CREDITS_OPERATION_KEY)
        if not isinstance(operation, str):
            raise ValueError(f"{where}.operation must be a string, got {operation!r:.100}")
        balance: Any = entry.get(constants.CREDITS_BALANCE_KEY)
        _check_number(f"{where}.balance", balance, 0.0, constants.MAX_TRACES_PER_SECOND)
        result.append((operation, float(balance)))
    return result


class RemoteThrottler(Throttler):
    """Debug-span credits per operation, topped up from ``/credits`` by a poller thread.

    ``is_allowed(op)``: an operation seen for the first time is registered with no credit and
    denied (its credit is requested at the next poll); with at least one credit it spends one and
    is allowed; otherwise denied. Every denial counts ``jaeger:throttled_debug_spans``. Fetched
    balances are *added* to the operations' credit.

    Thread model: ``is_allowed`` runs on application threads under ``lock`` (memory only); its
    first call starts the poller thread ``jaeger-throttler-poller``, which runs :meth:`poll_once`
    at once and then every ``refresh_interval`` seconds (with jitter), without holding the lock
    during the request. ``close()`` (``tracer.close()``) stops it, even mid-request. A forked child
    starts its own poller on its first ``is_allowed``.

    :param channel: a ``LocalAgentSender``: its host and ``throttling_port`` give the endpoint;
        optional when ``credits_endpoint`` is given
    :param service_name: the ``service`` query parameter
    :param refresh_interval: seconds between polls (default 5)
    :param credits_endpoint: full URL of ``/credits``; overrides ``channel``
    :param max_operations: the most operations tracked; others are denied without registering
    :param http_timeout: seconds a poll may take in all
    :param poll_in_background: False runs no thread; call :meth:`poll_once` yourself
    """

    def __init__(
        self,
        channel: Any = None,
        service_name: Optional[str] = None,
        *,
        refresh_interval: float = constants.DEFAULT_THROTTLER_REFRESH_INTERVAL,
        logger: Optional[logging.Logger] = None,
        metrics_factory: Optional[MetricsFactory] = None,
        error_reporter: Optional[ErrorReporter] = None,
        credits_endpoint: Optional[str] = None,
        max_operations: int = constants.DEFAULT_MAX_OPERATIONS,
        http_timeout: float = constants.DEFAULT_HTTP_TIMEOUT,
        poll_in_background: bool = True,
    ) -> None:
        if not isinstance(service_name, str) or not service_name:
            raise ValueError(f"service_name must be a non-empty string, got {service_name!r}")
        interval = check_seconds("refresh_interval", refresh_interval)
        timeout = check_seconds("http_timeout", http_timeout)
        _check_max_operations(max_operations)
        if credits_endpoint is None:
            credits_endpoint = channel_url(
                channel, "throttling_port", constants.DEFAULT_THROTTLER_PORT, constants.CREDITS_PATH
            )
        self.channel = channel
        self.service_name = service_name
        self.credits_endpoint = credits_endpoint
        self.client_id: Optional[int] = None
        self.max_operations = max_operations
        self.logger = logger or default_logger
        self.metrics = ThrottlerMetrics(metrics_factory or MetricsFactory())
        self.error_reporter = error_reporter or ErrorReporter(None, logger=self.logger)
        self.credits: dict[str, float] = {}
        self.lock = threading.Lock()
        self._poller = Poller(
            "jaeger-throttler-poller",
            self.poll_once,
            interval,
            HTTPFetcher(timeout=timeout),
            enabled=poll_in_background,
        )
        self.refresh_interval = interval
        after_fork_in_child(self._after_fork_in_child)

    def _after_fork_in_child(self) -> None:
        self.lock = threading.Lock()
        # the parent's id: the child's tracer (whose fork hook runs after this one) sets its own
        self.client_id = None

    @property
    def running(self) -> bool:
        """False once closed (upstream attribute)."""
        return not self._poller.is_closed

    def set_client_id(self, client_id: int) -> None:
        """The tracer's client id, sent as ``uuid``; the first one set wins, as upstream."""
        with self.lock:
            if self.client_id is None:
                self.client_id = client_id

    def is_allowed(self, operation: str) -> bool:
        if type(operation) is not str:  # the tracer passes the span's name as given, even None
            operation = "" if operation is None else str(operation)
        with self.lock:
            value = self.credits.get(operation)
            if value is None:
                if len(self.credits) < self.max_operations:
                    self.credits[operation] = 0.0
                allowed = False
            elif value < MINIMUM_CREDITS:
                allowed = False
            else:
                self.credits[operation] = value - MINIMUM_CREDITS
                allowed = True
        if not allowed:
            self.metrics.throttled_debug_spans(1)
        if self._poller.needs_start:  # after registering: the first poll asks for this operation
            self._poller.start()
        return allowed

    def poll_once(self) -> bool:
        """One poll step: request credit for every known operation. Never raises.

        Returns whether credits were updated. Nothing is requested before any operation is known
        or before the tracer has set the client id.
        """
        if self._poller.is_closed:
            return False
        with self.lock:
            operations = list(self.credits)
            client_id = self.client_id
        if not operations or client_id is None:
            return False
        params = [("service", self.service_name), ("uuid", str(client_id))]
        params.extend(("operations", op) for op in operations)
        try:
            balances = _parse_balances(
                decode_json(self._poller.fetcher.fetch(self.credits_endpoint, params))
            )
        except (FetchError, ValueError) as e:
            self.metrics.throttler_update_failure(1)
            self.error_reporter.error(
                f"Failed to get throttling credits from {self.credits_endpoint}: {e}"
            )
            return False
        with self.lock:
            credits = self.credits
            for operation, balance in balances:
                if operation in credits or len(credits) < self.max_operations:
                    credits[operation] = credits.get(operation, 0.0) + balance
        self.metrics.throttler_update_success(1)
        return True

    def close(self) -> None:
        """Stop polling, promptly even mid-request; idempotent."""
        self._poller.close()


if TYPE_CHECKING:  # upstream's names held here by import (see _compat_names)
    from .constants import DEFAULT_THROTTLER_REFRESH_INTERVAL as DEFAULT_THROTTLER_REFRESH_INTERVAL
    from .metrics import Metrics as Metrics
else:
    __getattr__ = _compat_names.module_getattr(
        __name__,
        {
            "jaeger_client.constants": ("DEFAULT_THROTTLER_REFRESH_INTERVAL",),
            "jaeger_client.metrics": ("Metrics",),
        },
    )
