"""Tag and log value conversion (``_values``): every value becomes something that encodes."""

from __future__ import annotations

import collections
import enum
import gc
import math
import time
import traceback
from typing import Any, Callable

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from thrift.protocol import TCompactProtocol
from thrift.transport import TTransport

from jaeger_client import _values
from jaeger_client._values import (
    BINARY,
    BOOL,
    DOUBLE,
    LONG,
    STRING,
    make_fields,
    make_tag,
    safe_str,
)
from jaeger_client.thrift_gen.jaeger import ttypes

MAX = 1024
MAX_TB = 4096
I64_MAX = (1 << 63) - 1
I64_MIN = -(1 << 63)


def tag(key: Any, value: Any, max_length: int = MAX) -> tuple[str, int, Any]:
    return make_tag(key, value, max_length, MAX_TB)


def encode_and_decode(key: str, vtype: int, value: Any) -> Any:
    """Round-trip one tag through thrift's pure compact protocol, as an agent would read it."""
    fields = {STRING: "vStr", DOUBLE: "vDouble", BOOL: "vBool", LONG: "vLong", BINARY: "vBinary"}
    out = ttypes.Tag(key=key, vType=vtype, **{fields[vtype]: value})
    buf = TTransport.TMemoryBuffer()
    out.write(TCompactProtocol.TCompactProtocol(buf))
    decoded = ttypes.Tag()
    decoded.read(TCompactProtocol.TCompactProtocol(TTransport.TMemoryBuffer(buf.getvalue())))
    return decoded


class RaisingStr:
    def __str__(self) -> str:
        raise RuntimeError("no str for you")

    def __repr__(self) -> str:
        raise RuntimeError("no repr either")


class RaisingRepr:
    def __repr__(self) -> str:
        raise ValueError("no repr")


class RaisingName(type):
    def __getattribute__(cls, name: str) -> Any:
        if name == "__name__":
            raise RuntimeError("nameless")
        return super().__getattribute__(name)


class Nameless(RaisingStr, metaclass=RaisingName):
    pass


class Color(enum.IntEnum):
    RED = 1


class MyStr(str):
    def __str__(self) -> str:
        return "overridden"


class MyFloat(float):
    pass


class MyList(list):  # type: ignore[type-arg]
    pass


class Shouting(list):  # type: ignore[type-arg]
    def __str__(self) -> str:
        return "SHOUT"


def recursive_list() -> list[Any]:
    x: list[Any] = []
    x.append(x)
    return x


def recursive_dict() -> dict[str, Any]:
    d: dict[str, Any] = {}
    d["self"] = d
    return d


def a_traceback() -> Any:
    try:
        raise ValueError("boom")
    except ValueError as e:
        return e.__traceback__


# ---- primitives -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "vtype", "stored"),
    [
        ("plain", STRING, "plain"),
        ("", STRING, ""),
        ("caf\u00e9 \u200b \U0001f600", STRING, "caf\u00e9 \u200b \U0001f600"),
        (True, BOOL, True),
        (False, BOOL, False),
        (0, LONG, 0),
        (-1, LONG, -1),
        (I64_MAX, LONG, I64_MAX),
        (I64_MIN, LONG, I64_MIN),
        (I64_MAX + 1, STRING, str(I64_MAX + 1)),
        (I64_MIN - 1, STRING, str(I64_MIN - 1)),
        (2**70, STRING, str(2**70)),
        (-(2**64), STRING, str(-(2**64))),
        (1.5, DOUBLE, 1.5),
        (math.inf, DOUBLE, math.inf),
        (-math.inf, DOUBLE, -math.inf),
        (b"\x00\xffbytes", BINARY, b"\x00\xffbytes"),
        (bytearray(b"ba"), BINARY, b"ba"),
        (memoryview(b"mv"), BINARY, b"mv"),
        (None, STRING, "None"),
        (Color.RED, LONG, 1),
        (MyFloat(2.5), DOUBLE, 2.5),
        (MyStr("sub"), STRING, "sub"),
    ],
)
def test_value_is_stored_with_its_wire_type(value: Any, vtype: int, stored: Any) -> None:
    key, got_type, got = tag("k", value)
    assert (key, got_type, got) == ("k", vtype, stored)
    assert type(got) is type(stored)
    encode_and_decode(key, got_type, got)


