"""Propagation codecs: formats, round trips, upstream compatibility and the baggage bounds.

Hostile carriers and the property tests live in test_codecs_hostile.py.
"""

from __future__ import annotations

import itertools
import struct
from collections import Counter, namedtuple
from typing import Any, Callable, Optional

import pytest
from opentracing import Format, InvalidCarrierException, SpanContextCorruptedException

from jaeger_client import ConstSampler, Span, SpanContext, Tracer, codecs, constants
from jaeger_client.codecs import (
    B3Codec,
    B3SingleCodec,
    BinaryCodec,
    Codec,
    CompositeCodec,
    TextCodec,
    TraceContextCodec,
    ZipkinCodec,
    ZipkinSpanFormat,
    header_to_hex,
    span_context_from_string,
    span_context_to_string,
)
from jaeger_client.metrics import MetricsFactory
from jaeger_client.reporter import InMemoryReporter

MAX_64 = (1 << 64) - 1
MAX_128 = (1 << 128) - 1


class CountingMetricsFactory(MetricsFactory):
    """Counters that add up into ``self.counts[name]`` (a real factory, not a mock)."""

    def __init__(self) -> None:
        super().__init__()
        self.counts: Counter[str] = Counter()

    def create_counter(self, name: str, tags: Optional[dict[str, str]] = None) -> Any:
        def increment(value: int) -> None:
            self.counts[name] += value

        return increment


def make_tracer(**kwargs: Any) -> Tracer:
    return Tracer("test", InMemoryReporter(), ConstSampler(True), **kwargs)


@pytest.fixture
def factory() -> CountingMetricsFactory:
    return CountingMetricsFactory()


@pytest.fixture
def tracer(factory: CountingMetricsFactory) -> Tracer:
    return make_tracer(metrics_factory=factory)


def span_of(context: SpanContext) -> Span:
    return Span(context=context, operation_name="x", tracer=None, start_time=1)  # type: ignore[arg-type]


# ---- module helpers ------------------------------------------------------------------------------


def test_abstract_codec_raises_not_implemented() -> None:
    with pytest.raises(NotImplementedError):
        Codec().inject(SpanContext(1, 1, None, 1), {})
    with pytest.raises(NotImplementedError):
        Codec().extract({})


@pytest.mark.parametrize(
    ("ids", "text"),
    [
        ((256, 127, None, 1), "100:7f:0:1"),
        ((256, 127, 256, 0), "100:7f:100:0"),
        ((MAX_128, 127, 256, 0), "ffffffffffffffffffffffffffffffff:7f:100:0"),
        ((MAX_64, MAX_64, MAX_64, 3), "ffffffffffffffff:ffffffffffffffff:ffffffffffffffff:3"),
    ],
)
def test_span_context_string_round_trip_is_unpadded_lower_hex(ids: Any, text: str) -> None:
    assert span_context_to_string(*ids) == text
    assert span_context_from_string(text) == ids


@pytest.mark.parametrize(
    ("text", "ids"),
    [
        ("0000000000000100:000000000000007f:0000000000000000:01", (256, 127, None, 1)),
        (
            "FFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFF:FFFFFFFFFFFFFFFF:FFFFFFFFFFFFFFFF:1",
            (MAX_128, MAX_64, MAX_64, 1),
        ),
        ("00000000000000000000000000000001:1:0:0", (1, 1, None, 0)),
        ("aBcD:Ef:0:Ff", (0xABCD, 0xEF, None, 0xFF)),
        (["100:7f:100:0"], (256, 127, 256, 0)),
    ],
)
def test_span_context_from_string_reads_padded_unpadded_and_upper_case(text: Any, ids: Any) -> None:
    assert span_context_from_string(text) == ids


@pytest.mark.parametrize(
    "value",
    [
        123.321,
        None,
        b"1:1:0:1",
        [],
        ["100:7f:100:0", "garbage"],
        "bad value",
        "1:1:1:1:1",
        "1:1:1",
        "x:1:1:1",
        "1:x:1:1",
        "1:1:x:1",
        "1:1:1:x",
        "0:1:1:1",
        "1:0:1:1",
        "1:1:-1:1",
        "1:1::1",
        "1:1:1:-1",
        "1:1:1:",
    ],
)
def test_span_context_from_string_rejects_upstream_bad_values(value: Any) -> None:
    with pytest.raises(SpanContextCorruptedException):
        span_context_from_string(value)


def test_header_to_hex_is_strict() -> None:
    assert header_to_hex("a2fb4a1d1a96d312") == 0xA2FB4A1D1A96D312
    for bad in ("", "0x1", "1_0", " 1", "-1", "\uff11", "1" * 33, 12, None):
        with pytest.raises(SpanContextCorruptedException):
            header_to_hex(bad)


# ---- TextCodec -----------------------------------------------------------------------------------


def test_text_codec_rejects_non_dict_carriers() -> None:
    codec = TextCodec()
    with pytest.raises(InvalidCarrierException):
        codec.inject(SpanContext(1, 1, None, 1), [])
    with pytest.raises(InvalidCarrierException):
        codec.extract([])


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("trace_id_header", ""),
        ("baggage_header_prefix", None),
        ("debug_id_header", 5),
        ("baggage_header", ""),
    ],
)
def test_text_codec_constructor_rejects_bad_header_names(name: str, value: Any) -> None:
    with pytest.raises(ValueError, match=name):
        TextCodec(**{name: value})


def test_text_codec_constructor_rejects_metrics_without_counter() -> None:
    with pytest.raises(TypeError, match="baggage_truncations"):
        TextCodec(metrics=object())


def test_text_codec_header_names_are_lower_cased_with_dashes() -> None:
    codec = TextCodec(trace_id_header="Trace_ID", baggage_header_prefix="Trace-Attr-")
    assert codec.trace_id_header == "trace-id"
    assert codec.baggage_prefix == "trace-attr-"
    assert codec.prefix_length == len("trace-attr-")
    carrier: dict[str, Any] = {}
    codec.inject(SpanContext(256, 127, None, 1), carrier)
    assert carrier == {"trace-id": "100:7f:0:1"}


