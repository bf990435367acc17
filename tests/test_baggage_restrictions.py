"""Baggage restrictions from a loopback ``/baggageRestrictions`` endpoint, through the tracer."""

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

from jaeger_client.baggage import (
    BaggageRestrictionManager,
    DefaultBaggageRestrictionManager,
    RemoteBaggageRestrictionManager,
)
from jaeger_client.local_agent_net import LocalAgentSender
from jaeger_client.reporter import InMemoryReporter
from jaeger_client.sampler import ConstSampler
from jaeger_client.span import Span
from jaeger_client.tracer import Tracer

POLLER = "jaeger-baggage-poller"
PATH = "/baggageRestrictions"


@pytest.fixture
def agent() -> Iterator[AgentHTTP]:
    with agent_http() as server:
        yield server


def make_manager(agent: AgentHTTP, **kwargs: Any) -> RemoteBaggageRestrictionManager:
    kwargs.setdefault("poll_in_background", False)
    kwargs.setdefault("metrics_factory", CountingMetricsFactory())
    kwargs.setdefault("error_reporter", mock.MagicMock())
    return RemoteBaggageRestrictionManager(
        service_name="svc", restrictions_endpoint=agent.url(PATH), **kwargs
    )


def restrictions(**keys: int) -> list[dict[str, Any]]:
    return [{"baggageKey": key, "maxValueLength": length} for key, length in keys.items()]


def make_tracer(manager: Any, factory: CountingMetricsFactory) -> Tracer:
    return Tracer(
        "svc",
        InMemoryReporter(),
        ConstSampler(True),
        metrics_factory=factory,
        baggage_restrictions=manager,
    )


def baggage_logs(span: Span) -> list[dict[str, Any]]:
    logs = [{key: value for key, _, value in fields} for _, fields in span._logs]
    return [log for log in logs if log.get("event") == "baggage"]


def test_before_first_fetch_every_key_is_allowed_up_to_2048_chars(agent: AgentHTTP) -> None:
    factory = CountingMetricsFactory()
    manager = make_manager(agent)
    assert not manager.is_initialized
    assert manager.get_restriction("svc", "anything") == (True, 2048)
    span = make_tracer(manager, factory).start_span("op")
    span.set_baggage_item("short", "v")
    span.set_baggage_item("long", "x" * 3000)
    assert span.get_baggage_item("short") == "v"
    assert span.get_baggage_item("long") == "x" * 2048
    assert baggage_logs(span)[1]["truncated"] == "true"
    assert factory.counts["jaeger:baggage_truncations"] == 1
    assert factory.counts["jaeger:baggage_updates.result_ok"] == 2


def test_deny_until_first_fetch_when_asked(agent: AgentHTTP) -> None:
    factory = CountingMetricsFactory()
    manager = make_manager(agent, deny_baggage_on_initialization_failure=True)
    span = make_tracer(manager, factory).start_span("op")
    span.set_baggage_item("key", "value")
    assert span.get_baggage_item("key") is None
    assert baggage_logs(span)[0]["invalid"] == "true"
    assert factory.counts["jaeger:baggage_updates.result_err"] == 1
    agent.serve_json(PATH, restrictions(key=10))
    assert manager.poll_once()
    span.set_baggage_item("key", "value")
    assert span.get_baggage_item("key") == "value"


def test_fetched_restrictions_truncate_listed_keys_and_reject_others(agent: AgentHTTP) -> None:
    factory = CountingMetricsFactory()
    manager = make_manager(agent, metrics_factory=factory)
    agent.serve_json(PATH, restrictions(user=4, tenant=0))
    assert manager.poll_once() is True
    assert agent.requests_to(PATH)[0].query == {"service": ["svc"]}
    assert manager.is_initialized
    span = make_tracer(manager, factory).start_span("op")
    span.set_baggage_item("user", "alice")
    span.set_baggage_item("tenant", "t1")
    span.set_baggage_item("secret", "s")
    assert span.get_baggage_item("user") == "alic"
    assert span.get_baggage_item("tenant") == ""
    assert span.get_baggage_item("secret") is None
    logs = baggage_logs(span)
    assert [log.get("truncated") for log in logs] == ["true", "true", None]
    assert logs[2]["invalid"] == "true"
    assert factory.counts["jaeger:baggage_restrictions_updates.result_ok"] == 1
    assert factory.counts["jaeger:baggage_truncations"] == 2
    assert factory.counts["jaeger:baggage_updates.result_err"] == 1


def test_new_restrictions_replace_old_ones(agent: AgentHTTP) -> None:
    manager = make_manager(agent)
    agent.serve_json(PATH, restrictions(a=1))
    manager.poll_once()
    agent.serve_json(PATH, restrictions(b=2))
    manager.poll_once()
    assert manager.get_restriction("svc", "a") == (False, 0)
    assert manager.get_restriction("svc", "b") == (True, 2)
    agent.serve_json(PATH, [])
    manager.poll_once()
    assert manager.get_restriction("svc", "b") == (False, 0), "an empty list allows nothing"


