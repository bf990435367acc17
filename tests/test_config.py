"""Config from a dict: upstream's keys and defaults, validation at construction, tracer wiring."""

from __future__ import annotations

import base64
import copy
import http.server
import logging
import queue
import socket
import subprocess
import sys
import textwrap
import threading
from collections.abc import Iterator
from typing import Any

import opentracing
import pytest
from conftest import receive_batches
from opentracing import Format
from opentracing.scope_managers import ThreadLocalScopeManager

from jaeger_client import (
    Config,
    ConstSampler,
    ProbabilisticSampler,
    RateLimitingSampler,
    RemoteControlledSampler,
    Tracer,
    codecs,
)
from jaeger_client.metrics import LegacyMetricsFactory, Metrics, MetricsFactory, NoopMetricsFactory
from jaeger_client.reporter import CompositeReporter, InMemoryReporter, LoggingReporter, Reporter
from jaeger_client.tracer import NoopTracer


def make(config: dict[str, Any] | None = None, **kwargs: Any) -> Config:
    """A Config that ignores the process environment."""
    kwargs.setdefault("service_name", "svc")
    return Config({} if config is None else config, environ={}, **kwargs)


@pytest.fixture
def fresh_global_tracer() -> Iterator[None]:
    """Let initialize_tracer run again, and put the global tracer back afterwards."""
    saved = opentracing.tracer
    was_initialized = Config._initialized
    Config._initialized = False
    try:
        yield
    finally:
        Config._initialized = was_initialized
        opentracing.set_global_tracer(saved)


# ---- service name and upstream's properties ------------------------------------------------


def test_service_name_from_config_wins_over_argument() -> None:
    assert make({"service_name": "from-config"}, service_name="arg").service_name == "from-config"
    assert make(service_name="arg").service_name == "arg"


def test_missing_service_name_raises() -> None:
    with pytest.raises(ValueError, match="service_name required"):
        Config({}, environ={})


def test_config_that_is_not_a_dict_raises_type_error() -> None:
    with pytest.raises(TypeError, match="config must be a dict"):
        Config(["sampler"], service_name="svc", environ={})  # type: ignore[arg-type]


UPSTREAM_PROPERTIES = [
    "service_name",
    "metrics",
    "error_reporter",
    "enabled",
    "reporter_batch_size",
    "reporter_queue_size",
    "logging",
    "trace_id_header",
    "generate_128bit_trace_id",
    "baggage_header_prefix",
    "debug_id_header",
    "max_tag_value_length",
    "max_traceback_length",
    "sampler",
    "sampling_refresh_interval",
    "reporter_flush_interval",
    "local_agent_enabled",
    "local_agent_sampling_port",
    "local_agent_reporting_port",
    "local_agent_reporting_host",
    "max_operations",
    "tags",
    "propagation",
    "throttler_port",
    "throttler_refresh_interval",
]


def test_every_upstream_property_and_method_exists() -> None:
    config = make()
    for name in UPSTREAM_PROPERTIES:
        getattr(config, name)
    for name in (
        "local_agent_group",
        "throttler_group",
        "initialized",
        "initialize_tracer",
        "new_tracer",
        "create_tracer",
    ):
        assert callable(getattr(config, name)), name
    assert isinstance(Config._initialized_lock, type(Config._initialized_lock))


def test_defaults() -> None:
    config = make()
    assert config.enabled is True
    assert config.logging is False
    assert config.metrics is None
    assert config.sampler is None  # the remote sampler, built by new_tracer
    assert config.sampling_refresh_interval == 60
    assert config.max_operations == 2000
    assert config.local_agent_reporting_host == "localhost"
    assert config.local_agent_reporting_port == 6831
    assert config.local_agent_sampling_port == 5778
    assert config.local_agent_enabled is True
    assert config.reporter_queue_size == 10000
    assert config.reporter_batch_size == 100
    assert config.reporter_flush_interval == 1
    assert config.max_packet_size == 65000
    assert config.exit_flush_timeout == 2.0
    assert config.trace_id_header == "uber-trace-id"
    assert config.baggage_header_prefix == "uberctx-"
    assert config.debug_id_header == "jaeger-debug-id"
    assert config.generate_128bit_trace_id is False
    assert config.max_tag_value_length == 1024
    assert config.max_traceback_length == 4096
    assert config.tags == {}
    assert config.propagation == {}
    assert config.throttler_group() is None
    assert config.throttler_port is None
    assert config.throttler_refresh_interval is None
    assert config.sampling_endpoint is None
    assert config.collector_endpoint is None
    assert config.collector_timeout == 10.0
    assert config.baggage_restrictions_group() is None
    assert config.local_agent_group() is None