@pytest.mark.parametrize("url_encoding", [False, True])
def test_text_codec_injects_baggage_as_upstream(url_encoding: bool) -> None:
    codec = TextCodec(
        url_encoding=url_encoding, trace_id_header="Trace_ID", baggage_header_prefix="Trace-Attr-"
    )
    baggage: Any = {
        "bender": "Countess de la Roca",
        "fry": "Leela",
        b"key1": bytes([75]),
        "key2": "cafe",
        "key3": "\U0001f47e",
    }
    carrier: dict[str, Any] = {}
    codec.inject(SpanContext(256, 127, None, 1, baggage), carrier)
    if url_encoding:
        assert carrier == {
            "trace-id": "100:7f:0:1",
            "trace-attr-bender": "Countess%20de%20la%20Roca",
            "trace-attr-fry": "Leela",
            "trace-attr-key1": "K",
            "trace-attr-key2": "cafe",
            "trace-attr-key3": "%F0%9F%91%BE",
        }
    else:
        assert carrier == {
            "trace-id": "100:7f:0:1",
            "trace-attr-bender": "Countess de la Roca",
            "trace-attr-fry": "Leela",
            "trace-attr-key1": "K",
            "trace-attr-key2": "cafe",
            "trace-attr-key3": "\U0001f47e",
        }
    assert all(isinstance(k, str) and isinstance(v, str) for k, v in carrier.items())


def test_text_codec_http_quotes_a_non_utf8_byte_as_upstream() -> None:
    carrier: dict[str, Any] = {}
    context = SpanContext(1, 2, None, 1, {"k": bytes([255])})  # type: ignore[dict-item]
    TextCodec(url_encoding=True).inject(context, carrier)
    assert carrier["uberctx-k"] == "%FF"


def test_text_codec_extract_ignores_unknown_headers_and_returns_none_when_empty() -> None:
    codec = TextCodec(trace_id_header="Trace_ID", baggage_header_prefix="Trace-Attr-")
    assert codec.extract({}) is None
    assert codec.extract({"_Trace_ID": "100:7f:0:1", "_trace-attr-Kiff": "Amy"}) is None


def test_text_codec_extract_raises_on_malformed_trace_header() -> None:
    codec = TextCodec(trace_id_header="Trace_ID", baggage_header_prefix="Trace-Attr-")
    with pytest.raises(SpanContextCorruptedException):
        codec.extract({"Trace-ID": "100:7f:0:1xxx", "trace-attr-Kiff": "Amy"})


@pytest.mark.parametrize(
    ("fmt", "headers"),
    [
        (
            Format.HTTP_HEADERS,
            {
                "Trace-ID": "100%3A7f:0:1",
                "trace-attr-Kiff": "Amy%20Wang",
                "trace-atTR-HERMES": "LaBarbara+Hermes",
            },
        ),
        (
            Format.TEXT_MAP,
            {
                "Trace-ID": "100:7f:0:1",
                "trace-attr-Kiff": "Amy Wang",
                "trace-atTR-HERMES": "LaBarbara Hermes",
            },
        ),
    ],
)
def test_text_codec_extracts_case_insensitive_headers_through_tracer(
    fmt: Any, headers: Any
) -> None:
    tracer = make_tracer(trace_id_header="Trace_ID", baggage_header_prefix="Trace-Attr-")
    context = tracer.extract(fmt, headers)
    assert context is not None
    assert (context.trace_id, context.span_id, context.parent_id, context.flags) == (
        256,
        127,
        None,
        1,
    )
    assert context.baggage == {"kiff": "Amy Wang", "hermes": "LaBarbara Hermes"}


def test_text_map_keeps_plus_and_percent_literally() -> None:
    context = TextCodec().extract({"uber-trace-id": "1:2:0:1", "uberctx-k": "a+b%20c"})
    assert context is not None
    assert context.baggage == {"k": "a+b%20c"}


@pytest.mark.parametrize("url_encoding", [False, True])
@pytest.mark.parametrize(
    "value",
    [
        "plain",
        "with spaces",
        "plus+sign",
        "100% sure",
        "a=b,c",
        "caf\u00e9 \U0001f47e",
        "/path?x=1&y",
    ],
)
def test_text_codec_baggage_round_trips(url_encoding: bool, value: str) -> None:
    codec = TextCodec(url_encoding=url_encoding)
    carrier: dict[str, Any] = {}
    codec.inject(SpanContext(1, 2, None, 1, {"key": value}), carrier)
    extracted = codec.extract(carrier)
    assert extracted is not None
    assert extracted.baggage == {"key": value}


def test_http_baggage_reads_plus_as_space_like_go_and_java() -> None:
    """Go's url.QueryEscape writes a space as '+' (defect 14); '%2B' is a literal plus."""
    codec = TextCodec(url_encoding=True)
    context = codec.extract(
        {"uber-trace-id": "1:2:0:1", "uberctx-a": "x+y", "uberctx-b": "x%20y", "uberctx-c": "1%2B1"}
    )
    assert context is not None
    assert context.baggage == {"a": "x y", "b": "x y", "c": "1+1"}


def test_http_trace_header_is_strict_after_url_decoding() -> None:
    codec = TextCodec(url_encoding=True)
    context = codec.extract({"uber-trace-id": "1%3A2%3A0%3A1"})
    assert context is not None and (context.trace_id, context.span_id) == (1, 2)
    for bad in ("1%20:2:0:1", "%2B1:2:0:1", "1:2:0:1%0A"):
        with pytest.raises(SpanContextCorruptedException):
            codec.extract({"uber-trace-id": bad})


def test_text_codec_reads_large_ids() -> None:
    codec = TextCodec(trace_id_header="Trace_ID")
    context = codec.extract(
        {"Trace-ID": "FFFFFFFFFFFFFFFFFFFFFFFFFFFFFFFF:FFFFFFFFFFFFFFFF:FFFFFFFFFFFFFFFF:1"}
    )
    assert context is not None
    assert (context.trace_id, context.span_id, context.parent_id) == (MAX_128, MAX_64, MAX_64)


