"""W3C Baggage (the ``baggage`` header): parsing as the spec's examples, an encoding that both
spec readers and OpenTelemetry Python read back, W3C's limits both ways, the ``propagation`` names.
"""

from __future__ import annotations

import re
from typing import Any

import pytest
from _http_agent import CountingMetricsFactory
from hypothesis import given
from hypothesis import strategies as st
from opentracing import SpanContextCorruptedException
from opentracing.propagation import Format

from jaeger_client import Config, ConstSampler, SpanContext
from jaeger_client.codecs import CompositeCodec, TextCodec, TraceContextCodec, W3CBaggageCodec
from jaeger_client.reporter import InMemoryReporter
from jaeger_client.tracer import TracerMetrics

TRUNCATIONS = "jaeger:baggage_truncations"


def counted() -> tuple[W3CBaggageCodec, CountingMetricsFactory]:
    factory = CountingMetricsFactory()
    return W3CBaggageCodec(metrics=TracerMetrics(factory)), factory


def extract(header: Any) -> dict[str, str]:
    context = W3CBaggageCodec().extract({"baggage": header})
    return {} if context is None else dict(context.baggage)


def test_the_spec_examples_parse_and_properties_are_dropped() -> None:
    # https://www.w3.org/TR/baggage/#examples-of-http-headers
    assert extract("key1=value1,key2=value2") == {"key1": "value1", "key2": "value2"}
    assert extract("key1 = value1, key2 = value2") == {"key1": "value1", "key2": "value2"}
    assert extract(
        "key1=value1;property1;property2, key2 = value2, key3=value3; propertyKey=x"
    ) == {
        "key1": "value1",
        "key2": "value2",
        "key3": "value3",
    }
    assert extract("userId=alice,serverNode=DF%2028,isProduction=false") == {
        "userId": "alice",
        "serverNode": "DF 28",
        "isProduction": "false",
    }


def test_a_baggage_only_context_has_no_trace_and_an_absent_header_is_none() -> None:
    context = W3CBaggageCodec().extract({"Baggage": "k=v"})  # any case
    assert context is not None and not context.has_trace and dict(context.baggage) == {"k": "v"}
    assert W3CBaggageCodec().extract({"uber-trace-id": "1:2:0:1"}) is None
    assert W3CBaggageCodec().extract({"baggage": ""}) is None
    assert W3CBaggageCodec().extract({"baggage": " , ,"}) is None


def test_inject_percent_encodes_what_a_value_cannot_hold_and_plus() -> None:
    carrier: dict[str, str] = {}
    baggage = {"k": 'a b+c=d;e,f"g\\h%é', "plain": "v1", "to+ken!": "x"}
    W3CBaggageCodec().inject(SpanContext(1, 2, None, 1, baggage), carrier)
    assert carrier == {"baggage": "k=a%20b%2Bc%3Dd%3Be%2Cf%22g%5Ch%25%C3%A9,plain=v1,to+ken!=x"}
    assert extract(carrier["baggage"]) == baggage


def test_keys_are_tokens_never_decoded_and_others_are_escaped_on_inject() -> None:
    # the spec's keys are tokens, not encoded: "%0D%0A" stays as it is, so a key read here can
    # never make another format write a bad header name
    assert extract("a%20b=1,%0D%0AX-Evil%3A%20x=2") == {"a%20b": "1", "%0D%0AX-Evil%3A%20x": "2"}
    carrier: dict[str, str] = {}
    context = SpanContext(1, 2, None, 1, {"odd key": "x", "a\r\nb: c": "y"})
    W3CBaggageCodec().inject(context, carrier)
    assert carrier == {"baggage": "odd%20key=x,a%0D%0Ab%3A%20c=y"}


def test_extract_reads_plus_as_a_space_as_opentelemetry_python_writes_it() -> None:
    assert extract("a=one+two,b=one%2Btwo,c=%zz") == {"a": "one two", "b": "one+two", "c": "%zz"}


