"""SpanContext: the propagated part of a span (ids, flags, baggage, debug id)."""

from __future__ import annotations

from typing import Optional

import opentracing

from .constants import DEBUG_FLAG, SAMPLED_FLAG

__all__ = ["SpanContext"]

_EMPTY_BAGGAGE: dict[str, str] = opentracing.SpanContext.EMPTY_BAGGAGE
_new = object.__new__


class SpanContext(opentracing.SpanContext):
    """Trace id, span id, parent id, flags and baggage.

    Baggage is copy-on-write: ``with_baggage_item`` returns a new context, so a context handed to
    another thread or process never changes under it. ``flags`` stays a plain attribute because
    upstream (and ``sampling.priority``) update it in place on the span that owns it.
    """

    __slots__ = (
        "_baggage",
        "_debug_id",
        "_has_children",
        "_trace_state",
        "flags",
        "parent_id",
        "span_id",
        "trace_id",
    )

    # Set to True by the tracer when a child span is started from this context or the context is
    # injected. Left unset (not even assigned False) until then, so a context costs nothing extra.
    _has_children: bool
    # W3C tracestate (https://www.w3.org/TR/trace-context/#tracestate-header), set by the W3C
    # codec on extract and copied by the tracer to a child. None, never unset: the child path
    # reads it with a plain load (an unset slot read through getattr raises inside, ~2,500
    # instructions on 3.11). Every build sets it, including Tracer.start_span's inline ones.
    _trace_state: Optional[str]
    # None only in a carrier-only context (debug id or baggage, no trace), never in a span's
    flags: int

    def __init__(
        self,
        trace_id: Optional[int],
        span_id: Optional[int],
        parent_id: Optional[int],
        flags: Optional[int],
        baggage: Optional[dict[str, str]] = None,
        debug_id: Optional[str] = None,
    ) -> None:
        self.trace_id = trace_id
        self.span_id = span_id
        self.parent_id = parent_id or None
        self.flags = flags  # type: ignore[assignment]  # see the class-level annotation
        self._baggage = baggage or _EMPTY_BAGGAGE
        self._debug_id = debug_id
        self._trace_state = None

    @property
    def baggage(self) -> dict[str, str]:
        return self._baggage

    @property
    def debug_id(self) -> Optional[str]:
        return self._debug_id

    @property
    def has_children(self) -> bool:
        """Whether a child span was started from this context (here, or after ``inject``)."""
        return getattr(self, "_has_children", False)

    @property
    def trace_state(self) -> Optional[str]:
        """The W3C ``tracestate`` this context carries (validated), or ``None``."""
        return getattr(self, "_trace_state", None)  # a subclass may skip __init__

    @property
    def has_trace(self) -> bool:
        return bool(self.trace_id and self.span_id and self.flags is not None)

    @property
    def is_debug_id_container_only(self) -> bool:
        return not self.trace_id and self._debug_id is not None

    @property
    def is_sampled(self) -> bool:
        return bool((self.flags or 0) & SAMPLED_FLAG)

    @property
    def is_debug(self) -> bool:
        return bool((self.flags or 0) & DEBUG_FLAG)

    def with_baggage_item(self, key: str, value: Optional[str]) -> SpanContext:
        """Return a copy with ``key`` set to ``value``; ``None`` removes the key."""
        baggage = dict(self._baggage)
        if value is None:
            baggage.pop(key, None)
        else:
            baggage[key] = value
        context = SpanContext(
            trace_id=self.trace_id,
            span_id=self.span_id,
            parent_id=self.parent_id,
            flags=self.flags,
            baggage=baggage,
            debug_id=self._debug_id,
        )
        if self.has_children:
            context._has_children = True
        trace_state = getattr(self, "_trace_state", None)
        if trace_state is not None:
            context._trace_state = trace_state
        return context

    @staticmethod
    def with_debug_id(debug_id: str) -> SpanContext:
        """A context that carries only a ``jaeger-debug-id`` correlation id (no trace)."""
        return SpanContext(
            trace_id=None, span_id=None, parent_id=None, flags=None, debug_id=debug_id
        )

    def __repr__(self) -> str:
        return (
            f"SpanContext({self.trace_id or 0:x}:{self.span_id or 0:x}:"
            f"{self.parent_id or 0:x}:{self.flags or 0:x})"
        )


def _build(
    trace_id: Optional[int],
    span_id: Optional[int],
    parent_id: Optional[int],
    flags: Optional[int],
    baggage: Optional[dict[str, str]] = None,
) -> SpanContext:
    """``SpanContext(trace_id, span_id, parent_id, flags, baggage)`` for the codecs' hot paths.

    The class call runs ``type.__call__`` and a Python ``__init__`` (~2,500 instructions on
    3.11); this one Python call stores the same slots. Keep it in step with ``__init__``.
    """
    context: SpanContext = _new(SpanContext)
    context.trace_id = trace_id
    context.span_id = span_id
    context.parent_id = parent_id or None
    context.flags = flags  # type: ignore[assignment]  # see the class-level annotation
    context._baggage = baggage or _EMPTY_BAGGAGE
    context._debug_id = None
    context._trace_state = None
    return context