def test_jaeger_baggage_header_is_merged_into_baggage() -> None:
    codec = TextCodec()
    context = codec.extract(
        {
            "uber-trace-id": "1:7f:0:1",
            "jaeger-baggage": "kiff=Amy, hermes=LaBarbara,bender=Bender, bad, a=b=c, =v",
            "uberctx-fry": "Leela",
        }
    )
    assert context is not None
    assert context.baggage == {
        "kiff": "Amy",
        "hermes": "LaBarbara",
        "bender": "Bender",
        "fry": "Leela",
    }


def test_baggage_without_trace_gives_a_context_that_starts_a_new_trace(tracer: Tracer) -> None:
    context = tracer.extract(Format.TEXT_MAP, {"uberctx-kiff": "Amy", "jaeger-baggage": "a=b"})
    assert context is not None and context.trace_id is None
    span = tracer.start_span("test", child_of=context)
    assert span.context.baggage == {"kiff": "Amy", "a": "b"}
    assert span.get_baggage_item("kiff") == "Amy"


def test_patched_span_context_from_string_is_used(monkeypatch: pytest.MonkeyPatch) -> None:
    """Users patch codecs.span_context_from_string; extract must go through the module global."""

    def zero_trace(value: str) -> tuple[int, int, int, int]:
        return 0, 1, 1, 1  # an invalid trace id: the ids are dropped, the baggage kept

    monkeypatch.setattr(codecs, "span_context_from_string", zero_trace)
    codec = TextCodec(trace_id_header="Trace_ID", baggage_header_prefix="Trace-baggage-")
    context = codec.extract(
        {"Trace-ID": "1:7f:0:1", "trace-baggage-Kiff": "Amy", "trace-BAGGAGE-HERMES": "LaBarbara"}
    )
    assert context is not None
    assert context.trace_id is None and not context.has_trace
    assert context.baggage == {"kiff": "Amy", "hermes": "LaBarbara"}
    span = make_tracer().start_span("test", child_of=context)
    assert span.context.baggage == {"kiff": "Amy", "hermes": "LaBarbara"}


def test_debug_id_header_starts_a_sampled_debug_trace() -> None:
    tracer = make_tracer(debug_id_header="correlation-id")
    context = tracer.extract(Format.TEXT_MAP, {"Correlation-ID": "Coraline"})
    assert context is not None
    assert context.is_debug_id_container_only
    assert context.debug_id == "Coraline"
    span = tracer.start_span("test", child_of=context)
    assert span.is_debug() and span.is_sampled()
    assert [t.vStr for t in span.tags if t.key == "correlation-id"] == ["Coraline"]


def test_http_debug_id_is_url_decoded() -> None:
    context = TextCodec(url_encoding=True).extract({"jaeger-debug-id": "a%20b"})
    assert context is not None and context.debug_id == "a b"


def test_inject_accepts_a_span_and_a_context_without_trace() -> None:
    codec = TextCodec()
    carrier: dict[str, Any] = {}
    codec.inject(span_of(SpanContext(256, 127, None, 1)), carrier)  # type: ignore[arg-type]
    assert carrier == {"uber-trace-id": "100:7f:0:1"}
    carrier = {}
    codec.inject(SpanContext(None, None, None, None, {"k": "v"}), carrier)
    assert carrier == {"uberctx-k": "v"}


def test_inject_into_a_mutable_mapping_that_is_not_a_dict() -> None:
    class Headers(dict):  # type: ignore[type-arg]
        pass

    carrier = Headers()
    TextCodec().inject(SpanContext(1, 2, 3, 1, {"k": "v"}), carrier)
    assert dict(carrier) == {"uber-trace-id": "1:2:3:1", "uberctx-k": "v"}


# ---- bounds --------------------------------------------------------------------------------------


def baggage_bytes(carrier: dict[str, Any], prefix: str = "uberctx-") -> int:
    return sum(
        len(k.encode()) + len(v.encode()) for k, v in carrier.items() if k.startswith(prefix)
    )


def test_one_megabyte_baggage_header_is_bounded_and_counted(
    tracer: Tracer, factory: CountingMetricsFactory
) -> None:
    header = ", ".join(f"key{i}={'x' * 92}" for i in range(10_000))
    assert len(header) > 1_000_000
    context = tracer.extract(
        Format.TEXT_MAP, {"uber-trace-id": "1:2:0:1", "jaeger-baggage": header}
    )
    assert context is not None
    assert 0 < len(context.baggage) <= constants.MAX_BAGGAGE_ITEMS
    assert (
        next(iter(context.baggage)) == "key0"
    )  # the first items are kept, not the whole lot dropped
    child = tracer.start_span("child", child_of=context)
    carrier: dict[str, Any] = {}
    tracer.inject(child.context, Format.TEXT_MAP, carrier)
    assert baggage_bytes(carrier) <= constants.MAX_BAGGAGE_HEADER_BYTES
    assert factory.counts["jaeger:baggage_truncations"] == 10_000 - len(context.baggage)


def test_one_megabyte_of_small_items_keeps_at_most_180(
    tracer: Tracer, factory: CountingMetricsFactory
) -> None:
    header = ",".join(f"k{i}=v" for i in range(200_000))
    context = tracer.extract(
        Format.HTTP_HEADERS, {"uber-trace-id": "1:2:0:1", "jaeger-baggage": header}
    )
    assert context is not None
    assert len(context.baggage) == constants.MAX_BAGGAGE_ITEMS
    carrier: dict[str, Any] = {}
    tracer.inject(context, Format.HTTP_HEADERS, carrier)
    assert sum(len(k) + len(v) for k, v in carrier.items()) <= constants.MAX_BAGGAGE_HEADER_BYTES
    assert factory.counts["jaeger:baggage_truncations"] == 200_000 - constants.MAX_BAGGAGE_ITEMS


def test_five_thousand_baggage_headers_keep_180(
    tracer: Tracer, factory: CountingMetricsFactory
) -> None:
    carrier = {f"uberctx-k{i}": "v" for i in range(5000)}
    context = tracer.extract(Format.TEXT_MAP, carrier)
    assert context is not None and len(context.baggage) == constants.MAX_BAGGAGE_ITEMS
    assert factory.counts["jaeger:baggage_truncations"] == 5000 - constants.MAX_BAGGAGE_ITEMS


