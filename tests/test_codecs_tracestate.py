"""W3C ``tracestate``: read with a valid traceparent, validated, kept, re-injected."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from opentracing import Format, InvalidCarrierException, SpanContextCorruptedException

from jaeger_client import Config, ConstSampler, SpanContext
from jaeger_client.codecs import CompositeCodec, TextCodec, TraceContextCodec
from jaeger_client.reporter import InMemoryReporter

PARENT = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"


def extract(carrier: dict[str, Any]) -> SpanContext:
    context = TraceContextCodec().extract(carrier)
    assert context is not None
    return context


def test_a_context_carries_no_trace_state_unless_set() -> None:
    context = SpanContext(1, 2, None, 1)
    assert context.trace_state is None
    carrier: dict[str, str] = {}
    TraceContextCodec().inject(context, carrier)
    assert "tracestate" not in carrier


def test_tracestate_is_extracted_and_injected_back() -> None:
    state = "rojo=00f067aa0ba902b7,congo=t61rcWkgMzE"
    context = extract({"traceparent": PARENT, "tracestate": state})
    assert context.trace_state == state
    carrier: dict[str, str] = {}
    TraceContextCodec().inject(context, carrier)
    assert carrier == {"traceparent": PARENT, "tracestate": state}


def test_tracestate_header_name_is_case_insensitive() -> None:
    context = extract({"TraceParent": PARENT, "TraceState": "a=1"})
    assert context.trace_state == "a=1"


def test_no_tracestate_is_written_for_a_context_without_one() -> None:
    carrier: dict[str, str] = {}
    TraceContextCodec().inject(SpanContext(1, 2, None, 1), carrier)
    assert list(carrier) == ["traceparent"]


@pytest.mark.parametrize(
    ("header", "kept"),
    [
        ("a=1", "a=1"),
        (" a=1 ,\tb=2\t", "a=1,b=2"),  # OWS around members
        ("a=1,,  ,b=2", "a=1,b=2"),  # empty members are allowed
        ("a=1,B=2,c", "a=1"),  # upper-case key, no '=': dropped
        ("a=1,b=x=y,c=v,", "a=1,c=v"),  # '=' in a value
        ("a=1,b=ends in OWS ,c=3", "a=1,b=ends in OWS,c=3"),  # OWS is not the value's
        ("a=1,b=,c=3", "a=1,c=3"),  # a value needs at least one character
        ("a=1,a=2", "a=1"),  # a duplicate key: the first wins
        ("tenant@system=v,0k=v,k@Sys=v", "tenant@system=v,0k=v"),  # level-2 digit start
        ("a=caf\u00e9,b=2", "b=2"),  # non-ASCII value
        ("k" * 257 + "=v,b=2", "b=2"),  # key over 256 characters
        ("a=" + "v" * 257 + ",b=2", "b=2"),  # value over 256 characters
        ("", None),
        ("x,y", None),
    ],
)
def test_invalid_members_are_dropped_not_the_whole_header(header: str, kept: Any) -> None:
    assert extract({"traceparent": PARENT, "tracestate": header}).trace_state == kept


def test_at_most_32_members_are_kept() -> None:
    header = ",".join(f"k{i}=v" for i in range(40))
    assert extract({"traceparent": PARENT, "tracestate": header}).trace_state == ",".join(
        f"k{i}=v" for i in range(32)
    )


def test_over_512_characters_long_members_go_first_then_the_last_ones() -> None:
    long = [f"l{i}=" + "x" * 130 for i in range(3)]
    short = [f"s{i}=" + "y" * 40 for i in range(12)]  # 43 characters each
    members = [long[0], *short[:6], long[1], *short[6:], long[2]]
    state = extract({"traceparent": PARENT, "tracestate": ",".join(members)}).trace_state
    assert state is not None and len(state) <= 512
    assert state == ",".join(short[:11])  # 12 short ones are 527 characters: the last goes


def test_several_tracestate_values_are_combined() -> None:
    context = extract({"traceparent": PARENT, "tracestate": ["a=1", "b=2"]})
    assert context.trace_state == "a=1,b=2"


def test_tracestate_without_a_valid_traceparent_is_not_read() -> None:
    assert TraceContextCodec().extract({"tracestate": "a=1"}) is None
    with pytest.raises(SpanContextCorruptedException):
        TraceContextCodec().extract({"traceparent": "00-xyz", "tracestate": "a=1"})


def test_with_baggage_item_keeps_the_trace_state() -> None:
    context = extract({"traceparent": PARENT, "tracestate": "a=1"})
    assert context.with_baggage_item("k", "v").trace_state == "a=1"


def test_composite_keeps_the_trace_state_when_it_merges_baggage() -> None:
    codec = CompositeCodec([TraceContextCodec(), TextCodec(url_encoding=True)])
    context = codec.extract({"traceparent": PARENT, "tracestate": "a=1", "uberctx-k": "v"})
    assert context is not None
    assert (context.trace_state, dict(context.baggage)) == ("a=1", {"k": "v"})


def test_child_of_an_extracted_w3c_context_re_injects_its_tracestate() -> None:
    tracer = Config({"propagation": ["w3c"]}, service_name="svc", environ={}).create_tracer(
        reporter=InMemoryReporter(), sampler=ConstSampler(True)
    )
    state = "rojo=00f067aa0ba902b7,congo=t61rcWkgMzE"
    parent = tracer.extract(Format.HTTP_HEADERS, {"traceparent": PARENT, "tracestate": state})
    child = tracer.start_span("child", child_of=parent)
    carrier: dict[str, str] = {}
    tracer.inject(child.context, Format.HTTP_HEADERS, carrier)
    assert carrier["tracestate"] == state
    assert carrier["traceparent"].split("-")[1] == PARENT.split("-")[1]


@settings(max_examples=300, deadline=None)
@given(
    state=st.one_of(
        st.text(),
        st.lists(st.text(alphabet="abz09_-*/@=, \t\u00e9~", max_size=12), max_size=80).map(
            ",".join
        ),
        st.lists(st.text(max_size=5), max_size=3),
        st.binary(max_size=40),
        st.integers(),
        st.none(),
    )
)
def test_hostile_tracestate_raises_nothing_and_stays_bounded(state: Any) -> None:
    try:
        context = TraceContextCodec().extract({"traceparent": PARENT, "tracestate": state})
    except (SpanContextCorruptedException, InvalidCarrierException):
        return
    assert context is not None
    trace_state = context.trace_state
    if trace_state is not None:
        members = trace_state.split(",")
        assert len(trace_state) <= 512 and 0 < len(members) <= 32
        assert trace_state.isascii() and all("=" in m for m in members)
