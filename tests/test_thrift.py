"""jaeger_client.thrift: domain objects -> jaeger.thrift structs (upstream's function names)."""

from __future__ import annotations

import math
from typing import Any

import opentracing
import pytest

from jaeger_client import _values
from jaeger_client import thrift as jthrift
from jaeger_client.reporter import InMemoryReporter
from jaeger_client.sampler import ConstSampler
from jaeger_client.span_context import SpanContext
from jaeger_client.thrift_gen.jaeger import ttypes
from jaeger_client.thrift_gen.sampling import SamplingManager as sampling

I64_MAX = (1 << 63) - 1
U64_MAX = (1 << 64) - 1


def make_tracer(**kwargs: Any) -> tuple[Any, InMemoryReporter]:
    from jaeger_client.tracer import Tracer

    reporter = InMemoryReporter()
    return Tracer("svc", reporter, ConstSampler(True), **kwargs), reporter


@pytest.mark.parametrize(
    ("unsigned", "signed"),
    [
        (0, 0),
        (1, 1),
        (I64_MAX, I64_MAX),
        (I64_MAX + 1, -(1 << 63)),
        (U64_MAX, -1),
        (0xFEDCBA9876543210, 0xFEDCBA9876543210 - (1 << 64)),
        (None, None),
    ],
)
def test_id_to_int_is_twos_complement_of_the_unsigned_id(unsigned: Any, signed: Any) -> None:
    assert jthrift.id_to_int(unsigned) == signed


def test_128_bit_ids_split_into_low_and_high_halves() -> None:
    trace_id = (0x0123456789ABCDEF << 64) | 0xFEDCBA9876543210
    assert jthrift._id_to_low(trace_id) == 0xFEDCBA9876543210
    assert jthrift._id_to_high(trace_id) == 0x0123456789ABCDEF
    assert jthrift._id_to_high(5) == 0
    assert jthrift._id_to_low(None) is None and jthrift._id_to_high(None) is None


def test_timestamp_micros_truncates_like_upstream() -> None:
    assert jthrift.timestamp_micros(1.0000019) == 1000001
    assert jthrift.timestamp_micros(1700000000.123456) == int(1700000000.123456 * 1000000)
    assert jthrift.timestamp_micros(0.0) == 0


@pytest.mark.parametrize(
    ("value", "vtype", "field", "expected"),
    [
        ("x", ttypes.TagType.STRING, "vStr", "x"),
        (True, ttypes.TagType.BOOL, "vBool", True),
        (42, ttypes.TagType.LONG, "vLong", 42),
        (-(1 << 63), ttypes.TagType.LONG, "vLong", -(1 << 63)),
        (1 << 63, ttypes.TagType.STRING, "vStr", str(1 << 63)),
        (2.5, ttypes.TagType.DOUBLE, "vDouble", 2.5),
        (b"\x00\xff", ttypes.TagType.BINARY, "vBinary", b"\x00\xff"),
        (bytearray(b"ab"), ttypes.TagType.BINARY, "vBinary", b"ab"),
        (None, ttypes.TagType.STRING, "vStr", "None"),
        ("\ud800", ttypes.TagType.STRING, "vStr", "?"),
    ],
)
def test_make_tag_picks_the_thrift_type(value: Any, vtype: int, field: str, expected: Any) -> None:
    tag = jthrift.make_tag("k", value, 1024, 4096)
    assert tag.key == "k"
    assert tag.vType == vtype
    assert getattr(tag, field) == expected
    others = {"vStr", "vBool", "vLong", "vDouble", "vBinary"} - {field}
    assert all(getattr(tag, name) is None for name in others)


def test_make_tag_truncates_strings_and_stringifies_keys() -> None:
    tag = jthrift.make_tag(7, "y" * 50, max_length=10)
    assert (tag.key, tag.vStr) == ("7", "y" * 10)
    assert [t.key for t in jthrift.make_tags({"a": 1, "b": "2"}, 10, 10)] == ["a", "b"]
    assert jthrift.make_tags(None, 10, 10) == []


def test_make_log_converts_timestamp_and_fields() -> None:
    log = jthrift.make_log(12.5, {"event": "x", "n": 3}, 1024, 4096)
    assert log.timestamp == 12500000
    assert [(f.key, f.vType) for f in log.fields] == [
        ("event", ttypes.TagType.STRING),
        ("n", ttypes.TagType.LONG),
    ]


def test_make_process_keeps_tag_types_and_max_length() -> None:
    process = jthrift.make_process(
        "svc", {"ip": "10.0.0.1", "client-uuid": 2**62, "long": "z" * 100, "ok": True}, 12
    )
    assert process.serviceName == "svc"
    tags = {t.key: t for t in process.tags}
    assert tags["client-uuid"].vLong == 2**62
    assert tags["long"].vStr == "z" * 12
    assert tags["ok"].vBool is True


def test_make_ref_type_and_references() -> None:
    assert jthrift.make_ref_type(opentracing.ReferenceType.FOLLOWS_FROM) == 1
    assert jthrift.make_ref_type(opentracing.ReferenceType.CHILD_OF) == 0
    assert jthrift.make_references(None) is None
    assert jthrift.make_references([]) is None
    ctx = SpanContext(trace_id=(5 << 64) | U64_MAX, span_id=I64_MAX + 1, parent_id=None, flags=1)
    refs = jthrift.make_references(
        [opentracing.follows_from(ctx), opentracing.child_of(None), opentracing.child_of(ctx)]
    )
    assert refs == [
        ttypes.SpanRef(refType=1, traceIdLow=-1, traceIdHigh=5, spanId=-(1 << 63)),
        ttypes.SpanRef(refType=0, traceIdLow=-1, traceIdHigh=5, spanId=-(1 << 63)),
    ]