def test_members_that_do_not_parse_are_dropped_counted_and_the_rest_kept() -> None:
    codec, factory = counted()
    context = codec.extract({"baggage": 'ok=1,no-equals,=empty-key,bad key=2,v="q",é=3,ok2=2'})
    assert context is not None and dict(context.baggage) == {"ok": "1", "ok2": "2"}
    assert factory.counts[TRUNCATIONS] == 5


def test_several_header_values_are_read_as_one_list() -> None:
    assert extract(["a=1", "b=2,c=3"]) == {"a": "1", "b": "2", "c": "3"}
    assert extract([b"a=1"]) == {"a": "1"}


@pytest.mark.parametrize("count", [180, 181, 1000])
def test_extract_keeps_at_most_180_members(count: int) -> None:
    codec, factory = counted()
    header = ",".join(f"k{i}=v" for i in range(count))
    context = codec.extract({"baggage": header})
    assert context is not None and len(context.baggage) == min(count, 180)
    assert factory.counts[TRUNCATIONS] == max(0, count - 180)


def test_extract_reads_whole_members_of_the_first_8_kb_and_counts_the_rest_as_one() -> None:
    codec, factory = counted()
    members = [f"k{i}={'v' * 100}" for i in range(100)]  # 105-106 bytes each: ~10.6 KB
    context = codec.extract({"baggage": ",".join(members)})
    assert context is not None
    kept = dict(context.baggage)
    assert list(kept) == [f"k{i}" for i in range(len(kept))]
    assert len(",".join(f"{k}={v}" for k, v in kept.items())) <= 8192
    assert len(kept) == 78  # whole members within 8,192 bytes
    assert factory.counts[TRUNCATIONS] == 1


def test_the_limits_are_bytes_on_the_wire_and_exact() -> None:
    # a member of exactly 4,096 bytes is kept; 4,097 is not
    assert extract("k=" + "v" * 4094) == {"k": "v" * 4094}
    assert extract("k=" + "v" * 4095) == {}
    # two members, exactly 8,192 bytes with their comma, are both kept
    codec, factory = counted()
    header = "a=" + "v" * 4094 + "," + "b=" + "v" * 4093
    assert len(header) == 8192
    context = codec.extract({"baggage": header})
    assert context is not None and len(context.baggage) == 2
    assert factory.counts[TRUNCATIONS] == 0
    # a value is sized as it was sent: '!' and '+' are one byte each
    assert extract("k=" + "!" * 4000) == {"k": "!" * 4000}
    assert extract("note=" + "a+b+" * 750) == {"note": "a b " * 750}
    assert len(extract(",".join(f"k{i}=" + "+" * 1000 for i in range(8)))) == 8


def test_empty_members_are_free_and_not_counted() -> None:
    codec, factory = counted()
    context = codec.extract({"baggage": "," * 200 + "a=1" + "," * 200})
    assert context is not None and dict(context.baggage) == {"a": "1"}
    assert factory.counts[TRUNCATIONS] == 0
    codec.extract({"baggage": "a=1" + "," * 1_000_000})  # past the window: one, not a million
    assert factory.counts[TRUNCATIONS] == 1


def test_bad_escapes_are_kept_as_text() -> None:
    header = ",".join(f"k{i}=%zz" for i in range(60))
    assert extract(header) == {f"k{i}": "%zz" for i in range(60)}


def test_a_list_is_bounded_item_by_item_and_its_losses_counted() -> None:
    codec, factory = counted()
    context = codec.extract({"baggage": [f"a{i}=1" for i in range(1000)]})
    assert context is not None and len(context.baggage) == 180
    assert factory.counts[TRUNCATIONS] == 820
    codec, factory = counted()
    context = codec.extract({"baggage": ["a=1", 5, None, b"\xff", "b=2"]})
    assert context is not None and dict(context.baggage) == {"a": "1", "b": "2"}
    assert factory.counts[TRUNCATIONS] == 3
    codec, factory = counted()
    huge = "x=" + "y" * 1_000_000
    context = codec.extract({"baggage": ["a=1", *[huge] * 180]})
    assert context is not None and dict(context.baggage) == {"a": "1"}
    assert factory.counts[TRUNCATIONS] == 1