def test_upstream_config_values_are_read() -> None:
    config = make(
        {
            "logging": "true",
            "reporter_batch_size": "20",
            "reporter_queue_size": 200,
            "reporter_flush_interval": 0.5,
            "sampling_refresh_interval": 30,
            "max_operations": 50,
            "local_agent": {
                "reporting_host": "agent.local",
                "reporting_port": "6832",
                "sampling_port": 5779,
                "enabled": False,
            },
            "trace_id_header": "x-trace",
            "baggage_header_prefix": "x-baggage-",
            "debug_id_header": "x-debug",
            "generate_128bit_trace_id": 1,
            "max_tag_value_length": 256,
            "max_traceback_length": 512,
            "throttler": {"port": 5780, "refresh_interval": 10},
        }
    )
    assert config.logging is True
    assert (config.reporter_batch_size, config.reporter_queue_size) == (20, 200)
    assert config.reporter_flush_interval == 0.5
    assert config.sampling_refresh_interval == 30
    assert config.max_operations == 50
    assert config.local_agent_reporting_host == "agent.local"
    assert config.local_agent_reporting_port == 6832
    assert config.local_agent_sampling_port == 5779
    assert config.local_agent_enabled is False
    assert config.trace_id_header == "x-trace"
    assert config.baggage_header_prefix == "x-baggage-"
    assert config.debug_id_header == "x-debug"
    assert config.generate_128bit_trace_id is True
    assert (config.max_tag_value_length, config.max_traceback_length) == (256, 512)
    assert config.throttler_group() == {"port": 5780, "refresh_interval": 10}
    assert (config.throttler_port, config.throttler_refresh_interval) == (5780, 10)


def test_empty_throttler_dict_enables_it_with_defaults() -> None:
    config = make({"throttler": {}})
    assert config.throttler_group() == {}
    assert (config.throttler_port, config.throttler_refresh_interval) == (5778, 5)


def test_durations_are_accepted_as_strings() -> None:
    config = make({"reporter_flush_interval": "250ms", "sampling_refresh_interval": "1m30s"})
    assert config.reporter_flush_interval == 0.25
    assert config.sampling_refresh_interval == 90


def test_small_queue_without_batch_size_gets_a_batch_that_fits() -> None:
    """Upstream allowed reporter_queue_size 50 with its default batch; so do we."""
    assert make({"reporter_queue_size": 50}).reporter_batch_size == 50


def test_none_counts_as_absent() -> None:
    config = make({"reporter_queue_size": None, "sampler": None, "tags": None, "metrics": None})
    assert config.reporter_queue_size == 10000
    assert config.sampler is None
    assert config.sources["reporter_queue_size"] == "default"


@pytest.mark.parametrize("value", [True, "true", "True", "TRUE", "1", 1])
def test_booleans_follow_upstreams_helper_for_true(value: Any) -> None:
    assert make({"logging": value}).logging is True


@pytest.mark.parametrize("value", [False, "false", "0", 0, "none", "None"])
def test_booleans_follow_upstreams_helper_for_false(value: Any) -> None:
    assert make({"generate_128bit_trace_id": value}).generate_128bit_trace_id is False


# ---- samplers ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("param", "decision"),
    [(True, True), (1, True), ("1", True), ("true", True), (1.0, True), (None, False),
     (0, False), ("false", False), (0.0, False)],
)  # fmt: skip
def test_const_sampler_param(param: Any, decision: bool) -> None:
    sampler = make({"sampler": {"type": "const", "param": param}}).sampler
    assert isinstance(sampler, ConstSampler)
    assert sampler.decision is decision


