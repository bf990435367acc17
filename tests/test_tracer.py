"""Tracer: construction, parent selection, ids, sampling, debug ids, metrics, propagation, fork."""

from __future__ import annotations

import asyncio
import gc
import json
import logging
import os
import random
import socket
import subprocess
import sys
import threading
from pathlib import Path
from typing import Any, Optional

import opentracing
import pytest
from opentracing import Format, UnsupportedFormatException
from opentracing.ext import tags as ext_tags
from opentracing.scope_managers.contextvars import ContextVarsScopeManager

from jaeger_client import Span, SpanContext, Tracer, __version__, constants
from jaeger_client._future import CloseFuture
from jaeger_client.constants import SAMPLED_FLAG
from jaeger_client.metrics import LegacyMetricsFactory, Metrics
from jaeger_client.tracer import NoopTracer

TESTS = Path(__file__).resolve().parent


class FakeSampler:
    def __init__(self, decision: bool = True, tags: Optional[dict[str, Any]] = None) -> None:
        self.decision = decision
        self.tags = tags
        self.calls: list[tuple[int, str]] = []
        self.renamed: list[tuple[Any, str, bool]] = []
        self.closed = 0

    def is_sampled(self, trace_id: int, operation: str = "") -> tuple[bool, Any]:
        self.calls.append((trace_id, operation))
        return self.decision, self.tags

    def on_operation_renamed(self, tracer: Any, span: Span) -> None:
        self.renamed.append((tracer, span.operation_name, span.has_children))

    def close(self) -> None:
        self.closed += 1


class ListReporter:
    def __init__(self) -> None:
        self.spans: list[Span] = []
        self.process: Any = None
        self.closed = 0

    def set_process(self, service_name: str, tags: Any, max_length: int) -> None:
        self.process = (service_name, dict(tags), max_length)

    def report_span(self, span: Span) -> None:
        self.spans.append(span)

    def close(self) -> Any:
        self.closed += 1
        return None


class FakeThrottler:
    def __init__(self, allowed: bool = True) -> None:
        self.allowed = allowed
        self.asked: list[Any] = []
        self.client_id: Optional[int] = None
        self.closed = 0

    def is_allowed(self, operation: Any) -> bool:
        self.asked.append(operation)
        return self.allowed

    def set_client_id(self, client_id: int) -> None:
        self.client_id = client_id

    def close(self) -> None:
        self.closed += 1


class Counts:
    """A legacy ``Metrics(count=...)`` sink."""

    def __init__(self) -> None:
        self.values: dict[str, int] = {}

    def __call__(self, key: str, value: int) -> None:
        self.values[key] = self.values.get(key, 0) + value


def jaeger_span(scope: opentracing.Scope) -> Span:
    assert isinstance(scope.span, Span)
    return scope.span


def make_tracer(sampled: bool = True, **kwargs: Any) -> Tracer:
    kwargs.setdefault("reporter", ListReporter())
    kwargs.setdefault("sampler", FakeSampler(sampled))
    return Tracer(service_name="svc", **kwargs)


# ---- construction --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kwargs", "error", "message"),
    [
        ({"service_name": ""}, ValueError, "service_name"),
        ({"service_name": None}, ValueError, "service_name"),
        ({"reporter": None}, TypeError, "reporter"),
        ({"sampler": object()}, TypeError, "sampler"),
        ({"max_tag_value_length": 0}, ValueError, "max_tag_value_length"),
        ({"max_tag_value_length": "10"}, ValueError, "max_tag_value_length"),
        ({"max_traceback_length": -1}, ValueError, "max_traceback_length"),
        ({"max_tags_per_span": True}, ValueError, "max_tags_per_span"),
        ({"max_logs_per_span": 1.5}, ValueError, "max_logs_per_span"),
        ({"max_fields_per_log": 0}, ValueError, "max_fields_per_log"),
        ({"scope_manager": object()}, TypeError, "scope_manager"),
    ],
)
def test_constructor_rejects_invalid_arguments(
    kwargs: dict[str, Any], error: type, message: str
) -> None:
    args: dict[str, Any] = {
        "service_name": "svc",
        "reporter": ListReporter(),
        "sampler": FakeSampler(),
    }
    args.update(kwargs)
    with pytest.raises(error, match=message):
        Tracer(**args)


