"""Span behaviour: tags, logs, baggage, sampling.priority, finish, limits, thread safety."""

from __future__ import annotations

import inspect
import logging
import math
import threading
import time
from typing import Any, Optional

import opentracing
import pytest
from opentracing.ext import tags as ext_tags
from thrift.protocol import TCompactProtocol
from thrift.transport import TTransport

from jaeger_client import Span, SpanContext, Tracer
from jaeger_client import span as span_module
from jaeger_client._values import BINARY, BOOL, DOUBLE, LONG, STRING
from jaeger_client.constants import DEBUG_FLAG, SAMPLED_FLAG
from jaeger_client.thrift_gen.jaeger import ttypes

# ---- fakes at our own seams ----------------------------------------------------------------------


class FakeSampler:
    """Satisfies the sampler protocol; records what it was asked."""

    def __init__(self, decision: bool = True, tags: Optional[dict[str, Any]] = None) -> None:
        self.decision = decision
        self.tags = tags
        self.calls: list[tuple[int, str]] = []
        self.renamed: list[str] = []

    def is_sampled(self, trace_id: int, operation: str = "") -> tuple[bool, Any]:
        self.calls.append((trace_id, operation))
        return self.decision, self.tags

    def on_operation_renamed(self, tracer: Any, span: Any) -> None:
        self.renamed.append(span.operation_name)

    def close(self) -> None:
        pass


class ListReporter:
    def __init__(self) -> None:
        self.spans: list[Span] = []
        self.lock = threading.Lock()

    def set_process(self, service_name: str, tags: Any, max_length: int) -> None:
        self.process = (service_name, dict(tags), max_length)

    def report_span(self, span: Span) -> None:
        with self.lock:
            self.spans.append(span)

    def close(self) -> None:
        return None


class FakeThrottler:
    def __init__(self, allowed: bool) -> None:
        self.allowed = allowed
        self.asked: list[Any] = []

    def is_allowed(self, operation: Any) -> bool:
        self.asked.append(operation)
        return self.allowed

    def set_client_id(self, client_id: int) -> None:
        self.client_id = client_id


def make_tracer(sampled: bool = True, **kwargs: Any) -> Tracer:
    kwargs.setdefault("reporter", ListReporter())
    kwargs.setdefault("sampler", FakeSampler(sampled))
    return Tracer(service_name="svc", **kwargs)


def reported(tracer: Tracer) -> list[Span]:
    return tracer.reporter.spans  # type: ignore[no-any-return]


def jaeger_span(scope: opentracing.Scope) -> Span:
    assert isinstance(scope.span, Span)
    return scope.span


def tag_dict(span: Span) -> dict[str, Any]:
    return {k: v for k, _, v in span._tags}


def log_fields(span: Span, index: int = -1) -> dict[str, Any]:
    return {k: v for k, _, v in span._logs[index][1]}


# ---- construction -------------------------------------------------------------------------------


def test_constructor_keeps_upstreams_parameters() -> None:
    params = inspect.signature(Span.__init__).parameters
    assert list(params) == [
        "self",
        "context",
        "tracer",
        "operation_name",
        "tags",
        "start_time",
        "references",
    ]
    assert all(params[p].default is None for p in ("tags", "start_time", "references"))


def test_span_built_directly_applies_its_tags() -> None:
    tracer = make_tracer()
    span = Span(SpanContext(1, 2, None, SAMPLED_FLAG), tracer, "op", tags={"a": 1}, start_time=5.0)
    assert tag_dict(span) == {"a": 1}
    assert span.start_time == 5.0 and span.end_time is None and not span.finished


def test_start_time_defaults_to_now_and_bad_times_become_now() -> None:
    tracer = make_tracer()
    before = time.time()
    bad_times: list[Any] = [None, "yesterday", math.nan, math.inf, -1, 0, object()]
    for bad in bad_times:
        span = tracer.start_span("op", start_time=bad)
        assert before <= span.start_time <= time.time()
    assert tracer.start_span("op", start_time=123.5).start_time == 123.5
    assert tracer.start_span("op", start_time=7).start_time == 7.0