def test_oversized_baggage_item_is_dropped_and_the_rest_kept(
    tracer: Tracer, factory: CountingMetricsFactory
) -> None:
    carrier = {
        "uber-trace-id": "1:2:0:1",
        "uberctx-big": "x" * constants.MAX_BAGGAGE_ITEM_BYTES,
        "uberctx-huge": "x" * 1_000_000,
        "uberctx-small": "ok",
    }
    context = tracer.extract(Format.HTTP_HEADERS, carrier)
    assert context is not None and context.has_trace
    assert context.baggage == {"small": "ok"}
    assert factory.counts["jaeger:baggage_truncations"] == 2


def test_item_bound_counts_utf8_bytes() -> None:
    limit = constants.MAX_BAGGAGE_ITEM_BYTES
    fits = "\u00e9" * ((limit - 1) // 2)  # 2 bytes each, plus the 1-byte key
    too_big = "\u00e9" * (limit // 2)
    context = TextCodec().extract({"uberctx-a": fits, "uberctx-b": too_big})
    assert context is not None and list(context.baggage) == ["a"]


def test_total_baggage_budget_keeps_earlier_items() -> None:
    value = "v" * 3000
    carrier = {f"uberctx-k{i}": value for i in range(5)}
    context = TextCodec().extract(carrier)
    assert context is not None
    assert list(context.baggage) == ["k0", "k1"]  # 2 x (8 + 2 + 3000) fit in 8192, 3 do not


def test_extract_of_an_8kb_header_is_fast() -> None:
    import time

    codec = TextCodec(url_encoding=True)
    bad = {"uber-trace-id": "1" * 8192}
    good = {"uber-trace-id": "1:2:0:1", "jaeger-baggage": ",".join(["k=v"] * 2730)}
    for carrier in (bad, good):
        best = float("inf")
        for _ in range(20):
            start = time.perf_counter()
            try:
                codec.extract(carrier)
            except SpanContextCorruptedException:
                pass
            best = min(best, time.perf_counter() - start)
        assert best < 0.0005, (sorted(carrier), best)


# ---- through a real tracer -----------------------------------------------------------------------


@pytest.mark.parametrize(
    "fmt", [Format.TEXT_MAP, Format.HTTP_HEADERS, Format.BINARY, ZipkinSpanFormat]
)
def test_round_trip_between_64_and_128_bit_tracers(fmt: Any) -> None:
    tracers = [make_tracer(), make_tracer(generate_128bit_trace_id=True)]
    for tracer1, tracer2 in itertools.product(tracers, repeat=2):
        span = tracer1.start_span("parent")
        span.set_baggage_item("tenant", "acme corp")
        carrier: Any = bytearray() if fmt == Format.BINARY else {}
        tracer1.inject(span.context, fmt, carrier)
        context = tracer2.extract(fmt, carrier)
        assert context is not None
        child = tracer2.start_span("child", child_of=context)
        assert child.trace_id == span.trace_id
        assert child.parent_id == span.span_id
        if fmt != ZipkinSpanFormat:
            assert child.get_baggage_item("tenant") == "acme corp"


@pytest.mark.parametrize(
    ("fmt", "trace_id_text"),
    [
        (Format.TEXT_MAP, lambda c: c[constants.TRACE_ID_HEADER].split(":")[0]),
        (Format.HTTP_HEADERS, lambda c: c[constants.TRACE_ID_HEADER].split(":")[0]),
        (ZipkinSpanFormat, lambda c: f"{c['trace_id']:x}"),
    ],
)
def test_wire_trace_id_keeps_its_width_whatever_the_tracer(
    fmt: Any, trace_id_text: Callable[[Any], str]
) -> None:
    for tracer in (make_tracer(), make_tracer(generate_128bit_trace_id=True)):
        for trace_id, width in ((MAX_64, 16), (MAX_128, 32)):
            span = tracer.start_span("x", child_of=SpanContext(trace_id, 127, None, 0))
            carrier: dict[str, Any] = {}
            tracer.inject(span.context, fmt, carrier)
            assert len(trace_id_text(carrier)) == width


def test_tracer_counts_decoding_errors(tracer: Tracer, factory: CountingMetricsFactory) -> None:
    with pytest.raises(SpanContextCorruptedException):
        tracer.extract(Format.HTTP_HEADERS, {"uber-trace-id": "0x1:1:0:1"})
    with pytest.raises(SpanContextCorruptedException):
        tracer.extract(Format.BINARY, bytearray(37))
    assert factory.counts["jaeger:span_context_decoding_errors"] == 2


# ---- BinaryCodec ---------------------------------------------------------------------------------


def test_binary_codec_rejects_non_bytearray_carriers() -> None:
    codec = BinaryCodec()
    with pytest.raises(InvalidCarrierException):
        codec.inject(SpanContext(1, 1, None, 1), {})
    with pytest.raises(InvalidCarrierException):
        codec.extract({})


def test_binary_codec_round_trip_with_baggage(tracer: Tracer) -> None:
    baggage = {
        "baggage_1": "data",
        "baggage_2": "foobar",
        "baggage_3": "\x00\x01\x09\xff",
        "baggage_4": "\U0001f47e",
    }
    context = SpanContext(260817200211625699950706086749966912306, 567890, 1234567890, 1, baggage)
    carrier = bytearray()
    tracer.inject(context, Format.BINARY, carrier)
    extracted = tracer.extract(Format.BINARY, carrier)
    assert extracted is not None
    assert (extracted.trace_id, extracted.span_id, extracted.parent_id, extracted.flags) == (
        context.trace_id,
        context.span_id,
        context.parent_id,
        context.flags,
    )
    assert extracted.baggage == baggage


GO_CARRIERS = [
    (
        b"\x00\x00\x00\x00\x00\x00\x00\x00u\x18\xa9\x13\xa0\xd2\xaf4u\x18\xa9\x13\xa0\xd2\xaf4"
        b"\x00\x00\x00\x00\x00\x00\x00\x00\x01\x00\x00\x00\x00",
        (0, 8437679803646258996, 8437679803646258996, None, 1, {}),
    ),
    (
        b"K2\x88\x8b\x8f\xb5\x96\xe9+\xc6\xe6\xf5\x9d\xed\x8a\xd0+\xc6\xe6\xf5\x9d\xed\x8a\xd0"
        b"\x00\x00\x00\x00\x00\x00\x00\x00\x01\x00\x00\x00\x00",
        (5418543434673002217, 3154462531610577616, 3154462531610577616, None, 1, {}),
    ),
    (
        b"d\xb7^Y\x1afI\x0bi\xe4lc`\x1e\xbep[\x0fw\xc8\x87\xfd\xb2Ti\xe4lc`\x1e\xbep\x01\x00"
        b"\x00\x00\x00",
        (7257373061318854923, 7630342842742652528, 6561594885260816980, 7630342842742652528, 1, {}),
    ),
    (
        b"a]\x85\xe0\xe0\x06\xd5[6k\x9d\x86\xaa\xbc\\\x8f#c\x06\x80jV\xdf\x826k\x9d\x86\xaa\xbc"
        b"\\\x8f\x01\x00\x00\x00\x01\x00\x00\x00\x07key_one\x00\x00\x00\tvalue_one",
        (
            7015910995390813531,
            3921401102271798415,
            2549888962631491458,
            3921401102271798415,
            1,
            {"key_one": "value_one"},
        ),
    ),
]


@pytest.mark.parametrize(("data", "expected"), GO_CARRIERS)
def test_binary_codec_reads_and_writes_go_client_bytes(
    tracer: Tracer, data: bytes, expected: Any
) -> None:
    context = tracer.extract(Format.BINARY, bytearray(data))
    assert context is not None
    high, low, span_id, parent_id, flags, baggage = expected
    assert context.trace_id == (high << 64) | low
    assert (context.span_id, context.parent_id, context.flags, dict(context.baggage)) == (
        span_id,
        parent_id,
        flags,
        baggage,
    )
    carrier = bytearray()
    tracer.inject(context, Format.BINARY, carrier)
    assert carrier == bytearray(data)


def binary_carrier(
    items: list[tuple[bytes, bytes]], count: Optional[int] = None, trace_id: int = 1
) -> bytearray:
    data = bytearray(
        struct.pack(">QQQQBI", 0, trace_id, 2, 0, 1, len(items) if count is None else count)
    )
    for key, value in items:
        data += struct.pack(">I", len(key)) + key + struct.pack(">I", len(value)) + value
    return data


def test_binary_empty_carrier_holds_no_context() -> None:
    assert BinaryCodec().extract(bytearray()) is None


@pytest.mark.parametrize(
    "data",
    [
        pytest.param(bytearray(36), id="36 bytes"),
        pytest.param(bytearray(37), id="all zero"),
        pytest.param(binary_carrier([], trace_id=0), id="zero trace id"),
        pytest.param(binary_carrier([], count=1), id="count larger than data"),
        pytest.param(binary_carrier([], count=0xFFFFFFFF), id="count 2**32-1"),
        pytest.param(binary_carrier([(b"k", b"\xff\xfe")]), id="invalid utf-8 value"),
        pytest.param(binary_carrier([(b"\xc3", b"v")]), id="invalid utf-8 key"),
        pytest.param(binary_carrier([(b"k", b"v")])[:-1], id="value cut short"),
        pytest.param(binary_carrier([(b"key", b"v")])[:-6], id="value length cut short"),
        pytest.param(
            binary_carrier([], count=1) + struct.pack(">I", 20_000_000) + b"k" * 4,
            id="41 bytes declaring a 20 MB key",
        ),
        pytest.param(
            binary_carrier([], count=1) + struct.pack(">I", 2**31 - 1) + b"k" * 4,
            id="key length 2**31-1",
        ),
        pytest.param(
            binary_carrier([], count=1) + struct.pack(">I", 0) + struct.pack(">I", 2**32 - 1),
            id="value length 2**32-1",
        ),
    ],
)
def test_binary_hostile_carriers_raise_span_context_corrupted(data: bytearray) -> None:
    with pytest.raises(SpanContextCorruptedException):
        BinaryCodec().extract(data)


def test_binary_carrier_declaring_20mb_item_fails_fast() -> None:
    import time

    data = binary_carrier([], count=1) + struct.pack(">I", 20_000_000) + b"k" * 4
    assert len(data) == 45
    data41 = bytearray(data[:41])
    best = float("inf")
    for _ in range(20):
        start = time.perf_counter()
        with pytest.raises(SpanContextCorruptedException):
            BinaryCodec().extract(data41)
        best = min(best, time.perf_counter() - start)
    assert best < 0.001


def test_binary_baggage_is_bounded_and_counted(factory: CountingMetricsFactory) -> None:
    from jaeger_client.tracer import TracerMetrics

    codec = BinaryCodec(metrics=TracerMetrics(factory))
    items = [(b"big", b"x" * constants.MAX_BAGGAGE_ITEM_BYTES)]
    items += [(f"k{i}".encode(), b"v") for i in range(200)]
    context = codec.extract(binary_carrier(items))
    assert context is not None
    assert len(context.baggage) == constants.MAX_BAGGAGE_ITEMS
    assert "big" not in context.baggage
    assert factory.counts["jaeger:baggage_truncations"] == 201 - constants.MAX_BAGGAGE_ITEMS


def test_binary_accepts_bytes_and_ignores_trailing_bytes() -> None:
    data = bytes(binary_carrier([(b"k", b"v")])) + b"trailing"
    context = BinaryCodec().extract(data)
    assert context is not None and context.baggage == {"k": "v"}


@pytest.mark.parametrize(
    "context",
    [
        SpanContext(1 << 128, 1, None, 1),
        SpanContext(-1, 1, None, 1),
        SpanContext(1, 1 << 64, None, 1),
        SpanContext(1, 1, None, 256),
    ],
)
def test_binary_inject_of_out_of_range_ids_raises_span_context_corrupted(
    context: SpanContext,
) -> None:
    with pytest.raises(SpanContextCorruptedException):
        BinaryCodec().inject(context, bytearray())


# ---- ZipkinCodec ---------------------------------------------------------------------------------


def test_zipkin_codec_extracts_from_objects_and_dicts() -> None:
    codec = ZipkinCodec()
    tracing = namedtuple("tracing", "span_id parent_id trace_id traceflags")
    for carrier in (
        tracing(span_id=1, parent_id=2, trace_id=3, traceflags=1),
        {"span_id": 1, "parent_id": 2, "trace_id": 3, "traceflags": 1},
    ):
        context = codec.extract(carrier)
        assert context is not None
        assert (context.trace_id, context.span_id, context.parent_id, context.flags) == (3, 1, 2, 1)
        assert context.baggage == {}
    assert codec.extract({"span_id": 1, "parent_id": 2, "trace_id": 0, "traceflags": 1}) is None


@pytest.mark.parametrize(
    "fields", ["something", "trace_id", "trace_id span_id", "trace_id span_id parent_id"]
)
def test_zipkin_codec_object_missing_attributes_is_invalid_carrier(fields: str) -> None:
    carrier = namedtuple("tracing", fields)(*range(1, len(fields.split()) + 1))  # type: ignore[misc]
    with pytest.raises(InvalidCarrierException):
        ZipkinCodec().extract(carrier)


@pytest.mark.parametrize(
    "carrier",
    [
        {"trace_id": "1", "span_id": 1, "parent_id": None, "traceflags": 1},
        {"trace_id": 1 << 128, "span_id": 1, "parent_id": None, "traceflags": 1},
        {"trace_id": 1, "span_id": -1, "parent_id": None, "traceflags": 1},
        {"trace_id": 1, "span_id": 1, "parent_id": 1 << 64, "traceflags": 1},
        {"trace_id": 1, "span_id": 1, "parent_id": None, "traceflags": 1.5},
        {"trace_id": True, "span_id": 1, "parent_id": None, "traceflags": 1},
    ],
)
def test_zipkin_codec_rejects_out_of_range_ids(carrier: dict[str, Any]) -> None:
    with pytest.raises(SpanContextCorruptedException):
        ZipkinCodec().extract(carrier)


def test_zipkin_codec_inject() -> None:
    codec = ZipkinCodec()
    with pytest.raises(InvalidCarrierException):
        codec.inject(SpanContext(1, 1, None, 1), [])
    carrier: dict[str, Any] = {}
    codec.inject(span_of(SpanContext(256, 127, None, 1)), carrier)  # type: ignore[arg-type]
    assert carrier == {"span_id": 127, "parent_id": None, "trace_id": 256, "traceflags": 1}


# ---- B3 ------------------------------------------------------------------------------------------


def test_b3_inject_debug_writes_flags_not_sampled() -> None:
    codec = B3Codec()
    with pytest.raises(InvalidCarrierException):
        codec.inject(SpanContext(1, 1, None, 1), [])
    carrier: dict[str, Any] = {}
    codec.inject(span_of(SpanContext(256, 127, None, 3)), carrier)  # type: ignore[arg-type]
    assert carrier == {
        "X-B3-TraceId": "0000000000000100",
        "X-B3-SpanId": "000000000000007f",
        "X-B3-Flags": "1",
    }


def test_b3_inject_sampled_with_parent() -> None:
    carrier: dict[str, Any] = {}
    B3Codec().inject(SpanContext(256, 127, 32, 1), carrier)
    assert carrier == {
        "X-B3-TraceId": "0000000000000100",
        "X-B3-SpanId": "000000000000007f",
        "X-B3-ParentSpanId": "0000000000000020",
        "X-B3-Sampled": "1",
    }


def test_b3_inject_unsampled_writes_sampled_zero() -> None:
    """Defect 15: upstream wrote no sampled header, so the next hop sampled again."""
    carrier: dict[str, Any] = {}
    B3Codec().inject(SpanContext(256, 127, None, 0), carrier)
    assert carrier["X-B3-Sampled"] == "0"
    context = B3Codec().extract(carrier)
    assert context is not None and context.flags == 0


def test_b3_inject_pads_128_bit_ids_to_32_digits() -> None:
    carrier: dict[str, Any] = {}
    B3Codec().inject(SpanContext(1 << 64, 1, None, 1), carrier)
    assert carrier["X-B3-TraceId"] == "00000000000000010000000000000000"
    assert B3Codec().extract(carrier).trace_id == 1 << 64  # type: ignore[union-attr]


def test_b3_codec_takes_upstreams_generate_128bit_trace_id_and_pads_every_trace_id() -> None:
    codec = B3Codec(True)  # upstream's only parameter, positional
    assert codec.generate_128bit_trace_id is True and B3Codec().generate_128bit_trace_id is False
    carrier: dict[str, Any] = {}
    codec.inject(SpanContext(0xABC, 0x12, None, 1), carrier)
    assert carrier["X-B3-TraceId"] == "0" * 29 + "abc"
    assert carrier["X-B3-SpanId"] == "0000000000000012"
    assert codec.extract(carrier).trace_id == 0xABC  # type: ignore[union-attr]
    carrier = {}
    B3Codec(generate_128bit_trace_id=False).inject(SpanContext(0xABC, 0x12, None, 1), carrier)
    assert carrier["X-B3-TraceId"] == "0000000000000abc"


@pytest.mark.parametrize("propagation", ["b3", "jaeger,b3"])
def test_config_hands_generate_128bit_trace_id_to_its_b3_codec(propagation: str) -> None:
    from jaeger_client import Config

    config = Config(
        {"propagation": propagation, "generate_128bit_trace_id": True, "reporter_batch_size": 1},
        service_name="svc",
    )
    codecs_by_format = config.propagation
    codec = codecs_by_format[Format.HTTP_HEADERS]
    carrier: dict[str, Any] = {}
    codec.inject(SpanContext(5, 6, None, 1), carrier)
    assert carrier["X-B3-TraceId"] == f"{5:032x}"


def test_b3_extract_is_case_insensitive_and_reads_flags() -> None:
    codec = B3Codec()
    with pytest.raises(InvalidCarrierException):
        codec.extract([])
    carrier = {
        "X-b3-SpanId": "a2fb4a1d1a96d312",
        "X-B3-ParentSpanId": "0020000000000001",
        "X-B3-traceId": "463ac35c9f6413ad48485a3953bb6124",
        "X-B3-flags": "1",
    }
    context = codec.extract(carrier)
    assert context is not None
    assert context.span_id == 0xA2FB4A1D1A96D312
    assert context.trace_id == 0x463AC35C9F6413AD48485A3953BB6124
    assert context.parent_id == 0x0020000000000001
    assert context.flags == constants.SAMPLED_FLAG | constants.DEBUG_FLAG  # debug implies sampled
    carrier.pop("X-B3-ParentSpanId")
    assert codec.extract(carrier).parent_id is None  # type: ignore[union-attr]
    carrier["X-b3-sampled"] = "1"
    carrier.pop("X-B3-flags")
    assert codec.extract(carrier).flags == constants.SAMPLED_FLAG  # type: ignore[union-attr]


@pytest.mark.parametrize(
    ("sampled", "flags"),
    [("1", 1), ("true", 1), ("True", 1), ("0", 0), ("false", 0), (None, 0), ("yes", 0)],
)
def test_b3_sampled_header_values(sampled: Optional[str], flags: int) -> None:
    carrier = {"X-B3-TraceId": "0000000000000001", "X-B3-SpanId": "0000000000000002"}
    if sampled is not None:
        carrier["X-B3-Sampled"] = sampled
    context = B3Codec().extract(carrier)
    assert context is not None and context.flags == flags


def test_b3_extract_missing_ids_is_none_and_bad_ids_raise() -> None:
    codec = B3Codec()
    assert codec.extract({}) is None
    assert codec.extract({"X-b3-SpanId": None, "X-B3-traceId": "463ac35c9f6413ad"}) is None
    assert codec.extract({"X-B3-traceId": "463ac35c9f6413ad"}) is None
    with pytest.raises(SpanContextCorruptedException):
        codec.extract({"x-B3-TraceId": "a2fb4a1d1a96d312z", "x-b3-spanid": "a2fb4a1d1a96d312"})
    with pytest.raises(SpanContextCorruptedException):
        codec.extract({"x-B3-traceId": 123, "x-b3-spanid": "a2fb4a1d1a96d312"})


def test_b3_round_trip_unsampled() -> None:
    codec = B3Codec()
    carrier: dict[str, Any] = {}
    codec.inject(SpanContext(256, 127, None, 0), carrier)
    extracted = codec.extract(carrier)
    assert extracted is not None
    assert (extracted.trace_id, extracted.span_id, extracted.parent_id, extracted.flags) == (
        256,
        127,
        None,
        0,
    )


@pytest.mark.parametrize(
    ("flags", "parent_id", "value"),
    [
        (1, None, "0000000000000100-000000000000007f-1"),
        (0, None, "0000000000000100-000000000000007f-0"),
        (3, 32, "0000000000000100-000000000000007f-d-0000000000000020"),
    ],
)
def test_b3_single_inject(flags: int, parent_id: Optional[int], value: str) -> None:
    carrier: dict[str, Any] = {}
    B3SingleCodec().inject(SpanContext(256, 127, parent_id, flags), carrier)
    assert carrier == {"b3": value}
    extracted = B3SingleCodec().extract(carrier)
    assert extracted is not None
    assert (extracted.trace_id, extracted.span_id, extracted.parent_id, extracted.flags) == (
        256,
        127,
        parent_id,
        flags,
    )


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (
            "80f198ee56343ba864fe8b2a57d3eff7-e457b5a2e4d86bd1-1-05e3ac9a4f6e3b90",
            (0x80F198EE56343BA864FE8B2A57D3EFF7, 0xE457B5A2E4D86BD1, 0x05E3AC9A4F6E3B90, 1),
        ),
        ("e457b5a2e4d86bd1-e457b5a2e4d86bd1", (0xE457B5A2E4D86BD1, 0xE457B5A2E4D86BD1, None, 0)),
        ("E457B5A2E4D86BD1-E457B5A2E4D86BD1-d", (0xE457B5A2E4D86BD1, 0xE457B5A2E4D86BD1, None, 3)),
        ("e457b5a2e4d86bd1-e457b5a2e4d86bd1-0", (0xE457B5A2E4D86BD1, 0xE457B5A2E4D86BD1, None, 0)),
    ],
)
def test_b3_single_extract(value: str, expected: Any) -> None:
    context = B3SingleCodec().extract({"B3": value})
    assert context is not None
    assert (context.trace_id, context.span_id, context.parent_id, context.flags) == expected


