"""``jaeger_client.otel``: Jaeger remote sampling in the OpenTelemetry SDK, against a real HTTP
sampling endpoint on 127.0.0.1, through the SDK's own TracerProvider and its environment
configuration (``OTEL_TRACES_SAMPLER`` entry points)."""

from __future__ import annotations

import gc
import logging
import os
from collections.abc import Iterator
from importlib.metadata import entry_points
from typing import Any, Callable

import pytest
from _http_agent import AgentHTTP, agent_http, live_threads
from conftest import run_in_child, wait_until
from opentelemetry.sdk import _configuration as otel_configuration
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.sdk.trace.sampling import ParentBased

from jaeger_client import _settings
from jaeger_client.otel import (
    JaegerRemoteSampler,
    jaeger_remote_sampler,
    parentbased_jaeger_remote_sampler,
)


@pytest.fixture(autouse=True)
def no_otel_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    """The SDK reads OTEL_* variables (OTEL_SDK_DISABLED, span limits): none from the machine."""
    for name in list(os.environ):
        if name.startswith("OTEL_"):
            monkeypatch.delenv(name)
    monkeypatch.setattr(_settings, "_logged", set())  # log_once memory, per test


@pytest.fixture
def agent() -> Iterator[AgentHTTP]:
    with agent_http() as server:
        yield server


@pytest.fixture
def samplers() -> Iterator[list[Any]]:
    """Samplers made by a test, closed after it (their poller threads must not outlive it)."""
    made: list[Any] = []
    yield made
    for sampler in made:
        root = getattr(sampler, "_root", sampler)
        root.close()


def traced(sampler: Any) -> tuple[Any, InMemorySpanExporter]:
    exporter = InMemorySpanExporter()
    provider = TracerProvider(sampler=sampler)
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    return provider.get_tracer("test"), exporter


def wait_for(condition: Callable[[], Any], what: str) -> None:
    assert wait_until(condition, timeout=10.0), f"not within 10 s: {what}"


def probabilistic(rate: float) -> dict[str, Any]:
    return {"strategyType": "PROBABILISTIC", "probabilisticSampling": {"samplingRate": rate}}


def test_the_served_strategy_decides_root_spans_and_tags_them(
    agent: AgentHTTP, samplers: list[Any]
) -> None:
    agent.serve_json("/sampling", {"error": "not yet"}, status=503)  # the first poll fails
    sampler = JaegerRemoteSampler(
        "checkout", endpoint=agent.url("/sampling"), initial_sampling_rate=0.0
    )
    samplers.append(sampler)
    tracer, exporter = traced(ParentBased(sampler))
    with tracer.start_as_current_span("before"):  # the initial rate 0: dropped; starts polling
        pass
    assert exporter.get_finished_spans() == ()
    wait_for(lambda: agent.requests_to("/sampling"), "a poll")
    assert agent.requests_to("/sampling")[0].query == {"service": ["checkout"]}
    agent.serve_json("/sampling", probabilistic(1.0))
    assert sampler.remote.poll_once() is True  # the next poll, without waiting a minute
    with tracer.start_as_current_span("after"), tracer.start_as_current_span("child"):
        pass
    spans = {s.name: s for s in exporter.get_finished_spans()}
    assert set(spans) == {"after", "child"}
    assert dict(spans["after"].attributes) == {
        "sampler.type": "probabilistic",
        "sampler.param": 1.0,
    }
    assert dict(spans["child"].attributes) == {}  # the parent decided (ParentBased)