GARBAGE: list[tuple[str, Reply]] = [
    ("object", json_reply({"baggageKey": "a", "maxValueLength": 1})),
    ("entry not an object", json_reply(["a"])),
    ("key not a string", json_reply([{"baggageKey": 1, "maxValueLength": 1}])),
    ("negative length", json_reply(restrictions(a=-1))),
    ("float length", json_reply([{"baggageKey": "a", "maxValueLength": 1.5}])),
    ("bool length", json_reply([{"baggageKey": "a", "maxValueLength": True}])),
    ("missing length", json_reply([{"baggageKey": "a"}])),
    ("length over i32", json_reply(restrictions(a=2**31))),
    ("truncated", Reply(body=b'[{"baggageKey": "a", "maxValue')),
    ("HTTP 503", Reply(503, b"[]")),
    ("wrong content type", Reply(body=b"[]", content_type="text/html")),
    ("2 MB body", Reply(body=b'["' + b"y" * (2 << 20) + b'"]')),
]


@pytest.mark.parametrize(("name", "reply"), GARBAGE, ids=[g[0] for g in GARBAGE])
def test_garbage_keeps_restrictions_and_is_counted(
    agent: AgentHTTP, name: str, reply: Reply
) -> None:
    factory = CountingMetricsFactory()
    manager = make_manager(agent, metrics_factory=factory)
    agent.serve_json(PATH, restrictions(a=3))
    manager.poll_once()
    agent.serve(PATH, reply)
    assert manager.poll_once() is False
    assert manager.get_restriction("svc", "a") == (True, 3)
    assert manager.get_restriction("svc", "z") == (False, 0)
    assert factory.counts["jaeger:baggage_restrictions_updates.result_err"] == 1
    assert manager.error_reporter.error.call_count == 1  # type: ignore[attr-defined]


def test_failed_first_fetch_keeps_the_initial_policy(agent: AgentHTTP) -> None:
    agent.serve(PATH, Reply(500, b""))
    allow = make_manager(agent)
    deny = make_manager(agent, deny_baggage_on_initialization_failure=True)
    assert not allow.poll_once() and not deny.poll_once()
    assert allow.get_restriction("svc", "k") == (True, 2048)
    assert deny.get_restriction("svc", "k") == (False, 0)


def test_first_use_starts_poller_which_fetches_at_once(agent: AgentHTTP) -> None:
    agent.serve_json(PATH, restrictions(k=5))
    before = live_threads(POLLER)
    manager = make_manager(agent, poll_in_background=True)
    assert not new_threads(POLLER, before), "no thread before first use"
    try:
        assert manager.get_restriction("svc", "k") == (True, 2048)
        assert wait_until(lambda: manager.is_initialized, timeout=5)
        assert manager.get_restriction("svc", "k") == (True, 5)
    finally:
        manager.close()


def test_tracer_close_stops_a_hanging_poll_promptly(agent: AgentHTTP) -> None:
    agent.serve(PATH, HANG)
    before = live_threads(POLLER)
    manager = make_manager(agent, poll_in_background=True)
    tracer = make_tracer(manager, CountingMetricsFactory())
    tracer.start_span("op").set_baggage_item("k", "v")
    assert agent.hanging.wait(5)
    (poller,) = new_threads(POLLER, before)
    start = time.monotonic()
    tracer.close()
    assert time.monotonic() - start < 1.0
    assert has_ended(poller)
    manager.close()


def test_endpoint_from_channel() -> None:
    channel = LocalAgentSender(host="agent", sampling_port=5000, reporting_port=6831)
    manager = RemoteBaggageRestrictionManager(channel, "svc")
    assert manager.restrictions_endpoint == "http://agent:5000/baggageRestrictions"
    assert manager.refresh_interval == 60
    assert RemoteBaggageRestrictionManager(service_name="svc").restrictions_endpoint == (
        "http://localhost:5778/baggageRestrictions"
    )


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"service_name": ""}, "service_name"),
        ({"refresh_interval": -1}, "refresh_interval"),
        ({"refresh_interval": math.nan}, "refresh_interval"),
        (
            {"deny_baggage_on_initialization_failure": "yes"},
            "deny_baggage_on_initialization_failure",
        ),
        ({"http_timeout": 0}, "http_timeout"),
    ],
)
def test_invalid_constructor_arguments_raise(kwargs: dict[str, Any], match: str) -> None:
    with pytest.raises(ValueError, match=match):
        RemoteBaggageRestrictionManager(**{"service_name": "svc", **kwargs})


def test_default_manager_allows_everything_with_a_cap() -> None:
    assert DefaultBaggageRestrictionManager().get_restriction("svc", "k") == (True, 2048)
    assert DefaultBaggageRestrictionManager(10).get_restriction("svc", "k") == (True, 10)
    with pytest.raises(ValueError, match="max_value_length"):
        DefaultBaggageRestrictionManager(-1)
    with pytest.raises(NotImplementedError):
        BaggageRestrictionManager().get_restriction("svc", "k")
