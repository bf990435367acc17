"""Shared tag tuples (``_values.share_tag``): repeated tags reuse one tuple, within bounds, and a
span records exactly what it recorded when every tag was a new tuple."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from jaeger_client import ConstSampler, Tracer, _values
from jaeger_client._values import BOOL, DOUBLE, LONG, STRING
from jaeger_client.reporter import InMemoryReporter


@pytest.fixture(autouse=True)
def empty_tables() -> Iterator[None]:
    _values.SHARED_STR_TAGS.clear()
    _values.SHARED_INT_TAGS.clear()
    yield
    _values.SHARED_STR_TAGS.clear()
    _values.SHARED_INT_TAGS.clear()


def _tracer(**kwargs: Any) -> Tracer:
    return Tracer("svc", InMemoryReporter(), ConstSampler(True), **kwargs)


def _tags(tracer: Tracer, *pairs: tuple[str, Any]) -> list[Any]:
    span = tracer.start_span("op")
    for key, value in pairs:
        span.set_tag(key, value)
    span.finish()
    return [t for t in span._tags if not t[0].startswith("sampler.")]


def test_a_repeated_tag_is_one_tuple_across_spans_and_tracers() -> None:
    first = _tags(_tracer(), ("http.method", "GET"), ("http.status_code", 200))
    second = _tags(_tracer(), ("http.method", "GET"), ("http.status_code", 200))
    assert first == [("http.method", STRING, "GET"), ("http.status_code", LONG, 200)]
    assert all(a is b for a, b in zip(first, second))


def test_log_fields_share_the_tag_tuples() -> None:
    tracer = _tracer()
    spans = []
    for _ in range(2):
        span = tracer.start_span("op")
        span.set_tag("event", "miss")
        span.log_kv({"event": "miss", "key": "user:42"})
        span.finish()
        spans.append(span)
    fields = [span._logs[0][1] for span in spans]
    assert fields[0] == [("event", STRING, "miss"), ("key", STRING, "user:42")]
    assert all(a is b for a, b in zip(*fields))
    assert fields[0][0] is spans[0]._tags[-1]


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (True, ("k", BOOL, True)),
        (1, ("k", LONG, 1)),
        (1.0, ("k", DOUBLE, 1.0)),
        ("1", ("k", STRING, "1")),
        (False, ("k", BOOL, False)),
        (0, ("k", LONG, 0)),
    ],
)
def test_values_that_compare_equal_keep_their_own_type(value: Any, expected: Any) -> None:
    tracer = _tracer()
    for other in (True, 1, 1.0, "1", False, 0):  # every equal-looking value shared first
        _tags(tracer, ("k", other))
    for _ in range(2):
        (tag,) = _tags(tracer, ("k", value))
        assert tag == expected
        assert type(tag[2]) is type(expected[2])


def test_a_key_with_many_values_stops_being_shared_and_stays_correct() -> None:
    tracer = _tracer()
    n = _values._SHARED_TAG_VALUES
    for i in range(3 * n):
        assert _tags(tracer, ("http.url", f"/item/{i}")) == [("http.url", STRING, f"/item/{i}")]
        assert _tags(tracer, ("n", i)) == [("n", LONG, i)]
    assert _values.SHARED_STR_TAGS["http.url"] is _values.UNSHARED
    assert _values.SHARED_INT_TAGS["n"] is _values.UNSHARED
    assert not _values.UNSHARED  # holds nothing
    first = _tags(tracer, ("http.url", "/again"))
    assert first == [("http.url", STRING, "/again")]
    assert first[0] is not _tags(tracer, ("http.url", "/again"))[0]


def test_tables_are_bounded() -> None:
    tracer = _tracer()
    long_value = "v" * (_values._SHARED_TAG_VALUE_LEN + 1)
    assert _tags(tracer, ("k", long_value)) == [("k", STRING, long_value)]
    assert _values.SHARED_STR_TAGS["k"] is _values.UNSHARED  # long values: ids, URLs
    assert _tags(tracer, ("k", "short")) == [("k", STRING, "short")]
    assert not _values.UNSHARED
    for i in range(_values._SHARED_TAG_KEYS + 10):
        assert _tags(tracer, (f"key{i}", "v")) == [(f"key{i}", STRING, "v")]
        assert len(_values.SHARED_STR_TAGS) <= _values._SHARED_TAG_KEYS
    assert "key0" not in _values.SHARED_STR_TAGS  # cleared once full, then refilled
    assert f"key{_values._SHARED_TAG_KEYS + 9}" in _values.SHARED_STR_TAGS


def test_values_past_the_tracers_length_limit_are_cut_not_shared() -> None:
    tracer = _tracer(max_tag_value_length=8)
    assert _tags(tracer, ("k", "x" * 20)) == [("k", STRING, "x" * 8)]
    assert "k" not in _values.SHARED_STR_TAGS
    # a value shared under a longer limit is still cut under a shorter one
    _tags(_tracer(), ("j", "y" * 20))
    assert _tags(tracer, ("j", "y" * 20)) == [("j", STRING, "y" * 8)]