def test_process_tags_carry_version_hostname_ip_and_client_uuid() -> None:
    reporter = ListReporter()
    tracer = make_tracer(reporter=reporter, tags={"team": "core"}, max_tag_value_length=77)
    service, tags, max_length = reporter.process
    assert (service, max_length) == ("svc", 77)
    assert tags["jaeger.version"] == f"Python-{__version__}" == constants.JAEGER_CLIENT_VERSION
    assert tags["hostname"] == socket.gethostname()
    socket.inet_aton(tags["ip"])  # a dotted quad
    assert tags["ip"] == tracer.ip_address
    assert type(tags["client-uuid"]) is int and tags["client-uuid"] == tracer.client_id > 0
    assert tags["team"] == "core"
    assert tracer.tags == tags


def test_user_tags_override_ip_and_hostname() -> None:
    reporter = ListReporter()
    make_tracer(reporter=reporter, tags={"ip": "10.0.0.9", "hostname": "box"})
    assert reporter.process[1]["ip"] == "10.0.0.9"
    assert reporter.process[1]["hostname"] == "box"


def test_throttler_gets_the_client_id_by_either_spelling() -> None:
    throttler = FakeThrottler()
    tracer = make_tracer(throttler=throttler)
    assert throttler.client_id == tracer.client_id

    class OldThrottler:
        def _set_client_id(self, client_id: int) -> None:
            self.client_id = client_id

        def is_allowed(self, operation: str) -> bool:
            return True

    old = OldThrottler()
    tracer = make_tracer(throttler=old)
    assert old.client_id == tracer.client_id


def test_default_scope_manager_is_thread_local_and_any_scope_manager_is_accepted() -> None:
    from opentracing.scope_managers import ThreadLocalScopeManager

    assert type(make_tracer().scope_manager) is ThreadLocalScopeManager
    manager = ContextVarsScopeManager()
    assert make_tracer(scope_manager=manager).scope_manager is manager


def test_reporter_without_set_process_is_accepted() -> None:
    class Minimal:
        def report_span(self, span: Span) -> None:
            pass

    make_tracer(reporter=Minimal()).start_span("op").finish()


# ---- parent selection ----------------------------------------------------------------------------


def test_root_span_starts_a_new_trace_and_asks_the_sampler() -> None:
    sampler = FakeSampler(True, {"sampler.type": "const", "sampler.param": True})
    tracer = make_tracer(sampler=sampler)
    span = tracer.start_span("root")
    assert span.parent_id is None and span.trace_id and span.span_id
    assert span.is_sampled() and not span.is_debug()
    assert sampler.calls == [(span.trace_id, "root")]
    assert [(k, v) for k, _, v in span._tags] == [
        ("sampler.type", "const"),
        ("sampler.param", True),
    ]


def test_child_of_a_span_or_a_context_continues_its_trace() -> None:
    sampler = FakeSampler(True, {"sampler.type": "const"})
    tracer = make_tracer(sampler=sampler)
    parent = tracer.start_span("parent")
    parent.set_baggage_item("k", "v")
    for child_of in (parent, parent.context):
        child = tracer.start_span("child", child_of=child_of)
        assert child.trace_id == parent.trace_id and child.parent_id == parent.span_id
        assert child.span_id != parent.span_id
        assert child.flags == parent.flags and child.get_baggage_item("k") == "v"
        assert child._tags == []  # sampler tags go on the root span only
    assert len(sampler.calls) == 1


def test_unsampled_parent_gives_unsampled_children_without_asking_the_sampler() -> None:
    sampler = FakeSampler(False)
    tracer = make_tracer(sampler=sampler)
    child = tracer.start_span("child", child_of=tracer.start_span("parent"))
    assert not child.is_sampled() and len(sampler.calls) == 1


def test_active_span_is_the_implicit_parent_unless_ignored() -> None:
    tracer = make_tracer()
    with tracer.start_active_span("outer") as scope:
        outer = jaeger_span(scope)
        assert tracer.active_span is outer
        child = tracer.start_span("child")
        assert child.parent_id == outer.span_id
        root = tracer.start_span("root", ignore_active_span=True)
        assert root.parent_id is None and root.trace_id != outer.trace_id
        explicit = tracer.start_span("explicit", child_of=root)
        assert explicit.parent_id == root.span_id
    assert tracer.active_span is None