def test_a_per_operation_strategy_decides_by_span_name(
    agent: AgentHTTP, samplers: list[Any]
) -> None:
    agent.serve_json(
        "/sampling",
        {
            "strategyType": "PROBABILISTIC",
            "operationSampling": {
                "defaultSamplingProbability": 0.0,
                "defaultLowerBoundTracesPerSecond": 0.0,
                "perOperationStrategies": [
                    {"operation": "GET /hot", "probabilisticSampling": {"samplingRate": 1.0}}
                ],
            },
        },
    )
    sampler = JaegerRemoteSampler("svc", endpoint=agent.url("/sampling"), initial_sampling_rate=0)
    samplers.append(sampler)
    assert sampler.remote.poll_once() is True
    tracer, exporter = traced(sampler)
    for _ in range(20):
        tracer.start_span("GET /hot").end()
        tracer.start_span("GET /cold").end()
    names = [s.name for s in exporter.get_finished_spans()]
    assert names == ["GET /hot"] * 20
    attributes = dict(exporter.get_finished_spans()[0].attributes)
    assert attributes == {"sampler.type": "probabilistic", "sampler.param": 1.0}


def test_decisions_read_the_low_64_bits_of_a_128_bit_trace_id(samplers: list[Any]) -> None:
    sampler = JaegerRemoteSampler("svc", endpoint="http://127.0.0.1:9/", initial_sampling_rate=0.5)
    samplers.append(sampler)
    sampler.remote.close()  # decide with the initial rate only; no poll
    low_in = (0xABC << 64) | 1  # low half near 0: under a 0.5 boundary
    low_out = (0xABC << 64) | (1 << 63)  # only bit 63 set: a 63-bit mask would read 0 (in)
    assert sampler.should_sample(None, low_in, "op").decision.is_sampled()
    assert not sampler.should_sample(None, low_out, "op").decision.is_sampled()
    assert sampler.get_description() == "JaegerRemoteSampler{svc, http://127.0.0.1:9/}"


def test_entry_points_are_declared_for_the_sdk() -> None:
    declared = entry_points()
    group = "opentelemetry_traces_sampler"
    # Python 3.9's entry_points() is a dict of groups
    eps = (
        declared.select(group=group) if hasattr(declared, "select") else declared.get(group, [])  # type: ignore[attr-defined]
    )
    found = {ep.name: ep.value for ep in eps}
    assert found["jaeger_remote"] == "jaeger_client.otel:jaeger_remote_sampler"
    assert (
        found["parentbased_jaeger_remote"] == "jaeger_client.otel:parentbased_jaeger_remote_sampler"
    )


