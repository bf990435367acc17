"""Wire encoders (jaeger_client._encode): byte-identical to thrift's own, every path, every edge."""

from __future__ import annotations

import importlib.util
import math
import os
import random
from typing import Any

import opentracing
import pytest
from conftest import decode_emit_batch
from hypothesis import given, settings
from hypothesis import strategies as st
from thrift.protocol import TBinaryProtocol, TCompactProtocol
from thrift.protocol.TProtocol import TProtocolException
from thrift.Thrift import TMessageType
from thrift.transport import TTransport

from jaeger_client import _encode, _values
from jaeger_client import thrift as jthrift
from jaeger_client.reporter import InMemoryReporter
from jaeger_client.sampler import ConstSampler
from jaeger_client.span import Span
from jaeger_client.span_context import SpanContext
from jaeger_client.thrift_gen.agent import Agent
from jaeger_client.thrift_gen.jaeger import ttypes

needs_fastbinary = pytest.mark.skipif(
    not _encode.HAS_FASTBINARY, reason="thrift built without its C extension (fastbinary)"
)

I64_MAX = (1 << 63) - 1
U64_MAX = (1 << 64) - 1
SPAN_SPEC = [ttypes.Span, ttypes.Span.thrift_spec]


def make_tracer(**kwargs: Any) -> tuple[Any, InMemoryReporter]:
    from jaeger_client.tracer import Tracer

    reporter = InMemoryReporter()
    tracer = Tracer("svc", reporter, ConstSampler(True), **kwargs)
    return tracer, reporter


def thrift_compact(obj: Any) -> bytes:
    """thrift's generic pure-Python compact encoding of a generated struct (the reference)."""
    buf = TTransport.TMemoryBuffer()
    obj.write(TCompactProtocol.TCompactProtocol(buf))
    return bytes(buf.getvalue())


def thrift_binary(obj: Any) -> bytes:
    buf = TTransport.TMemoryBuffer()
    obj.write(TBinaryProtocol.TBinaryProtocol(buf))
    return bytes(buf.getvalue())


def encoders() -> list[_encode.CompactEncoder]:
    found = [_encode.CompactEncoder(accelerated=False)]
    if _encode.HAS_FASTBINARY:
        found.append(_encode.CompactEncoder(accelerated=True))
    return found


def assert_encodes_like_thrift(span: Span, encs: list[_encode.CompactEncoder]) -> bytes:
    expected = thrift_compact(jthrift.make_span(span))
    if _encode.HAS_FASTBINARY:
        from thrift.protocol import fastbinary

        assert fastbinary.encode_compact(jthrift.make_span(span), SPAN_SPEC) == expected
    for enc in encs:
        assert enc.encode_span(span) == expected, (enc.is_accelerated, span)
    return expected


# ---- random spans --------------------------------------------------------------------------------

_IDS = [1, 2, 0x7F, 0x80, 0x3FFF, 0x4000, I64_MAX, I64_MAX + 1, U64_MAX, U64_MAX - 1]


def random_id(rng: random.Random, bits: int) -> int:
    if rng.random() < 0.3:
        value = rng.choice(_IDS)
        if bits == 128 and rng.random() < 0.5:
            value |= rng.choice(_IDS) << 64
        return value
    return rng.getrandbits(bits) or 1


def random_value(rng: random.Random) -> Any:
    return rng.choice(
        [
            lambda: "".join(rng.choice("ab ü€😀\x00") for _ in range(rng.randrange(0, 20))),
            lambda: "x" * rng.choice([0, 127, 128, 300, 2000]),
            lambda: "lone \ud800 surrogate",
            lambda: rng.randrange(-(1 << 63), 1 << 63),
            lambda: rng.choice([0, 1, -1, 63, 64, -65, 8191, 8192, I64_MAX, -I64_MAX - 1]),
            lambda: rng.choice([1 << 63, -(1 << 63) - 1, 1 << 70]),  # -> decimal STRING
            lambda: rng.choice([0.0, -0.0, 1.5, -2.25, math.inf, -math.inf, math.nan, 1e308]),
            lambda: rng.random() * 1e6,
            lambda: rng.random() < 0.5,
            lambda: bytes(rng.getrandbits(8) for _ in range(rng.choice([0, 1, 5, 200]))),
            lambda: None,
            lambda: [1, "two", 3.0],
        ]
    )()