@pytest.mark.parametrize("value", ["0", "1", "d"])
def test_b3_single_sampling_state_alone_is_no_context(value: str) -> None:
    assert B3SingleCodec().extract({"b3": value}) is None


# ---- W3C trace context ---------------------------------------------------------------------------


def test_traceparent_inject_and_extract() -> None:
    codec = TraceContextCodec()
    carrier: dict[str, Any] = {}
    codec.inject(SpanContext(0xABC, 0xDEF, 5, 3), carrier)
    assert carrier == {"traceparent": "00-00000000000000000000000000000abc-0000000000000def-01"}
    context = codec.extract(carrier)
    assert context is not None
    assert (context.trace_id, context.span_id, context.parent_id, context.flags) == (
        0xABC,
        0xDEF,
        None,
        1,
    )
    carrier = {}
    codec.inject(SpanContext(1, 2, None, 0), carrier)
    assert carrier["traceparent"].endswith("-00")


def test_traceparent_future_version_may_carry_more_fields() -> None:
    value = "01-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01-what-ever"
    context = TraceContextCodec().extract({"TraceParent": value, "tracestate": "a=b"})
    assert context is not None and context.trace_id == 0x0AF7651916CD43DD8448EB211C80319C


@pytest.mark.parametrize(
    "value",
    [
        "ff-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01",
        "00-0AF7651916CD43DD8448EB211C80319C-b7ad6b7169203331-01",
        "00-00000000000000000000000000000000-b7ad6b7169203331-01",
        "00-0af7651916cd43dd8448eb211c80319c-0000000000000000-01",
        "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01-extra",
        "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-1",
        "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01\n",
        "0-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01",
        " 00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01",
    ],
)
def test_traceparent_rejects_malformed_values(value: str) -> None:
    with pytest.raises(SpanContextCorruptedException):
        TraceContextCodec().extract({"traceparent": value})