def test_start_active_span_keeps_upstreams_signature_and_defaults() -> None:
    tracer = make_tracer()
    scope = tracer.start_active_span()
    assert jaeger_span(scope).operation_name == ""
    scope.close()
    assert jaeger_span(scope).finished
    scope = tracer.start_active_span("op", finish_on_close=False)
    scope.close()
    assert not jaeger_span(scope).finished


def test_references_pick_the_first_reference_with_a_context() -> None:
    tracer = make_tracer()
    a = tracer.start_span("a")
    b = tracer.start_span("b")
    refs = [
        opentracing.follows_from(None),
        opentracing.follows_from(a.context),
        opentracing.child_of(b.context),
    ]
    span = tracer.start_span("op", references=refs)
    assert span.trace_id == a.trace_id and span.parent_id == a.span_id
    assert span.references == refs[1:]
    single = tracer.start_span("op", references=opentracing.child_of(b.context))
    assert single.parent_id == b.span_id and single.references == [opentracing.child_of(b.context)]


def test_child_of_wins_over_references() -> None:
    tracer = make_tracer()
    a = tracer.start_span("a")
    b = tracer.start_span("b")
    span = tracer.start_span("op", child_of=a, references=[opentracing.follows_from(b.context)])
    assert span.parent_id == a.span_id
    assert span.references == [opentracing.follows_from(b.context)]


def test_references_without_contexts_start_a_root_span() -> None:
    tracer = make_tracer()
    span = tracer.start_span("op", references=[opentracing.child_of(None)])
    assert span.parent_id is None and span.references is None


def test_starting_a_child_marks_the_parent_as_having_children() -> None:
    tracer = make_tracer()
    parent = tracer.start_span("parent")
    assert not parent.has_children
    tracer.start_span("child", child_of=parent.context)
    assert parent.has_children
    parent.set_baggage_item("k", "v")  # the context is replaced; the mark stays
    assert parent.has_children


def test_renaming_tells_the_sampler_whether_the_decision_was_handed_on() -> None:
    sampler = FakeSampler()
    tracer = make_tracer(sampler=sampler)
    root = tracer.start_span("first")
    root.set_operation_name("second")
    with tracer.scope_manager.activate(root, finish_on_close=False):
        tracer.start_span("child")
    root.set_operation_name("third")
    assert sampler.renamed == [(tracer, "second", False), (tracer, "third", True)]


# ---- ids -----------------------------------------------------------------------------------------


def test_ids_are_64_bit_by_default_and_128_bit_trace_ids_on_request() -> None:
    short = [make_tracer().start_span("op") for _ in range(200)]
    assert all(0 < s.trace_id < 2**64 and 0 < s.span_id < 2**64 for s in short)
    assert any(s.trace_id >= 2**63 for s in short)
    tracer = make_tracer(generate_128bit_trace_id=True)
    long = [tracer.start_span("op") for _ in range(200)]
    assert all(0 < s.trace_id < 2**128 and 0 < s.span_id < 2**64 for s in long)
    assert any(s.trace_id >= 2**64 for s in long)


def test_a_root_spans_id_is_its_trace_ids_low_64_bits() -> None:
    """As jaeger-client-go and -java do (one random draw per trace, not two)."""
    assert all(s.span_id == s.trace_id for s in (make_tracer().start_span("op") for _ in range(50)))
    tracer = make_tracer(generate_128bit_trace_id=True)
    for s in (tracer.start_span("op") for _ in range(50)):
        assert s.span_id == s.trace_id & (2**64 - 1)
    child = tracer.start_span("child", child_of=s)
    assert child.span_id != s.span_id and child.parent_id == s.span_id


def test_ids_are_never_zero() -> None:
    """0 means "absent" on the wire; a generator that yields 0 is asked again."""
    tracer = make_tracer()

    class ZeroFirst(random.Random):
        def __init__(self) -> None:
            super().__init__(1)
            self.zeros = 0

        def getrandbits(self, k: int) -> int:
            self.zeros += 1
            return 0 if self.zeros % 2 else super().getrandbits(k)

    tracer.random = ZeroFirst()
    root = tracer.start_span("root")
    child = tracer.start_span("child", child_of=root)
    assert root.trace_id and root.span_id and child.span_id
    assert tracer._random_id(64) and tracer.random_id()