def random_spans(rng: random.Random, n: int) -> list[Span]:
    tracer, reporter = make_tracer(max_tag_value_length=4096)
    for _ in range(n):
        bits = rng.choice([64, 128])
        references = None
        kind = rng.random()
        if kind < 0.3:
            parent = None
        else:
            parent = SpanContext(
                trace_id=random_id(rng, bits),
                span_id=random_id(rng, 64),
                parent_id=None,
                flags=rng.choice([1, 3]),
            )
        if kind > 0.8:
            other = SpanContext(random_id(rng, bits), random_id(rng, 64), None, 1)
            references = [
                rng.choice([opentracing.child_of, opentracing.follows_from])(other)
                for _ in range(rng.randrange(1, 17))
            ]
        name = rng.choice(["op", "", "ünïcode €", "x" * 200, None, "\udcff"])
        start = rng.choice([1.7e9 + rng.random() * 1e6, 1.0, 0.5])
        span = tracer.start_span(name, child_of=parent, references=references, start_time=start)
        for i in range(rng.choice([0, 1, 3, 14, 15, 40])):
            span.set_tag(rng.choice(["k", f"key{i}", "ключ", ""]), random_value(rng))
        for _ in range(rng.choice([0, 0, 1, 2, 16])):
            fields = {f"f{j}": random_value(rng) for j in range(rng.choice([0, 1, 2, 15]))}
            span.log_kv(fields, timestamp=rng.choice([None, start + rng.random(), -1.5, 1e-7]))
        span.finish(finish_time=start + rng.choice([0.0, 1e-6, 0.25, 3600.0, -0.5]))
    return reporter.get_spans()


def test_random_spans_encode_like_thrift_on_every_path() -> None:
    """Pure, accelerated, fastbinary and thrift's generic encoder agree on 200 random spans."""
    rng = random.Random(1234)
    encs = encoders()
    spans = random_spans(rng, 200)
    assert len(spans) == 200
    for span in spans:
        assert_encodes_like_thrift(span, encs)
    # the same spans again, through warm tag caches, and in another order
    rng.shuffle(spans)
    for span in spans:
        assert_encodes_like_thrift(span, encs)


def test_edge_ids_timestamps_and_lists_encode_like_thrift() -> None:
    tracer, reporter = make_tracer(generate_128bit_trace_id=True, max_tags_per_span=20000)
    for trace_id in (1, I64_MAX, I64_MAX + 1, U64_MAX, (1 << 64), (1 << 128) - 1, 3 << 100):
        for span_id in (1, I64_MAX + 1, U64_MAX):
            ctx = SpanContext(trace_id=trace_id, span_id=span_id, parent_id=None, flags=1)
            tracer.start_span("child", child_of=ctx).finish()
    root = tracer.start_span("root")  # no parent; sampler tags
    root.finish()
    empty = tracer.start_span("empty", child_of=root)  # no tags at all
    empty.log_kv({})  # a log without fields
    empty.finish()
    many = tracer.start_span("many", child_of=root)
    for i in range(20000):  # list headers past 15 and past 2**14 elements
        many.set_tag(f"t{i}", i)
    many.finish()
    assert len(many._tags) == 20000
    encs = encoders()
    for span in reporter.get_spans():
        assert_encodes_like_thrift(span, encs)


@settings(deadline=None, max_examples=300)
@given(
    value=st.one_of(
        st.text(),
        st.integers(),
        st.floats(allow_nan=True, allow_infinity=True),
        st.binary(max_size=300),
        st.booleans(),
        st.none(),
    ),
    key=st.text(max_size=20),
)
def test_any_tag_value_encodes_like_thrift(key: str, value: Any) -> None:
    tag = _values.make_tag(key, value, 1024, 4096)
    expected = thrift_compact(jthrift.make_thrift_tag(tag))
    assert _encode._encode_tag(tag) == expected
    for enc in encoders():
        assert enc._tags([tag, tag]) == [expected, expected]  # miss, then (maybe) cache hit