def test_probabilistic_sampler() -> None:
    sampler = make({"sampler": {"type": "probabilistic", "param": "0.25"}}).sampler
    assert isinstance(sampler, ProbabilisticSampler)
    assert sampler.rate == 0.25


@pytest.mark.parametrize("kind", ["ratelimiting", "rate_limiting", "RateLimiting"])
def test_rate_limiting_sampler_under_each_name(kind: str) -> None:
    sampler = make({"sampler": {"type": kind, "param": 5}}).sampler
    assert isinstance(sampler, RateLimitingSampler)
    assert sampler.traces_per_second == 5


def test_sampler_property_builds_a_new_sampler_each_time() -> None:
    config = make({"sampler": {"type": "const", "param": 1}})
    assert config.sampler is not config.sampler


def test_sampler_instance_is_used_as_is() -> None:
    sampler = ConstSampler(True)
    assert make({"sampler": sampler}).sampler is sampler


@pytest.mark.parametrize("sampler", [{"type": "remote"}, {"type": "remote", "param": 0.2}, {}])
def test_remote_sampler_type_is_accepted(sampler: dict[str, Any]) -> None:
    """Upstream raised 'Unknown sampler type remote'; remote means the remote sampler."""
    assert make({"sampler": sampler}).sampler is None


# ---- invalid values raise at construction, naming key, value and what is allowed -------------

