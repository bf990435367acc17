"""Test kit: the dev agent in-process, on free loopback ports, for asserting on what a tracer sends.

::

    from jaeger_client import Config
    from jaeger_client.testing import InProcessAgent

    with InProcessAgent() as agent:
        tracer = Config(config=agent.config(), service_name="checkout").new_tracer()
        with tracer.start_active_span("order"):
            pass
        tracer.close().result(5)
        (span,) = agent.wait_for_spans(1)
        assert span.operation_name == "order"

With pytest, import the fixture into a ``conftest.py`` (``from jaeger_client.testing import
jaeger_agent``) or list the module in ``pytest_plugins``. Importing this module does not import
pytest; only touching ``jaeger_agent`` does.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator, Mapping
from typing import Any, Callable, Optional, TypeVar, Union

from .agent import (
    Agent,
    HTTPRequestRecord,
    MalformedInput,
    ReceivedBatch,
    ReceivedSpan,
    Strategies,
    Trace,
    group_traces,
)

__all__ = ["InProcessAgent", "jaeger_agent"]  # noqa: F822  # jaeger_agent: from __getattr__

_T = TypeVar("_T")
DEFAULT_TIMEOUT = 5.0


class InProcessAgent:
    """A Jaeger dev agent in this process: UDP (compact, binary) and HTTP on free loopback ports.

    It records every batch, span, malformed input and HTTP request, and serves sampling
    strategies, baggage restrictions and debug credits that a test can change at any time.

    Thread model: the constructor binds the ports and starts the agent's threads (see
    :class:`jaeger_client.agent.Agent`); they record under a lock. Every method may be called from
    any thread. ``close()`` (or leaving the ``with`` block) stops it; it is safe to call twice.

    :param strategies: a strategies document (the ``--strategies`` file's schema) or a
        :class:`~jaeger_client.agent.Strategies`; default: sample everything
    :param collector_auth: require this exact ``Authorization`` header on ``POST /api/traces``
    """

    def __init__(
        self,
        *,
        host: str = "127.0.0.1",
        strategies: Union[Strategies, Mapping[str, Any], None] = None,
        collector_auth: Optional[str] = None,
    ) -> None:
        if not isinstance(strategies, Strategies):
            strategies = Strategies(strategies)
        self._cond = threading.Condition()
        self._batches: list[ReceivedBatch] = []
        self._spans: list[ReceivedSpan] = []
        self._malformed: list[MalformedInput] = []
        self._requests: list[HTTPRequestRecord] = []
        self._agent = Agent(
            host,
            0,
            0,
            0,
            strategies=strategies,
            on_batch=[self._record_batch],
            on_malformed=[self._record_malformed],
            on_request=[self._record_request],
            collector_auth=collector_auth,
        )
        self.host = host

    # ---- lifecycle ------------------------------------------------------------------------------

    def close(self) -> None:
        """Stop listening; what was recorded stays readable. Safe to call twice."""
        self._agent.close()

    def __enter__(self) -> InProcessAgent:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    # ---- where it listens -----------------------------------------------------------------------

    @property
    def reporting_port(self) -> int:
        """UDP port for the compact protocol (``local_agent.reporting_port``)."""
        return self._agent.compact_port

    @property
    def binary_port(self) -> int:
        """UDP port for the binary protocol."""
        return self._agent.binary_port

    @property
    def sampling_port(self) -> int:
        """HTTP port serving ``/sampling``, ``/baggageRestrictions``, ``/credits`` and traces."""
        return self._agent.http_port

    @property
    def throttling_port(self) -> int:
        return self._agent.http_port

    @property
    def collector_endpoint(self) -> str:
        """``http://host:port/api/traces``, for an HTTP collector sender."""
        return f"http://{self._url_host}:{self._agent.http_port}/api/traces"

    @property
    def sampling_endpoint(self) -> str:
        """``http://host:port/sampling``."""
        return f"http://{self._url_host}:{self._agent.http_port}/sampling"

    @property
    def _url_host(self) -> str:
        return f"[{self.host}]" if ":" in self.host else self.host

    def config(
        self,
        *,
        sampler: Optional[Mapping[str, Any]] = None,
        flush_interval: float = 0.01,
        transport: str = "udp",
        throttler: bool = False,
        baggage_restrictions: bool = False,
        refresh_interval: float = 60.0,
        extra: Optional[Mapping[str, Any]] = None,
    ) -> dict[str, Any]:
        """A ``Config(config=...)`` dict for a tracer that reports to (and polls) this agent.

        :param sampler: the ``sampler`` key; default ``const`` 1 (sample every trace). Pass
            ``{"type": "remote"}`` to poll this agent's ``/sampling``.
        :param flush_interval: ``reporter_flush_interval`` in seconds
        :param transport: ``"udp"`` (compact protocol, like jaeger-agent) or ``"http"``
            (``collector_endpoint`` = this agent's ``/api/traces``)
        :param throttler: add a ``throttler`` section polling this agent's ``/credits``
        :param baggage_restrictions: add a ``baggage_restrictions`` section polling
            ``/baggageRestrictions``
        :param refresh_interval: poll period for the throttler, baggage restrictions and
            ``sampling_refresh_interval``
        :param extra: more keys, merged last (they win)
        """
        if transport not in ("udp", "http"):
            raise ValueError(f"transport must be 'udp' or 'http', got {transport!r}")
        config: dict[str, Any] = {
            "sampler": dict(sampler) if sampler is not None else {"type": "const", "param": 1},
            "local_agent": {
                "reporting_host": self.host,
                "reporting_port": self.reporting_port,
                "sampling_port": self.sampling_port,
            },
            "reporter_flush_interval": flush_interval,
            "sampling_refresh_interval": refresh_interval,
        }
        if transport == "http":
            config["collector_endpoint"] = self.collector_endpoint
        if throttler:
            config["throttler"] = {
                "port": self.throttling_port,
                "refresh_interval": refresh_interval,
            }
        if baggage_restrictions:
            config["baggage_restrictions"] = {"refresh_interval": refresh_interval}
        config.update(extra or {})
        return config

    # ---- what it received -----------------------------------------------------------------------

    def _record_batch(self, batch: ReceivedBatch) -> None:
        with self._cond:
            self._batches.append(batch)
            self._spans.extend(batch.spans)
            self._cond.notify_all()

    def _record_malformed(self, record: MalformedInput) -> None:
        with self._cond:
            self._malformed.append(record)
            self._cond.notify_all()

    def _record_request(self, record: HTTPRequestRecord) -> None:
        with self._cond:
            self._requests.append(record)
            self._cond.notify_all()

    @property
    def spans(self) -> list[ReceivedSpan]:
        """Every span received so far, in arrival order (a copy)."""
        with self._cond:
            return list(self._spans)

    @property
    def batches(self) -> list[ReceivedBatch]:
        """Every batch (datagram or HTTP body) received so far, with ``seq_no`` and ``stats``."""
        with self._cond:
            return list(self._batches)

    @property
    def traces(self) -> list[Trace]:
        """The spans so far grouped by trace id, traces in order of first arrival."""
        return group_traces(self.spans)

    @property
    def malformed(self) -> list[MalformedInput]:
        """Datagrams and bodies that could not be decoded, with the reason."""
        with self._cond:
            return list(self._malformed)

    @property
    def requests(self) -> list[HTTPRequestRecord]:
        """HTTP requests answered so far (sampling, credits, ... and ``POST /api/traces``)."""
        with self._cond:
            return list(self._requests)

    def clear(self) -> None:
        """Forget everything recorded so far."""
        with self._cond:
            self._batches.clear()
            self._spans.clear()
            self._malformed.clear()
            self._requests.clear()

    def _wait(
        self, ready: Callable[[], Optional[_T]], timeout: float, describe: Callable[[], str]
    ) -> _T:
        deadline = time.monotonic() + timeout
        with self._cond:
            while True:
                result = ready()
                if result is not None:
                    return result
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    raise TimeoutError(describe())
                self._cond.wait(remaining)

    def wait_for_spans(self, count: int, timeout: float = DEFAULT_TIMEOUT) -> list[ReceivedSpan]:
        """Block until at least ``count`` spans have arrived; return all of them.

        :raises TimeoutError: after ``timeout`` seconds, naming what did arrive
        """

        def describe() -> str:
            names = [s.operation_name for s in self._spans]
            return (
                f"expected {count} spans within {timeout} s, got {len(names)}: {names}; "
                f"{len(self._malformed)} malformed inputs"
                + (f" (first: {self._malformed[0].error})" if self._malformed else "")
            )

        return self._wait(
            lambda: list(self._spans) if len(self._spans) >= count else None, timeout, describe
        )

    def wait_for_trace(self, span_count: int, timeout: float = DEFAULT_TIMEOUT) -> Trace:
        """Block until some trace has at least ``span_count`` spans; return it."""

        def ready() -> Optional[Trace]:
            for trace in group_traces(self._spans):
                if len(trace.spans) >= span_count:
                    return trace
            return None

        def describe() -> str:
            sizes = [len(t.spans) for t in group_traces(self._spans)]
            return (
                f"expected a trace of {span_count} spans within {timeout} s; trace sizes: {sizes}"
            )

        return self._wait(ready, timeout, describe)

    def wait_for_requests(
        self, path: str, count: int = 1, timeout: float = DEFAULT_TIMEOUT
    ) -> list[HTTPRequestRecord]:
        """Block until ``count`` HTTP requests for ``path`` (e.g. ``"/sampling"``) were answered."""

        def ready() -> Optional[list[HTTPRequestRecord]]:
            matching = [r for r in self._requests if r.path == path]
            return matching if len(matching) >= count else None

        def describe() -> str:
            return (
                f"expected {count} requests for {path!r} within {timeout} s; "
                f"got {[r.path for r in self._requests]}"
            )

        return self._wait(ready, timeout, describe)

    # ---- what it answers ------------------------------------------------------------------------

    @property
    def strategies(self) -> Strategies:
        return self._agent.strategies

    def set_strategy(
        self, strategy: Optional[Mapping[str, Any]], *, service: Optional[str] = None
    ) -> None:
        """Serve ``strategy`` on ``/sampling`` for ``service`` (None = every other service).

        ``strategy`` uses the strategies file's schema: ``{"type": "probabilistic" |
        "ratelimiting", "param": number, "operation_strategies": [...]}``; None removes it.
        """
        self._agent.strategies.set_sampling(strategy, service)

    def set_baggage_restrictions(
        self, restrictions: Optional[Mapping[str, int]], *, service: Optional[str] = None
    ) -> None:
        """Serve ``{baggage key: max value length}`` on ``/baggageRestrictions``."""
        self._agent.strategies.set_baggage_restrictions(restrictions, service)

    def set_credits(
        self, credits: Optional[Mapping[str, Any]], *, service: Optional[str] = None
    ) -> None:
        """Serve ``{"balance": n, "operation_balances": {op: n}}`` on ``/credits`` (per poll)."""
        self._agent.strategies.set_credits(credits, service)

    def set_response(self, path: str, body: Union[bytes, str, Any], status: int = 200) -> None:
        """Answer every ``GET path`` with ``status`` and ``body`` (bytes/str as is, else JSON).

        For fault injection: ``agent.set_response("/sampling", "oops", status=500)``.
        """
        self._agent.set_response(path, body, status)

    def clear_responses(self) -> None:
        self._agent.clear_responses()


def _jaeger_agent() -> Iterator[InProcessAgent]:
    """An :class:`InProcessAgent` on free loopback ports, closed after the test."""
    with InProcessAgent() as agent:
        yield agent


_fixture: Any = None


def __getattr__(name: str) -> Any:
    # PEP 562: build the pytest fixture on first use, so importing this module needs no pytest
    global _fixture
    if name != "jaeger_agent":
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    if _fixture is None:
        try:
            import pytest
        except ImportError as e:
            raise ImportError(
                "jaeger_client.testing.jaeger_agent is a pytest fixture; install pytest"
            ) from e
        _fixture = pytest.fixture(name="jaeger_agent")(_jaeger_agent)
    return _fixture


def __dir__() -> list[str]:
    # lets pytest find the fixture when this module is listed in pytest_plugins
    return sorted([*globals(), "jaeger_agent"])