def test_operation_name_is_always_an_encodable_str() -> None:
    tracer = make_tracer()
    assert tracer.start_span().operation_name == ""
    assert tracer.start_span(None).operation_name == ""
    assert tracer.start_span("caf\u00e9").operation_name == "caf\u00e9"
    assert tracer.start_span("bad\ud800").operation_name == "bad?"
    assert tracer.start_span(42).operation_name == "42"  # type: ignore[arg-type]


# ---- tags ----------------------------------------------------------------------------------------


def test_set_tag_stores_converted_values_in_order_and_chains() -> None:
    span = make_tracer().start_span("op")
    assert span.set_tag("s", "v").set_tag("b", True).set_tag("i", 7).set_tag("f", 0.5) is span
    span.set_tag("big", 2**64).set_tag("none", None).set_tag("bytes", b"\x01")
    assert span._tags == [
        ("s", STRING, "v"),
        ("b", BOOL, True),
        ("i", LONG, 7),
        ("f", DOUBLE, 0.5),
        ("big", STRING, str(2**64)),
        ("none", STRING, "None"),
        ("bytes", BINARY, b"\x01"),
    ]


def test_set_tag_cuts_values_to_max_tag_value_length() -> None:
    span = make_tracer(max_tag_value_length=8).start_span("op")
    span.set_tag("long", "x" * 100).set_tag("list", list(range(100)))
    span.set_tag("key-longer-than-eight", 1)
    assert tag_dict(span) == {"long": "x" * 8, "list": "[0, 1, 2", "key-long": 1}


def test_unsampled_span_stores_no_tags_or_logs() -> None:
    tracer = make_tracer(sampled=False)
    span = tracer.start_span("op", tags={"a": 1})
    span.set_tag("b", 2).log_kv({"event": "x"})
    span.finish()
    assert not span._tags and not span._logs and reported(tracer) == []
    assert tracer.dropped.as_dict() == dict.fromkeys(tracer.dropped.as_dict(), 0)


def test_tags_over_max_tags_per_span_are_dropped_and_counted() -> None:
    tracer = make_tracer(max_tags_per_span=3)
    span = tracer.start_span("op")
    for i in range(5):
        span.set_tag(f"k{i}", i)
    assert list(tag_dict(span)) == ["k0", "k1", "k2"]
    assert tracer.dropped.tags == 2


def test_is_rpc_and_is_rpc_client_read_span_kind() -> None:
    tracer = make_tracer()
    client = tracer.start_span("op", tags={ext_tags.SPAN_KIND: ext_tags.SPAN_KIND_RPC_CLIENT})
    server = tracer.start_span("op", tags={ext_tags.SPAN_KIND: ext_tags.SPAN_KIND_RPC_SERVER})
    plain = tracer.start_span("op")
    assert client.is_rpc() and client.is_rpc_client()
    assert server.is_rpc() and not server.is_rpc_client()
    assert not plain.is_rpc() and not plain.is_rpc_client()


# ---- sampling.priority --------------------------------------------------------------------------


def test_positive_sampling_priority_forces_sampling_and_debug_and_is_recorded() -> None:
    tracer = make_tracer(sampled=False)
    span = tracer.start_span("op")
    span.set_tag("early", 1)  # dropped: the span was not sampled yet (as upstream)
    span.set_tag(ext_tags.SAMPLING_PRIORITY, 1)
    assert span.is_sampled() and span.is_debug()
    assert tag_dict(span) == {ext_tags.SAMPLING_PRIORITY: 1}
    span.finish()
    assert reported(tracer) == [span]


def test_zero_sampling_priority_unsamples_and_is_not_recorded() -> None:
    tracer = make_tracer()
    span = tracer.start_span("op")
    span.set_tag(ext_tags.SAMPLING_PRIORITY, 0)
    assert not span.is_sampled() and not span.is_debug()
    assert ext_tags.SAMPLING_PRIORITY not in tag_dict(span)
    span.finish()
    assert reported(tracer) == []