def test_inject_stops_at_180_members_and_counts_the_rest() -> None:
    codec, factory = counted()
    carrier: dict[str, str] = {}
    codec.inject(SpanContext(1, 2, None, 1, {f"k{i}": "v" for i in range(200_000)}), carrier)
    assert carrier["baggage"].count(",") == 179
    assert factory.counts[TRUNCATIONS] == 200_000 - 180


def test_inject_keeps_the_limits_and_counts_what_it_leaves_out() -> None:
    codec, factory = counted()
    baggage = {"big": "x" * 5000, **{f"k{i}": "v" for i in range(200)}}
    carrier: dict[str, str] = {}
    codec.inject(SpanContext(1, 2, None, 1, baggage), carrier)
    members = carrier["baggage"].split(",")
    assert len(members) == 180 and "big" not in carrier["baggage"]
    assert factory.counts[TRUNCATIONS] == 1 + 20
    carrier = {}
    codec.inject(SpanContext(1, 2, None, 1, {f"k{i}": "y" * 1000 for i in range(10)}), carrier)
    assert len(carrier["baggage"]) <= 8192 and carrier["baggage"].count(",") == 7  # 8 fit


def test_inject_without_baggage_writes_nothing() -> None:
    carrier: dict[str, str] = {}
    W3CBaggageCodec().inject(SpanContext(1, 2, None, 1), carrier)
    assert carrier == {}


TCHARS = "!#$%&'*+-.^_`|~0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"


@given(
    baggage=st.dictionaries(
        st.text(TCHARS, min_size=1, max_size=12),
        st.text(st.characters(blacklist_categories=["Cs"]), max_size=40),
        max_size=8,
    )
)
def test_any_token_key_and_text_value_round_trip(baggage: dict[str, str]) -> None:
    carrier: dict[str, str] = {}
    codec = W3CBaggageCodec()
    codec.inject(SpanContext(1, 2, None, 1, baggage), carrier)
    context = codec.extract(carrier)
    assert ({} if context is None else dict(context.baggage)) == baggage
    if carrier:  # only baggage-octets and the separators on the wire
        assert all(0x21 <= ord(c) <= 0x7E and c not in '" ;\\' for c in carrier["baggage"])


# ---- in a tracer's propagation -------------------------------------------------------------------


def tracer_for(propagation: Any) -> Any:
    config = Config({"propagation": propagation}, service_name="svc", environ={})
    return config.create_tracer(reporter=InMemoryReporter(), sampler=ConstSampler(True))


def test_opentelemetry_defaults_tracecontext_and_baggage_beside_jaeger() -> None:
    tracer = tracer_for(["jaeger", "w3c", "baggage"])
    span = tracer.start_span("op")
    span.set_baggage_item("user", "a b")
    headers: dict[str, str] = {}
    tracer.inject(span.context, Format.HTTP_HEADERS, headers)
    assert {"uber-trace-id", "uberctx-user", "traceparent", "baggage"} <= set(headers)
    assert headers["baggage"] == "user=a%20b"
    only_w3c = {"traceparent": headers["traceparent"], "baggage": headers["baggage"]}
    context = tracer.extract(Format.HTTP_HEADERS, only_w3c)
    assert context.trace_id == span.context.trace_id and context.span_id == span.context.span_id
    assert dict(context.baggage) == {"user": "a b"}
    # both present and disagreeing: the format whose trace is used wins
    both = {**headers, "uberctx-user": "jaeger", "baggage": "user=w3c,extra=1"}
    context = tracer.extract(Format.HTTP_HEADERS, both)
    assert dict(context.baggage) == {"user": "jaeger", "extra": "1"}


def test_baggage_alone_starts_a_new_trace_that_keeps_it() -> None:
    tracer = tracer_for("baggage")
    assert isinstance(tracer.codecs[Format.TEXT_MAP], W3CBaggageCodec)
    context = tracer.extract(Format.HTTP_HEADERS, {"baggage": "tenant=acme"})
    span = tracer.start_span("op", child_of=context)
    assert span.context.trace_id and span.context.parent_id is None
    assert span.get_baggage_item("tenant") == "acme"