# ---- CompositeCodec ------------------------------------------------------------------------------


def composite() -> CompositeCodec:
    return CompositeCodec([TextCodec(url_encoding=True), B3Codec(), TraceContextCodec()])


def test_composite_injects_every_format() -> None:
    carrier: dict[str, Any] = {}
    composite().inject(SpanContext(1, 2, None, 1, {"k": "v"}), carrier)
    assert set(carrier) == {
        "uber-trace-id",
        "uberctx-k",
        "X-B3-TraceId",
        "X-B3-SpanId",
        "X-B3-Sampled",
        "traceparent",
    }


def test_composite_extracts_from_first_format_with_a_context() -> None:
    b3_only = {"X-B3-TraceId": "0000000000000001", "X-B3-SpanId": "0000000000000002"}
    context = composite().extract(b3_only)
    assert context is not None and (context.trace_id, context.span_id) == (1, 2)
    both = dict(b3_only, **{"uber-trace-id": "5:6:0:1"})
    context = composite().extract(both)
    assert context is not None and context.trace_id == 5
    assert composite().extract({"other": "x"}) is None


def test_composite_prefers_a_trace_over_baggage_only_context() -> None:
    carrier = {"uberctx-k": "v", "traceparent": "00-" + "0" * 31 + "7-" + "0" * 15 + "8-01"}
    context = composite().extract(carrier)
    assert context is not None and (context.trace_id, context.span_id) == (7, 8)