def test_the_sdk_builds_it_from_otel_traces_sampler(
    agent: AgentHTTP, samplers: list[Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    agent.serve_json("/sampling", probabilistic(1.0))
    monkeypatch.setenv("OTEL_SERVICE_NAME", "from-env")
    arg = f"endpoint={agent.url('/sampling')},pollingIntervalMs=250,initialSamplingRate=0"
    monkeypatch.setenv("OTEL_TRACES_SAMPLER_ARG", arg)
    sampler = otel_configuration._import_sampler("parentbased_jaeger_remote")
    assert isinstance(sampler, ParentBased)
    samplers.append(sampler)
    root = sampler._root
    assert isinstance(root, JaegerRemoteSampler)
    assert root.remote.service_name == "from-env"
    assert root.remote.sampling_endpoint == agent.url("/sampling")
    assert root.remote.sampling_refresh_interval == 0.25
    assert root.remote.sampler.rate == 0.0


def test_the_service_name_falls_back_to_resource_attributes(
    samplers: list[Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("OTEL_SERVICE_NAME", raising=False)
    monkeypatch.setenv("OTEL_RESOURCE_ATTRIBUTES", "service.name=from-resource,team=a")
    sampler = jaeger_remote_sampler(None)
    samplers.append(sampler)
    assert sampler.remote.service_name == "from-resource"
    assert sampler.remote.sampling_endpoint == "http://localhost:5778/sampling"
    parent_based = parentbased_jaeger_remote_sampler("")
    samplers.append(parent_based)
    assert isinstance(parent_based._root, JaegerRemoteSampler)


def test_a_sampled_span_keeps_the_attributes_it_started_with(samplers: list[Any]) -> None:
    sampler = JaegerRemoteSampler("svc", endpoint="http://127.0.0.1:9/", initial_sampling_rate=1)
    samplers.append(sampler)
    sampler.remote.close()
    tracer, exporter = traced(ParentBased(sampler))
    with tracer.start_as_current_span("root", attributes={"http.method": "GET", "user": "u1"}):
        pass
    assert dict(exporter.get_finished_spans()[0].attributes) == {
        "http.method": "GET",
        "user": "u1",
        "sampler.type": "probabilistic",
        "sampler.param": 1.0,
    }


def test_an_unreferenced_sampler_stops_its_poller(agent: AgentHTTP) -> None:
    agent.serve_json("/sampling", probabilistic(1.0))
    sampler = JaegerRemoteSampler("svc", endpoint=agent.url("/sampling"))
    sampler.should_sample(None, 1, "op")
    wait_for(lambda: live_threads("jaeger-sampler-poller"), "the poller started")
    del sampler
    gc.collect()
    wait_for(lambda: not live_threads("jaeger-sampler-poller"), "the poller ended")


def test_the_grpc_port_is_refused_by_the_constructor_too() -> None:
    with pytest.raises(ValueError, match=r"14250.*gRPC"):
        JaegerRemoteSampler("svc", endpoint="http://collector:14250")


@pytest.mark.parametrize(
    ("arg", "named"),
    [
        ("endpoint=http://localhost:14250", "14250"),
        ("pollingIntervalMs=soon", "pollingIntervalMs"),
        ("initialSamplingRate=2", "initialSamplingRate"),
        ("endpint=http://x:5778/sampling", "endpint"),
        ("endpoint=ftp://x/sampling", "endpoint"),
    ],
)
def test_a_bad_sampler_arg_is_logged_and_ignored_not_always_on(
    arg: str, named: str, samplers: list[Any], caplog: pytest.LogCaptureFixture
) -> None:
    """Raising here would make the SDK fall back to always-on sampling (its default); the
    specification says an invalid ARG is logged and ignored."""
    with caplog.at_level(logging.WARNING, logger="jaeger_tracing"):
        sampler = parentbased_jaeger_remote_sampler(arg)
    samplers.append(sampler)
    root = sampler._root
    assert isinstance(root, JaegerRemoteSampler)
    assert root.remote.sampling_endpoint == "http://localhost:5778/sampling"
    assert root.remote.sampler.rate == 0.001  # the default initial rate, not 1.0
    assert "OTEL_TRACES_SAMPLER_ARG" in caplog.text and named in caplog.text


def test_the_sdk_env_path_with_a_bad_arg_keeps_jaeger_sampling(
    samplers: list[Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("OTEL_TRACES_SAMPLER_ARG", "endpoint=http://jaeger-collector:14250")
    sampler = otel_configuration._import_sampler("parentbased_jaeger_remote")
    samplers.append(sampler)
    assert isinstance(sampler, ParentBased) and isinstance(sampler._root, JaegerRemoteSampler)


def test_a_forked_child_polls_for_itself(agent: AgentHTTP, samplers: list[Any]) -> None:
    """The child's first decision starts its own poller (the parent's thread is not there)."""
    agent.serve_json("/sampling", probabilistic(1.0))
    sampler = JaegerRemoteSampler("svc", endpoint=agent.url("/sampling"), initial_sampling_rate=0)
    samplers.append(sampler)
    sampler.should_sample(None, 1, "op")
    wait_for(lambda: sampler.remote.sampler.rate == 1.0, "the parent's poll")
    polls = len(agent.requests_to("/sampling"))

    def child() -> bool:
        sampler.remote.last_strategy_at = None
        sampler.should_sample(None, 1, "op")
        ok = bool(wait_until(lambda: sampler.remote.last_strategy_at is not None, timeout=10))
        sampler.close()
        return ok

    assert run_in_child(child) is True
    assert len(agent.requests_to("/sampling")) > polls  # the server saw the child's request