def test_ids_come_from_the_tracers_random_instance() -> None:
    """Users' tests patch ``tracer.random``; the seam must keep working."""
    tracer = make_tracer()
    tracer.random = random.Random(42)
    first = tracer.start_span("op")
    tracer.random = random.Random(42)
    second = tracer.start_span("op")
    assert (first.trace_id, first.span_id) == (second.trace_id, second.span_id)


def test_two_tracers_draw_different_ids() -> None:
    a, b = make_tracer(), make_tracer()
    assert {a.start_span("op").trace_id for _ in range(50)}.isdisjoint(
        {b.start_span("op").trace_id for _ in range(50)}
    )


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs os.fork")
@pytest.mark.filterwarnings(
    # 3.12+: fork() in a process with threads warns; this test forks on purpose
    "ignore:This process .* is multi-threaded, use of fork\\(\\):DeprecationWarning"
)
def test_forked_child_draws_different_ids_than_its_parent() -> None:
    """Upstream's RNG state was copied into pre-fork workers: identical ids (#282, #305)."""
    tracer = make_tracer()
    tracer.start_span("warm-up")
    read_fd, write_fd = os.pipe()
    pid = os.fork()
    if pid == 0:  # pragma: no cover - runs in the child
        try:
            ids = []
            for _ in range(100):
                span = tracer.start_span("op")
                ids += [span.trace_id, span.span_id]
            os.write(write_fd, json.dumps(ids).encode())
        finally:
            os._exit(0)
    os.close(write_fd)
    parent_ids = []
    for _ in range(100):
        span = tracer.start_span("op")
        parent_ids += [span.trace_id, span.span_id]
    chunks = []
    while chunk := os.read(read_fd, 65536):
        chunks.append(chunk)
    os.close(read_fd)
    _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0
    child_ids = json.loads(b"".join(chunks))
    assert len(child_ids) == 200
    assert set(child_ids).isdisjoint(parent_ids)


class ForkOwner:
    def __init__(self, name: str, fd: int, fail: bool = False) -> None:
        self.name, self.fd, self.fail = name, fd, fail

    def after_fork(self) -> None:
        if self.fail:
            raise RuntimeError("hook failed")
        os.write(self.fd, self.name.encode())


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs os.fork")
@pytest.mark.filterwarnings(
    "ignore:This process .* is multi-threaded, use of fork\\(\\):DeprecationWarning"
)
def test_fork_hooks_run_in_order_skip_collected_owners_and_survive_a_failing_one() -> None:
    from jaeger_client import _fork

    read_fd, write_fd = os.pipe()
    owners = [
        ForkOwner("a", write_fd),
        ForkOwner("b", write_fd, fail=True),
        ForkOwner("c", write_fd),
        ForkOwner("d", write_fd),
    ]
    for owner in owners:
        _fork.after_fork_in_child(owner.after_fork)
    del owner, owners[3]  # "d" is collected: its hook must not run
    pid = os.fork()
    if pid == 0:  # pragma: no cover - runs in the child
        os._exit(0)
    os.close(write_fd)
    _, status = os.waitpid(pid, 0)
    out = os.read(read_fd, 100)
    os.close(read_fd)
    assert os.waitstatus_to_exitcode(status) == 0
    assert out == b"ac"


def test_fork_hook_registry_drops_collected_owners() -> None:
    from jaeger_client import _fork

    for i in range(500):
        make_tracer()  # each registers a hook, then is collected
        if i % 10 == 0:
            # tracers die only by the cycle collector (opentracing's no-op span points back at the
            # tracer); 3.13 runs it less often, so collect here to make the bound deterministic
            gc.collect()
    alive = [ref for ref, _ in _fork._methods if ref() is not None]
    assert len(_fork._methods) <= max(64, 2 * len(alive)) + 1


# ---- debug ids, baggage-only carriers, one span per RPC ------------------------------------------


def test_debug_id_carrier_starts_a_debug_trace_tagged_with_the_id() -> None:
    sampler = FakeSampler(False)
    tracer = make_tracer(sampler=sampler)
    span = tracer.start_span("op", child_of=SpanContext.with_debug_id("corr-42"))
    assert span.is_sampled() and span.is_debug() and span.parent_id is None
    assert [(k, v) for k, _, v in span._tags] == [("jaeger-debug-id", "corr-42")]
    assert sampler.calls == []


def test_debug_id_header_name_is_configurable() -> None:
    tracer = make_tracer(debug_id_header="x-debug")
    span = tracer.start_span("op", child_of=SpanContext.with_debug_id("c"))
    assert [k for k, _, _ in span._tags] == ["x-debug"]