def test_tag_cache_keeps_zero_signs_and_types_apart() -> None:
    """-0.0 == 0.0 and True == 1 as dict keys; the cache must not conflate their encodings."""
    tags = [
        ("d", _values.DOUBLE, -0.0),
        ("d", _values.DOUBLE, 0.0),
        ("d", _values.DOUBLE, math.nan),
        ("b", _values.BOOL, True),
        ("b", _values.LONG, 1),
        ("b", _values.DOUBLE, 1.0),
        ("b", _values.STRING, "1"),
        ("b", _values.BINARY, b"1"),
    ]
    for enc in encoders():
        for _ in range(2):
            for tag in tags + tags[::-1]:
                assert enc._tags([tag]) == [thrift_compact(jthrift.make_thrift_tag(tag))]


def test_tag_cache_is_bounded_and_stays_correct_after_clearing() -> None:
    tracer, _ = make_tracer(max_tags_per_span=_encode._TAG_CACHE_MAX)
    spans = []
    for i in range(3):
        span = tracer.start_span("op")
        for j in range(_encode._TAG_CACHE_MAX):
            span.set_tag("k", f"{i}-{j}")
        span.finish()
        spans.append(span)
    encs = encoders()
    for span in spans:  # 3 x 4096 distinct tags: the cache fills and is cleared twice
        assert len(span._tags) == _encode._TAG_CACHE_MAX
        assert_encodes_like_thrift(span, encs)
        for enc in encs:
            assert len(enc._tag_cache) <= _encode._TAG_CACHE_MAX
    big = ("k", _values.STRING, "x" * 1000)  # too big to cache: still right
    for enc in encs:
        assert enc._tags([big]) == [thrift_compact(jthrift.make_thrift_tag(big))]
        assert big not in enc._tag_cache


@pytest.mark.parametrize(
    "mutate",
    [
        pytest.param(lambda s: setattr(s, "start_time", 1e300), id="start-time-past-i64"),
        pytest.param(lambda s: setattr(s, "end_time", -1e300), id="duration-past-i64"),
        pytest.param(lambda s: setattr(s._context, "flags", 1 << 40), id="flags-past-i32"),
        pytest.param(lambda s: s._logs.append((1e300, [])), id="log-time-past-i64"),
        pytest.param(lambda s: setattr(s, "start_time", math.nan), id="nan-start-time"),
    ],
)
def test_unencodable_span_fails_in_every_encoder(mutate: Any) -> None:
    """A span that cannot be encoded raises in each path alike (the sender drops it alone)."""
    tracer, reporter = make_tracer()
    tracer.start_span("op").finish()
    span = reporter.get_spans()[0]
    mutate(span)
    with pytest.raises((OverflowError, ValueError, TProtocolException)):
        thrift_compact(jthrift.make_span(span))
    for enc in encoders():
        with pytest.raises((OverflowError, ValueError)):
            enc.encode_span(span)


def test_process_encodes_like_thrift() -> None:
    tags = {"jaeger.version": "Python-5", "ip": "10.0.0.1", "client-uuid": 2**62, 7: b"\x01"}
    tags.update({f"k{i}": i * 1.5 for i in range(20)})
    tuples = jthrift._process_tag_tuples(tags, 1024)
    expected = thrift_compact(jthrift.make_process("svc ü", tags, 1024))
    for enc in encoders():
        assert enc.encode_process("svc ü", tuples) == expected


def reference_emit_batch(batch: Any, seq_id: int) -> bytes:
    buf = TTransport.TMemoryBuffer()
    protocol = TCompactProtocol.TCompactProtocol(buf)
    protocol.writeMessageBegin("emitBatch", TMessageType.ONEWAY, seq_id)
    Agent.emitBatch_args(batch=batch).write(protocol)
    protocol.writeMessageEnd()
    return bytes(buf.getvalue())


