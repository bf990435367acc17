"""TextCodec's fast paths (a dict carrier, a plain uber-trace-id, short baggage values) give
what the full path gives, at their boundaries too."""

from __future__ import annotations

from itertools import product
from types import MappingProxyType
from typing import Any, Optional
from urllib.parse import quote

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from opentracing import SpanContextCorruptedException

from jaeger_client import SpanContext
from jaeger_client import codecs as codecs_module
from jaeger_client.codecs import TextCodec, span_context_from_string

_Ids = Optional[tuple[int, int, Optional[int], int]]


def _parsed(value: str) -> _Ids:
    """What the full path makes of an uber-trace-id: its ids, or None if it raises."""
    try:
        return span_context_from_string(value)
    except SpanContextCorruptedException:
        return None


def _extracted(value: str) -> _Ids:
    try:
        context = TextCodec(url_encoding=True).extract({"uber-trace-id": value})
    except SpanContextCorruptedException:
        return None
    assert context is not None
    return context.trace_id, context.span_id, context.parent_id, context.flags


# what int(x, 16) takes and the header grammar does not, and what makes the fields' bounds
_HEADER_CHARS = st.sampled_from([*"0123456789abcdefABCDEF:", " ", "\t", "+", "-", "_", "x", "X"])


@settings(max_examples=500, deadline=None)
@given(st.lists(_HEADER_CHARS, max_size=72).map("".join))
def test_trace_header_fast_path_matches_span_context_from_string(value: str) -> None:
    assert _extracted(value) == _parsed(value)


@pytest.mark.parametrize(
    "value",
    [
        "1:2:0:1",
        "abc:def:0:0",
        "ABC:DEF:1:ff",
        "f" * 32 + ":" + "f" * 16 + ":" + "f" * 16 + ":ff",  # every field at its widest
        "1" * 33 + ":2:0:1",  # trace id one digit too long
        "1:" + "2" * 17 + ":0:1",
        "1:2:" + "3" * 17 + ":1",
        "1:2:00:1",  # a zero parent spelled out: no parent
        "1:2::1",  # empty parent
        ":2:0:1",
        "1::0:1",
        "0:2:0:1",  # zero trace id
        "1:0:0:1",
        "1:2:0:100",  # flags of 3 digits
        "1:2:0:",
        "1:2:0:1:5",
        "0x1:2:0:1",
        " 1:2:0:1",
        "1:2 :0:1",
        "+1:2:0:1",
        "1_0:2:0:1",
        "1:2:-0:1",
        "\u0661:2:0:1",  # an Arabic-Indic digit, which int() would read as 1
        "g:2:0:1",
        # a child's context: the parent is unpacked with the ids
        "1:2:3:1",
        "1:2:" + "f" * 16 + ":1",
        "f" * 32 + ":2:0003:1",
        "1:2:ABC:1",
        "1:2: 3:1",
        "1:2:3 :1",
        "1:2:g:1",
        "1:2:0x3:1",
        "1:2:\u0663:1",
        "1" * 33 + ":2:3:1",
        "1:" + "2" * 17 + ":3:1",
        "0:2:3:1",
        "1:0:3:1",
    ],
)
def test_trace_header_edge_cases_match_span_context_from_string(value: str) -> None:
    assert _extracted(value) == _parsed(value)