def test_sampling_priority_accepts_an_integer_string() -> None:
    span = make_tracer(sampled=False).start_span("op")
    span.set_tag(ext_tags.SAMPLING_PRIORITY, "2")
    assert span.is_debug() and tag_dict(span) == {ext_tags.SAMPLING_PRIORITY: "2"}


class RaisingBool:
    def __bool__(self) -> bool:
        raise RuntimeError("no truth")

    def __int__(self) -> int:
        raise RuntimeError("no int")


@pytest.mark.parametrize(
    "value", [None, object(), "high", "1.5", math.nan, math.inf, [], {}, RaisingBool()]
)
def test_non_integer_sampling_priority_is_ignored_without_raising(value: Any) -> None:
    """Upstream raised TypeError into the app for None and object()."""
    tracer = make_tracer(sampled=False)
    span = tracer.start_span("op")
    span.set_tag(ext_tags.SAMPLING_PRIORITY, value)
    assert span.flags == 0 and not span._tags
    debug = tracer.start_span("op")
    debug.context.flags = SAMPLED_FLAG | DEBUG_FLAG
    debug.set_tag(ext_tags.SAMPLING_PRIORITY, value)
    assert debug.is_debug() and not debug._tags


def test_sampling_priority_on_a_debug_span_does_not_ask_the_throttler_again() -> None:
    throttler = FakeThrottler(allowed=True)
    span = make_tracer(sampled=False, throttler=throttler).start_span("op")
    span.set_tag(ext_tags.SAMPLING_PRIORITY, 1)
    span.set_tag(ext_tags.SAMPLING_PRIORITY, 1)
    assert throttler.asked == ["op"]
    assert [k for k, _, _ in span._tags] == [ext_tags.SAMPLING_PRIORITY]


def test_sampling_priority_denied_by_the_throttler_changes_nothing() -> None:
    throttler = FakeThrottler(allowed=False)
    span = make_tracer(sampled=False, throttler=throttler).start_span("op")
    span.set_tag(ext_tags.SAMPLING_PRIORITY, 1)
    assert throttler.asked == ["op"]
    assert not span.is_sampled() and not span._tags


def test_sampling_priority_key_may_be_a_str_subclass() -> None:
    class Key(str):
        pass

    span = make_tracer(sampled=False).start_span("op")
    span.set_tag(Key(ext_tags.SAMPLING_PRIORITY), 1)
    assert span.is_debug()


# ---- logs ----------------------------------------------------------------------------------------


def test_log_kv_stores_converted_fields_with_a_timestamp() -> None:
    span = make_tracer().start_span("op")
    before = time.time()
    assert span.log_kv({"event": "x", "n": 2**70, "ok": True}) is span
    ts, fields = span._logs[0]
    assert before <= ts <= time.time()
    assert fields == [("event", STRING, "x"), ("n", STRING, str(2**70)), ("ok", BOOL, True)]
    span.log_kv({"a": 1}, timestamp=1234.5)
    assert span._logs[1][0] == 1234.5


def test_log_kv_with_a_bad_timestamp_uses_now() -> None:
    span = make_tracer().start_span("op")
    before = time.time()
    span.log_kv({"a": 1}, timestamp="noon")  # type: ignore[arg-type]
    assert span._logs[0][0] >= before


def test_log_kv_with_a_non_mapping_records_it_as_the_event() -> None:
    span = make_tracer().start_span("op")
    span.log_kv("just a message")  # type: ignore[arg-type]
    span.log_kv(None)  # type: ignore[arg-type]
    assert log_fields(span, 0) == {"event": "just a message"}
    assert log_fields(span, 1) == {"event": "None"}


def test_log_kv_with_a_mapping_that_raises_records_what_it_can() -> None:
    class Broken(dict):  # type: ignore[type-arg]
        def items(self) -> Any:
            raise RuntimeError("nope")

        def __repr__(self) -> str:
            return "Broken()"

    span = make_tracer().start_span("op")
    span.log_kv(Broken(a=1))
    assert log_fields(span) == {"event": "Broken()"}