@pytest.mark.parametrize(
    ("value", "names"),
    [
        ("tracecontext,baggage", (TraceContextCodec, W3CBaggageCodec)),
        (["w3c", "baggage"], (TraceContextCodec, W3CBaggageCodec)),
        ("b3multi", None),
    ],
)
def test_opentelemetry_propagator_names_are_accepted(value: Any, names: Any) -> None:
    codec = tracer_for(value).codecs[Format.HTTP_HEADERS]
    if names is None:
        assert type(codec).__name__ == "B3Codec"
    else:
        assert isinstance(codec, CompositeCodec)
        assert tuple(type(c) for c in codec.codecs) == names


def test_jaeger_propagation_env_reads_the_new_names() -> None:
    config = Config({}, service_name="svc", environ={"JAEGER_PROPAGATION": "jaeger,baggage"})
    codec = config.propagation[Format.HTTP_HEADERS]
    assert isinstance(codec, CompositeCodec)
    assert [type(c) for c in codec.codecs] == [TextCodec, W3CBaggageCodec]


def test_an_unknown_name_still_names_the_key_and_lists_baggage() -> None:
    with pytest.raises(ValueError, match=r"propagation.*baggage"):
        Config({"propagation": "otlp"}, service_name="svc", environ={})


def test_truncations_reach_the_tracer_metrics() -> None:
    factory = CountingMetricsFactory()
    config = Config(
        {"propagation": "baggage"}, service_name="svc", environ={}, metrics_factory=factory
    )
    tracer = config.create_tracer(reporter=InMemoryReporter(), sampler=ConstSampler(True))
    tracer.extract(Format.HTTP_HEADERS, {"baggage": "ok=1,bad"})
    assert factory.counts[TRUNCATIONS] == 1


def test_a_mixed_case_key_stays_one_key_across_hops() -> None:
    tracer = tracer_for(["jaeger", "w3c", "baggage"])
    span = tracer.start_span("op")
    span.set_baggage_item("userId", "alice")
    headers: dict[str, str] = {}
    tracer.inject(span.context, Format.HTTP_HEADERS, headers)
    for _ in range(3):  # service to service to service
        context = tracer.extract(Format.HTTP_HEADERS, headers)
        assert dict(context.baggage) == {"userId": "alice"}
        headers = {}
        tracer.inject(
            tracer.start_span("hop", child_of=context).context, Format.HTTP_HEADERS, headers
        )
        assert headers["baggage"] == "userId=alice"
        assert [k for k in headers if k.startswith("uberctx-")] == ["uberctx-userId"]


def test_merged_baggage_keeps_the_traced_format_first_within_the_bounds() -> None:
    factory = CountingMetricsFactory()
    config = Config(
        {"propagation": ["jaeger", "baggage"]},
        service_name="svc",
        environ={},
        metrics_factory=factory,
    )
    tracer = config.create_tracer(reporter=InMemoryReporter(), sampler=ConstSampler(True))
    carrier = {
        "uber-trace-id": "1:2:0:1",
        "uberctx-tenant": "acme",
        "uberctx-user": "alice",
        "baggage": ",".join(f"w{i}=x" for i in range(180)),
    }
    context = tracer.extract(Format.HTTP_HEADERS, carrier)
    assert len(context.baggage) == 180
    assert context.baggage["tenant"] == "acme" and context.baggage["user"] == "alice"
    assert factory.counts[TRUNCATIONS] == 2  # w178, w179
    big = {f"uberctx-u{i}": "x" * 900 for i in range(8)}
    big.update(
        {"uber-trace-id": "1:2:0:1", "baggage": ",".join(f"b{i}=" + "y" * 900 for i in range(8))}
    )
    context = tracer.extract(Format.HTTP_HEADERS, big)
    assert sum(len(k) + len(v) for k, v in context.baggage.items()) <= 8192
    assert all(f"u{i}" in context.baggage for i in range(8))  # the traced format's first


