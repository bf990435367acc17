"""OpenTracing API compatibility (opentracing's own harness) and upstream 4.8.0's public surface."""

from __future__ import annotations

import asyncio
import inspect
import sys
import unittest.mock
from typing import Any, Callable, Optional

import opentracing
import pytest
from opentracing.scope_managers.contextvars import ContextVarsScopeManager

# The harness imports the `mock` backport; the standard library's unittest.mock is the same API.
sys.modules.setdefault("mock", unittest.mock)

from opentracing.harness.api_check import APICompatibilityCheckMixin  # noqa: E402
from opentracing.harness.scope_check import ScopeCompatibilityCheckMixin  # noqa: E402

from jaeger_client import Span, SpanContext, Tracer, constants  # noqa: E402
from jaeger_client.reporter import InMemoryReporter  # noqa: E402
from jaeger_client.sampler import ConstSampler  # noqa: E402
from jaeger_client.tracer import NoopTracer, TracerMetrics  # noqa: E402


def new_tracer(**kwargs: Any) -> Tracer:
    return Tracer("api-check", InMemoryReporter(), ConstSampler(True), **kwargs)


class TestTracerAPICompatibility(APICompatibilityCheckMixin):
    """Every check of opentracing 2.x's harness, against our Tracer with real codecs."""

    def tracer(self) -> Tracer:
        return new_tracer()

    def is_parent(self, parent: Optional[opentracing.Span], span: opentracing.Span) -> bool:
        assert isinstance(span, Span)
        if parent is None:
            return span.parent_id is None
        assert isinstance(parent, Span)
        return span.trace_id == parent.trace_id and span.parent_id == parent.span_id


class TestTracerAPICompatibilityWithContextVars(TestTracerAPICompatibility):
    def tracer(self) -> Tracer:
        return new_tracer(scope_manager=ContextVarsScopeManager())


class TestNoopTracerAPICompatibility(APICompatibilityCheckMixin):
    """What ``Config(enabled=False)`` builds must still satisfy the API."""

    def tracer(self) -> NoopTracer:
        return NoopTracer()

    def check_baggage_values(self) -> bool:
        return False

    def check_scope_manager(self) -> bool:
        return False


class TestDefaultScopeManager(ScopeCompatibilityCheckMixin):
    """The scope manager a Tracer builds when given none (thread-local)."""

    def scope_manager(self) -> opentracing.ScopeManager:
        return new_tracer().scope_manager


class TestContextVarsScopeManagerInATask(ScopeCompatibilityCheckMixin):
    """The manager recommended for asyncio and Tornado 6, run inside an event loop."""

    def scope_manager(self) -> opentracing.ScopeManager:
        return new_tracer(scope_manager=ContextVarsScopeManager()).scope_manager

    def run_test(self, test_fn: Callable[[], object]) -> None:
        async def in_task() -> None:
            test_fn()

        asyncio.run(in_task())


# ---- upstream 4.8.0's public surface ------------------------------------------------------------

EMPTY = inspect.Parameter.empty