def test_log_fields_over_max_fields_per_log_are_dropped_and_counted() -> None:
    tracer = make_tracer(max_fields_per_log=3)
    span = tracer.start_span("op")
    span.log_kv({f"k{i}": i for i in range(10)})
    assert list(log_fields(span)) == ["k0", "k1", "k2"]
    assert tracer.dropped.log_fields == 7


def test_logs_over_max_logs_per_span_are_dropped_and_counted() -> None:
    tracer = make_tracer(max_logs_per_span=2)
    span = tracer.start_span("op")
    for i in range(5):
        span.log_kv({"i": i})
    assert [log_fields(span, i)["i"] for i in range(2)] == [0, 1]
    assert tracer.dropped.logs == 3


def test_deprecated_log_methods_still_log() -> None:
    span = make_tracer().start_span("op")
    span.log_event("ev", payload={"p": 1})
    span.log(event="ev2", payload=3)
    span.info("info-msg", "pl")
    span.error("err-msg", {"e": 1})
    assert log_fields(span, 0) == {"event": "ev", "payload": "{'p': 1}"}
    assert log_fields(span, 1) == {"event": "ev2", "payload": 3}
    assert log_fields(span, 2) == {"event": "info-msg", "payload": "pl"}
    assert log_fields(span, 3) == {"event": "err-msg", "payload": "{'e': 1}"}
    assert tag_dict(span) == {"error": True}


# ---- errors in `with` blocks ---------------------------------------------------------------------


def fail_deeply(depth: int) -> None:
    if depth:
        fail_deeply(depth - 1)
    raise ValueError("went wrong")


def test_exception_in_a_with_block_sets_error_and_logs_it() -> None:
    tracer = make_tracer(max_traceback_length=300)
    with pytest.raises(ValueError), tracer.start_span("op") as span:
        fail_deeply(20)
    assert span.finished and reported(tracer) == [span]
    assert tag_dict(span) == {"error": True}
    fields = log_fields(span)
    assert fields["event"] == "error"
    assert fields["message"] == "went wrong"
    assert fields["error.object"] == "went wrong"
    assert fields["error.kind"] == "<class 'ValueError'>"
    assert len(fields["stack"]) == 300
    assert 'raise ValueError("went wrong")' in fields["stack"]  # the innermost frame is kept


def test_exception_in_an_active_scope_sets_error_and_finishes_the_span() -> None:
    tracer = make_tracer()
    with pytest.raises(KeyError), tracer.start_active_span("op") as scope:
        raise KeyError("missing")
    span = jaeger_span(scope)
    assert span.finished
    assert tag_dict(span) == {"error": True}
    assert log_fields(span)["error.kind"] == "<class 'KeyError'>"


# ---- baggage -------------------------------------------------------------------------------------


def test_baggage_set_get_delete_and_logged_when_sampled() -> None:
    span = make_tracer().start_span("op")
    assert span.set_baggage_item("user", "ann") is span
    assert span.get_baggage_item("user") == "ann"
    span.set_baggage_item("user", "bob")
    span.set_baggage_item("user", None)
    assert span.get_baggage_item("user") is None and span.context.baggage == {}
    assert [log_fields(span, i) for i in range(3)] == [
        {"event": "baggage", "key": "user", "value": "ann"},
        {"event": "baggage", "key": "user", "value": "bob", "override": "true"},
        {"event": "baggage", "key": "user", "value": "None", "override": "true"},
    ]


def test_baggage_on_an_unsampled_span_is_kept_but_not_logged() -> None:
    span = make_tracer(sampled=False).start_span("op")
    span.set_baggage_item("k", "v")
    assert span.get_baggage_item("k") == "v" and not span._logs


def test_baggage_values_that_are_not_strings_become_strings() -> None:
    span = make_tracer().start_span("op")
    span.set_baggage_item("n", 42)  # type: ignore[arg-type]
    assert span.get_baggage_item("n") == "42"


def test_baggage_does_not_leak_into_the_parent_context() -> None:
    tracer = make_tracer()
    parent = tracer.start_span("parent")
    parent.set_baggage_item("a", "1")
    child = tracer.start_span("child", child_of=parent)
    child.set_baggage_item("b", "2")
    assert parent.context.baggage == {"a": "1"}
    assert child.context.baggage == {"a": "1", "b": "2"}