def test_composite_malformed_format_does_not_hide_a_good_one() -> None:
    carrier = {
        "uber-trace-id": "garbage",
        "X-B3-TraceId": "0000000000000001",
        "X-B3-SpanId": "0000000000000002",
    }
    context = composite().extract(carrier)
    assert context is not None and context.trace_id == 1
    with pytest.raises(SpanContextCorruptedException):
        composite().extract({"uber-trace-id": "garbage"})


def test_composite_through_tracer_extra_codecs() -> None:
    tracer = make_tracer(extra_codecs={Format.HTTP_HEADERS: composite()})
    span = tracer.start_span("x")
    carrier: dict[str, Any] = {}
    tracer.inject(span.context, Format.HTTP_HEADERS, carrier)
    for name in ("uber-trace-id", "X-B3-TraceId", "traceparent"):
        only = {k: v for k, v in carrier.items() if k.lower().startswith(name[:5].lower())}
        child = tracer.start_span("y", child_of=tracer.extract(Format.HTTP_HEADERS, only))
        assert child.trace_id == span.trace_id, name


@pytest.mark.parametrize("codecs_arg", [[], "b3", None, [object()]])
def test_composite_constructor_rejects_bad_lists(codecs_arg: Any) -> None:
    with pytest.raises((TypeError, ValueError)):
        CompositeCodec(codecs_arg)


