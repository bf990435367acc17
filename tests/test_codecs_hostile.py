"""Hostile input for every codec (RELIABILITY.md 2.1-2.3): only OpenTracing exceptions may escape.

flask-opentracing and django_opentracing catch SpanContextCorruptedException and
InvalidCarrierException only; anything else becomes an HTTP 500. The property tests run
``JAEGER_FUZZ_EXAMPLES`` examples per codec (300 by default; the reliability run raises it).
"""

from __future__ import annotations

import os
import struct
from collections.abc import Iterator, Mapping
from typing import Any, Optional

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from opentracing import Format, InvalidCarrierException, SpanContextCorruptedException

from jaeger_client import ConstSampler, SpanContext, Tracer, constants
from jaeger_client.codecs import (
    B3Codec,
    B3SingleCodec,
    BinaryCodec,
    Codec,
    CompositeCodec,
    TextCodec,
    TraceContextCodec,
    W3CBaggageCodec,
    ZipkinCodec,
)
from jaeger_client.metrics import MetricsFactory
from jaeger_client.reporter import InMemoryReporter

MAX_64 = (1 << 64) - 1
MAX_128 = (1 << 128) - 1
OT_ERRORS = (SpanContextCorruptedException, InvalidCarrierException)

FUZZ_EXAMPLES = int(os.environ.get("JAEGER_FUZZ_EXAMPLES", "300"))
_settings = settings(
    max_examples=FUZZ_EXAMPLES,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
# pytest-timeout's default (60 s) fits 300 examples; scaled runs get time in proportion
_timeout = pytest.mark.timeout(max(60, FUZZ_EXAMPLES // 10))


def fuzz(test: Any) -> Any:
    return _timeout(_settings(test))


class CountingMetricsFactory(MetricsFactory):
    def __init__(self) -> None:
        super().__init__()
        self.counts: dict[str, int] = {}

    def create_counter(self, name: str, tags: Optional[dict[str, str]] = None) -> Any:
        def increment(value: int) -> None:
            self.counts[name] = self.counts.get(name, 0) + value

        return increment


def all_codecs() -> dict[str, Codec]:
    return {
        "text_map": TextCodec(url_encoding=False),
        "http_headers": TextCodec(url_encoding=True),
        "b3": B3Codec(),
        "b3_single": B3SingleCodec(),
        "w3c": TraceContextCodec(),
        "w3c_baggage": W3CBaggageCodec(),
        "composite": CompositeCodec(
            [TextCodec(url_encoding=True), B3Codec(), TraceContextCodec(), W3CBaggageCodec()]
        ),
        "zipkin": ZipkinCodec(),
        "binary": BinaryCodec(),
    }


CODECS = all_codecs()
TEXT_CODECS = {k: v for k, v in CODECS.items() if k not in ("binary", "zipkin")}


def assert_valid(context: Optional[SpanContext]) -> None:
    """What any codec hands back: ``None`` or a context with in-range ids and bounded baggage."""
    if context is None:
        return
    assert isinstance(context, SpanContext)
    trace_id, span_id, parent_id, flags = (
        context.trace_id,
        context.span_id,
        context.parent_id,
        context.flags,
    )
    if trace_id is not None:
        assert type(trace_id) is int and 1 <= trace_id <= MAX_128, trace_id
    if span_id is not None:
        assert type(span_id) is int and 1 <= span_id <= MAX_64, span_id
    if parent_id is not None:
        assert type(parent_id) is int and 1 <= parent_id <= MAX_64, parent_id
    if flags is not None:
        assert type(flags) is int and 0 <= flags <= 0xFF, flags
    trace_state = context.trace_state
    if trace_state is not None:  # W3C: validated, at most 32 members and 512 characters
        assert type(trace_state) is str and trace_state.isascii(), trace_state
        assert 0 < len(trace_state) <= 512 and trace_state.count(",") < 32, trace_state
    baggage = context.baggage
    assert len(baggage) <= constants.MAX_BAGGAGE_ITEMS
    total = 0
    for key, value in baggage.items():
        assert type(key) is str and type(value) is str
        size = len(key.encode("utf-8", "surrogatepass")) + len(
            value.encode("utf-8", "surrogatepass")
        )
        assert size <= constants.MAX_BAGGAGE_ITEM_BYTES
        total += size
    assert total <= constants.MAX_BAGGAGE_HEADER_BYTES
    assert context.debug_id is None or type(context.debug_id) is str


def extract_safely(codec: Codec, carrier: Any) -> Optional[SpanContext]:
    try:
        context = codec.extract(carrier)
    except OT_ERRORS:
        return None
    assert_valid(context)
    return context


# ---- 2.1: hostile uber-trace-id values ---------------------------------------------------------

BAD_UBER_TRACE_IDS = {
    "underscore": "1_0:1:0:1",
    "underscore in span": "1:1_0:0:1",
    "surrounding spaces": " 1 :1:0:1",
    "space in field": "1: 1:0:1",
    "tab": "1:1:0:\t1",
    "0x prefix": "0x1:1:0:1",
    "0X prefix in span": "1:0X1:0:1",
    "plus sign": "+1:1:0:1",
    "minus sign": "-1:1:0:1",
    "negative parent": "1:1:-1:1",
    "negative flags": "1:1:0:-1",
    "full-width digit": "\uff11:1:0:1",
    "arabic-indic digit": "\u0663:1:0:1",
    "trailing newline": "1:1:0:1\n",
    "leading newline": "\n1:1:0:1",
    "33 hex digit trace": "1" * 33 + ":1:0:1",
    "5000 hex digit trace": "f" * 5000 + ":1:0:1",
    "17 hex digit span": "1:" + "1" * 17 + ":0:1",
    "17 hex digit parent": "1:1:" + "1" * 17 + ":1",
    "3 hex digit flags": "1:1:0:100",
    "100 hex digit flags": "1:1:0:" + "1" * 100,
    "too few colons": "1:1:0",
    "too many colons": "1:1:0:1:1",
    "zero trace": "0:1:0:1",
    "padded zero trace": "0" * 32 + ":1:0:1",
    "zero span": "1:0:0:1",
    "empty trace": ":1:0:1",
    "empty span": "1::0:1",
    "empty parent": "1:1::1",
    "empty flags": "1:1:0:",
    "non-hex": "g:1:0:1",
    "empty": "",
    "only colons": ":::",
    "1 MB junk": "z" * 1_000_000,
    "1 MB of colons": ":" * 1_000_000,
    "nul byte": "1:1:0:1\x00",
    "url-encoded space": "1%20:1:0:1",
}


@pytest.fixture
def factory() -> CountingMetricsFactory:
    return CountingMetricsFactory()


@pytest.fixture
def tracer(factory: CountingMetricsFactory) -> Tracer:
    return Tracer("test", InMemoryReporter(), ConstSampler(True), metrics_factory=factory)


@pytest.mark.parametrize("fmt", [Format.TEXT_MAP, Format.HTTP_HEADERS])
@pytest.mark.parametrize("value", list(BAD_UBER_TRACE_IDS.values()), ids=list(BAD_UBER_TRACE_IDS))
def test_hostile_uber_trace_id_is_corrupted_and_counted(
    tracer: Tracer, factory: CountingMetricsFactory, fmt: Any, value: str
) -> None:
    with pytest.raises(SpanContextCorruptedException) as raised:
        tracer.extract(fmt, {"uber-trace-id": value, "uberctx-k": "v"})
    assert factory.counts["jaeger:span_context_decoding_errors"] == 1
    assert len(str(raised.value)) < 200  # a 1 MB header does not become a 1 MB message


def test_flags_ff_is_two_hex_digits_and_accepted() -> None:
    context = TextCodec().extract({"uber-trace-id": "1:1:0:ff"})
    assert context is not None and context.flags == 0xFF


def test_re_injected_trace_id_is_never_amplified(tracer: Tracer) -> None:
    context = tracer.extract(Format.TEXT_MAP, {"uber-trace-id": "f" * 32 + ":1:0:1"})
    carrier: dict[str, Any] = {}
    tracer.inject(tracer.start_span("x", child_of=context).context, Format.TEXT_MAP, carrier)
    assert len(carrier["uber-trace-id"]) <= 32 + 1 + 16 + 1 + 16 + 1 + 2


# ---- odd carrier shapes, for every codec ---------------------------------------------------------


class RaisingItems(Mapping[str, str]):
    """A mapping whose every access raises (a broken framework request object)."""

    def __getitem__(self, key: str) -> str:
        raise RuntimeError("boom")

    def __iter__(self) -> Iterator[str]:
        raise RuntimeError("boom")

    def __len__(self) -> int:
        raise RuntimeError("boom")

    def items(self) -> Any:
        raise RuntimeError("boom")

    def get(self, key: str, default: Any = None) -> Any:
        raise RuntimeError("boom")


class ItemsYieldsGarbage:
    def items(self) -> Any:
        return [("uber-trace-id",), (1, 2, 3), None]


class ItemsFailsHalfway:
    def items(self) -> Iterator[tuple[str, str]]:
        yield "uber-trace-id", "1:2:0:1"
        raise ValueError("connection reset")


class ItemsNotCallable:
    items = 5


class BadKey(str):
    def lower(self) -> str:  # type: ignore[override]
        raise RuntimeError("boom")


class Unhashable:
    __hash__ = None  # type: ignore[assignment]


class ItemsUnhashableKey:
    def items(self) -> Any:
        return [(Unhashable(), "x"), (["list", "key"], "x")]


class RaisingAttributes:
    @property
    def trace_id(self) -> int:
        raise RuntimeError("boom")


class HostileStr:
    def __str__(self) -> str:
        raise RuntimeError("boom")

    def __repr__(self) -> str:
        raise RuntimeError("boom")


HOSTILE_CARRIERS: dict[str, Any] = {
    "None": None,
    "int": 42,
    "str": "uber-trace-id: 1:2:0:1",
    "bytes": b"uber-trace-id",
    "list of pairs": [("uber-trace-id", "1:2:0:1")],
    "set": {"uber-trace-id"},
    "object": object(),
    "items raises": RaisingItems(),
    "items yields garbage": ItemsYieldsGarbage(),
    "items fails halfway": ItemsFailsHalfway(),
    "items not callable": ItemsNotCallable(),
    "unhashable keys": ItemsUnhashableKey(),
    "raising attributes": RaisingAttributes(),
    "None values": {
        "uber-trace-id": None,
        "uberctx-k": None,
        "jaeger-baggage": None,
        "jaeger-debug-id": None,
        "X-B3-TraceId": None,
        "X-B3-SpanId": None,
        "b3": None,
        "traceparent": None,
        "trace_id": None,
    },
    "list of two values": {
        "uber-trace-id": ["1:2:0:1", "3:4:0:1"],
        "uberctx-k": ["a", "b"],
        "jaeger-baggage": ["a=b", "c=d"],
        "X-B3-TraceId": ["0000000000000001", "0000000000000002"],
        "X-B3-SpanId": ["0000000000000001"],
        "b3": ["a", "b"],
        "traceparent": ["x", "y"],
    },
    "empty list values": {"uber-trace-id": [], "uberctx-k": [], "b3": [], "traceparent": []},
    "bytes keys and values": {
        b"uber-trace-id": b"1:2:0:1",
        b"uberctx-k": b"\xff\xfe",
        b"\xff": b"x",
        b"X-B3-TraceId": b"0000000000000001",
        b"X-B3-SpanId": b"0000000000000002",
    },
    "invalid utf-8 trace value": {"uber-trace-id": b"\xff:1:0:1"},
    "int keys and values": {1: 2, "uber-trace-id": 12, "uberctx-k": 3, "x-b3-traceid": 7},
    "float values": {"uber-trace-id": 1.5, "trace_id": 1.5, "span_id": 1, "parent_id": None},
    "str subclass key with raising lower": {BadKey("Uber-Trace-Id"): "1:2:0:1"},
    "object values": {"uber-trace-id": HostileStr(), "uberctx-k": HostileStr(), "b3": HostileStr()},
    "huge values": {
        "uber-trace-id": "1" * 2_000_000,
        "uberctx-k": "%" * 2_000_000,
        "jaeger-baggage": "=" * 2_000_000,
        "jaeger-debug-id": "d" * 100_000,
    },
    "bytearray": bytearray(b"\x00" * 10),
    "zipkin strings": {"trace_id": "1", "span_id": "2", "parent_id": "3", "traceflags": "1"},
    "zipkin huge ints": {"trace_id": 1 << 200, "span_id": 1, "parent_id": 0, "traceflags": 1},
}


@pytest.mark.parametrize("codec_name", list(CODECS))
@pytest.mark.parametrize("carrier", list(HOSTILE_CARRIERS.values()), ids=list(HOSTILE_CARRIERS))
def test_odd_carriers_raise_only_opentracing_exceptions(codec_name: str, carrier: Any) -> None:
    extract_safely(CODECS[codec_name], carrier)


@pytest.mark.parametrize("codec_name", [k for k in CODECS if k != "binary"])
@pytest.mark.parametrize("carrier", [None, 42, "str", [], (), object(), bytearray()], ids=repr)
def test_inject_into_a_non_mapping_is_invalid_carrier(codec_name: str, carrier: Any) -> None:
    with pytest.raises(InvalidCarrierException):
        CODECS[codec_name].inject(SpanContext(1, 2, None, 1), carrier)


@pytest.mark.parametrize("carrier", [None, {}, [], b"", "x", memoryview(b"")], ids=repr)
def test_binary_inject_into_a_non_bytearray_is_invalid_carrier(carrier: Any) -> None:
    with pytest.raises(InvalidCarrierException):
        BinaryCodec().inject(SpanContext(1, 2, None, 1), carrier)


class RefusingMapping(dict):  # type: ignore[type-arg]
    def __setitem__(self, key: Any, value: Any) -> None:
        raise PermissionError("read-only headers")

    def update(self, *args: Any, **kwargs: Any) -> None:
        raise PermissionError("read-only headers")


@pytest.mark.parametrize("codec_name", [k for k in CODECS if k != "binary"])
def test_inject_into_a_refusing_mapping_is_invalid_carrier(codec_name: str) -> None:
    with pytest.raises(InvalidCarrierException):
        CODECS[codec_name].inject(SpanContext(1, 2, 3, 1, {"k": "v"}), RefusingMapping())


HOSTILE_CONTEXTS = {
    "no ids": SpanContext(None, None, None, None, {"k": "v"}),
    "str ids": SpanContext("1", "2", None, 1),  # type: ignore[arg-type]
    "float ids": SpanContext(1.5, 2.5, None, 1),  # type: ignore[arg-type]
    "negative ids": SpanContext(-1, -2, -3, -1),
    "huge ids": SpanContext(1 << 200, 1 << 100, 1 << 70, 1 << 10),
    "hostile baggage": SpanContext(
        1,
        2,
        None,
        1,
        {"k": HostileStr(), b"\xff": b"\xff", 5: 6, "s": "\ud800"},  # type: ignore[dict-item]
    ),
}


@pytest.mark.parametrize("codec_name", list(CODECS))
@pytest.mark.parametrize("context", list(HOSTILE_CONTEXTS.values()), ids=list(HOSTILE_CONTEXTS))
def test_inject_of_odd_contexts_raises_only_opentracing_exceptions(
    codec_name: str, context: SpanContext
) -> None:
    carrier: Any = bytearray() if codec_name == "binary" else {}
    try:
        CODECS[codec_name].inject(context, carrier)
    except OT_ERRORS:
        return
    if codec_name != "binary" and codec_name != "zipkin":
        assert all(isinstance(k, str) and isinstance(v, str) for k, v in carrier.items())


@pytest.mark.parametrize("codec_name", list(CODECS))
def test_inject_of_a_non_context_is_corrupted(codec_name: str) -> None:
    carrier: Any = bytearray() if codec_name == "binary" else {}
    with pytest.raises(SpanContextCorruptedException):
        CODECS[codec_name].inject("not a context", carrier)  # type: ignore[arg-type]


# ---- 2.2: B3 ------------------------------------------------------------------------------------

BAD_B3 = {
    "20000-bit trace": {"X-B3-TraceId": "f" * 5000, "X-B3-SpanId": "1" * 16},
    "negative trace": {"X-B3-TraceId": "-1", "X-B3-SpanId": "1" * 16},
    "negative span": {"X-B3-TraceId": "1" * 16, "X-B3-SpanId": "-1"},
    "underscore": {"X-B3-TraceId": "1_1", "X-B3-SpanId": "1" * 16},
    "zz": {"X-B3-TraceId": "zz", "X-B3-SpanId": "1" * 16},
    # unpadded ids (1-32 / 1-16 digits) are accepted: Node's jaeger-client writes them
    "33 digit trace (B3)": {"X-B3-TraceId": "1" * 33, "X-B3-SpanId": "1" * 16},
    "17 digit span (B3)": {"X-B3-TraceId": "1" * 16, "X-B3-SpanId": "1" * 17},
    "32 digit span": {"X-B3-TraceId": "1" * 16, "X-B3-SpanId": "1" * 32},
    "zero trace": {"X-B3-TraceId": "0" * 16, "X-B3-SpanId": "1" * 16},
    "zero span": {"X-B3-TraceId": "1" * 16, "X-B3-SpanId": "0" * 16},
    "bad parent": {"X-B3-TraceId": "1" * 16, "X-B3-SpanId": "1" * 16, "X-B3-ParentSpanId": "x"},
    "0x trace": {"X-B3-TraceId": "0x" + "1" * 14, "X-B3-SpanId": "1" * 16},
    "spaces": {"X-B3-TraceId": " " + "1" * 16, "X-B3-SpanId": "1" * 16},
    "non-ascii digits": {"X-B3-TraceId": "\uff11" * 16, "X-B3-SpanId": "1" * 16},
    "trailing newline": {"X-B3-TraceId": "1" * 16 + "\n", "X-B3-SpanId": "1" * 16},
    "int value": {"X-B3-TraceId": 123, "X-B3-SpanId": "1" * 16},
}


@pytest.mark.parametrize("carrier", list(BAD_B3.values()), ids=list(BAD_B3))
def test_hostile_b3_headers_are_corrupted(carrier: dict[str, Any]) -> None:
    with pytest.raises(SpanContextCorruptedException):
        B3Codec().extract(carrier)


BAD_B3_SINGLE = {
    "20000-bit trace": "f" * 5000 + "-" + "1" * 16,
    "short trace": "1" * 15 + "-" + "1" * 16,
    "short span": "1" * 16 + "-" + "1" * 15,
    "bad sampled": "1" * 16 + "-" + "1" * 16 + "-x",
    "true sampled": "1" * 16 + "-" + "1" * 16 + "-true",
    "parent without sampled": "1" * 16 + "-" + "1" * 16 + "-" + "2" * 16,
    "short parent": "1" * 16 + "-" + "1" * 16 + "-1-" + "2" * 15,
    "extra field": "1" * 16 + "-" + "1" * 16 + "-1-" + "2" * 16 + "-1",
    "zero trace": "0" * 16 + "-" + "1" * 16,
    "zero span": "1" * 16 + "-" + "0" * 16,
    "trailing newline": "1" * 16 + "-" + "1" * 16 + "\n",
    "underscore": "1" * 15 + "_-" + "1" * 16,
    "empty": "",
    "dashes": "---",
}


@pytest.mark.parametrize("value", list(BAD_B3_SINGLE.values()), ids=list(BAD_B3_SINGLE))
def test_hostile_b3_single_header_is_corrupted(value: str) -> None:
    with pytest.raises(SpanContextCorruptedException):
        B3SingleCodec().extract({"b3": value})


# ---- 2.3: baggage and binary --------------------------------------------------------------------

BAGGAGE_CARRIERS = {
    "None value": ({"uberctx-k": None, "uberctx-j": "v"}, {"j": "v"}),
    "list of one": ({"uberctx-k": ["v"]}, {"k": "v"}),
    "list of two": ({"uberctx-k": ["v", "w"], "uberctx-j": "v"}, {"j": "v"}),
    "bytes value": ({"uberctx-k": b"v"}, {"k": "v"}),
    "invalid utf-8": ({"uberctx-k": b"\xff", "uberctx-j": "v"}, {"j": "v"}),
    "int value": ({"uberctx-k": 5, "uberctx-j": "v"}, {"j": "v"}),
    "empty key": ({"uberctx-": "v", "uberctx-j": "v"}, {"j": "v"}),
    "a=b=c": ({"jaeger-baggage": "a=b=c, d=e"}, {"d": "e"}),
    "no equals": ({"jaeger-baggage": "abc, d=e"}, {"d": "e"}),
    "empty header": ({"jaeger-baggage": ""}, None),
    "only commas": ({"jaeger-baggage": "," * 10_000}, None),
    "only equals": ({"jaeger-baggage": "=" * 10_000}, None),
    "header list": ({"jaeger-baggage": ["a=b"]}, {"a": "b"}),
    "header bytes": ({"jaeger-baggage": b"a=b"}, {"a": "b"}),
}


@pytest.mark.parametrize(
    ("carrier", "baggage"), list(BAGGAGE_CARRIERS.values()), ids=list(BAGGAGE_CARRIERS)
)
@pytest.mark.parametrize("url_encoding", [False, True])
def test_odd_baggage_values_are_skipped_not_fatal(
    carrier: dict[str, Any], baggage: Optional[dict[str, str]], url_encoding: bool
) -> None:
    carrier = dict(carrier, **{"uber-trace-id": "1:2:0:1"})
    context = TextCodec(url_encoding=url_encoding).extract(carrier)
    assert context is not None and context.has_trace
    assert dict(context.baggage) == (baggage or {})


def test_baggage_only_hostile_carrier_returns_none() -> None:
    assert TextCodec().extract({"jaeger-baggage": "," * 100_000, "uberctx-": "x"}) is None


@pytest.mark.parametrize("count", [0, 1, 180, 181, 10_000])
def test_baggage_items_are_capped_at_180(count: int) -> None:
    carrier = {f"uberctx-k{i}": "v" for i in range(count)}
    context = TextCodec().extract(carrier)
    assert_valid(context)
    assert len(context.baggage if context else {}) == min(count, constants.MAX_BAGGAGE_ITEMS)


@pytest.mark.parametrize(
    "data",
    [
        b"",
        b"\x00",
        bytes(36),
        bytes(37),
        b"\xff" * 37,
        b"\xff" * 41,
        b"\xff" * 1000,
        struct.pack(">QQQQBI", 0, 1, 1, 0, 1, 1) + struct.pack(">I", 2**31 - 1),
        struct.pack(">QQQQBI", 0, 1, 1, 0, 1, 1) + struct.pack(">i", -1) + b"x" * 100,
        struct.pack(">QQQQBI", 0, 1, 1, 0, 1, 3) + struct.pack(">II", 0, 0),
        struct.pack(">QQQQBI", 1, 0, 1, 0, 1, 0),
    ],
    ids=repr,
)
@pytest.mark.parametrize("kind", [bytearray, bytes])
def test_binary_odd_carriers_raise_only_corrupted(data: bytes, kind: type) -> None:
    extract_safely(BinaryCodec(), kind(data))


# ---- properties (Hypothesis) --------------------------------------------------------------------

HEADER_NAMES = [
    "baggage",
    "Baggage",
    "uber-trace-id",
    "Uber-Trace-Id",
    "UBER-TRACE-ID",
    "uberctx-key",
    "UberCtx-Other",
    "uberctx-",
    "jaeger-debug-id",
    "jaeger-baggage",
    "Jaeger-Baggage",
    "X-B3-TraceId",
    "x-b3-spanid",
    "X-B3-ParentSpanId",
    "X-B3-Sampled",
    "X-B3-Flags",
    "b3",
    "B3",
    "traceparent",
    "tracestate",
    "trace_id",
    "span_id",
    "parent_id",
    "traceflags",
    "content-type",
]

hex_chars = "0123456789abcdefABCDEF"
near_hex = st.text(alphabet=hex_chars + ":-_+ x\n\t%\uff11\u0663=,d", max_size=40)
hex_field = st.text(alphabet=hex_chars, min_size=0, max_size=34)
id_like = st.one_of(
    st.lists(hex_field, min_size=1, max_size=6).map(":".join),
    st.lists(hex_field, min_size=1, max_size=5).map("-".join),
    near_hex,
)
text_values = st.one_of(
    id_like,
    st.text(max_size=60),
    st.lists(st.tuples(st.text(max_size=8), st.text(max_size=8)), max_size=8).map(
        lambda kvs: ", ".join(f"{k}={v}" for k, v in kvs)
    ),
)
values = st.one_of(
    text_values,
    st.none(),
    st.binary(max_size=40),
    text_values.map(lambda s: s.encode("utf-8", "surrogatepass")),
    st.lists(text_values, max_size=3),
    st.integers(min_value=-(2**130), max_value=2**130),
    st.floats(allow_nan=True),
    st.booleans(),
)
keys = st.one_of(
    st.sampled_from(HEADER_NAMES),
    st.sampled_from(HEADER_NAMES).map(str.encode),
    st.text(max_size=20),
    st.binary(max_size=10),
    st.integers(),
)
dict_carriers = st.dictionaries(keys, values, max_size=10)
carriers = st.one_of(
    dict_carriers,
    dict_carriers.map(lambda d: d.items()),
    st.lists(st.tuples(st.text(max_size=10), text_values), max_size=4),
    st.text(max_size=20),
    st.none(),
    st.integers(),
)


@fuzz
@given(carrier=carriers)
@pytest.mark.parametrize("codec_name", list(TEXT_CODECS))
def test_text_codecs_accept_any_carrier_without_escaping_exceptions(
    codec_name: str, carrier: Any
) -> None:
    extract_safely(TEXT_CODECS[codec_name], carrier)


@fuzz
@given(
    carrier=st.one_of(
        dict_carriers,
        st.builds(
            lambda d: type("Obj", (), d)(),
            st.dictionaries(
                st.sampled_from(["trace_id", "span_id", "parent_id", "traceflags"]), values
            ),
        ),
    )
)
def test_zipkin_codec_accepts_any_carrier_without_escaping_exceptions(carrier: Any) -> None:
    extract_safely(ZipkinCodec(), carrier)


def binary_carriers() -> st.SearchStrategy[bytearray]:
    items = st.lists(st.tuples(st.binary(max_size=20), st.binary(max_size=20)), max_size=5)

    def build(
        header: tuple[int, int, int, int, int],
        pairs: list[tuple[bytes, bytes]],
        count_delta: int,
        cut: int,
    ) -> bytearray:
        high, low, span, parent, flags = header
        data = bytearray(
            struct.pack(">QQQQBI", high, low, span, parent, flags, max(0, len(pairs) + count_delta))
        )
        for key, value in pairs:
            data += struct.pack(">I", len(key)) + key + struct.pack(">I", len(value)) + value
        return data[: max(0, len(data) - cut)]

    u64 = st.one_of(st.just(0), st.just(MAX_64), st.integers(0, MAX_64))
    return st.one_of(
        st.builds(
            build,
            st.tuples(u64, u64, u64, u64, st.integers(0, 255)),
            items,
            st.sampled_from([0, 0, 0, 1, -1, 2**31]),
            st.sampled_from([0, 0, 0, 1, 3, 37]),
        ),
        st.binary(max_size=120).map(bytearray),
    )


@fuzz
@given(data=binary_carriers())
def test_binary_codec_accepts_any_bytes_without_escaping_exceptions(data: bytearray) -> None:
    extract_safely(BinaryCodec(), data)


# Round trips: what one of our tracers injects, another reads back unchanged.

trace_ids = st.one_of(st.integers(1, MAX_64), st.integers(1, MAX_128))
span_ids = st.integers(1, MAX_64)
parent_ids = st.one_of(st.none(), st.integers(1, MAX_64))
baggage_keys = st.text(alphabet="abcdefghijklmnopqrstuvwxyz0123456789-_.", min_size=1, max_size=12)
baggage = st.dictionaries(baggage_keys, st.text(max_size=30), max_size=6)


@fuzz
@given(
    trace_id=trace_ids,
    span_id=span_ids,
    parent_id=parent_ids,
    flags=st.integers(0, 255),
    bag=baggage,
)
@pytest.mark.parametrize("codec_name", ["text_map", "http_headers", "binary"])
def test_jaeger_formats_round_trip(
    codec_name: str,
    trace_id: int,
    span_id: int,
    parent_id: Optional[int],
    flags: int,
    bag: dict[str, str],
) -> None:
    codec = CODECS[codec_name]
    carrier: Any = bytearray() if codec_name == "binary" else {}
    codec.inject(SpanContext(trace_id, span_id, parent_id, flags, bag), carrier)
    context = codec.extract(carrier)
    assert_valid(context)
    assert context is not None
    assert (context.trace_id, context.span_id, context.parent_id, context.flags) == (
        trace_id,
        span_id,
        parent_id,
        flags,
    )
    assert dict(context.baggage) == bag


@fuzz
@given(trace_id=trace_ids, span_id=span_ids, parent_id=parent_ids, flags=st.sampled_from([0, 1, 3]))
@pytest.mark.parametrize("codec_name", ["b3", "b3_single", "w3c", "composite", "zipkin"])
def test_other_formats_round_trip_ids(
    codec_name: str, trace_id: int, span_id: int, parent_id: Optional[int], flags: int
) -> None:
    codec = CODECS[codec_name]
    carrier: dict[str, Any] = {}
    codec.inject(SpanContext(trace_id, span_id, parent_id, flags), carrier)
    context = codec.extract(carrier)
    assert_valid(context)
    assert context is not None
    assert (context.trace_id, context.span_id) == (trace_id, span_id)
    if codec_name == "w3c":
        assert context.flags == flags & constants.SAMPLED_FLAG  # W3C has no debug bit
    else:
        assert (context.parent_id, context.flags) == (parent_id, flags)


@fuzz
@given(carrier=dict_carriers)
def test_tracer_extract_of_any_carrier_is_safe_and_a_child_can_start(
    carrier: dict[Any, Any],
) -> None:
    tracer = Tracer("test", InMemoryReporter(), ConstSampler(True))
    for fmt in (Format.TEXT_MAP, Format.HTTP_HEADERS):
        try:
            context = tracer.extract(fmt, carrier)
        except OT_ERRORS:
            continue
        assert_valid(context)
        span = tracer.start_span("child", child_of=context)
        out: dict[str, str] = {}
        tracer.inject(span.context, fmt, out)
        if fmt == Format.TEXT_MAP:  # HTTP_HEADERS re-encodes, which may grow a value up to 3x
            assert sum(len(k) + len(v) for k, v in out.items() if k.startswith("uberctx-")) <= (
                constants.MAX_BAGGAGE_HEADER_BYTES
            )