class Restrictions:
    def __init__(self, rules: dict[str, tuple[bool, int]]) -> None:
        self.rules = rules

    def get_restriction(self, service: str, key: str) -> tuple[bool, int]:
        return self.rules[key]


def test_baggage_restrictions_deny_and_truncate() -> None:
    counts: dict[str, int] = {}

    def count(key: str, value: int) -> None:
        counts[key] = counts.get(key, 0) + value

    from jaeger_client.metrics import LegacyMetricsFactory, Metrics

    tracer = make_tracer(
        baggage_restrictions=Restrictions({"no": (False, 0), "short": (True, 3)}),
        metrics_factory=LegacyMetricsFactory(Metrics(count=count)),
    )
    span = tracer.start_span("op")
    span.set_baggage_item("no", "value")
    span.set_baggage_item("short", "abcdef")
    assert span.context.baggage == {"short": "abc"}
    assert log_fields(span, 0) == {
        "event": "baggage",
        "key": "no",
        "value": "None",
        "invalid": "true",
    }
    assert log_fields(span, 1)["truncated"] == "true"
    assert counts["jaeger:baggage_updates.result_err"] == 1
    assert counts["jaeger:baggage_updates.result_ok"] == 1
    assert counts["jaeger:baggage_truncations"] == 1


# ---- operation name ------------------------------------------------------------------------------


def test_set_operation_name_renames_and_tells_the_sampler() -> None:
    sampler = FakeSampler()
    span = make_tracer(sampler=sampler).start_span("first")
    assert span.set_operation_name("second") is span
    assert span.operation_name == "second" and sampler.renamed == ["second"]


# ---- finish --------------------------------------------------------------------------------------


def test_finish_reports_a_sampled_span_once_with_its_end_time() -> None:
    tracer = make_tracer()
    span = tracer.start_span("op", start_time=100.0)
    span.finish(finish_time=101.5)
    assert span.finished and span.end_time == 101.5
    assert reported(tracer) == [span]


def test_finish_without_time_uses_now() -> None:
    span = make_tracer().start_span("op")
    span.finish()
    assert span.end_time is not None and span.start_time <= span.end_time <= time.time()


def test_unsampled_span_is_finished_but_not_reported() -> None:
    tracer = make_tracer(sampled=False)
    span = tracer.start_span("op")
    span.finish()
    assert span.finished and reported(tracer) == []


def test_second_finish_is_ignored_counted_and_warned_about_once(
    caplog: pytest.LogCaptureFixture,
) -> None:
    span_module._warn.reset()
    tracer = make_tracer()
    span = tracer.start_span("op")
    span.finish(finish_time=10.0)
    with caplog.at_level(logging.WARNING, logger="jaeger_tracing"):
        for _ in range(5):
            span.finish(finish_time=20.0)
    assert span.end_time == 10.0 and reported(tracer) == [span]
    assert tracer.dropped.finish_twice == 5
    warnings = [r for r in caplog.records if "already been finished" in r.getMessage()]
    assert len(warnings) == 1 and warnings[0].levelno == logging.WARNING


def test_mutations_after_finish_are_ignored_and_counted() -> None:
    tracer = make_tracer()
    span = tracer.start_span("op")
    span.set_tag("before", 1)
    span.finish()
    span.set_tag("after", 1)
    span.set_tag(ext_tags.SAMPLING_PRIORITY, 0)
    span.log_kv({"after": 1})
    span.set_operation_name("renamed")
    span.set_baggage_item("k", "v")
    assert tag_dict(span) == {"before": 1} and span._logs == []
    assert span.operation_name == "op" and span.is_sampled()
    assert span.context.baggage == {}
    assert tracer.dropped.after_finish == 5


# ---- views and identity --------------------------------------------------------------------------