@pytest.mark.parametrize("seq", [0, 1, 127, 128, (1 << 31) - 1])
@pytest.mark.parametrize("n_spans", [0, 1, 14, 15, 40])
def test_emit_batch_message_matches_thrift_client_message(seq: int, n_spans: int) -> None:
    rng = random.Random(seq * 100 + n_spans)
    spans = random_spans(rng, n_spans)
    tracer, _ = make_tracer()
    process = jthrift.make_process("svc", tracer.tags, 1024)
    stats = (rng.randrange(1 << 63), seq, n_spans)
    batch = jthrift.make_jaeger_batch(spans, process, seq, jthrift.make_client_stats(*stats))
    for enc in encoders():
        message = _encode.emit_batch_message(
            enc.encode_process("svc", jthrift._process_tag_tuples(tracer.tags, 1024)),
            [enc.encode_span(s) for s in spans],
            seq,
            seq,
            stats,
        )
        assert message == reference_emit_batch(batch, seq)
        decoded = decode_emit_batch(message)
        assert decoded.seqNo == seq
        assert decoded.stats == jthrift.make_client_stats(*stats)
        assert len(decoded.spans) == n_spans


def test_emit_batch_overhead_never_exceeds_the_constant() -> None:
    """Like Go's TestEmitBatchOverhead: envelope bytes beyond process and spans, at worst case.

    Largest seqid (31 bits), seqNo and all three ClientStats at max i64; span counts across
    every list-header size the packer can produce (a span is at least 20 bytes, so a 65,507-byte
    datagram holds fewer than 2**14 of them) and beyond.
    """
    tracer, reporter = make_tracer()
    tracer.start_span("").finish()
    enc = _encode.CompactEncoder()
    span = enc.encode_span(reporter.get_spans()[0])
    assert len(span) >= 20
    process = enc.encode_process("svc", [])
    worst = (I64_MAX, I64_MAX, I64_MAX)
    overheads = {}
    for n in [*range(0, 201), 16383, 16384, 65535]:
        message = _encode.emit_batch_message(process, [span] * n, (1 << 31) - 1, I64_MAX, worst)
        overheads[n] = len(message) - len(process) - n * len(span)
        assert overheads[n] <= _encode.EMIT_BATCH_OVERHEAD, n
    assert max(v for n, v in overheads.items() if n < 1 << 14) == 71
    assert overheads[1 << 14] == _encode.EMIT_BATCH_OVERHEAD == 72
    # with small numbers the envelope is much smaller: the constant is an upper bound
    small = _encode.emit_batch_message(process, [span], 1, 1, (0, 0, 0))
    assert len(small) - len(process) - len(span) == 29
    decode_emit_batch(
        _encode.emit_batch_message(process, [span] * 200, (1 << 31) - 1, I64_MAX, worst)
    )


@pytest.mark.parametrize("accelerated", [False, pytest.param(True, marks=needs_fastbinary)])
def test_binary_batch_body_matches_thrift_binary_protocol(accelerated: bool) -> None:
    rng = random.Random(7)
    spans = random_spans(rng, 40)
    tracer, _ = make_tracer()
    enc = _encode.BinaryEncoder(accelerated=accelerated)
    process = enc.encode_process("svc", jthrift._process_tag_tuples(tracer.tags, 1024))
    encoded = [enc.encode_span(s) for s in spans]
    body = _encode.binary_batch_body(process, encoded, 9, (1, 2, 3))
    batch = jthrift.make_jaeger_batch(
        spans,
        jthrift.make_process("svc", tracer.tags, 1024),
        9,
        jthrift.make_client_stats(1, 2, 3),
    )
    assert body == thrift_binary(batch)
    overhead = len(body) - len(process) - sum(map(len, encoded))
    assert overhead == _encode.BINARY_BATCH_OVERHEAD


