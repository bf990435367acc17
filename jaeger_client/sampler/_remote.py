"""RemoteControlledSampler: a strategy served by a Jaeger agent, collector or OTel Collector.

Polling is split as in jaeger-client-go's ``sampler_remote.go``: *fetch* (``HTTPFetcher``, stdlib
``http.client``), *parse* (``decode_json`` then ``_parse_strategy``: pure, raising ``ValueError``
naming the bad field) and *update* (``_update_sampler``: swaps the delegate under the lock).
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Mapping
from typing import Any, NamedTuple, Optional
from urllib.parse import urlsplit

from .. import constants
from .._fork import after_fork_in_child
from ..local_agent_net import (
    FetchError,
    HTTPFetcher,
    Poller,
    channel_url,
    check_seconds,
    decode_json,
)
from ..metrics import LegacyMetricsFactory, Metrics, MetricsFactory
from ..utils import ErrorReporter
from ._local import (
    AdaptiveSampler,
    ProbabilisticSampler,
    RateLimitingSampler,
    Sampler,
    Tags,
    _check_max_operations,
    _number_field,
    _OperationStrategies,
    _parse_operation_strategies,
)

__all__ = ["RemoteControlledSampler", "SamplerMetrics"]

default_logger = logging.getLogger(constants.LOGGER_NAME)

_STRATEGY_TYPES = {
    constants.STRATEGY_TYPE_PROBABILISTIC,
    constants.STRATEGY_TYPE_RATE_LIMITING,
}


class SamplerMetrics:
    """The remote sampler's counters, with upstream's names and tags."""

    def __init__(self, metrics_factory: MetricsFactory) -> None:
        c = metrics_factory.create_counter
        self.sampler_retrieved = c("jaeger:sampler_queries", {"result": "ok"})
        self.sampler_query_failure = c("jaeger:sampler_queries", {"result": "err"})
        self.sampler_updated = c("jaeger:sampler_updates", {"result": "ok"})
        self.sampler_update_failure = c("jaeger:sampler_updates", {"result": "err"})


class _Strategy(NamedTuple):
    """A validated strategy: probabilistic rate, rate limit, or per-operation strategies."""

    probabilistic: Optional[float] = None
    rate_limit: Optional[float] = None
    per_operation: Optional[_OperationStrategies] = None


def _parse_strategy(response: Any) -> _Strategy:
    """Validate a SamplingStrategyResponse, choosing the strategy by presence as Go does.

    ``operationSampling`` (when a non-empty object) wins, then ``probabilisticSampling``, then
    ``rateLimitingSampling``. ``strategyType`` may be a name or the legacy route's integer; it is
    checked but not needed. Raises ``ValueError`` naming the offending field.
    """
    if not isinstance(response, Mapping):
        raise ValueError(f"strategy response must be a JSON object, got {response!r:.100}")
    kind = response.get(constants.STRATEGY_TYPE_KEY)
    if isinstance(kind, int) and not isinstance(kind, bool):
        kind = constants.STRATEGY_TYPE_CODES.get(kind, kind)
    if kind is not None and not (isinstance(kind, str) and kind in _STRATEGY_TYPES):
        raise ValueError(f"{constants.STRATEGY_TYPE_KEY}: unsupported strategy type {kind!r:.100}")
    operation_sampling = response.get(constants.OPERATION_SAMPLING_KEY)
    if operation_sampling is not None and operation_sampling != {}:
        return _Strategy(per_operation=_parse_operation_strategies(operation_sampling))
    probabilistic = response.get(constants.PROBABILISTIC_SAMPLING_KEY)
    if probabilistic is not None:
        where = constants.PROBABILISTIC_SAMPLING_KEY
        if not isinstance(probabilistic, Mapping):
            raise ValueError(f"{where} must be an object, got {probabilistic!r:.100}")
        return _Strategy(
            probabilistic=_number_field(
                probabilistic, constants.SAMPLING_RATE_KEY, where, None, 1.0
            )
        )
    rate_limiting = response.get(constants.RATE_LIMITING_SAMPLING_KEY)
    if rate_limiting is not None:
        where = constants.RATE_LIMITING_SAMPLING_KEY
        if not isinstance(rate_limiting, Mapping):
            raise ValueError(f"{where} must be an object, got {rate_limiting!r:.100}")
        key = constants.MAX_TRACES_PER_SECOND_KEY
        limit = _number_field(
            rate_limiting, key, where, None, constants.MAX_SERVED_TRACES_PER_SECOND
        )
        return _Strategy(rate_limit=limit)
    raise ValueError(
        "no operationSampling, probabilisticSampling or rateLimitingSampling in the response"
    )


def _check_endpoint(url: Any) -> str:
    try:
        parts = urlsplit(url) if isinstance(url, str) else None
    except ValueError:  # e.g. an unclosed IPv6 bracket
        parts = None
    if parts is None or parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError(f"sampling_endpoint must be an http(s) URL with a host, got {url!r}")
    return url  # type: ignore[no-any-return]  # checked to be a str above


class RemoteControlledSampler(Sampler):
    """Delegates to a sampler that a sampling server controls, polled on the sampler's own thread.

    Thread model: ``is_sampled`` runs on application threads. Its first call starts the poller
    thread ``jaeger-sampler-poller`` (so no thread exists before the first root span: a pre-fork
    master stays thread-free), then it reads the delegate under ``lock`` and asks it, outside the
    lock. The poller runs :meth:`poll_once` at once and then every ``sampling_refresh_interval``
    seconds (with jitter): fetch and parse without a lock, then install the new delegate under the
    lock. A rate-limiting or per-operation delegate is updated in place (its own ``update``), so
    its credit survives a poll. ``close()`` (``tracer.close()``) stops the thread, even
    mid-request. A forked child starts its own poller on its first ``is_sampled``.

    A failed fetch, a body that is not JSON, or an invalid strategy keeps the current delegate and
    is counted (``jaeger:sampler_queries{result=err}``, ``jaeger:sampler_updates{result=err}``).

    :param channel: a ``LocalAgentSender``; its host and sampling port give the default endpoint.
        Optional when ``sampling_endpoint`` is given.
    :param service_name: the ``service`` query parameter
    :param init_sampler: the delegate until the first good poll (``ProbabilisticSampler(0.001)``)
    :param sampling_refresh_interval: seconds between polls (default 60)
    :param max_operations: operations a per-operation delegate tracks (default 2000)
    :param metrics: deprecated, use ``metrics_factory``
    :param sampling_endpoint: full URL polled as ``{url}?service=NAME``, e.g. an agent's
        ``http://host:5778/sampling``, the legacy ``http://host:5778/``, or a collector's
        ``http://host:14268/api/sampling``; overrides ``channel``
    :param http_timeout: seconds a poll may take in all (connect, headers and body)
    :param poll_in_background: False runs no thread; call :meth:`poll_once` yourself
    """

    def __init__(
        self,
        channel: Any = None,
        service_name: Optional[str] = None,
        *,
        init_sampler: Optional[Sampler] = None,
        sampling_refresh_interval: Optional[float] = None,
        max_operations: Optional[int] = None,
        logger: Optional[logging.Logger] = None,
        metrics: Optional[Metrics] = None,
        metrics_factory: Optional[MetricsFactory] = None,
        error_reporter: Optional[ErrorReporter] = None,
        sampling_endpoint: Optional[str] = None,
        http_timeout: float = constants.DEFAULT_HTTP_TIMEOUT,
        poll_in_background: bool = True,
    ) -> None:
        super().__init__()
        if not isinstance(service_name, str) or not service_name:
            raise ValueError(f"service_name must be a non-empty string, got {service_name!r}")
        if init_sampler is None:
            init_sampler = ProbabilisticSampler(constants.DEFAULT_SAMPLING_PROBABILITY)
        elif not callable(getattr(init_sampler, "is_sampled", None)):
            raise TypeError(f"init_sampler must be a Sampler, got {init_sampler!r}")
        if sampling_refresh_interval is None:
            sampling_refresh_interval = constants.DEFAULT_SAMPLING_INTERVAL
        interval = check_seconds("sampling_refresh_interval", sampling_refresh_interval)
        timeout = check_seconds("http_timeout", http_timeout)
        if max_operations is None:
            max_operations = constants.DEFAULT_MAX_OPERATIONS
        _check_max_operations(max_operations)
        if sampling_endpoint is not None:
            endpoint = _check_endpoint(sampling_endpoint)
        else:
            endpoint = channel_url(
                channel, "sampling_port", constants.DEFAULT_SAMPLING_PORT, constants.SAMPLING_PATH
            )
        self._channel = channel
        self.io_loop = getattr(channel, "io_loop", None)  # upstream attribute; unused
        self.service_name = service_name
        self.sampling_endpoint = endpoint
        self.sampler: Sampler = init_sampler
        self.max_operations = max_operations
        self.logger = logger or default_logger
        self.metrics_factory = metrics_factory or LegacyMetricsFactory(metrics or Metrics())
        self.metrics = SamplerMetrics(self.metrics_factory)
        self.error_reporter = error_reporter or ErrorReporter(Metrics(), logger=self.logger)
        self.lock = threading.Lock()  # guards the reference self.sampler, never I/O
        self._update_lock = threading.Lock()  # one update at a time (poller thread vs. a caller)
        self._poller = Poller(
            "jaeger-sampler-poller",
            self.poll_once,
            interval,
            HTTPFetcher(timeout=timeout),
            enabled=poll_in_background,
        )
        self.sampling_refresh_interval = interval
        # for health checks (Tracer.stats()): time.time() of the last valid strategy received,
        # and the last failed poll as (time.time(), message), each replaced in one store
        self.last_strategy_at: Optional[float] = None
        self._last_error: Optional[tuple[float, str]] = None
        after_fork_in_child(self._after_fork_in_child)

    def _after_fork_in_child(self) -> None:
        self.lock = threading.Lock()
        self._update_lock = threading.Lock()
        self._last_error = None  # the parent's polls are not this process's

    @property
    def last_error(self) -> Optional[tuple[float, str]]:
        """The last failed poll as ``(time.time(), message)``; not cleared by a good poll
        (compare with :attr:`last_strategy_at`)."""
        return self._last_error

    @property
    def running(self) -> bool:
        """False once closed (upstream attribute)."""
        return not self._poller.is_closed

    def is_sampled(self, trace_id: int, operation: str = "") -> tuple[bool, Tags]:
        if self._poller.needs_start:
            self._poller.start()
        with self.lock:
            sampler = self.sampler
        return sampler.is_sampled(trace_id, operation)

    def on_operation_renamed(self, tracer: Any, span: Any) -> None:
        """Late binding: passed on to a per-operation delegate (others keep their decision)."""
        with self.lock:
            sampler = self.sampler
        hook = getattr(sampler, "on_operation_renamed", None)
        if hook is not None:
            hook(tracer, span)

    def poll_once(self) -> bool:
        """One poll step: fetch, parse, update. Never raises; returns whether the sampler changed.

        The poller thread runs this every interval; tests and callers may run it directly.
        """
        if self._poller.is_closed:
            return False
        try:
            body = self._poller.fetcher.fetch(
                self.sampling_endpoint, [("service", self.service_name)]
            )
            response = decode_json(body)
        except (FetchError, ValueError) as e:
            self.metrics.sampler_query_failure(1)
            message = f"Fail to get sampling strategy from {self.sampling_endpoint}: {e}"
            self._last_error = (time.time(), message)
            self.error_reporter.error(message)
            return False
        self.metrics.sampler_retrieved(1)
        return self._update_sampler(response)

    def _update_sampler(self, response: Any) -> bool:
        """Apply a decoded strategy response; count and report an invalid one. Never raises."""
        try:
            strategy = _parse_strategy(response)
        except ValueError as e:
            self.metrics.sampler_update_failure(1)
            message = f"Fail to update sampler from {self.sampling_endpoint}: {e}"
            self._last_error = (time.time(), message)
            self.error_reporter.error(message)
            return False
        with self._update_lock:
            changed = self._apply(strategy)
        self.last_strategy_at = time.time()
        if changed:
            self.metrics.sampler_updated(1)
            self.logger.debug("Tracing sampler set to %s", self.sampler)
        return changed

    def _apply(self, strategy: _Strategy) -> bool:
        """Install the strategy; caller holds ``_update_lock``. Returns whether anything changed."""
        with self.lock:
            current = self.sampler
        new: Sampler
        if strategy.per_operation is not None:
            if type(current) is AdaptiveSampler and current.max_operations == self.max_operations:
                return current._apply(strategy.per_operation)
            new = AdaptiveSampler(strategy.per_operation, self.max_operations)
        elif strategy.rate_limit is not None:
            if type(current) is RateLimitingSampler:
                return current.update(strategy.rate_limit)
            new = RateLimitingSampler(strategy.rate_limit)
        else:
            rate = strategy.probabilistic
            if rate is None:  # pragma: no cover - _parse_strategy always sets one of the three
                return False
            if type(current) is ProbabilisticSampler and current.rate == rate:
                return False
            new = ProbabilisticSampler(rate)
        with self.lock:
            self.sampler = new
        return True

    def close(self) -> None:
        """Stop polling, promptly even mid-request; idempotent. The delegate keeps deciding."""
        self._poller.close()

    def __str__(self) -> str:
        endpoint = self.sampling_endpoint
        return f"RemoteControlledSampler({self.service_name}, {endpoint}, {self.sampler})"
