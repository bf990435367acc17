"""Upstream's import paths keep working; importing the package stays light and side-effect free."""

from __future__ import annotations

import importlib
import json
import subprocess
import sys
import textwrap
from typing import Any

import pytest

import jaeger_client

TOP_LEVEL = [
    "Tracer",
    "Config",
    "Span",
    "SpanContext",
    "ConstSampler",
    "ProbabilisticSampler",
    "RateLimitingSampler",
    "RemoteControlledSampler",
    "__version__",
]

# module -> names upstream 4.8.0 users import from it
MODULES: dict[str, list[str]] = {
    "jaeger_client.tracer": ["Tracer", "TracerMetrics"],
    "jaeger_client.span": ["Span"],
    "jaeger_client.span_context": ["SpanContext"],
    "jaeger_client.config": ["Config"],
    "jaeger_client.constants": [
        "MAX_ID_BITS",
        "_max_id_bits",
        "_max_trace_id_bits",
        "DEFAULT_SAMPLING_INTERVAL",
        "DEFAULT_FLUSH_INTERVAL",
        "TRACE_ID_HEADER",
        "BAGGAGE_HEADER_PREFIX",
        "DEBUG_ID_HEADER_KEY",
        "BAGGAGE_HEADER_KEY",
        "JAEGER_CLIENT_VERSION",
        "JAEGER_VERSION_TAG_KEY",
        "JAEGER_HOSTNAME_TAG_KEY",
        "JAEGER_IP_TAG_KEY",
        "SAMPLER_TYPE_CONST",
        "SAMPLER_TYPE_REMOTE",
        "SAMPLER_TYPE_PROBABILISTIC",
        "SAMPLER_TYPE_RATE_LIMITING",
        "SAMPLER_TYPE_LOWER_BOUND",
        "CLIENT_UUID_TAG_KEY",
        "MAX_TAG_VALUE_LENGTH",
        "MAX_TRACEBACK_LENGTH",
        "SAMPLED_FLAG",
        "DEBUG_FLAG",
        "DEFAULT_THROTTLER_REFRESH_INTERVAL",
    ],
    "jaeger_client.reporter": [
        "BaseReporter",
        "NullReporter",
        "InMemoryReporter",
        "LoggingReporter",
        "Reporter",
        "ReporterMetrics",
        "CompositeReporter",
    ],
    "jaeger_client.sampler": [
        "Sampler",
        "ConstSampler",
        "ProbabilisticSampler",
        "RateLimitingSampler",
        "GuaranteedThroughputProbabilisticSampler",
        "AdaptiveSampler",
        "RemoteControlledSampler",
        "SAMPLER_TYPE_TAG_KEY",
        "SAMPLER_PARAM_TAG_KEY",
    ],
    "jaeger_client.codecs": [
        "Codec",
        "TextCodec",
        "BinaryCodec",
        "ZipkinCodec",
        "ZipkinSpanFormat",
        "span_context_from_string",
        "span_context_to_string",
        "header_to_hex",
    ],
    "jaeger_client.thrift": [
        "make_tag",
        "make_tags",
        "make_log",
        "make_process",
        "make_ref_type",
        "make_references",
        "make_span",
        "make_jaeger_batch",
        "id_to_int",
        "timestamp_micros",
    ],
    "jaeger_client.throttler": ["Throttler", "RemoteThrottler"],
    "jaeger_client.rate_limiter": ["RateLimiter"],
    "jaeger_client.local_agent_net": ["LocalAgentSender"],
    "jaeger_client.TUDPTransport": ["TUDPTransport"],
    "jaeger_client.ioloop_util": ["submit"],
    "jaeger_client.utils": [
        "ErrorReporter",
        "get_boolean",
        "local_ip",
        "get_local_ip_by_interfaces",
        "get_local_ip_by_socket",
        "interface_ip",
    ],
    "jaeger_client.metrics": ["Metrics", "MetricsFactory", "LegacyMetricsFactory"],
    "jaeger_client.metrics.prometheus": ["PrometheusMetricsFactory"],
}


@pytest.mark.parametrize("name", TOP_LEVEL)
def test_top_level_name_imports_from_jaeger_client(name: str) -> None:
    assert getattr(jaeger_client, name) is not None


@pytest.mark.parametrize("module", MODULES)
def test_upstream_module_and_its_names_import(module: str) -> None:
    mod = importlib.import_module(module)
    missing = [name for name in MODULES[module] if not hasattr(mod, name)]
    assert missing == []


# names upstream's modules held by importing them (served by _compat_names), and where they are
COMPAT_NAMES = [
    ("jaeger_client.config", "B3Codec", "jaeger_client.codecs"),
    ("jaeger_client.config", "DEFAULT_SAMPLING_INTERVAL", "jaeger_client.constants"),
    ("jaeger_client.config", "RemoteThrottler", "jaeger_client.throttler"),
    ("jaeger_client.config", "ScopeManager", "opentracing"),
    ("jaeger_client.config", "get_boolean", "jaeger_client.utils"),
    ("jaeger_client.tracer", "Sampler", "jaeger_client.sampler"),
    ("jaeger_client.tracer", "ZipkinSpanFormat", "jaeger_client.codecs"),
    ("jaeger_client.tracer", "Reference", "opentracing"),
    ("jaeger_client.span", "Reference", "opentracing"),
    ("jaeger_client.reporter", "Span", "jaeger_client.span"),
    ("jaeger_client.reporter", "ErrorReporter", "jaeger_client.utils"),
    ("jaeger_client.sampler", "RateLimiter", "jaeger_client.rate_limiter"),
    ("jaeger_client.sampler", "_max_id_bits", "jaeger_client.constants"),
    ("jaeger_client.throttler", "Metrics", "jaeger_client.metrics"),
    ("jaeger_client.local_agent_net", "TUDPTransport", "jaeger_client.TUDPTransport"),
    ("jaeger_client.metrics.metrics", "MetricsFactory", "jaeger_client.metrics"),
]