def test_module_flag_forces_the_pure_encoder(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(_encode, "ACCELERATED", False)
    assert not _encode.CompactEncoder().is_accelerated
    assert not _encode.BinaryEncoder().is_accelerated
    assert not _encode.CompactEncoder(accelerated=False).is_accelerated


def test_accelerated_without_the_c_extension_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(_encode, "HAS_FASTBINARY", False)
    assert not _encode.CompactEncoder().is_accelerated
    with pytest.raises(ValueError, match="accelerated"):
        _encode.CompactEncoder(accelerated=True)
    with pytest.raises(ValueError, match="accelerated"):
        _encode.BinaryEncoder(accelerated=True)


@needs_fastbinary
def test_default_encoder_uses_the_c_extension_when_present() -> None:
    assert _encode.CompactEncoder().is_accelerated


def test_encode_benchmark_script_runs_and_agrees() -> None:
    """benchmarks/encode.py (µs/span for each path) still runs; its paths agree on sizes."""
    path = os.path.join(os.path.dirname(__file__), os.pardir, "benchmarks", "encode.py")
    spec = importlib.util.spec_from_file_location("bench_encode", path)
    assert spec is not None and spec.loader is not None
    bench = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(bench)
    for make in (bench.child_spans, bench.standard_spans):
        spans = make(20)
        sizes = {fn(spans) for fn in (bench.ours(None), bench.ours(False), bench.thrift_pure)}
        assert len(sizes) == 1
        assert bench.best_us_per_span(bench.ours(False), spans, 1) > 0


# ---- whole-list caches and a property over random spans ------------------------------------------


def decode_span(data: bytes) -> Any:
    """A span's compact bytes read back with thrift's own TCompactProtocol."""
    span = ttypes.Span()
    span.read(TCompactProtocol.TCompactProtocol(TTransport.TMemoryBuffer(data)))
    return span


_tag_values = st.one_of(
    st.text(max_size=40),
    st.integers(min_value=-(1 << 70), max_value=1 << 70),
    st.sampled_from([0, -1, 1, I64_MAX, -I64_MAX - 1, 1 << 63, -(1 << 63) - 1, 8191, 8192]),
    st.floats(allow_nan=True, allow_infinity=True),
    st.sampled_from([0.0, -0.0]),
    st.binary(max_size=40),
    st.booleans(),
    st.none(),
)
_ids = st.one_of(
    st.integers(min_value=1, max_value=U64_MAX),
    st.sampled_from([1, 0x3FFF, 0x4000, I64_MAX, I64_MAX + 1, U64_MAX]),
)
_tag_lists = st.lists(
    st.tuples(st.sampled_from(["k", "http.method", "ключ", ""]), _tag_values), max_size=18
)


@settings(deadline=None, max_examples=200)
@given(
    trace_id=st.one_of(_ids, st.integers(min_value=1, max_value=(1 << 128) - 1)),
    span_id=_ids,
    parent=st.sampled_from(["root", "trace", "other"]),
    flags=st.sampled_from([1, 3, 8191, 8193, (1 << 31) - 1]),  # sampled: tags are kept
    name=st.one_of(st.sampled_from(["op", "", "ünï", "x" * 130]), st.text(max_size=10)),
    start=st.floats(min_value=0.0, max_value=4e9),
    duration=st.sampled_from([0.0, 1e-6, 0.008191, 0.008192, 3600.0, -1.0]),
    tags=_tag_lists,
    logs=st.lists(_tag_lists, max_size=3),
    n_refs=st.integers(min_value=0, max_value=16),
)
def test_property_random_spans_decode_and_match_thrift(
    trace_id: int,
    span_id: int,
    parent: str,
    flags: int,
    name: str,
    start: float,
    duration: float,
    tags: list[tuple[str, Any]],
    logs: list[list[tuple[str, Any]]],
    n_refs: int,
) -> None:
    """Any ids, flags, references, tags and logs: every encoder writes thrift's bytes, twice."""
    tracer, _ = make_tracer(max_tags_per_span=100)
    parent_id = {"root": None, "trace": trace_id & U64_MAX, "other": span_id ^ 1}[parent]
    other = SpanContext(trace_id, span_id ^ 2, None, 1)
    references = [
        (opentracing.child_of if i % 2 else opentracing.follows_from)(other) for i in range(n_refs)
    ]
    span = Span(
        SpanContext(trace_id, span_id, parent_id, flags),
        tracer,
        name,
        start_time=start,
        references=references or None,
    )
    for key, value in tags:
        span.set_tag(key, value)
    for fields in logs:
        span.log_kv(dict(fields), timestamp=start + 0.5)
    span.finish(finish_time=start + duration)
    assert len(span._tags) == len(tags)
    expected = thrift_compact(jthrift.make_span(span))
    # repr: a NaN double makes == fail on equal structs
    assert repr(decode_span(expected)) == repr(jthrift.make_span(span))
    for enc in encoders():
        assert enc.encode_span(span) == expected
        assert enc.encode_span(span) == expected  # through the warm caches


def test_tag_list_cache_keeps_zero_signs_apart() -> None:
    """A tag list holding 0.0 is never cached: the same list with -0.0 would match it."""
    tracer, reporter = make_tracer()
    for value in (0.0, -0.0, 0.0, math.nan, math.nan):
        span = tracer.start_span("op")
        span.set_tag("d", value)
        span.log_kv({"d": value})
        span.finish()
    encs = encoders()
    for span in reporter.get_spans():
        assert_encodes_like_thrift(span, encs)
    for enc in encs:
        assert not enc._tag_blocks
        assert not enc._field_blocks


def test_same_tuple_as_tag_list_and_log_fields_gets_each_its_own_bytes() -> None:
    tracer, reporter = make_tracer()
    span = tracer.start_span("op", tags={"k": "v"})
    span.log_kv({"k": "v"})
    span.finish()
    (span,) = reporter.get_spans()
    span._tags = [("k", _values.STRING, "v")]  # no sampler tags: the same list as the log's
    assert tuple(span._tags) == tuple(span._logs[0][1])
    encs = encoders()
    for _ in range(2):
        assert_encodes_like_thrift(span, encs)


def test_list_and_name_caches_are_bounded() -> None:
    tracer, reporter = make_tracer()
    n = _encode._BLOCK_CACHE_MAX + 10
    for i in range(n):
        span = tracer.start_span(f"op{i % (_encode._NAME_CACHE_MAX + 5)}")
        span.set_tag("i", i)
        span.log_kv({"i": i})
        span.finish()
    big = tracer.start_span("big")
    big.set_tag("big", "x" * (_encode._BLOCK_CACHE_MAX_BYTES + 1))
    big.finish()
    encs = encoders()
    for span in reporter.get_spans():
        assert_encodes_like_thrift(span, encs)
    for enc in encs:
        assert 0 < len(enc._tag_blocks) <= _encode._BLOCK_CACHE_MAX
        assert 0 < len(enc._field_blocks) <= _encode._BLOCK_CACHE_MAX
        assert len(enc._names) <= _encode._NAME_CACHE_MAX
        assert enc.is_accelerated or enc._names  # the C path writes names with the ids
        assert tuple(big._tags) not in enc._tag_blocks


def test_repeated_tag_and_field_lists_encode_like_thrift_in_any_order() -> None:
    """The encoder remembers the last tag list and field list it found cached: repeats,
    alternations and lists changed in place after encoding all encode as thrift does."""
    tracer, reporter = make_tracer()
    for value in ["a", "a", "b", "a", "a", "b", "b", "c", "a", "a"]:
        span = tracer.start_span("op")
        span.set_tag("k", value)
        span.set_tag("n", 1)
        span.log_kv({"event": value})
        span.log_kv({"event": value})
        span.finish()
    spans = reporter.get_spans()
    encs = encoders()
    for span in spans:
        assert_encodes_like_thrift(span, encs)
    # change every span's lists in place (whichever the encoders remember), then again
    for span in spans:
        span._tags[0] = ("k", _values.STRING, "changed")
        span._logs[0][1][0] = ("event", _values.STRING, "changed")
    for span in spans:
        assert_encodes_like_thrift(span, encs)