def test_id_properties_and_repr() -> None:
    tracer = make_tracer()
    span = Span(SpanContext(0xABC, 0x12, 0x34, SAMPLED_FLAG), tracer, "op")
    assert (span.trace_id, span.span_id, span.parent_id, span.flags) == (0xABC, 0x12, 0x34, 1)
    assert span.is_sampled() and not span.is_debug()
    assert repr(span) == "abc:12:34:1 svc.op"
    assert span.context is span._context and span.tracer is tracer
    assert isinstance(span, opentracing.Span)


def test_tags_and_logs_properties_give_thrift_objects() -> None:
    span = make_tracer().start_span("op")
    span.set_tag("s", "v").set_tag("n", 3)
    span.log_kv({"event": "e"}, timestamp=2.0)
    assert span.tags == [
        ttypes.Tag(key="s", vType=ttypes.TagType.STRING, vStr="v"),
        ttypes.Tag(key="n", vType=ttypes.TagType.LONG, vLong=3),
    ]
    assert span.logs == [
        ttypes.Log(
            timestamp=2000000,
            fields=[ttypes.Tag(key="event", vType=ttypes.TagType.STRING, vStr="e")],
        )
    ]


# ---- torture: every hostile value class, through the real encoder --------------------------------


class RaisingStr:
    def __str__(self) -> str:
        raise RuntimeError("str")

    def __repr__(self) -> str:
        raise RuntimeError("repr")


def hostile_values() -> dict[str, Any]:
    rec_list: list[Any] = []
    rec_list.append(rec_list)
    rec_dict: dict[str, Any] = {}
    rec_dict["me"] = rec_dict
    return {
        "i64max": (1 << 63) - 1,
        "i64min": -(1 << 63),
        "over": 1 << 63,
        "under": -(1 << 63) - 1,
        "huge": 1 << 20000,
        "nan": math.nan,
        "inf": math.inf,
        "ninf": -math.inf,
        "bytes": b"\x00\xff" * 1000,
        "surrogate": "\ud800x\udfff",
        "rec_list": rec_list,
        "rec_dict": rec_dict,
        "raising": RaisingStr(),
        "str10mb": "x" * 10_000_000,
        "list1m": list(range(1_000_000)),
        "none": None,
        "object": object(),
    }


def encode_span(span: Span) -> Any:
    from jaeger_client import thrift

    buf = TTransport.TMemoryBuffer()
    thrift.make_span(span).write(TCompactProtocol.TCompactProtocol(buf))
    decoded = ttypes.Span()
    decoded.read(TCompactProtocol.TCompactProtocol(TTransport.TMemoryBuffer(buf.getvalue())))
    return decoded


def test_hostile_tag_and_log_values_never_raise_and_always_encode() -> None:
    values = hostile_values()
    tracer = make_tracer(sampled=False)
    span = tracer.start_span("op\ud800")
    start = time.perf_counter()
    span.set_tag(ext_tags.SAMPLING_PRIORITY, None)
    span.set_tag(ext_tags.SAMPLING_PRIORITY, object())
    span.set_tag(ext_tags.SAMPLING_PRIORITY, 1)  # now sampled and debug
    for key, value in values.items():
        span.set_tag(key, value)
        span.log_kv({key: value, "event": key})
    span.set_baggage_item("b", "\ud800")
    span.finish()
    assert time.perf_counter() - start < 1.0
    assert reported(tracer) == [span]

    decoded = encode_span(span)
    wire = {t.key: t for t in decoded.tags}
    assert wire["i64max"].vLong == (1 << 63) - 1 and wire["i64min"].vLong == -(1 << 63)
    assert wire["over"].vStr == str(1 << 63) and wire["under"].vStr == str(-(1 << 63) - 1)
    assert math.isnan(wire["nan"].vDouble) and wire["inf"].vDouble == math.inf
    assert wire["bytes"].vType == ttypes.TagType.BINARY and len(wire["bytes"].vBinary) == 1024
    assert wire["surrogate"].vStr == "?x?"
    assert wire["raising"].vStr == "<unprintable RaisingStr object>"
    assert wire["none"].vStr == "None"
    assert decoded.operationName == "op?"
    for t in decoded.tags:
        if t.vType in (ttypes.TagType.STRING, ttypes.TagType.BINARY):
            assert len(t.vStr if t.vType == ttypes.TagType.STRING else t.vBinary) <= 1024
    assert len(decoded.logs) == len(values) + 1  # + the baggage log