def test_throttled_debug_id_falls_back_to_the_sampler() -> None:
    throttler = FakeThrottler(allowed=False)
    sampler = FakeSampler(True, {"sampler.type": "const"})
    tracer = make_tracer(sampler=sampler, throttler=throttler)
    span = tracer.start_span("op", child_of=SpanContext.with_debug_id("corr"))
    assert throttler.asked == ["op"]
    assert span.is_sampled() and not span.is_debug()
    assert [k for k, _, _ in span._tags] == ["sampler.type"]


def test_baggage_only_carrier_starts_a_trace_with_its_baggage_and_asks_the_sampler() -> None:
    sampler = FakeSampler(True)
    tracer = make_tracer(sampler=sampler)
    carrier = SpanContext(None, None, None, None, baggage={"k": "v"})
    span = tracer.start_span("op", child_of=carrier)
    assert span.parent_id is None and span.is_sampled()
    assert span.context.baggage == {"k": "v"} and len(sampler.calls) == 1


def test_one_span_per_rpc_server_span_shares_the_client_span_id() -> None:
    tracer = make_tracer(one_span_per_rpc=True)
    client = SpanContext(trace_id=10, span_id=20, parent_id=5, flags=SAMPLED_FLAG)
    server_tags = {ext_tags.SPAN_KIND: ext_tags.SPAN_KIND_RPC_SERVER}
    server = tracer.start_span("op", child_of=client, tags=server_tags)
    assert (server.trace_id, server.span_id, server.parent_id) == (10, 20, 5)
    other = tracer.start_span("op", child_of=client)
    assert other.span_id != 20 and other.parent_id == 20
    plain = make_tracer().start_span("op", child_of=client, tags=server_tags)
    assert plain.span_id != 20 and plain.parent_id == 20


def test_start_span_tags_are_applied_after_sampler_tags() -> None:
    tracer = make_tracer(sampler=FakeSampler(True, {"sampler.type": "const"}))
    span = tracer.start_span("op", tags={"a": 1, "sampler.type": "mine"})
    assert [(k, v) for k, _, v in span._tags] == [
        ("sampler.type", "const"),
        ("a", 1),
        ("sampler.type", "mine"),
    ]


def test_sampling_priority_in_start_span_tags_forces_debug() -> None:
    tracer = make_tracer(sampled=False)
    span = tracer.start_span("op", tags={ext_tags.SAMPLING_PRIORITY: 1})
    assert span.is_sampled() and span.is_debug()


# ---- metrics -------------------------------------------------------------------------------------


def test_upstream_span_and_trace_metrics_are_emitted() -> None:
    counts = Counts()
    reporter = ListReporter()
    tracer = make_tracer(
        reporter=reporter, metrics_factory=LegacyMetricsFactory(Metrics(count=counts))
    )
    root = tracer.start_span("root")
    child = tracer.start_span("child", child_of=root)
    server = tracer.start_span(
        "server", child_of=root, tags={ext_tags.SPAN_KIND: ext_tags.SPAN_KIND_RPC_SERVER}
    )
    for span in (server, child, root):
        span.finish()
    unsampled = make_tracer(sampled=False, metrics=Metrics(count=counts))
    u_root = unsampled.start_span("root")
    unsampled.start_span(
        "server", child_of=u_root, tags={ext_tags.SPAN_KIND: ext_tags.SPAN_KIND_RPC_SERVER}
    ).finish()
    u_root.finish()
    assert counts.values == {
        "jaeger:traces.sampled_y.state_started": 1,
        "jaeger:traces.sampled_y.state_joined": 1,
        "jaeger:started_spans.sampled_y": 3,
        "jaeger:finished_spans": 3,
        "jaeger:traces.sampled_n.state_started": 1,
        "jaeger:traces.sampled_n.state_joined": 1,
        "jaeger:started_spans.sampled_n": 2,
    }


def test_span_context_decoding_errors_are_counted_and_raised() -> None:
    class Corrupt:
        def inject(self, span_context: Any, carrier: Any) -> None:
            pass

        def extract(self, carrier: Any) -> Any:
            raise opentracing.SpanContextCorruptedException("bad")

    counts = Counts()
    tracer = make_tracer(
        extra_codecs={"corrupt": Corrupt()},
        metrics_factory=LegacyMetricsFactory(Metrics(count=counts)),
    )
    with pytest.raises(opentracing.SpanContextCorruptedException):
        tracer.extract("corrupt", {})
    assert counts.values["jaeger:span_context_decoding_errors"] == 1