INVALID = [
    ({"local_agent": {"reporting_port": 0}}, "local_agent.reporting_port", "0"),
    ({"local_agent": {"reporting_port": 70000}}, "local_agent.reporting_port", "70000"),
    ({"local_agent": {"reporting_port": "abc"}}, "local_agent.reporting_port", "'abc'"),
    ({"local_agent": {"reporting_port": True}}, "local_agent.reporting_port", "True"),
    ({"local_agent": {"sampling_port": 1.5}}, "local_agent.sampling_port", "1.5"),
    ({"local_agent": {"reporting_host": ""}}, "local_agent.reporting_host", "''"),
    ({"local_agent": "localhost:6831"}, "local_agent", "'localhost:6831'"),
    ({"reporter_batch_size": 0}, "reporter_batch_size", "0"),
    ({"reporter_batch_size": 2.5}, "reporter_batch_size", "2.5"),
    ({"reporter_queue_size": -1}, "reporter_queue_size", "-1"),
    ({"reporter_queue_size": "lots"}, "reporter_queue_size", "'lots'"),
    ({"reporter_batch_size": 50, "reporter_queue_size": 10}, "reporter_batch_size", "50"),
    ({"reporter_flush_interval": 0}, "reporter_flush_interval", "0"),
    ({"reporter_flush_interval": -1}, "reporter_flush_interval", "-1"),
    ({"reporter_flush_interval": float("nan")}, "reporter_flush_interval", "nan"),
    ({"reporter_flush_interval": float("inf")}, "reporter_flush_interval", "inf"),
    ({"reporter_flush_interval": "soon"}, "reporter_flush_interval", "'soon'"),
    ({"sampling_refresh_interval": 0}, "sampling_refresh_interval", "0"),
    ({"max_operations": 0}, "max_operations", "0"),
    ({"sampler": {"type": "foo"}}, "sampler.type", "'foo'"),
    ({"sampler": {"type": 3}}, "sampler.type", "3"),
    ({"sampler": {"type": "probabilistic", "param": 1.5}}, "sampler.param", "1.5"),
    ({"sampler": {"type": "probabilistic", "param": -0.1}}, "sampler.param", "-0.1"),
    ({"sampler": {"type": "probabilistic", "param": "half"}}, "sampler.param", "'half'"),
    ({"sampler": {"type": "probabilistic"}}, "sampler.param", "None"),
    ({"sampler": {"type": "ratelimiting", "param": -1}}, "sampler.param", "-1"),
    ({"sampler": {"type": "ratelimiting", "param": 1e12}}, "sampler.param", "1000000000000.0"),
    ({"sampler": {"type": "const", "param": 0.5}}, "sampler.param", "0.5"),
    ({"sampler": {"type": "const", "param": "maybe"}}, "sampler.param", "'maybe'"),
    ({"sampler": {"type": "remote", "param": 2}}, "sampler.param", "2"),
    ({"sampler": "const"}, "sampler", "'const'"),
    ({"propagation": "zipkin"}, "propagation", "'zipkin'"),
    ({"propagation": ["b3", "x"]}, "propagation", "['b3', 'x']"),
    ({"propagation": 42}, "propagation", "42"),
    ({"propagation": ""}, "propagation", "''"),
    ({"max_packet_size": 0}, "max_packet_size", "0"),
    ({"max_packet_size": 65508}, "max_packet_size", "65508"),
    ({"max_packet_size": "big"}, "max_packet_size", "'big'"),
    ({"sampling_endpoint": "ftp://agent:5778/sampling"}, "sampling_endpoint", "ftp://"),
    ({"sampling_endpoint": "agent:5778"}, "sampling_endpoint", "'agent:5778'"),
    ({"sampling_endpoint": "http://"}, "sampling_endpoint", "'http://'"),
    ({"collector_endpoint": "http://c:99999/api/traces"}, "collector_endpoint", "99999"),
    ({"collector_endpoint": 14268}, "collector_endpoint", "14268"),
    ({"collector_headers": {"X-A": 1}}, "collector_headers", "'X-A'"),
    ({"collector_headers": {"bad name": "v"}}, "collector_headers", "'bad name'"),
    ({"collector_headers": {"X-A": "a\r\nX-B: b"}}, "collector_headers", "X-A"),
    ({"collector_headers": "X-A: 1"}, "collector_headers", "'X-A: 1'"),
    ({"collector_timeout": 0}, "collector_timeout", "0"),
    ({"collector_user": "me"}, "collector_user and collector_password", "must be set together"),
    ({"collector_password": 5}, "collector_password", "<redacted>"),
    ({"exit_flush_timeout": -1}, "exit_flush_timeout", "-1"),
    ({"logging": "yes"}, "logging", "'yes'"),
    ({"enabled": "maybe"}, "enabled", "'maybe'"),
    ({"metrics": 2}, "metrics", "2"),
    ({"generate_128bit_trace_id": "sure"}, "generate_128bit_trace_id", "'sure'"),
    ({"tags": "a=b"}, "tags", "'a=b'"),
    ({"tags": {1: "x"}}, "tags", "{1: 'x'}"),
    ({"trace_id_header": ""}, "trace_id_header", "''"),
    ({"baggage_header_prefix": 5}, "baggage_header_prefix", "5"),
    ({"debug_id_header": None, "max_tag_value_length": 0}, "max_tag_value_length", "0"),
    ({"max_traceback_length": -5}, "max_traceback_length", "-5"),
    ({"max_tags_per_span": 0}, "max_tags_per_span", "0"),
    ({"max_logs_per_span": "many"}, "max_logs_per_span", "'many'"),
    ({"throttler": "on"}, "throttler", "'on'"),
    ({"throttler": {"port": 0}}, "throttler.port", "0"),
    ({"throttler": {"refresh_interval": 0}}, "throttler.refresh_interval", "0"),
    ({"baggage_restrictions": {"refresh_interval": -1}}, "baggage_restrictions.refresh", "-1"),
    ({"service_name": ""}, "service_name", "''"),
]


@pytest.mark.parametrize(("config", "key", "shown"), INVALID)
def test_invalid_value_raises_naming_key_and_value(
    config: dict[str, Any], key: str, shown: str
) -> None:
    with pytest.raises(ValueError) as info:
        make(config)
    message = str(info.value)
    assert key in message
    assert shown in message


def test_invalid_value_message_says_what_is_allowed() -> None:
    with pytest.raises(ValueError, match=r"'local_agent\.reporting_port'.*port number from 1 to"):
        make({"local_agent": {"reporting_port": 0}})
    with pytest.raises(ValueError, match="one of const, probabilistic, ratelimiting"):
        make({"sampler": {"type": "foo"}})


def test_every_invalid_key_is_listed_in_one_error() -> None:
    with pytest.raises(ValueError) as info:
        make({"reporter_batch_size": 0, "local_agent": {"reporting_port": "x"}, "logging": "?"})
    message = str(info.value)
    assert message.startswith("3 configuration errors")
    for key in ("reporter_batch_size", "local_agent.reporting_port", "logging"):
        assert key in message