def test_make_span_maps_every_field() -> None:
    tracer, reporter = make_tracer(generate_128bit_trace_id=True)
    trace_id = (U64_MAX << 64) | (I64_MAX + 7)
    parent = SpanContext(trace_id=trace_id, span_id=U64_MAX, parent_id=None, flags=3)
    other = SpanContext(trace_id=9, span_id=10, parent_id=None, flags=1)
    span = tracer.start_span(
        "op",
        child_of=parent,
        references=[opentracing.follows_from(other)],
        start_time=1700000000.25,
        tags={"s": "v", "b": False, "l": -3, "d": 0.5, "bin": b"\x01"},
    )
    span.log_kv({"event": "e"}, timestamp=1700000000.5)
    span.finish(finish_time=1700000001.75)
    thrift_span = jthrift.make_span(reporter.get_spans()[0])
    assert thrift_span.traceIdLow == I64_MAX + 7 - (1 << 64)
    assert thrift_span.traceIdHigh == -1
    assert thrift_span.spanId == jthrift.id_to_int(span.span_id)
    assert thrift_span.parentSpanId == -1
    assert thrift_span.operationName == "op"
    assert thrift_span.flags == 3
    assert thrift_span.startTime == 1700000000250000
    assert thrift_span.duration == 1500000
    assert thrift_span.references == [
        ttypes.SpanRef(refType=1, traceIdLow=9, traceIdHigh=0, spanId=10)
    ]
    assert {t.key: t.vType for t in thrift_span.tags} == {
        "s": 0,
        "b": 2,
        "l": 3,
        "d": 1,
        "bin": 4,
    }
    assert [(log.timestamp, log.fields[0].vStr) for log in thrift_span.logs] == [
        (1700000000500000, "e")
    ]


def test_make_span_root_child_of_and_odd_names() -> None:
    """A root has parent 0; child_of= yields no references (upstream); names always encode."""
    tracer, reporter = make_tracer()
    root = tracer.start_span(None)
    child = tracer.start_span("\udcff bad", child_of=root)
    child.finish()
    root.finish()
    thrift_child, thrift_root = (jthrift.make_span(s) for s in reporter.get_spans())
    assert thrift_root.parentSpanId == 0
    assert thrift_root.traceIdHigh == 0
    assert thrift_root.operationName == ""
    assert thrift_child.references is None
    assert thrift_child.parentSpanId == jthrift.id_to_int(root.span_id)
    assert thrift_child.operationName == "? bad"
    assert thrift_child.tags == [] and thrift_child.logs == []


def test_make_jaeger_batch_carries_seq_no_and_stats() -> None:
    tracer, reporter = make_tracer()
    tracer.start_span("a").finish()
    process = jthrift.make_process("svc", {}, 10)
    stats = jthrift.make_client_stats(1, 2, 3)
    batch = jthrift.make_jaeger_batch(reporter.get_spans(), process, seq_no=4, stats=stats)
    assert batch.seqNo == 4
    assert (
        batch.stats.fullQueueDroppedSpans,
        batch.stats.tooLargeDroppedSpans,
        batch.stats.failedToEmitSpans,
    ) == (1, 2, 3)
    assert [s.operationName for s in batch.spans] == ["a"]
    assert jthrift.make_jaeger_batch([], process).seqNo is None


def test_span_tags_and_logs_properties_use_make_thrift_tag_and_log() -> None:
    tracer, _ = make_tracer()
    span = tracer.start_span("op", tags={"x": 1.5})
    span.log_kv({"k": b"v"}, timestamp=2.0)
    assert ttypes.Tag(key="x", vType=1, vDouble=1.5) in span.tags
    assert span.logs == [
        ttypes.Log(timestamp=2000000, fields=[ttypes.Tag(key="k", vType=4, vBinary=b"v")])
    ]
    nan_tag = jthrift.make_thrift_tag(("n", _values.DOUBLE, math.nan))
    assert math.isnan(nan_tag.vDouble)


def test_parse_sampling_strategy_reports_errors_as_values() -> None:
    response = sampling.SamplingStrategyResponse
    probabilistic = sampling.ProbabilisticSamplingStrategy
    sampler, error = jthrift.parse_sampling_strategy(
        response(strategyType=0, probabilisticSampling=probabilistic(samplingRate=0.25))
    )
    assert error is None and sampler.rate == 0.25
    assert jthrift.parse_sampling_strategy(response(strategyType=0))[1] == (
        "probabilisticSampling field is None"
    )
    assert jthrift.parse_sampling_strategy(
        response(strategyType=0, probabilisticSampling=probabilistic(samplingRate=2.0))
    ) == (None, "Probabilistic sampling rate not in [0, 1] range: 2.0")
    assert jthrift.parse_sampling_strategy(response(strategyType=1))[1] == (
        "rateLimitingSampling field is None"
    )
    assert jthrift.parse_sampling_strategy(response(strategyType=7)) == (
        None,
        "Unsupported sampling strategy type: 7",
    )