SIGNATURES: list[tuple[Callable[..., Any], list[tuple[str, Any]]]] = [
    (
        Tracer.__init__,
        [
            ("self", EMPTY),
            ("service_name", EMPTY),
            ("reporter", EMPTY),
            ("sampler", EMPTY),
            ("metrics", None),
            ("metrics_factory", None),
            ("trace_id_header", "uber-trace-id"),
            ("generate_128bit_trace_id", False),
            ("baggage_header_prefix", "uberctx-"),
            ("debug_id_header", "jaeger-debug-id"),
            ("one_span_per_rpc", False),
            ("extra_codecs", None),
            ("tags", None),
            ("max_tag_value_length", 1024),
            ("max_traceback_length", 4096),
            ("throttler", None),
            ("scope_manager", None),
        ],
    ),
    (
        Tracer.start_span,
        [
            ("self", EMPTY),
            ("operation_name", None),
            ("child_of", None),
            ("references", None),
            ("tags", None),
            ("start_time", None),
            ("ignore_active_span", False),
        ],
    ),
    (
        Tracer.start_active_span,
        [
            ("self", EMPTY),
            ("operation_name", None),
            ("child_of", None),
            ("references", None),
            ("tags", None),
            ("start_time", None),
            ("ignore_active_span", False),
            ("finish_on_close", True),
        ],
    ),
    (
        Tracer.inject,
        [("self", EMPTY), ("span_context", EMPTY), ("format", EMPTY), ("carrier", EMPTY)],
    ),
    (Tracer.extract, [("self", EMPTY), ("format", EMPTY), ("carrier", EMPTY)]),
    (Tracer.close, [("self", EMPTY)]),
    (Tracer.report_span, [("self", EMPTY), ("span", EMPTY)]),
    (Tracer.random_id, [("self", EMPTY)]),
    (Tracer._random_id, [("self", EMPTY), ("bitsize", EMPTY)]),
    (Tracer.is_debug_allowed, [("self", EMPTY), ("args", EMPTY), ("kwargs", EMPTY)]),
    (TracerMetrics.__init__, [("self", EMPTY), ("metrics_factory", EMPTY)]),
    (
        Span.__init__,
        [
            ("self", EMPTY),
            ("context", EMPTY),
            ("tracer", EMPTY),
            ("operation_name", EMPTY),
            ("tags", None),
            ("start_time", None),
            ("references", None),
        ],
    ),
    (Span.set_operation_name, [("self", EMPTY), ("operation_name", EMPTY)]),
    (Span.finish, [("self", EMPTY), ("finish_time", None)]),
    (Span.set_tag, [("self", EMPTY), ("key", EMPTY), ("value", EMPTY)]),
    (Span.log_kv, [("self", EMPTY), ("key_values", EMPTY), ("timestamp", None)]),
    (Span.set_baggage_item, [("self", EMPTY), ("key", EMPTY), ("value", EMPTY)]),
    (Span.get_baggage_item, [("self", EMPTY), ("key", EMPTY)]),
    (Span.is_sampled, [("self", EMPTY)]),
    (Span.is_debug, [("self", EMPTY)]),
    (Span.is_rpc, [("self", EMPTY)]),
    (Span.is_rpc_client, [("self", EMPTY)]),
    (Span.info, [("self", EMPTY), ("message", EMPTY), ("payload", None)]),
    (Span.error, [("self", EMPTY), ("message", EMPTY), ("payload", None)]),
    (Span.log_event, [("self", EMPTY), ("event", EMPTY), ("payload", None)]),
    (
        SpanContext.__init__,
        [
            ("self", EMPTY),
            ("trace_id", EMPTY),
            ("span_id", EMPTY),
            ("parent_id", EMPTY),
            ("flags", EMPTY),
            ("baggage", None),
            ("debug_id", None),
        ],
    ),
    (SpanContext.with_baggage_item, [("self", EMPTY), ("key", EMPTY), ("value", EMPTY)]),
    (SpanContext.with_debug_id, [("debug_id", EMPTY)]),
]


@pytest.mark.parametrize(
    ("function", "expected"), SIGNATURES, ids=[f.__qualname__ for f, _ in SIGNATURES]
)
def test_signature_keeps_upstreams_names_order_and_defaults(
    function: Callable[..., Any], expected: list[tuple[str, Any]]
) -> None:
    params = inspect.signature(function).parameters.values()
    positional = [(p.name, p.default) for p in params if p.kind != p.KEYWORD_ONLY]
    assert positional == expected
    # anything new comes after the upstream parameters, keyword-only
    assert all(p.kind == p.KEYWORD_ONLY or p.name in dict(expected) for p in params)


def test_upstream_attributes_exist_on_tracer_span_and_context() -> None:
    tracer = new_tracer(generate_128bit_trace_id=True)
    for name in (
        "service_name",
        "reporter",
        "sampler",
        "metrics_factory",
        "metrics",
        "random",
        "debug_id_header",
        "one_span_per_rpc",
        "max_tag_value_length",
        "max_traceback_length",
        "max_trace_id_bits",
        "codecs",
        "tags",
        "throttler",
        "scope_manager",
        "active_span",
    ):
        assert hasattr(tracer, name), name
    assert tracer.max_trace_id_bits == constants._max_trace_id_bits == 128
    for name in (
        "traces_started_sampled",
        "traces_started_not_sampled",
        "traces_joined_sampled",
        "traces_joined_not_sampled",
        "spans_started_sampled",
        "spans_started_not_sampled",
        "spans_finished",
    ):
        assert callable(getattr(tracer.metrics, name)), name
    span = tracer.start_span("op", references=[opentracing.child_of(None)])
    for name in (
        "operation_name",
        "start_time",
        "end_time",
        "finished",
        "update_lock",
        "references",
        "tags",
        "logs",
        "context",
        "tracer",
        "trace_id",
        "span_id",
        "parent_id",
        "flags",
    ):
        assert hasattr(span, name), name
    ctx = span.context
    for name in ("trace_id", "span_id", "parent_id", "flags", "baggage", "debug_id", "has_trace"):
        assert hasattr(ctx, name), name
    assert ctx.is_debug_id_container_only is False


def test_span_allows_instance_attributes_like_upstream() -> None:
    """The harness (and users' tests) patch ``span.finish`` on the instance."""
    span = new_tracer().start_span("op")
    with unittest.mock.patch.object(span, "finish") as finish:
        span.finish()
    assert finish.call_count == 1