def test_corrupt_inbound_context_is_logged_once_a_minute_and_counted_every_time(
    caplog: pytest.LogCaptureFixture,
) -> None:
    counts = Counts()
    tracer = make_tracer(metrics_factory=LegacyMetricsFactory(Metrics(count=counts)))
    carrier = {"uber-trace-id": "not-a-trace-id" + "x" * 500}
    with caplog.at_level(logging.WARNING, logger="jaeger_tracing"):
        for _ in range(5):
            with pytest.raises(opentracing.SpanContextCorruptedException):
                tracer.extract(opentracing.Format.TEXT_MAP, carrier)
    assert counts.values["jaeger:span_context_decoding_errors"] == 5
    (record,) = [r for r in caplog.records if "Cannot extract" in r.getMessage()]
    assert len(record.getMessage()) < 400  # the header's value is cut, not logged whole


# ---- propagation ---------------------------------------------------------------------------------


@pytest.mark.parametrize("fmt", ["nope", ["an", "unhashable", "format"], {}])
def test_unknown_format_raises_unsupported_format(fmt: Any) -> None:
    tracer = make_tracer()
    span = tracer.start_span("op")
    with pytest.raises(UnsupportedFormatException):
        tracer.inject(span.context, fmt, {})
    with pytest.raises(UnsupportedFormatException):
        tracer.extract(fmt, {})


def test_a_format_mapped_to_none_is_unsupported() -> None:
    tracer = make_tracer(extra_codecs={Format.BINARY: None})
    span = tracer.start_span("op")
    with pytest.raises(UnsupportedFormatException):
        tracer.inject(span.context, Format.BINARY, bytearray())
    with pytest.raises(UnsupportedFormatException):
        tracer.extract(Format.BINARY, bytearray())


def test_inject_accepts_a_span_and_rejects_foreign_contexts() -> None:
    tracer = make_tracer()
    span = tracer.start_span("op")
    carrier: dict[str, str] = {}
    tracer.inject(span, Format.TEXT_MAP, carrier)
    assert carrier
    with pytest.raises(ValueError, match="Expecting Jaeger SpanContext"):
        tracer.inject(opentracing.SpanContext(), Format.TEXT_MAP, {})


def test_inject_marks_the_context_as_handed_on() -> None:
    tracer = make_tracer()
    span = tracer.start_span("op")
    tracer.inject(span.context, Format.HTTP_HEADERS, {})
    assert span.has_children


def test_extra_codecs_add_and_replace_formats() -> None:
    class Recording:
        def __init__(self) -> None:
            self.injected: list[Any] = []

        def inject(self, span_context: Any, carrier: Any) -> None:
            self.injected.append(span_context)
            carrier["ctx"] = span_context

        def extract(self, carrier: Any) -> Any:
            return carrier["ctx"]

    custom, text = Recording(), Recording()
    tracer = make_tracer(extra_codecs={"custom": custom, Format.TEXT_MAP: text})
    span = tracer.start_span("op")
    carrier: dict[str, Any] = {}
    tracer.inject(span, "custom", carrier)
    assert tracer.extract("custom", carrier) is span.context
    tracer.inject(span, Format.TEXT_MAP, {})
    assert text.injected == [span.context]


@pytest.mark.parametrize("fmt", [Format.TEXT_MAP, Format.HTTP_HEADERS, Format.BINARY])
def test_inject_extract_round_trip(fmt: str) -> None:
    tracer = make_tracer()
    span = tracer.start_span("op")
    span.set_baggage_item("user", "ann")
    carrier: Any = bytearray() if fmt == Format.BINARY else {}
    tracer.inject(span.context, fmt, carrier)
    ctx = tracer.extract(fmt, carrier)
    assert ctx is not None
    assert (ctx.trace_id, ctx.span_id, ctx.flags) == (span.trace_id, span.span_id, span.flags)
    assert ctx.baggage == {"user": "ann"}
    child = tracer.start_span("child", child_of=ctx)
    assert child.trace_id == span.trace_id and child.parent_id == span.span_id


# ---- scope managers ------------------------------------------------------------------------------


