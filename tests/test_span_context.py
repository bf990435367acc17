"""SpanContext: ids, flags, copy-on-write baggage, debug-id carriers."""

from __future__ import annotations

import inspect
from typing import Any

import opentracing
import pytest

from jaeger_client import SpanContext
from jaeger_client.constants import DEBUG_FLAG, SAMPLED_FLAG
from jaeger_client.span_context import _build


def test_constructor_keeps_upstreams_parameters() -> None:
    params = inspect.signature(SpanContext.__init__).parameters
    assert list(params) == [
        "self",
        "trace_id",
        "span_id",
        "parent_id",
        "flags",
        "baggage",
        "debug_id",
    ]
    assert params["baggage"].default is None and params["debug_id"].default is None


def test_fields_and_defaults() -> None:
    ctx = SpanContext(trace_id=1, span_id=2, parent_id=0, flags=SAMPLED_FLAG)
    assert (ctx.trace_id, ctx.span_id, ctx.parent_id, ctx.flags) == (1, 2, None, SAMPLED_FLAG)
    assert ctx.baggage == {} and ctx.debug_id is None
    assert isinstance(ctx, opentracing.SpanContext)
    assert ctx.has_trace and ctx.is_sampled and not ctx.is_debug
    assert not ctx.is_debug_id_container_only
    assert not ctx.has_children


def test_is_debug_reads_the_debug_flag() -> None:
    ctx = SpanContext(1, 2, None, SAMPLED_FLAG | DEBUG_FLAG)
    assert ctx.is_sampled and ctx.is_debug


def test_with_baggage_item_returns_a_copy_and_leaves_the_original_alone() -> None:
    ctx = SpanContext(1, 2, 3, 1, baggage={"a": "1"}, debug_id="dbg")
    new = ctx.with_baggage_item("b", "2")
    assert new is not ctx
    assert ctx.baggage == {"a": "1"}
    assert new.baggage == {"a": "1", "b": "2"}
    assert (new.trace_id, new.span_id, new.parent_id, new.flags) == (1, 2, 3, 1)
    assert new.debug_id == "dbg"  # upstream dropped it here


def test_with_baggage_item_none_deletes_the_key() -> None:
    ctx = SpanContext(1, 2, None, 1, baggage={"a": "1", "b": "2"})
    assert ctx.with_baggage_item("a", None).baggage == {"b": "2"}
    assert ctx.with_baggage_item("missing", None).baggage == {"a": "1", "b": "2"}


def test_with_baggage_item_keeps_the_has_children_mark() -> None:
    ctx = SpanContext(1, 2, None, 1)
    ctx._has_children = True
    assert ctx.with_baggage_item("k", "v").has_children


def test_empty_baggage_of_different_contexts_is_not_shared_after_a_write() -> None:
    a = SpanContext(1, 2, None, 1)
    b = SpanContext(3, 4, None, 1)
    a.with_baggage_item("k", "v")
    assert a.baggage == {} and b.baggage == {}


def test_debug_id_only_context_has_no_trace() -> None:
    ctx = SpanContext.with_debug_id("corr-id")
    assert ctx.debug_id == "corr-id"
    assert ctx.is_debug_id_container_only
    assert not ctx.has_trace
    assert ctx.trace_id is None and ctx.span_id is None and ctx.flags is None


def test_has_trace_needs_ids_and_flags() -> None:
    assert not SpanContext(0, 2, None, 1).has_trace
    assert not SpanContext(1, 0, None, 1).has_trace
    assert not SpanContext(1, 2, None, None).has_trace
    assert SpanContext(1, 2, None, 0).has_trace


def test_baggage_only_context_has_no_trace() -> None:
    ctx = SpanContext(None, None, None, None, baggage={"k": "v"})
    assert not ctx.has_trace and ctx.baggage == {"k": "v"}
    assert not ctx.is_debug_id_container_only


def test_repr_shows_ids_in_hex() -> None:
    assert repr(SpanContext(255, 16, None, 1)) == "SpanContext(ff:10:0:1)"
    assert repr(SpanContext.with_debug_id("x")) == "SpanContext(0:0:0:0)"


def test_trace_state_is_none_not_unset_and_survives_a_baggage_copy() -> None:
    """The slot is always set, so the tracer copies it to a child with a plain load."""
    ctx = SpanContext(1, 2, None, SAMPLED_FLAG)
    assert ctx._trace_state is None and ctx.trace_state is None
    ctx._trace_state = "vendor=abc"
    assert ctx.with_baggage_item("k", "v").trace_state == "vendor=abc"
    assert SpanContext.with_debug_id("d")._trace_state is None


def _slots(context: SpanContext) -> dict[str, object]:
    """Every slot of ``context`` that is set (``_has_children`` stays unset until needed)."""
    return {
        name: getattr(context, name) for name in SpanContext.__slots__ if hasattr(context, name)
    }


@pytest.mark.parametrize(
    "args",
    [
        (1, 2, None, SAMPLED_FLAG, None),
        (1, 2, 0, 0, {}),
        (2**128 - 1, 2**64 - 1, 7, SAMPLED_FLAG | DEBUG_FLAG, {"tenant": "acme"}),
        (None, None, None, None, {"only": "baggage"}),
        (None, None, None, None, None),
    ],
)
def test_fast_builder_sets_every_slot_as_the_constructor_does(args: tuple[Any, ...]) -> None:
    """The codecs' ``_build`` (no class call) yields a context equal in every attribute."""
    built = _build(*args)
    constructed = SpanContext(*args)
    assert type(built) is SpanContext
    assert _slots(built) == _slots(constructed)
    assert vars(built) == vars(constructed) == {}  # opentracing's base class gives a __dict__
    assert built.baggage is constructed.baggage or args[4]  # the shared empty baggage when none
    assert (built.has_trace, built.is_sampled, built.is_debug, built.trace_state) == (
        constructed.has_trace,
        constructed.is_sampled,
        constructed.is_debug,
        constructed.trace_state,
    )
    assert repr(built) == repr(constructed)