# ---- extract's plain-baggage fast path ---------------------------------------------------------


def test_patched_parser_is_used_even_for_a_valid_header(monkeypatch: pytest.MonkeyPatch) -> None:
    def fixed(value: str) -> tuple[int, int, Optional[int], int]:
        return 5, 6, None, 1

    monkeypatch.setattr(codecs, "span_context_from_string", fixed)
    context = TextCodec().extract({"uber-trace-id": "1:2:0:1"})
    assert context is not None and (context.trace_id, context.span_id) == (5, 6)


def test_plain_and_encoded_baggage_mix_keeps_order_and_last_value() -> None:
    carrier = {
        "uber-trace-id": "1:2:0:1",
        "uberctx-a": "1",
        "uberctx-b": "x+y",
        "UBERCTX-A": "2",
        "jaeger-baggage": "c=3",
        "uberctx-d": "4",
    }
    context = TextCodec(url_encoding=True).extract(carrier)
    assert context is not None
    assert list(context.baggage.items()) == [("a", "2"), ("b", "x y"), ("c", "3"), ("d", "4")]


@pytest.mark.parametrize("count", [9, 10, 11, 16, 17, 40])
def test_many_plain_items_are_bounded(count: int) -> None:
    key = "k" * 100
    carrier = {f"uberctx-{key}{i:03d}": "v" * 256 for i in range(count)}
    context = TextCodec().extract(carrier)
    assert context is not None
    injected: dict[str, Any] = {}
    TextCodec().inject(context, injected)
    assert baggage_bytes(injected) <= constants.MAX_BAGGAGE_HEADER_BYTES
    assert len(context.baggage) == min(count, constants.MAX_BAGGAGE_HEADER_BYTES // (8 + 103 + 256))


def test_a_prefix_too_long_for_any_item_keeps_no_baggage() -> None:
    prefix = "p" * constants.MAX_BAGGAGE_HEADER_BYTES
    codec = TextCodec(baggage_header_prefix=prefix)
    assert codec.extract({prefix + "k": "v"}) is None


def test_composite_extract_merges_uberctx_baggage_into_the_b3_context() -> None:
    """`propagation: [b3, jaeger]`: B3 finds the trace, jaeger the baggage; both survive."""
    from jaeger_client.codecs import B3Codec, CompositeCodec

    codec = CompositeCodec([B3Codec(), TextCodec(url_encoding=True)])
    carrier = {
        "X-B3-TraceId": "a" * 16,
        "X-B3-SpanId": "b" * 16,
        "X-B3-Sampled": "1",
        "uberctx-user": "alice",
    }
    context = codec.extract(carrier)
    assert context is not None
    assert (context.trace_id, context.span_id) == (int("a" * 16, 16), int("b" * 16, 16))
    assert dict(context.baggage) == {"user": "alice"}


def test_b3_reads_unpadded_ids_as_node_writes_them() -> None:
    from jaeger_client.codecs import B3Codec

    context = B3Codec().extract({"X-B3-TraceId": "abc", "X-B3-SpanId": "1f", "X-B3-Sampled": "1"})
    assert context is not None
    assert (context.trace_id, context.span_id) == (0xABC, 0x1F)