def test_contextvars_scope_manager_gives_gathered_tasks_the_parent() -> None:
    tracer = make_tracer(scope_manager=ContextVarsScopeManager())

    async def child(name: str) -> Optional[int]:
        await asyncio.sleep(0)
        with tracer.start_active_span(name) as scope:
            return jaeger_span(scope).parent_id

    async def main() -> tuple[int, list[Optional[int]]]:
        with tracer.start_active_span("parent") as scope:
            parents = await asyncio.gather(child("a"), child("b"))
            return jaeger_span(scope).span_id, list(parents)

    parent_id, parents = asyncio.run(main())
    assert parents == [parent_id, parent_id]


def test_thread_local_scopes_do_not_leak_between_threads() -> None:
    tracer = make_tracer()
    seen: list[Any] = []
    with tracer.start_active_span("main"):
        t = threading.Thread(target=lambda: seen.append(tracer.active_span))
        t.start()
        t.join()
        seen.append(tracer.start_span("after-thread").parent_id is not None)
    assert seen == [None, True]


# ---- close ---------------------------------------------------------------------------------------


def test_close_is_idempotent_and_closes_every_part() -> None:
    sampler, throttler, reporter = FakeSampler(), FakeThrottler(), ListReporter()
    tracer = make_tracer(sampler=sampler, throttler=throttler, reporter=reporter)
    first = tracer.close()
    assert isinstance(first, CloseFuture) and first.result(timeout=1) is None
    assert tracer.close() is first
    assert (sampler.closed, throttler.closed, reporter.closed) == (1, 1, 1)


def test_close_adopts_a_foreign_future_and_survives_a_failing_part(
    caplog: pytest.LogCaptureFixture,
) -> None:
    import concurrent.futures

    class BadSampler(FakeSampler):
        def close(self) -> None:
            raise RuntimeError("sampler close failed")

    foreign: concurrent.futures.Future[Any] = concurrent.futures.Future()

    class FutureReporter(ListReporter):
        def close(self) -> Any:
            return foreign

    tracer = make_tracer(sampler=BadSampler(), reporter=FutureReporter())
    future = tracer.close()
    assert not future.done()
    foreign.set_result("flushed")
    assert future.result(timeout=1) == "flushed"
    assert "error closing" in caplog.text


def test_close_future_can_be_awaited() -> None:
    future = make_tracer().close()

    async def wait() -> Any:
        return await future

    assert asyncio.run(wait()) is None


def test_noop_tracer_closes_and_flushes() -> None:
    tracer = NoopTracer()
    assert tracer.close().result(timeout=1) is None and tracer.flush()
    with tracer.start_active_span("op") as scope:
        scope.span.set_tag("k", "v")


def test_flush_delegates_to_the_reporter_when_it_can() -> None:
    class Flushing(ListReporter):
        def flush(self, timeout: Optional[float] = None) -> bool:
            self.timeout = timeout
            return False

    reporter = Flushing()
    assert make_tracer(reporter=reporter).flush(2.0) is False and reporter.timeout == 2.0
    assert make_tracer().flush() is True


# ---- python -O -----------------------------------------------------------------------------------

O_SUITES = {
    "core": [
        "tests/test_tracer.py::test_constructor_rejects_invalid_arguments",
        "tests/test_span.py::test_non_integer_sampling_priority_is_ignored_without_raising",
        "tests/test_span.py::test_hostile_tag_and_log_values_never_raise_and_always_encode",
        "tests/test_values.py::test_value_is_stored_with_its_wire_type",
    ],
    "sampler": ["tests/test_sampler.py"],
    "config": ["tests/test_config.py"],
}


@pytest.mark.slow
@pytest.mark.parametrize("suite", O_SUITES)
def test_validation_also_holds_under_python_O(suite: str) -> None:
    """``python -O`` strips ``assert``: validation must not be written with it."""
    nodes = O_SUITES[suite]
    if not (TESTS.parent / nodes[0].split("::")[0]).exists():
        pytest.skip(f"{nodes[0]} does not exist yet")
    result = subprocess.run(
        [
            sys.executable,
            "-O",
            "-m",
            "pytest",
            "-q",
            "-p",
            "no:cacheprovider",
            "-W",
            "ignore:assertions not in test modules:pytest.PytestConfigWarning",
            "-m",
            "not slow",
            *nodes,
        ],
        cwd=TESTS.parent,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