def test_nan_is_a_double_and_encodes() -> None:
    key, vtype, value = tag("k", math.nan)
    assert vtype == DOUBLE and math.isnan(value)
    assert math.isnan(encode_and_decode(key, vtype, value).vDouble)


def test_lone_surrogates_are_replaced_in_keys_and_values() -> None:
    key, vtype, value = tag("k\ud800", "v\udfff!")
    assert (key, vtype, value) == ("k?", STRING, "v?!")
    encode_and_decode(key, vtype, value)


def test_int_past_the_decimal_digit_limit_is_rendered_bounded_in_hex() -> None:
    _key, vtype, value = tag("k", 2**20000)
    assert vtype == STRING and value.startswith("0x1000") and len(value) == MAX


def test_strings_and_bytes_are_cut_to_max_length() -> None:
    assert tag("k", "x" * 50, max_length=10)[2] == "x" * 10
    assert tag("k", "\u00e9" * 50, max_length=10)[2] == "\u00e9" * 10
    assert tag("k", b"y" * 50, max_length=10)[2] == b"y" * 10
    assert tag("k", 12345678901234567890123, max_length=5)[2] == "12345"


def test_keys_of_any_type_become_bounded_strings() -> None:
    assert tag(42, "v")[0] == "42"
    assert tag(None, "v")[0] == "None"
    assert tag(RaisingStr(), "v")[0] == "<unprintable RaisingStr object>"
    assert tag("k" * 5000, "v")[0] == "k" * MAX


# ---- objects that fight back ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (RaisingStr(), "<unprintable RaisingStr object>"),
        (Nameless(), "<unprintable object object>"),
        ([RaisingRepr()], "[<RaisingRepr object>]"),
        ({"a": RaisingRepr()}, "{'a': <RaisingRepr object>}"),
        (recursive_list(), "[[[[...]]]]"),
        (recursive_dict(), "{'self': {'self': {'self': {...}}}}"),
        ((1,), "(1,)"),
        ((), "()"),
        (set(), "set()"),
        (frozenset({1}), "frozenset({1})"),
        ({1: [2, (3,)]}, "{1: [2, (3,)]}"),
        (collections.deque([1, 2]), "deque([1, 2])"),
        ({"a": 1}.keys(), "dict_keys(['a'])"),
        (MyList([1, 2]), "[1, 2]"),
        (Shouting([1]), "SHOUT"),
        (object, "<class 'object'>"),
        (ValueError("bad"), "bad"),
    ],
)
def test_other_values_render_like_str_without_raising(value: Any, expected: str) -> None:
    assert tag("k", value) == ("k", STRING, expected)


def test_traceback_keeps_its_innermost_frames_within_max_traceback_length() -> None:
    tb = a_traceback()
    full = "".join(traceback.format_tb(tb))
    _, vtype, value = make_tag("stack", tb, MAX, 40)
    assert vtype == STRING and value == full[-40:]
    _, _, whole = make_tag("stack", tb, 10, 100000)
    assert whole == full  # a traceback is bounded by max_traceback_length, not max_length


def test_containers_render_at_most_16_items_per_level() -> None:
    _, _, value = tag("k", list(range(100)))
    assert value == "[" + ", ".join(str(i) for i in range(16)) + ", ...]"
    _, _, value = tag("k", {i: i for i in range(100)})
    assert value.endswith("15: 15, ...}") and value.startswith("{0: 0, 1: 1")


