"""RemoteThrottler: debug-span credits from a loopback ``/credits`` endpoint, one poll at a time."""

from __future__ import annotations

import math
import time
from collections.abc import Iterator
from typing import Any
from unittest import mock

import pytest
from _http_agent import (
    HANG,
    AgentHTTP,
    CountingMetricsFactory,
    Reply,
    agent_http,
    has_ended,
    json_reply,
    live_threads,
    new_threads,
)
from conftest import wait_until
from opentracing.ext import tags as ext_tags

from jaeger_client.local_agent_net import LocalAgentSender
from jaeger_client.reporter import InMemoryReporter
from jaeger_client.sampler import ConstSampler
from jaeger_client.span_context import SpanContext
from jaeger_client.throttler import RemoteThrottler, Throttler
from jaeger_client.tracer import Tracer

POLLER = "jaeger-throttler-poller"


@pytest.fixture
def agent() -> Iterator[AgentHTTP]:
    with agent_http() as server:
        yield server


def make_throttler(agent: AgentHTTP, client_id: Any = 42, **kwargs: Any) -> RemoteThrottler:
    kwargs.setdefault("poll_in_background", False)
    kwargs.setdefault("metrics_factory", CountingMetricsFactory())
    kwargs.setdefault("error_reporter", mock.MagicMock())
    throttler = RemoteThrottler(
        service_name="svc", credits_endpoint=agent.url("/credits"), **kwargs
    )
    if client_id is not None:
        throttler.set_client_id(client_id)
    return throttler


def balances(**ops: float) -> dict[str, Any]:
    return {"balances": [{"operation": op, "balance": value} for op, value in ops.items()]}


@pytest.fixture
def factory() -> CountingMetricsFactory:
    return CountingMetricsFactory()


def test_unknown_operation_is_registered_and_denied(
    agent: AgentHTTP, factory: CountingMetricsFactory
) -> None:
    throttler = make_throttler(agent, metrics_factory=factory)
    assert throttler.is_allowed("op") is False
    assert throttler.credits == {"op": 0.0}
    assert factory.counts["jaeger:throttled_debug_spans"] == 1


def test_poll_requests_credit_for_known_operations_and_adds_balances(
    agent: AgentHTTP, factory: CountingMetricsFactory
) -> None:
    throttler = make_throttler(agent, metrics_factory=factory)
    throttler.is_allowed("a")
    throttler.is_allowed("b")
    agent.serve_json("/credits", balances(a=2, b=0.5))
    assert throttler.poll_once() is True
    (request,) = agent.requests_to("/credits")
    assert request.query == {"service": ["svc"], "uuid": ["42"], "operations": ["a", "b"]}
    assert [throttler.is_allowed("a") for _ in range(3)] == [True, True, False]
    assert throttler.is_allowed("b") is False, "half a credit buys nothing"
    agent.serve_json("/credits", balances(b=0.5))
    assert throttler.poll_once()
    assert throttler.is_allowed("b") is True, "balances are added: 0.5 + 0.5"
    assert factory.counts["jaeger:throttler_updates.result_ok"] == 2
    assert factory.counts["jaeger:throttler_update.result_ok"] == 2, "upstream's name too"
    assert factory.counts["jaeger:throttled_debug_spans"] == 2 + 2


def test_no_request_without_operations_or_client_id(agent: AgentHTTP) -> None:
    agent.serve_json("/credits", balances(a=1))
    throttler = make_throttler(agent, client_id=None)
    assert throttler.poll_once() is False, "no operation known yet"
    throttler.is_allowed("a")
    assert throttler.poll_once() is False, "the tracer has not set the client id yet"
    assert agent.requests == []
    throttler.set_client_id(7)
    throttler.set_client_id(8)  # first one wins, as upstream
    assert throttler.poll_once()
    assert agent.requests[0].query["uuid"] == ["7"]


def test_operation_names_that_are_not_strings_are_keyed_as_strings(agent: AgentHTTP) -> None:
    throttler = make_throttler(agent)
    throttler.is_allowed(None)  # type: ignore[arg-type]  # a span started without a name
    throttler.is_allowed(7)  # type: ignore[arg-type]
    assert set(throttler.credits) == {"", "7"}
    agent.serve_json("/credits", balances(**{"": 1}))
    assert throttler.poll_once()
    assert agent.requests[0].query["operations"] == ["", "7"]
    assert throttler.is_allowed(None) is True  # type: ignore[arg-type]


def test_operations_beyond_max_operations_are_denied_without_registering(agent: AgentHTTP) -> None:
    throttler = make_throttler(agent, max_operations=2)
    for op in ("a", "b", "c"):
        assert not throttler.is_allowed(op)
    assert set(throttler.credits) == {"a", "b"}
    agent.serve_json("/credits", balances(a=1, c=5, d=5))
    throttler.poll_once()
    assert set(throttler.credits) == {"a", "b"}


