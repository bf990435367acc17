"""Baggage restrictions: which baggage keys a service may set, and how long their values may be.

New in this client (upstream Python had none); the semantics are jaeger-client-go's
``internal/baggage``: the tracer asks ``get_restriction(service, key) -> (allowed, max_length)``
on every ``set_baggage_item``, then truncates or rejects and logs ``truncated``/``invalid``.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any, Optional

from . import constants
from .local_agent_net import (
    FetchError,
    HTTPFetcher,
    Poller,
    channel_url,
    check_seconds,
    decode_json,
)
from .metrics import MetricsFactory
from .utils import ErrorReporter

__all__ = [
    "BaggageRestrictionManager",
    "DefaultBaggageRestrictionManager",
    "RemoteBaggageRestrictionManager",
]

default_logger = logging.getLogger(constants.LOGGER_NAME)
DEFAULT_MAX_VALUE_LENGTH = constants.DEFAULT_BAGGAGE_MAX_VALUE_LENGTH

_DENIED = (False, 0)


class BaggageRestrictionManager:
    """The interface the tracer calls on every ``set_baggage_item``."""

    def get_restriction(self, service_name: str, key: str) -> tuple[bool, int]:
        """``(allowed, max_value_length)`` for ``key`` set by ``service_name``."""
        raise NotImplementedError()

    def close(self) -> None:
        pass


class DefaultBaggageRestrictionManager(BaggageRestrictionManager):
    """Allows every key, with values cut to ``max_value_length`` characters (default 2048)."""

    def __init__(self, max_value_length: int = DEFAULT_MAX_VALUE_LENGTH) -> None:
        _check_length("max_value_length", max_value_length)
        self._restriction = (True, max_value_length)

    def get_restriction(self, service_name: str, key: str) -> tuple[bool, int]:
        return self._restriction


def _check_length(name: str, value: Any) -> int:
    limit = constants.MAX_BAGGAGE_VALUE_LENGTH_LIMIT
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= limit:
        raise ValueError(f"{name} must be an integer within [0, {limit}], got {value!r:.100}")
    return value


def _parse_restrictions(response: Any) -> dict[str, int]:
    """Validate ``[{"baggageKey": str, "maxValueLength": int}]``; raise ``ValueError``."""
    if not isinstance(response, list):
        raise ValueError(f"baggage restrictions must be a JSON list, got {response!r:.100}")
    restrictions: dict[str, int] = {}
    for i, entry in enumerate(response):
        where = f"[{i}]"
        if not isinstance(entry, Mapping):
            raise ValueError(f"{where} must be an object, got {entry!r:.100}")
        key = entry.get(constants.BAGGAGE_KEY_KEY)
        if not isinstance(key, str):
            raise ValueError(f"{where}.baggageKey must be a string, got {key!r:.100}")
        length = entry.get(constants.BAGGAGE_MAX_VALUE_LENGTH_KEY)
        restrictions[key] = _check_length(f"{where}.maxValueLength", length)
    return restrictions


class BaggageRestrictionsMetrics:
    """``jaeger:baggage_restrictions_updates{result=ok|err}`` (Go's name, ``jaeger`` prefix)."""

    def __init__(self, metrics_factory: MetricsFactory) -> None:
        c = metrics_factory.create_counter
        self.restrictions_update_success = c(
            "jaeger:baggage_restrictions_updates", {"result": "ok"}
        )
        self.restrictions_update_failure = c(
            "jaeger:baggage_restrictions_updates", {"result": "err"}
        )


class RemoteBaggageRestrictionManager(BaggageRestrictionManager):
    """Restrictions fetched from ``/baggageRestrictions?service=NAME`` by a poller thread.

    Until the first successful fetch every key is allowed with values up to 2048 characters, or
    every key is denied with ``deny_baggage_on_initialization_failure``. Afterwards a listed key is
    allowed with its ``maxValueLength`` and any other key is denied. A failed or invalid fetch
    keeps the current restrictions and counts ``jaeger:baggage_restrictions_updates{result=err}``.

    Thread model: ``get_restriction`` runs on application threads; it reads one reference (the
    restrictions dict, replaced whole and never mutated), so it takes no lock. Its first call
    starts the poller thread ``jaeger-baggage-poller``, which runs :meth:`poll_once` at once and
    then every ``refresh_interval`` seconds (with jitter). ``close()`` (``tracer.close()``) stops
    it, even mid-request. A forked child starts its own poller on first use.

    :param channel: a ``LocalAgentSender``: its host and sampling port give the endpoint;
        optional when ``restrictions_endpoint`` is given
    :param service_name: the ``service`` query parameter
    :param refresh_interval: seconds between polls (default 60)
    :param deny_baggage_on_initialization_failure: deny every key until the first fetch succeeds
    :param restrictions_endpoint: full URL of ``/baggageRestrictions``; overrides ``channel``
    :param http_timeout: seconds a poll may take in all
    :param poll_in_background: False runs no thread; call :meth:`poll_once` yourself
    """

    def __init__(
        self,
        channel: Any = None,
        service_name: Optional[str] = None,
        *,
        refresh_interval: float = constants.DEFAULT_BAGGAGE_RESTRICTIONS_REFRESH_INTERVAL,
        deny_baggage_on_initialization_failure: bool = False,
        logger: Optional[logging.Logger] = None,
        metrics_factory: Optional[MetricsFactory] = None,
        error_reporter: Optional[ErrorReporter] = None,
        restrictions_endpoint: Optional[str] = None,
        http_timeout: float = constants.DEFAULT_HTTP_TIMEOUT,
        poll_in_background: bool = True,
    ) -> None:
        if not isinstance(service_name, str) or not service_name:
            raise ValueError(f"service_name must be a non-empty string, got {service_name!r}")
        interval = check_seconds("refresh_interval", refresh_interval)
        timeout = check_seconds("http_timeout", http_timeout)
        if not isinstance(deny_baggage_on_initialization_failure, bool):
            raise ValueError(
                "deny_baggage_on_initialization_failure must be a bool, got "
                f"{deny_baggage_on_initialization_failure!r}"
            )
        if restrictions_endpoint is None:
            restrictions_endpoint = channel_url(
                channel,
                "sampling_port",
                constants.DEFAULT_SAMPLING_PORT,
                constants.BAGGAGE_RESTRICTIONS_PATH,
            )
        self.service_name = service_name
        self.restrictions_endpoint = restrictions_endpoint
        self.deny_baggage_on_initialization_failure = deny_baggage_on_initialization_failure
        self.logger = logger or default_logger
        self.metrics = BaggageRestrictionsMetrics(metrics_factory or MetricsFactory())
        self.error_reporter = error_reporter or ErrorReporter(None, logger=self.logger)
        self._restrictions: Optional[dict[str, int]] = None
        self._poller = Poller(
            "jaeger-baggage-poller",
            self.poll_once,
            interval,
            HTTPFetcher(timeout=timeout),
            enabled=poll_in_background,
        )
        self.refresh_interval = interval

    @property
    def is_initialized(self) -> bool:
        """Whether restrictions have been fetched successfully at least once."""
        return self._restrictions is not None

    def get_restriction(self, service_name: str, key: str) -> tuple[bool, int]:
        restrictions = self._restrictions
        if self._poller.needs_start:
            self._poller.start()
        if restrictions is None:
            if self.deny_baggage_on_initialization_failure:
                return _DENIED
            return True, DEFAULT_MAX_VALUE_LENGTH
        max_length = restrictions.get(key)
        if max_length is None:
            return _DENIED
        return True, max_length

    def poll_once(self) -> bool:
        """One poll step: fetch, validate and install the restrictions. Never raises."""
        if self._poller.is_closed:
            return False
        try:
            body = self._poller.fetcher.fetch(
                self.restrictions_endpoint, [("service", self.service_name)]
            )
            restrictions = _parse_restrictions(decode_json(body))
        except (FetchError, ValueError) as e:
            self.metrics.restrictions_update_failure(1)
            self.error_reporter.error(
                f"Failed to get baggage restrictions from {self.restrictions_endpoint}: {e}"
            )
            return False
        self._restrictions = restrictions
        self.metrics.restrictions_update_success(1)
        return True

    def close(self) -> None:
        """Stop polling, promptly even mid-request; idempotent."""
        self._poller.close()
