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