@pytest.mark.parametrize(("module", "name", "home"), COMPAT_NAMES)
def test_names_upstream_held_by_import_are_the_same_objects(
    module: str, name: str, home: str
) -> None:
    namespace: dict[str, Any] = {}
    exec(f"from {module} import {name} as found", namespace)  # the statement users write
    assert namespace["found"] is getattr(importlib.import_module(home), name)


def test_an_unknown_name_still_raises_attribute_error() -> None:
    from jaeger_client import config, tracer

    with pytest.raises(AttributeError, match=r"jaeger_client\.tracer.*no_such_name"):
        tracer.no_such_name  # noqa: B018
    with pytest.raises(ImportError):
        exec("from jaeger_client.config import no_such_name", {})
    assert not hasattr(config, "Dict")  # typing names upstream imported are not kept


def test_reporter_keeps_upstreams_protocol_factory_method() -> None:
    from thrift.protocol.TCompactProtocol import TCompactProtocol
    from thrift.transport.TTransport import TMemoryBuffer

    from jaeger_client.local_agent_net import LocalAgentSender
    from jaeger_client.reporter import Reporter

    reporter = Reporter(channel=LocalAgentSender("127.0.0.1", 5778, 6831))
    try:
        assert isinstance(reporter.getProtocol(TMemoryBuffer()), TCompactProtocol)
    finally:
        reporter.close()


def test_top_level_names_are_the_classes_of_their_modules() -> None:
    from jaeger_client import sampler, span, span_context, tracer

    assert jaeger_client.Tracer is tracer.Tracer
    assert jaeger_client.Span is span.Span
    assert jaeger_client.SpanContext is span_context.SpanContext
    assert jaeger_client.ConstSampler is sampler.ConstSampler


FRESH_INTERPRETER = textwrap.dedent(
    """
    import json, socket, sys, threading

    attempted = []

    class Refuse:
        # records and refuses any import of a package the core must not need
        banned = ("tornado", "six", "threadloop", "opentelemetry")

        def find_spec(self, name, path=None, target=None):
            if name.split(".")[0] in self.banned:
                attempted.append(name)
                raise ImportError(f"{name} is banned in this test")
            return None

    sys.meta_path.insert(0, Refuse())

    lookups = []

    def no_dns(*args, **kwargs):
        lookups.append(args[:1])
        raise OSError("DNS is not allowed during import or Tracer construction")

    for fn in ("getaddrinfo", "gethostbyname", "gethostbyname_ex", "gethostbyaddr",
               "getnameinfo", "getfqdn"):
        setattr(socket, fn, no_dns)

    import jaeger_client
    from jaeger_client import ConstSampler, Tracer
    from jaeger_client.reporter import InMemoryReporter

    threads_after_import = threading.active_count()
    reporter = InMemoryReporter()
    tracer = Tracer("fresh", reporter, ConstSampler(True))
    with tracer.start_active_span("op") as scope:
        scope.span.set_tag("k", "v")
    tracer.close().result(timeout=5)
    print(json.dumps({
        "attempted": attempted,
        "lookups": lookups,
        "threads_after_import": threads_after_import,
        "threads": [t.name for t in threading.enumerate()],
        "spans": len(reporter.get_spans()),
        "ip": tracer.tags["ip"],
        "banned_loaded": [m for m in sys.modules if m.split(".")[0] in Refuse.banned],
    }))
    """
)


def test_fresh_import_needs_no_tornado_six_or_opentelemetry_no_dns_and_starts_no_thread() -> None:
    result = subprocess.run(
        [sys.executable, "-c", FRESH_INTERPRETER],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout.strip().splitlines()[-1])
    assert report["attempted"] == [] and report["banned_loaded"] == []
    assert report["lookups"] == []
    assert report["threads_after_import"] == 1
    assert report["threads"] == ["MainThread"]
    assert report["spans"] == 1
    assert report["ip"].count(".") == 3


@pytest.mark.parametrize(
    "module",
    [
        "jaeger_client.config",
        "jaeger_client.reporter",
        "jaeger_client.sampler",
        "jaeger_client.span",
        "jaeger_client.throttler",
        "jaeger_client.tracer",
        "jaeger_client.local_agent_net",
    ],
)
def test_compat_names_for_type_checkers_match_those_served_at_run_time(module: str) -> None:
    """Each module lists upstream's imported names twice: as ``if TYPE_CHECKING`` imports (what
    mypy sees) and in the ``__getattr__`` mapping (what runs). The two lists must agree."""
    import ast
    import inspect

    tree = ast.parse(inspect.getsource(importlib.import_module(module)))
    (block,) = [
        node
        for node in tree.body
        if isinstance(node, ast.If)
        and isinstance(node.test, ast.Name)
        and node.test.id == "TYPE_CHECKING"
        and node.orelse
    ]
    for_type_checkers = {
        alias.name
        for node in block.body
        if isinstance(node, ast.ImportFrom)
        for alias in node.names
    }
    mapping = next(n for n in ast.walk(block.orelse[0]) if isinstance(n, ast.Dict))
    at_run_time = {name for value in ast.literal_eval(mapping).values() for name in value}
    assert for_type_checkers == at_run_time