def test_secret_values_are_not_echoed_in_errors() -> None:
    with pytest.raises(ValueError) as info:
        make({"collector_auth_token": 12345})
    assert "12345" not in str(info.value)


def test_ipv6_agent_allows_the_larger_ipv6_payload() -> None:
    host = {"reporting_host": "::1"}
    assert make({"local_agent": host, "max_packet_size": 65527}).max_packet_size == 65527
    with pytest.raises(ValueError, match="max_packet_size"):
        make({"local_agent": host, "max_packet_size": 65528})
    assert make({"max_packet_size": 65507}).max_packet_size == 65507


def test_validation_is_identical_under_python_O() -> None:
    """No check is an assert: ``python -O`` (which strips asserts) rejects the same values."""
    code = textwrap.dedent(
        """
        from jaeger_client import Config
        bad = [
            {"local_agent": {"reporting_port": 0}},
            {"reporter_batch_size": 50, "reporter_queue_size": 10},
            {"sampler": {"type": "probabilistic", "param": 2}},
            {"sampler": {"type": "foo"}},
            {"reporter_flush_interval": -1},
            {"max_packet_size": 70000},
            {"propagation": "zipkin"},
            {"collector_endpoint": "localhost"},
        ]
        for config in bad:
            try:
                Config(config, service_name="svc", environ={})
            except ValueError:
                continue
            raise SystemExit(f"accepted {config!r}")
        try:
            Config({}, environ={})
        except ValueError:
            pass
        else:
            raise SystemExit("accepted a missing service name")
        print("ok")
        """
    )
    result = subprocess.run(
        [sys.executable, "-O", "-c", code], capture_output=True, text=True, timeout=30
    )
    assert (result.returncode, result.stdout.strip()) == (0, "ok"), result.stderr


# ---- validate=True -----------------------------------------------------------------------------


def every_key() -> dict[str, Any]:
    return {
        "service_name": "svc",
        "enabled": True,
        "logging": False,
        "metrics": True,
        "sampler": {"type": "const", "param": 1},
        "sampling_refresh_interval": 60,
        "max_operations": 100,
        "sampling_endpoint": "http://127.0.0.1:5778/sampling",
        "local_agent": {
            "reporting_host": "127.0.0.1",
            "reporting_port": 6831,
            "sampling_port": 5778,
            "enabled": True,
        },
        "reporter_batch_size": 10,
        "reporter_queue_size": 100,
        "reporter_flush_interval": 1,
        "reporter_attempt_reconnect_interval": 30,
        "reporter_attempt_reconnecting_disabled": False,
        "max_packet_size": 65000,
        "exit_flush_timeout": 1,
        "collector_endpoint": "http://127.0.0.1:14268/api/traces",
        "collector_user": "u",
        "collector_password": "p",
        "collector_auth_token": "t",
        "collector_headers": {"X-Tenant": "a"},
        "collector_timeout": 5,
        "tags": {"a": "b"},
        "propagation": "b3",
        "trace_id_header": "uber-trace-id",
        "baggage_header_prefix": "uberctx-",
        "debug_id_header": "jaeger-debug-id",
        "generate_128bit_trace_id": False,
        "max_tag_value_length": 1024,
        "max_traceback_length": 4096,
        "max_tags_per_span": 100,
        "max_logs_per_span": 100,
        "throttler": {"port": 5778, "refresh_interval": 5},
        "baggage_restrictions": {
            "deny_baggage_on_initialization_failure": True,
            "refresh_interval": 60,
        },
    }


def test_validate_accepts_every_key_the_library_reads() -> None:
    """Upstream's validate=True rejected metrics, debug_id_header and max_operations."""
    config = Config(every_key(), validate=True, environ={})
    assert config.debug_id_header == "jaeger-debug-id"
    assert config.max_operations == 100
    assert all(source in ("config", "argument") for source in config.sources.values())


def test_validate_rejects_unknown_keys_listing_them() -> None:
    config = every_key()
    config["reporting_port"] = 6831
    config["samplr"] = {}
    with pytest.raises(
        ValueError, match=r"Unexpected keys found in config: reporting_port, samplr"
    ):
        Config(config, validate=True, environ={})