# ---- thread safety -------------------------------------------------------------------------------


@pytest.mark.parametrize("max_tags", [1_000_000, 1000])
def test_concurrent_mutation_and_finish_lose_nothing_and_report_once(max_tags: int) -> None:
    """16 threads mutate one span while 4 others finish it: every call is stored or counted."""
    tracer = make_tracer(max_tags_per_span=max_tags, max_logs_per_span=max_tags)
    span = tracer.start_span("op")
    threads_n, per_thread = 16, 500
    barrier = threading.Barrier(threads_n + 4)
    halfway = threading.Event()
    finished = threading.Event()
    errors: list[BaseException] = []

    def mutate(n: int) -> None:
        try:
            barrier.wait()
            for i in range(per_thread):
                span.set_tag(f"t{n}", i)
                span.log_kv({"t": n, "i": i})
                if n == 0 and i == per_thread // 2:
                    halfway.set()
                    # the rest of writer 0's calls come after finish(): the race is certain
                    if not finished.wait(10):
                        raise AssertionError("no finish() within the deadline")
        except BaseException as e:  # any escape fails the test below
            errors.append(e)

    def finish() -> None:
        try:
            barrier.wait()
            if not halfway.wait(10):
                raise AssertionError("writer 0 never got halfway")
            span.finish()
            finished.set()
        except BaseException as e:
            errors.append(e)

    workers = [threading.Thread(target=mutate, args=(n,)) for n in range(threads_n)]
    workers += [threading.Thread(target=finish) for _ in range(4)]
    for w in workers:
        w.start()
    for w in workers:
        w.join(30)
    assert not any(w.is_alive() for w in workers)
    assert errors == []
    assert reported(tracer) == [span]
    dropped = tracer.dropped
    assert dropped.finish_twice == 3
    attempts = 2 * threads_n * per_thread
    stored = len(span._tags) + len(span._logs)
    assert stored + dropped.tags + dropped.logs + dropped.after_finish == attempts
    # writer 0's calls after its halfway mark all came after finish()
    assert dropped.after_finish >= 2 * (per_thread - per_thread // 2 - 1)
    assert len(span._tags) <= max_tags and len(span._logs) <= max_tags
    encode_span(span)


def test_baggage_written_by_many_threads_while_others_propagate_it_loses_nothing() -> None:
    """Go's TestBaggageContextRace: writers of different keys never lose each other's updates
    (the context is replaced under the span's lock), and a context being injected or read by
    another thread never changes under it (copy-on-write)."""
    from jaeger_client.reporter import InMemoryReporter
    from jaeger_client.sampler import ConstSampler

    tracer = Tracer("svc", InMemoryReporter(), ConstSampler(True))
    span = tracer.start_span("op")
    writers, rounds = 4, 300
    start = threading.Barrier(2 * writers)
    errors: list[BaseException] = []

    def write(i: int) -> None:
        try:
            start.wait(10)
            for j in range(rounds):
                span.set_baggage_item(f"k{i}", str(j))
        except BaseException as exc:  # collected, asserted below
            errors.append(exc)

    def propagate() -> None:
        try:
            start.wait(10)
            for _ in range(rounds):
                context = span.context
                before = dict(context.baggage)
                carrier: dict[str, str] = {}
                tracer.inject(context, opentracing.Format.TEXT_MAP, carrier)
                extracted = tracer.extract(opentracing.Format.TEXT_MAP, carrier)
                assert dict(context.baggage) == before == dict(extracted.baggage)
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=write, args=(i,)) for i in range(writers)]
    threads += [threading.Thread(target=propagate) for _ in range(writers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert not [t for t in threads if t.is_alive()]
    assert errors == []
    assert dict(span.context.baggage) == {f"k{i}": str(rounds - 1) for i in range(writers)}
    span.finish()