def test_a_corrupted_trace_header_is_not_hidden_by_baggage() -> None:
    factory = CountingMetricsFactory()
    config = Config(
        {"propagation": ["jaeger", "w3c", "baggage"]},
        service_name="svc",
        environ={},
        metrics_factory=factory,
    )
    tracer = config.create_tracer(reporter=InMemoryReporter(), sampler=ConstSampler(True))
    carrier = {"uber-trace-id": "zz:2:0:1", "uberctx-k": "v", "baggage": "k=v"}
    with pytest.raises(SpanContextCorruptedException):
        tracer.extract(Format.HTTP_HEADERS, carrier)
    assert factory.counts["jaeger:span_context_decoding_errors"] == 1


# what http.client accepts as a header name (and no control character or non-ASCII)
HEADER_NAME = re.compile(r"[!-9;-~][!-9;-~]*")


@pytest.mark.parametrize("propagation", [["jaeger", "baggage"], ["b3", "baggage"], "jaeger"])
def test_http_header_names_written_are_valid_whatever_the_keys(propagation: Any) -> None:
    tracer = tracer_for(propagation)
    carrier = {
        "uber-trace-id": "1:2:0:1",
        "X-B3-TraceId": "1",
        "X-B3-SpanId": "2",
        "jaeger-baggage": "a%0D%0AX-Evil%3A%20x=1",  # decoded: a key with CR LF and ':'
    }
    context = tracer.extract(Format.HTTP_HEADERS, carrier)
    span = tracer.start_span("op", child_of=context)
    span.set_baggage_item("odd key: v", "3")
    headers: dict[str, str] = {}
    tracer.inject(span.context, Format.HTTP_HEADERS, headers)
    assert [name for name in headers if not HEADER_NAME.fullmatch(name)] == []
    assert headers["uberctx-odd%20key%3A%20v"] == "3"
    if "jaeger" in propagation:  # the codec that reads jaeger-baggage
        assert headers["uberctx-a%0D%0AX-Evil%3A%20x"] == "1"
    if "baggage" in propagation:
        assert "odd%20key%3A%20v=3" in headers["baggage"].split(",")


@pytest.mark.parametrize("propagation", [["jaeger"], ["b3"]])
def test_uberctx_names_keep_what_upstream_wrote_and_escapes_come_back(propagation: Any) -> None:
    tracer = tracer_for(propagation)
    span = tracer.start_span("op")
    for key in ("a/b", "user@host", "user:id", "ключ", "tab\there"):
        span.set_baggage_item(key, "v")
    headers: dict[str, str] = {}
    tracer.inject(span.context, Format.HTTP_HEADERS, headers)
    names = {k for k in headers if k.startswith("uberctx-")}
    assert {"uberctx-a/b", "uberctx-user@host"} <= names  # as jaeger-client 4.8 wrote them
    assert {"uberctx-user%3Aid", "uberctx-%D0%BA%D0%BB%D1%8E%D1%87", "uberctx-tab%09here"} <= names
    back = tracer.extract(Format.HTTP_HEADERS, headers)
    assert set(back.baggage) == {"a/b", "user@host", "user:id", "ключ", "tab\there"}


def test_keys_differing_in_case_within_one_format_stay_apart() -> None:
    tracer = tracer_for(["jaeger", "w3c", "baggage"])
    context = tracer.extract(
        Format.HTTP_HEADERS, {"uber-trace-id": "1:2:0:1", "baggage": "A=1,a=2"}
    )
    assert dict(context.baggage) == {"A": "1", "a": "2"}


def test_a_debug_id_still_wins_over_a_malformed_trace_header() -> None:
    tracer = tracer_for(["jaeger", "w3c"])
    context = tracer.extract(
        Format.HTTP_HEADERS, {"jaeger-debug-id": "abc", "traceparent": "garbage"}
    )
    assert context.debug_id == "abc" and not context.has_trace