def test_validate_rejects_unknown_keys_inside_groups() -> None:
    with pytest.raises(ValueError, match=r"local_agent\.reporting_prot"):
        make({"local_agent": {"reporting_prot": 6831}}, validate=True)


def test_without_validate_unknown_keys_are_ignored() -> None:
    assert make({"no_such_key": 1, "local_agent": {"x": 1}}).service_name == "svc"


# ---- sources -----------------------------------------------------------------------------------


def test_sources_name_where_each_value_came_from() -> None:
    config = make({"logging": True, "local_agent": {"reporting_port": 6832}})
    sources = config.sources
    assert sources["service_name"] == "argument"
    assert sources["logging"] == "config"
    assert sources["local_agent.reporting_port"] == "config"
    assert sources["local_agent.reporting_host"] == "default"


def test_describe_masks_secrets() -> None:
    config = make(
        {
            "collector_endpoint": "https://c/api/traces",
            "collector_user": "me",
            "collector_password": "hunter2",
            "collector_headers": {"Authorization": "Bearer abc"},
        }
    )
    text = repr(config.describe())
    assert "hunter2" not in text and "Bearer abc" not in text
    assert ("collector_password", "***", "config") in config.describe()


# ---- metrics -----------------------------------------------------------------------------------


def test_metrics_false_discards_metrics_even_with_a_factory() -> None:
    config = make({"metrics": False}, metrics_factory=MetricsFactory())
    assert isinstance(config._metrics_factory, NoopMetricsFactory)


def test_metrics_factory_and_legacy_metrics_reach_the_tracer() -> None:
    factory = MetricsFactory()
    tracer = make(metrics_factory=factory).create_tracer(InMemoryReporter(), ConstSampler(True))
    assert tracer.metrics_factory is factory
    counts: dict[str, int] = {}
    legacy = make(metrics=Metrics(count=lambda k, v: counts.__setitem__(k, v)))
    assert isinstance(legacy._metrics_factory, LegacyMetricsFactory)
    legacy.create_tracer(InMemoryReporter(), ConstSampler(True)).start_span("op")
    assert counts["jaeger:started_spans.sampled_y"] == 1


# ---- building tracers --------------------------------------------------------------------------


def test_create_tracer_passes_every_setting() -> None:
    scope_manager = ThreadLocalScopeManager()
    config = make(
        {
            "tags": {"team": "core"},
            "trace_id_header": "x-trace",
            "generate_128bit_trace_id": True,
            "max_tag_value_length": 300,
            "max_traceback_length": 400,
            "max_tags_per_span": 7,
            "max_logs_per_span": 8,
            "debug_id_header": "x-debug",
        },
        scope_manager=scope_manager,
    )
    reporter, sampler = InMemoryReporter(), ConstSampler(True)
    tracer = config.create_tracer(reporter=reporter, sampler=sampler, throttler=None)
    assert isinstance(tracer, Tracer)
    assert (tracer.service_name, tracer.reporter, tracer.sampler) == ("svc", reporter, sampler)
    assert tracer.tags["team"] == "core"
    assert tracer.max_trace_id_bits == 128
    assert (tracer.max_tag_value_length, tracer.max_traceback_length) == (300, 400)
    assert (tracer.max_tags_per_span, tracer.max_logs_per_span) == (7, 8)
    assert tracer.debug_id_header == "x-debug"
    assert tracer.scope_manager is scope_manager
    assert tracer.throttler is None
    carrier: dict[str, str] = {}
    tracer.inject(tracer.start_span("op").context, Format.TEXT_MAP, carrier)
    assert list(carrier) == ["x-trace"]


def test_create_tracer_accepts_a_throttler_and_baggage_restrictions() -> None:
    class Throttler:
        def is_allowed(self, operation: str) -> bool:
            return True

    class Restrictions:
        def get_restriction(self, service: str, key: str) -> tuple[bool, int]:
            return key == "ok", 3

    tracer = make().create_tracer(
        InMemoryReporter(), ConstSampler(True), Throttler(), baggage_restrictions=Restrictions()
    )
    span = tracer.start_span("op")
    span.set_baggage_item("ok", "12345")
    span.set_baggage_item("denied", "x")
    assert span.context.baggage == {"ok": "123"}