def test_patched_span_context_from_string_is_used_by_the_dict_fast_path(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(codecs_module, "span_context_from_string", lambda value: (7, 8, 9, 1))
    context = TextCodec().extract({"uber-trace-id": "1:2:0:1"})
    assert context is not None
    assert (context.trace_id, context.span_id, context.parent_id, context.flags) == (7, 8, 9, 1)


def test_dict_fast_path_hands_over_to_the_full_path_mid_carrier() -> None:
    """Plain items read first are kept when a later one needs decoding or is the debug id."""
    carrier = {
        "uberctx-a": "1",
        "Uber-Trace-Id": "1:2:0:1",
        "uberctx-b": "x%20y",
        "jaeger-debug-id": "dbg",
        "uberctx-c": "3",
    }
    context = TextCodec(url_encoding=True).extract(carrier)
    assert context is not None
    assert context.baggage == {"a": "1", "b": "x y", "c": "3"}
    assert context.debug_id == "dbg"
    assert (context.trace_id, context.span_id) == (1, 2)


def test_baggage_only_dict_carrier_starts_a_context_without_a_trace() -> None:
    context = TextCodec().extract({"uberctx-a": "1"})
    assert context is not None
    assert context.trace_id is None
    assert context.baggage == {"a": "1"}


def _inject(codec: TextCodec, context: SpanContext) -> dict[str, str]:
    carrier: dict[str, str] = {}
    codec.inject(context, carrier)
    return carrier


def test_root_and_child_trace_headers_are_unpadded_hex() -> None:
    codec = TextCodec()
    assert _inject(codec, SpanContext(0xAB, 0xCD, None, 1)) == {"uber-trace-id": "ab:cd:0:1"}
    assert _inject(codec, SpanContext(0xAB, 0xCD, 0xEF, 3)) == {"uber-trace-id": "ab:cd:ef:3"}


@pytest.mark.parametrize(
    "value",
    ["acme", "a b", "a+b", "50%", "", "é", "日本", "a/b", "x" * 256, "x y" * 100, "\ud800"],
)
def test_http_baggage_values_are_quoted_as_quote_does_also_when_remembered(value: str) -> None:
    codec = TextCodec(url_encoding=True)
    context = SpanContext(1, 2, None, 1, {"k": value})
    expected = quote(value, errors="replace")
    assert _inject(codec, context)["uberctx-k"] == expected
    assert _inject(codec, context)["uberctx-k"] == expected  # the second time from memory
    if value:
        round_trip = codec.extract({"uberctx-k": expected})
        assert round_trip is not None
        assert round_trip.baggage["k"] == value.replace("\ud800", "?")


def test_remembered_quoted_values_are_bounded() -> None:
    codec = TextCodec(url_encoding=True)
    for i in range(codecs_module._QUOTED_CACHE_SIZE + 100):
        _inject(codec, SpanContext(1, 2, None, 1, {"k": f"v {i}"}))
    _inject(codec, SpanContext(1, 2, None, 1, {"k": "y" * 257}))
    assert len(codec._quoted) == codecs_module._QUOTED_CACHE_SIZE
    assert _inject(codec, SpanContext(1, 2, None, 1, {"k": "v 600"})) == {
        "uber-trace-id": "1:2:0:1",
        "uberctx-k": "v%20600",
    }


@pytest.mark.parametrize("url_encoding", [True, False])
def test_remembered_header_names_are_bounded_and_short(url_encoding: bool) -> None:
    codec = TextCodec(url_encoding=url_encoding)
    for i in range(codecs_module._KEY_CACHE_SIZE + 100):
        _inject(codec, SpanContext(1, 2, None, 1, {f"k{i}": "v"}))
    long_key = "k" * (codecs_module._KEY_CACHE_MAX_LEN + 1)
    assert _inject(codec, SpanContext(1, 2, None, 1, {long_key: "v"}))["uberctx-" + long_key] == "v"
    assert len(codec._names) == codecs_module._KEY_CACHE_SIZE
    assert long_key not in codec._names
    assert _inject(codec, SpanContext(1, 2, None, 1, {"k600": "v", "k1": "w"})) == {
        "uber-trace-id": "1:2:0:1",
        "uberctx-k600": "v",
        "uberctx-k1": "w",
    }


def test_text_map_baggage_values_are_written_as_they_are() -> None:
    codec = TextCodec(url_encoding=False)
    assert _inject(codec, SpanContext(1, 2, None, 1, {"k": "a b%"}))["uberctx-k"] == "a b%"
    assert not codec._quoted


def _slots(context: Optional[SpanContext]) -> dict[str, object]:
    assert type(context) is SpanContext
    return {
        name: getattr(context, name) for name in SpanContext.__slots__ if hasattr(context, name)
    }


@pytest.mark.parametrize(
    ("header", "ids"),
    [
        ("1:2:0:1", (1, 2, None, 1)),
        ("abc:def:10:0", (0xABC, 0xDEF, 0x10, 0)),
        ("f" * 32 + ":" + "f" * 16 + ":00:3", (2**128 - 1, 2**64 - 1, None, 3)),
    ],
)
@pytest.mark.parametrize("baggage", [None, {"tenant": "acme"}])
def test_dict_fast_path_builds_the_context_the_constructor_builds(
    header: str, ids: tuple[int, int, Optional[int], int], baggage: Optional[dict[str, str]]
) -> None:
    """The fast path builds its SpanContext without the class call: every slot as __init__."""
    carrier = {"uber-trace-id": header}
    carrier.update({f"uberctx-{k}": v for k, v in (baggage or {}).items()})
    extracted = TextCodec(url_encoding=True).extract(carrier)
    assert _slots(extracted) == _slots(SpanContext(*ids, baggage))
    assert vars(extracted) == {}


@pytest.mark.parametrize(
    ("url_encoding", "expected"),
    [
        (True, ["x%20y", "v", "%FF", "w", "2.5", "plain"]),
        (False, ["x y", "v", "\ufffd", "w", "2.5", "plain"]),
    ],
)
def test_baggage_of_any_type_is_injected_in_order_as_text(
    url_encoding: bool, expected: list[str]
) -> None:
    """Non-str keys and values (a user's baggage dict) are written as text; None is left out."""
    baggage: Any = {"a": "x y", 1: "v", "b": b"\xff", "c": None, b"k": "w", "d": 2.5, "e": "plain"}
    carrier: dict[str, str] = {}
    TextCodec(url_encoding=url_encoding).inject(SpanContext(1, 2, None, 1, baggage), carrier)
    assert list(carrier) == ["uber-trace-id", *(f"uberctx-{k}" for k in "a1bkde")]
    assert list(carrier.values())[1:] == expected


# carrier keys and values for the fast path against the full path: duplicate headers in other
# cases, long, empty, encoded, not text, None, the debug id and the baggage header
_CARRIER_KEYS: list[Any] = [
    "uber-trace-id",
    "Uber-Trace-Id",
    "uberctx-a",
    "UBERCTX-A",
    "UBERCTX-B",
    "uberctx-" + "k" * 200,  # longer than the keys the fast path takes
    "uberctx-",
    "jaeger-debug-id",
    "jaeger-baggage",
    "x-other",
    b"uberctx-c",
]
_PLAUSIBLE_VALUES: list[Any] = [
    "1:2:0:1",
    "abc:def:1:0",
    "acme",
    "Ab9",
    "a+b",
    "x%20y",
    "50%",
    "",
    "k=v, l=w",
]
_ODD_VALUES: list[Any] = ["0:0:0:0", "1:2:3", "f" * 40 + ":1:0:1", "é", "x" * 300, None, 5, b"raw"]
# mostly values a fast path takes, so that the items after them are reached too
_CARRIER_VALUES = st.one_of(
    *[st.sampled_from(_PLAUSIBLE_VALUES)] * 3, st.sampled_from(_ODD_VALUES), st.text(max_size=12)
)


def _outcome(codec: TextCodec, carrier: Any) -> object:
    """What extract makes of ``carrier``: the context's fields, None, or the exception's type."""
    try:
        context = codec.extract(carrier)
    except Exception as e:
        return type(e)
    if context is None:
        return None
    ids = (context.trace_id, context.span_id, context.parent_id, context.flags)
    return ids, context.baggage, context.debug_id


@settings(max_examples=500, deadline=None)
@given(
    st.lists(st.tuples(st.sampled_from(_CARRIER_KEYS), _CARRIER_VALUES), max_size=8),
    st.booleans(),
)
def test_dict_fast_path_extracts_what_the_full_path_extracts(
    items: list[tuple[Any, Any]], url_encoding: bool
) -> None:
    """A dict (the fast path, which starts over in the full one when it must) gives what the
    same items give through a mapping that is not a dict (the full path only); with the
    codec's key and value memories cold and warm."""
    carrier = dict(items)
    expected = _outcome(TextCodec(url_encoding=url_encoding), MappingProxyType(carrier))
    codec = TextCodec(url_encoding=url_encoding)
    assert _outcome(codec, carrier) == expected
    assert _outcome(codec, carrier) == expected


def test_remembered_plain_values_are_bounded_and_hold_no_encoded_value() -> None:
    codec = TextCodec(url_encoding=True)
    for i in range(codecs_module._PLAIN_CACHE_SIZE + 100):
        context = codec.extract({"uberctx-k": f"v{i}"})
        assert context is not None
        assert context.baggage == {"k": f"v{i}"}
    assert 0 < len(codec._plain) <= codecs_module._PLAIN_CACHE_SIZE
    for _ in range(2):
        context = codec.extract({"uberctx-k": "x%20y", "uberctx-l": "y" * 300})
        assert context is not None
        assert context.baggage == {"k": "x y", "l": "y" * 300}
    assert "x%20y" not in codec._plain
    assert "y" * 300 not in codec._plain


@pytest.mark.parametrize("url_encoding", [True, False])
def test_dict_fast_path_extracts_what_the_full_path_extracts_for_every_pair(
    url_encoding: bool,
) -> None:
    """Every carrier of two items from the keys and values above, cold and warm, as the full
    path reads it."""
    items = list(product(_CARRIER_KEYS, [*_PLAUSIBLE_VALUES, *_ODD_VALUES]))
    codec = TextCodec(url_encoding=url_encoding)  # warm: it has seen every carrier before
    mismatches = []
    for first, second in product(items, items):
        carrier = dict([first, second])
        expected = _outcome(TextCodec(url_encoding=url_encoding), MappingProxyType(carrier))
        for got in (
            _outcome(TextCodec(url_encoding=url_encoding), carrier),
            _outcome(codec, carrier),
        ):
            if got != expected:
                mismatches.append((carrier, got, expected))
    assert mismatches == []


@pytest.mark.parametrize("url_encoding", [True, False])
@pytest.mark.parametrize("count", [1, 6, 8, 10, 11, 17, 40])
@pytest.mark.parametrize(
    ("key_text", "value"),
    [
        ("k", "v" * 200),  # short items
        ("k", "v" * 600),  # long values
        ("k", "a b" * 300),  # long values that quote() enlarges when re-injected
        ("日" * 250, "v" * 256),  # long UTF-8 keys
    ],
)
def test_dict_fast_path_hands_many_or_large_items_to_the_full_path(
    url_encoding: bool, count: int, key_text: str, value: str
) -> None:
    """Past the items and sizes the fast path takes, the full path bounds the baggage (8 KB in
    all, re-injected), as for any mapping."""
    carrier = {"uber-trace-id": "1:2:0:1"}
    carrier.update({f"uberctx-{key_text}{i}": value for i in range(count)})
    codec = TextCodec(url_encoding=url_encoding)
    expected = _outcome(TextCodec(url_encoding=url_encoding), MappingProxyType(carrier))
    assert _outcome(codec, carrier) == expected
    assert _outcome(codec, carrier) == expected
