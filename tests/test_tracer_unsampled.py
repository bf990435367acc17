"""Spans started unsampled: no lock until one is needed, finish() claimed without one."""

from __future__ import annotations

import sys
import threading
from typing import Any

from jaeger_client import ConstSampler, Tracer
from jaeger_client.reporter import InMemoryReporter

THREADS = 16


def make_tracer() -> tuple[Tracer, InMemoryReporter]:
    reporter = InMemoryReporter()
    return Tracer("svc", reporter, ConstSampler(False)), reporter


def run_together(target: Any, count: int = THREADS) -> None:
    barrier = threading.Barrier(count)
    errors: list[BaseException] = []

    def run(k: int) -> None:
        try:
            barrier.wait(10.0)
            target(k)
        except BaseException as e:  # re-raised below, in the test's thread
            errors.append(e)

    interval = sys.getswitchinterval()
    sys.setswitchinterval(1e-5)  # switch threads every few bytecodes: real interleaving
    try:
        threads = [threading.Thread(target=run, args=(k,)) for k in range(count)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(10.0)
    finally:
        sys.setswitchinterval(interval)
    assert errors == []


def test_an_unsampled_span_has_no_lock_until_update_lock_is_read() -> None:
    span = make_tracer()[0].start_span("op")
    assert span._lock is None
    lock = span.update_lock
    assert span.update_lock is lock and span._lock is lock
    with lock:  # a mutator waits for it, as on a sampled span
        assert not span.finished
    span.finish()
    assert span.finished and span.end_time is None  # upstream: no end time unless sampled


def test_sixteen_threads_finishing_an_unsampled_span_count_fifteen_repeats() -> None:
    tracer, reporter = make_tracer()
    for _ in range(20):
        span = tracer.start_span("op")
        run_together(lambda k, span=span: span.finish())
        assert span.finished
    assert tracer.dropped.finish_twice == 20 * (THREADS - 1)
    assert reporter.get_spans() == []


def test_priority_racing_finish_reports_the_span_once_or_counts_the_tag_after_finish() -> None:
    """Half the threads raise sampling.priority while the other half finish the span: either
    the priority landed first (the span is reported once, with the tag) or it came too late
    (counted after finish, span not reported)."""
    tracer, reporter = make_tracer()
    rounds = 50
    for _ in range(rounds):
        span = tracer.start_span("op")

        def act(k: int, span: Any = span) -> None:
            if k % 2:
                span.set_tag("sampling.priority", 1)
            else:
                span.finish()

        run_together(act)
    reported = reporter.get_spans()
    assert len({id(s) for s in reported}) == len(reported)  # none reported twice
    assert all(s.end_time is not None for s in reported)
    per_span_tags = THREADS // 2
    # every priority call on a span was either stored (debug already set after the first is
    # not a new tag) or counted after finish
    assert tracer.dropped.finish_twice == rounds * (THREADS // 2 - 1)
    assert tracer.dropped.after_finish <= rounds * per_span_tags
    for s in reported:
        assert [t.key for t in s.tags].count("sampling.priority") == 1


def test_an_unsampled_span_made_sampled_stores_tags_and_logs_in_its_own_lists() -> None:
    tracer, reporter = make_tracer()
    first, second = tracer.start_span("a"), tracer.start_span("b")
    first.set_tag("sampling.priority", 1).set_tag("k", "v").log_kv({"event": "e"})
    assert [t.key for t in first.tags] == ["sampling.priority", "k"] and len(first.logs) == 1
    assert not second._tags and not second._logs  # the shared empties stayed empty
    first.finish()
    second.finish()
    assert reporter.get_spans() == [first]


# ---- W3C tracestate: a child inherits its parent's ----------------------------------------------


def test_a_child_inherits_the_parents_trace_state_only_when_it_has_one() -> None:
    import pytest

    from jaeger_client import SpanContext

    if "_trace_state" not in getattr(SpanContext, "__slots__", ()):
        pytest.skip("SpanContext has no _trace_state slot yet")
    tracer = make_tracer()[0]
    parent = SpanContext(1, 2, None, 1)
    parent._trace_state = "vendor=abc"  # type: ignore[attr-defined]  # slot added later
    child = tracer.start_span("child", child_of=parent)
    grandchild = tracer.start_span("grandchild", child_of=child)
    assert child.context._trace_state == "vendor=abc"  # type: ignore[attr-defined]
    assert grandchild.context._trace_state == "vendor=abc"  # type: ignore[attr-defined]
    plain = tracer.start_span("plain", child_of=SpanContext(1, 2, None, 1))
    assert getattr(plain.context, "_trace_state", None) is None


def test_a_child_of_a_context_subclass_inherits_its_trace_state() -> None:
    from jaeger_client import SpanContext

    class WithTraceState(SpanContext):
        __slots__ = ("_trace_state",) if "_trace_state" not in SpanContext.__slots__ else ()

    tracer = make_tracer()[0]
    parent = WithTraceState(1, 2, None, 1)
    parent._trace_state = "vendor=abc"
    child = tracer.start_span("child", child_of=parent)
    assert child.context._trace_state == "vendor=abc"  # type: ignore[attr-defined]
    assert getattr(tracer.start_span("x", child_of=child).context, "_trace_state", None) == (
        "vendor=abc" if "_trace_state" in SpanContext.__slots__ else None
    )


# ---- a root span started unsampled gets its SpanContext only when asked -------------------------

ID64 = (1 << 64) - 1


def test_an_unsampled_root_is_tagged_logged_and_finished_without_a_context() -> None:
    tracer, reporter = make_tracer()
    span = tracer.start_span("op")
    span.set_tag("a", 1).set_tag("b", "x").set_tag("error", False).log_kv({"event": "e"})
    assert span.flags == 0 and not span.is_sampled() and not span.has_children
    assert span.parent_id is None and span.get_baggage_item("k") is None
    span.finish()
    assert span._context is None  # nothing above needed one: the cost this saves
    assert span.finished and reporter.get_spans() == []


def test_a_lazily_made_context_is_stable_and_keeps_the_trace_id_read_before() -> None:
    tracer = make_tracer()[0]
    span = tracer.start_span("op")
    trace_id = span.trace_id
    context = span.context
    assert span.context is context and span._context is context
    assert (context.trace_id, context.span_id, context.parent_id, context.flags) == (
        trace_id,
        trace_id,  # a root span's id is its trace id's low 64 bits
        None,
        0,
    )
    assert (span.trace_id, span.span_id) == (trace_id, trace_id)
    assert repr(span) == f"{trace_id:x}:{trace_id:x}:0:0 svc.op"


def test_a_128_bit_trace_gets_its_low_64_bits_as_the_root_span_id() -> None:
    tracer = Tracer("svc", InMemoryReporter(), ConstSampler(False), generate_128bit_trace_id=True)
    spans = [tracer.start_span("op") for _ in range(20)]
    assert any(s.trace_id >> 64 for s in spans)
    for span in spans:
        trace_id = span.trace_id
        assert span.span_id == trace_id & ID64  # 0 (then a random id) once in 2**64
        assert span.context.trace_id == trace_id


def test_threads_asking_for_the_context_all_get_the_same_one() -> None:
    tracer = make_tracer()[0]
    for _ in range(20):
        span = tracer.start_span("op")
        seen: list[Any] = [None] * THREADS
        children: list[Any] = [None] * THREADS

        def ask(k: int, span: Any = span, seen: Any = seen, children: Any = children) -> None:
            if k % 2:
                seen[k] = span.context
            else:
                children[k] = tracer.start_span("child", child_of=span)

        run_together(ask)
        context = span.context
        assert all(c is context for c in seen[1::2])
        assert all(
            (c.trace_id, c.parent_id) == (context.trace_id, context.span_id) for c in children[::2]
        )
        assert span.has_children


def test_a_child_of_an_unsampled_root_carries_its_trace_and_parent_ids() -> None:
    tracer = make_tracer()[0]
    root = tracer.start_span("root")
    child = tracer.start_span("child", child_of=root)
    assert (child.trace_id, child.parent_id, child.flags) == (root.trace_id, root.span_id, 0)
    assert child.span_id != root.span_id and root.has_children
    with tracer.scope_manager.activate(root, finish_on_close=True):
        active_child = tracer.start_span("active-child")  # the parent found by the scope manager
    assert (active_child.trace_id, active_child.parent_id) == (root.trace_id, root.span_id)
    assert root.finished


def test_sampling_priority_on_an_unsampled_root_reports_it_with_its_ids() -> None:
    from jaeger_client.thrift import make_span

    tracer, reporter = make_tracer()
    span = tracer.start_span("op")
    trace_id = span.trace_id
    span.set_tag("sampling.priority", 1).set_tag("k", "v")
    span.finish()
    assert reporter.get_spans() == [span] and span.end_time is not None
    assert span.is_sampled() and span.is_debug()
    thrift_span = make_span(span)
    signed = trace_id - (1 << 64) if trace_id >> 63 else trace_id  # Thrift i64
    assert (thrift_span.traceIdLow, thrift_span.spanId, thrift_span.parentSpanId) == (
        signed,
        signed,
        0,
    )
    started_with_it = tracer.start_span("op2", tags={"sampling.priority": 1})
    assert started_with_it.is_sampled() and started_with_it.span_id == started_with_it.trace_id


def test_late_binding_samples_an_unsampled_root_that_is_then_reported() -> None:
    from jaeger_client.sampler import AdaptiveSampler

    strategies = {
        "defaultSamplingProbability": 0.0,
        "defaultLowerBoundTracesPerSecond": 0.0,
        "perOperationStrategies": [
            {"operation": "specific", "probabilisticSampling": {"samplingRate": 1.0}}
        ],
    }
    reporter = InMemoryReporter()
    tracer = Tracer("svc", reporter, AdaptiveSampler(strategies, 10))
    span = tracer.start_span("generic")
    trace_id = span.trace_id
    span.set_operation_name("specific")
    span.finish()
    assert reporter.get_spans() == [span]
    assert (span.trace_id, span.span_id, span.parent_id) == (trace_id, trace_id, None)


def test_an_unsampled_root_injects_its_ids() -> None:
    from opentracing import Format

    tracer = make_tracer()[0]
    for as_span in (True, False):
        span = tracer.start_span("op")
        carrier: dict[str, str] = {}
        tracer.inject(span if as_span else span.context, Format.TEXT_MAP, carrier)
        extracted = tracer.extract(Format.TEXT_MAP, carrier)
        assert extracted is not None
        assert (extracted.trace_id, extracted.span_id, extracted.flags) == (
            span.trace_id,
            span.span_id,
            0,
        )
        assert span.has_children  # the decision went downstream: late binding leaves it


def test_baggage_on_an_unsampled_root_is_kept_and_inherited() -> None:
    tracer = make_tracer()[0]
    span = tracer.start_span("op")
    span.set_baggage_item("tenant", "acme")
    assert span.get_baggage_item("tenant") == "acme" and span.trace_id == span.span_id
    child = tracer.start_span("child", child_of=span)
    assert child.get_baggage_item("tenant") == "acme" and child.parent_id == span.span_id


def test_an_unsampled_root_after_finish_still_has_ids_and_ignores_priority() -> None:
    tracer, reporter = make_tracer()
    span = tracer.start_span("op")
    span.finish()
    span.set_tag("sampling.priority", 1)
    assert tracer.dropped.after_finish == 1 and not span.is_sampled()
    assert span.context.trace_id == span.trace_id == span.span_id
    span.finish()
    assert tracer.dropped.finish_twice == 1 and reporter.get_spans() == []


def test_every_context_start_span_builds_has_its_trace_state_set() -> None:
    """start_span builds contexts inline (not through __init__): each sets the slot too."""
    from jaeger_client import SpanContext

    for sampled in (True, False):
        tracer = Tracer("svc", InMemoryReporter(), ConstSampler(sampled))
        root = tracer.start_span("root")
        child = tracer.start_span("child", child_of=root)
        grandchild = tracer.start_span("grandchild", child_of=child.context)
        for span in (root, child, grandchild):
            assert span.context._trace_state is None
    parent = SpanContext(1, 2, None, 1)
    parent._trace_state = "vendor=abc"
    assert tracer.start_span("child", child_of=parent).context._trace_state == "vendor=abc"
    # a context with the slot unset (built without __init__) is still a valid parent
    bare = object.__new__(SpanContext)
    bare.trace_id, bare.span_id, bare.parent_id, bare.flags = 1, 2, None, 1
    bare._baggage, bare._debug_id = {}, None
    assert tracer.start_span("child", child_of=bare).context._trace_state is None