def test_propagation_b3_replaces_only_http_headers_as_upstream() -> None:
    extra = make({"propagation": "b3"}).propagation
    assert list(extra) == [Format.HTTP_HEADERS]
    assert isinstance(extra[Format.HTTP_HEADERS], codecs.B3Codec)


@pytest.mark.parametrize(
    ("value", "kind"),
    [("w3c", codecs.TraceContextCodec), (["b3single"], codecs.B3SingleCodec),
     ("b3-single", codecs.B3SingleCodec), (["b3"], codecs.B3Codec)],
)  # fmt: skip
def test_propagation_single_format_replaces_text_map_and_http_headers(
    value: Any, kind: type
) -> None:
    extra = make({"propagation": value}).propagation
    assert set(extra) == {Format.TEXT_MAP, Format.HTTP_HEADERS}
    assert all(isinstance(codec, kind) for codec in extra.values())


def test_propagation_jaeger_alone_keeps_the_default_codecs() -> None:
    assert make({"propagation": "jaeger"}).propagation == {}


def test_propagation_list_injects_every_format_and_extracts_any() -> None:
    config = make({"propagation": "jaeger, B3 ,w3c,b3"})
    assert config.sources["propagation"] == "config"
    tracer = config.create_tracer(InMemoryReporter(), ConstSampler(True))
    assert isinstance(tracer.codecs[Format.HTTP_HEADERS], codecs.CompositeCodec)
    span = tracer.start_span("op")
    headers: dict[str, str] = {}
    tracer.inject(span.context, Format.HTTP_HEADERS, headers)
    assert {"uber-trace-id", "X-B3-TraceId", "traceparent"} <= set(headers)
    only_w3c = {"traceparent": headers["traceparent"]}
    extracted = tracer.extract(Format.HTTP_HEADERS, only_w3c)
    assert extracted is not None
    assert extracted.trace_id == span.context.trace_id


def test_config_dict_is_not_modified() -> None:
    original = {"tags": {"a": "1"}, "local_agent": {"reporting_port": 6831}}
    snapshot = copy.deepcopy(original)
    config = Config(original, service_name="svc", environ={"JAEGER_TAGS": "b=2"})
    assert config.tags == {"a": "1", "b": "2"}
    config.tags["c"] = "3"
    assert original == snapshot
    assert config.tags == {"a": "1", "b": "2"}


def test_disabled_config_builds_a_noop_tracer(fresh_global_tracer: None) -> None:
    config = make({"enabled": "false"})
    assert isinstance(config.new_tracer(), NoopTracer)
    tracer = config.initialize_tracer()
    assert isinstance(tracer, NoopTracer)
    assert opentracing.global_tracer() is tracer
    with tracer.start_active_span("op") as scope:
        scope.span.set_tag("k", "v")
    assert tracer.close().result(timeout=1) is None


def agent_config(port: int, **extra: Any) -> dict[str, Any]:
    return {
        "sampler": {"type": "const", "param": 1},
        "local_agent": {"reporting_host": "127.0.0.1", "reporting_port": port},
        "reporter_flush_interval": 0.01,
        **extra,
    }


def test_new_tracer_reports_to_the_configured_agent(agent_udp: socket.socket) -> None:
    config = make(agent_config(agent_udp.getsockname()[1], reporter_batch_size=5))
    tracer = config.new_tracer()
    try:
        assert isinstance(tracer, Tracer)
        assert isinstance(tracer.reporter, Reporter)
        assert (tracer.reporter.queue_capacity, tracer.reporter.batch_size) == (10000, 5)
        tracer.start_span("checkout").finish()
        batches = receive_batches(agent_udp, 1)
        assert [s.operationName for b in batches for s in b.spans] == ["checkout"]
        assert batches[0].process.serviceName == "svc"
    finally:
        tracer.close().result(timeout=5)


def test_background_errors_are_logged_even_without_logging_key() -> None:
    """Upstream logged background errors only with `logging: true`; we always do, rate-limited."""
    assert make().error_reporter.logger is logging.getLogger("jaeger_tracing")
    assert make().error_reporter.log_interval_minutes == 1