GARBAGE: list[tuple[str, Reply]] = [
    ("list", json_reply([])),
    ("no balances", json_reply({})),
    ("balances not a list", json_reply({"balances": {"a": 1}})),
    ("entry not an object", json_reply({"balances": [1]})),
    ("operation not a string", json_reply({"balances": [{"operation": 1, "balance": 1}]})),
    ("negative balance", json_reply(balances(a=-1))),
    ("string balance", json_reply({"balances": [{"operation": "a", "balance": "1"}]})),
    ("missing balance", json_reply({"balances": [{"operation": "a"}]})),
    ("NaN balance", Reply(body=b'{"balances": [{"operation": "a", "balance": NaN}]}')),
    ("huge balance", json_reply(balances(a=1e300))),
    ("truncated", Reply(body=b'{"balances": [{"operation"')),
    ("HTTP 500", Reply(500, b"{}")),
    ("wrong content type", Reply(body=b'{"balances": []}', content_type="text/html")),
    ("2 MB body", Reply(body=b'{"x": "' + b"y" * (2 << 20) + b'"}')),
]


@pytest.mark.parametrize(("name", "reply"), GARBAGE, ids=[g[0] for g in GARBAGE])
def test_garbage_keeps_credits_and_is_counted(agent: AgentHTTP, name: str, reply: Reply) -> None:
    factory = CountingMetricsFactory()
    throttler = make_throttler(agent, metrics_factory=factory)
    throttler.is_allowed("a")
    agent.serve_json("/credits", balances(a=1))
    throttler.poll_once()
    agent.serve("/credits", reply)
    assert throttler.poll_once() is False
    assert throttler.credits == {"a": 1.0}
    assert factory.counts["jaeger:throttler_updates.result_err"] == 1
    assert factory.counts["jaeger:throttler_update.result_err"] == 1
    assert throttler.error_reporter.error.call_count == 1  # type: ignore[attr-defined]


def test_tracer_spends_credit_on_debug_id_and_sampling_priority(agent: AgentHTTP) -> None:
    throttler = make_throttler(agent, client_id=None)
    tracer = Tracer("svc", InMemoryReporter(), ConstSampler(False), throttler=throttler)
    assert throttler.client_id == tracer.client_id, "the tracer hands over its client id"

    debug = SpanContext.with_debug_id("corr-1")
    denied = tracer.start_span("op", child_of=debug)
    assert not denied.is_debug(), "no credit yet: registered and denied"
    agent.serve_json("/credits", balances(op=2))
    assert throttler.poll_once()
    assert agent.requests[0].query["uuid"] == [str(tracer.client_id)]

    allowed = tracer.start_span("op", child_of=debug)
    assert allowed.is_debug() and allowed.is_sampled()
    forced = tracer.start_span("op")
    forced.set_tag(ext_tags.SAMPLING_PRIORITY, 1)
    assert forced.is_debug() and forced.is_sampled()
    again = tracer.start_span("op")
    again.set_tag(ext_tags.SAMPLING_PRIORITY, 1)
    assert not again.is_sampled(), "two credits spent"


def test_first_is_allowed_starts_poller_which_fetches_at_once(agent: AgentHTTP) -> None:
    agent.serve_json("/credits", balances(op=1))
    before = live_threads(POLLER)
    throttler = make_throttler(agent, poll_in_background=True)
    assert not new_threads(POLLER, before), "no thread before first use"
    try:
        assert throttler.is_allowed("op") is False
        assert wait_until(lambda: throttler.credits.get("op") == 1.0, timeout=5)
        assert throttler.is_allowed("op") is True
        (poller,) = new_threads(POLLER, before)
    finally:
        throttler.close()
    assert has_ended(poller)


def test_tracer_close_stops_a_hanging_throttler_poll_promptly(agent: AgentHTTP) -> None:
    agent.serve("/credits", HANG)
    before = live_threads(POLLER)
    throttler = make_throttler(agent, poll_in_background=True)
    tracer = Tracer("svc", InMemoryReporter(), ConstSampler(False), throttler=throttler)
    tracer.start_span("op", child_of=SpanContext.with_debug_id("x"))
    assert agent.hanging.wait(5)
    (poller,) = new_threads(POLLER, before)
    start = time.monotonic()
    tracer.close()
    assert time.monotonic() - start < 1.0
    assert not throttler.running
    assert has_ended(poller)
    assert throttler.poll_once() is False


def test_endpoint_from_channel_throttling_port() -> None:
    channel = LocalAgentSender(
        host="agent", sampling_port=5778, reporting_port=6831, throttling_port=5779
    )
    assert RemoteThrottler(channel, "svc").credits_endpoint == "http://agent:5779/credits"
    plain = LocalAgentSender(host="agent", sampling_port=5000, reporting_port=6831)
    assert RemoteThrottler(plain, "svc").credits_endpoint == "http://agent:5000/credits"
    assert RemoteThrottler(service_name="svc").credits_endpoint == "http://localhost:5778/credits"


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"service_name": None}, "service_name"),
        ({"refresh_interval": 0}, "refresh_interval"),
        ({"refresh_interval": math.inf}, "refresh_interval"),
        ({"max_operations": 0}, "max_operations"),
        ({"http_timeout": -1}, "http_timeout"),
    ],
)
def test_invalid_constructor_arguments_raise(kwargs: dict[str, Any], match: str) -> None:
    with pytest.raises(ValueError, match=match):
        RemoteThrottler(**{"service_name": "svc", **kwargs})


def test_base_throttler_contract() -> None:
    throttler = Throttler()
    throttler.set_client_id(1)
    throttler._set_client_id(1)
    with pytest.raises(NotImplementedError):
        throttler.is_allowed("op")
    throttler.close()