N = 1_000_000
HUGE: dict[str, Callable[[], Any]] = {
    "10MB-str": lambda: "s" * 10_000_000,
    "10MB-bytes": lambda: b"b" * 10_000_000,
    "list": lambda: list(range(N)),
    "dict": lambda: dict.fromkeys(range(N), 0),
    "set": lambda: set(range(N)),
    "list-subclass": lambda: MyList(range(N)),
    "OrderedDict": lambda: collections.OrderedDict.fromkeys(range(N)),
    "defaultdict": lambda: collections.defaultdict(int, dict.fromkeys(range(N), 0)),
    "deque": lambda: collections.deque(range(N)),
    "dict-values": lambda: dict.fromkeys(range(N)).values(),
    "nested": lambda: [[list(range(N))]],
}


@pytest.mark.parametrize("make", HUGE.values(), ids=HUGE.keys())
def test_huge_value_is_converted_fast_and_bounded(make: Callable[[], Any]) -> None:
    """A 10 MB string or a 1M-element container is never rendered whole (upstream did).

    The garbage collector is kept out of the timing: a collection that starts inside ``tag``
    traverses the million entries of the container the test has just built (10-30 ms measured,
    more on a loaded box), which is not the conversion's cost.
    """
    value = make()
    gc.collect()
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        start = time.thread_time()
        _, vtype, stored = tag("k", value)
        elapsed = time.thread_time() - start
    finally:
        if was_enabled:
            gc.enable()
    assert elapsed < 0.05, elapsed  # rendering one whole takes 0.1-1 s
    assert len(stored) <= MAX
    assert vtype in (STRING, BINARY)


def test_safe_str_never_returns_a_str_subclass() -> None:
    class Weird:
        def __str__(self) -> str:
            return MyStr("sub")

    text = safe_str(Weird(), MAX)
    assert type(text) is str and text == "sub"


def test_a_slicing_memoryview_failure_falls_back_to_a_string() -> None:
    view = memoryview(b"abcd").cast("B", shape=[2, 2])
    key, vtype, value = tag("k", view)
    assert vtype in (STRING, BINARY)
    encode_and_decode(key, vtype, value)


# ---- log fields -------------------------------------------------------------------------------


def test_make_fields_agrees_with_make_tag_for_every_type() -> None:
    values: list[Any] = [
        "s",
        "\ud800",
        "x" * 2000,
        1,
        2**64,
        1.5,
        True,
        None,
        b"b",
        [1],
        RaisingStr(),
    ]
    pairs = [(f"k{i}", v) for i, v in enumerate(values)] + [("k\udc00", 1), (7, 2), ("z" * 2000, 3)]
    assert make_fields(pairs, MAX, MAX_TB) == [tag(k, v) for k, v in pairs]


# ---- property: any value converts, encodes and stays bounded ----------------------------------

any_text = st.text(st.characters(exclude_categories=()))  # lone surrogates included
primitive = (
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=True, allow_infinity=True)
    | any_text
    | st.binary()
)
values = st.recursive(
    primitive,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(any_text, inner, max_size=4),
    max_leaves=8,
)


@settings(max_examples=100, deadline=None)
@given(key=st.one_of(any_text, st.integers()), value=values, max_length=st.integers(1, 300))
def test_any_value_converts_to_an_encodable_bounded_tag(
    key: Any, value: Any, max_length: int
) -> None:
    k, vtype, stored = make_tag(key, value, max_length, MAX_TB)
    assert type(k) is str and len(k) <= max_length
    if vtype in (STRING, BINARY):
        assert len(stored) <= max_length
    encode_and_decode(k, vtype, stored)


def test_module_constants_match_the_thrift_tag_types() -> None:
    assert (STRING, DOUBLE, BOOL, LONG, BINARY) == (
        ttypes.TagType.STRING,
        ttypes.TagType.DOUBLE,
        ttypes.TagType.BOOL,
        ttypes.TagType.LONG,
        ttypes.TagType.BINARY,
    )
    assert _values.__all__ == sorted(_values.__all__)
    # decimal rendering stays below CPython's int -> str digit limit (4300 by default)
    assert _values._MAX_DECIMAL_BITS * math.log10(2) < 4300