def test_new_tracer_leaves_the_global_tracer_alone(agent_udp: socket.socket) -> None:
    before = opentracing.global_tracer()
    tracer = make(agent_config(agent_udp.getsockname()[1])).new_tracer(io_loop=None)
    try:
        assert opentracing.global_tracer() is before
    finally:
        tracer.close().result(timeout=5)


def test_logging_wraps_the_reporter_in_a_logging_reporter(agent_udp: socket.socket) -> None:
    config = make(agent_config(agent_udp.getsockname()[1], logging=True))
    tracer = config.new_tracer()
    try:
        assert isinstance(tracer, Tracer)
        assert isinstance(tracer.reporter, CompositeReporter)
        kinds = [type(r) for r in tracer.reporter.reporters]
        assert kinds == [Reporter, LoggingReporter]
    finally:
        tracer.close().result(timeout=5)


def test_initialize_tracer_works_once_per_process(
    agent_udp: socket.socket, fresh_global_tracer: None, caplog: pytest.LogCaptureFixture
) -> None:
    config = make(agent_config(agent_udp.getsockname()[1]))
    tracer = config.initialize_tracer()
    try:
        assert isinstance(tracer, Tracer)
        assert Config.initialized() is True
        assert opentracing.tracer is tracer
        assert opentracing.global_tracer() is tracer
        with caplog.at_level(logging.WARNING, logger="jaeger_tracing"):
            assert config.initialize_tracer() is None
        assert "already initialized" in caplog.text
        assert opentracing.tracer is tracer
    finally:
        assert tracer is not None
        tracer.close().result(timeout=5)


class _CollectorHandler(http.server.BaseHTTPRequestHandler):
    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
        self.server.requests.put((self.path, dict(self.headers), body))  # type: ignore[attr-defined]
        self.send_response(202)
        self.end_headers()

    def log_message(self, format: str, *args: Any) -> None:
        pass


@pytest.fixture
def collector() -> Iterator[Any]:
    """A loopback HTTP server standing in for jaeger-collector's /api/traces."""
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _CollectorHandler)
    server.requests = queue.Queue()  # type: ignore[attr-defined]
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield server
    server.shutdown()
    server.server_close()
    thread.join(5)


def test_collector_endpoint_sends_spans_over_http(collector: Any) -> None:
    port = collector.server_address[1]
    config = make(
        {
            "sampler": {"type": "const", "param": 1},
            "reporter_flush_interval": 0.01,
            "collector_endpoint": f"http://127.0.0.1:{port}/api/traces",
            "collector_user": "me",
            "collector_password": "pw",
            "collector_headers": {"X-Tenant": "blue"},
        }
    )
    tracer = config.new_tracer()
    try:
        tracer.start_span("over-http").finish()
        path, headers, body = collector.requests.get(timeout=5)
    finally:
        tracer.close().result(timeout=5)
    assert path == "/api/traces"
    assert headers["X-Tenant"] == "blue"
    assert headers["Authorization"] == "Basic " + base64.b64encode(b"me:pw").decode()
    assert b"over-http" in body


def test_remote_sampler_starts_from_the_configured_rate() -> None:
    config = make(
        {
            "sampler": {"type": "remote", "param": 1.0},
            "sampling_endpoint": "http://127.0.0.1:9/sampling",  # discard port: polls fail
            "sampling_refresh_interval": 3600,
        }
    )
    tracer = config.new_tracer()
    try:
        assert isinstance(tracer, Tracer)
        assert isinstance(tracer.sampler, RemoteControlledSampler)
        sampled, tags = tracer.sampler.is_sampled(12345, "op")
        assert sampled is True
        assert tags["sampler.type"] == "probabilistic"
    finally:
        tracer.close().result(timeout=5)


def test_throttler_group_builds_a_remote_throttler() -> None:
    from jaeger_client.throttler import RemoteThrottler

    tracer = make({"sampler": {"type": "const", "param": 1}, "throttler": {}}).new_tracer()
    try:
        assert isinstance(tracer, Tracer)
        assert isinstance(tracer.throttler, RemoteThrottler)
    finally:
        tracer.close().result(timeout=5)
