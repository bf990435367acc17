"""What the dev agent received: plain Python views of decoded ``jaeger.thrift`` structs.

The wire types are in ``idl/jaeger.thrift`` (field table in shared/reference/WIRE.md). Ids travel
as signed i64 and are shown here unsigned; a 128-bit trace id is ``high << 64 | low``.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any, Optional

from ..thrift_gen.jaeger import ttypes

__all__ = [
    "ReceivedBatch",
    "ReceivedLog",
    "ReceivedReference",
    "ReceivedSpan",
    "Trace",
    "group_traces",
]

_U64 = (1 << 64) - 1
SAMPLED_FLAG = 0x01
DEBUG_FLAG = 0x02
_REF_TYPES = {
    ttypes.SpanRefType.CHILD_OF: "child_of",
    ttypes.SpanRefType.FOLLOWS_FROM: "follows_from",
}


def _hex_trace_id(trace_id: int) -> str:
    return f"{trace_id:032x}" if trace_id > _U64 else f"{trace_id:016x}"


@dataclass(frozen=True, eq=False)
class ReceivedLog:
    """One span log: ``timestamp_us`` (microseconds since the epoch) and its fields."""

    timestamp_us: int
    fields: dict[str, Any]


@dataclass(frozen=True, eq=False)
class ReceivedReference:
    """A span reference; ``ref_type`` is ``"child_of"`` or ``"follows_from"``."""

    ref_type: str
    trace_id: int
    span_id: int


@dataclass(frozen=True, eq=False)
class ReceivedSpan:
    """A span as the agent decoded it, with the process (service) it was reported under.

    ``tags`` maps each key to its Python value (str, float, bool, int or bytes); when a key repeats,
    the last one wins (``thrift`` holds the decoded ``jaeger.ttypes.Span`` with every tag).
    ``transport`` is ``"compact"``, ``"binary"`` (UDP) or ``"http"`` (``POST /api/traces``).
    """

    trace_id: int
    span_id: int
    parent_id: int
    operation_name: str
    service_name: str
    flags: int
    start_time_us: int
    duration_us: int
    tags: dict[str, Any]
    logs: tuple[ReceivedLog, ...]
    references: tuple[ReceivedReference, ...]
    process_tags: dict[str, Any]
    transport: str
    thrift: Any = field(repr=False)

    @property
    def is_sampled(self) -> bool:
        return bool(self.flags & SAMPLED_FLAG)

    @property
    def is_debug(self) -> bool:
        return bool(self.flags & DEBUG_FLAG)

    @property
    def trace_id_hex(self) -> str:
        """16 hex digits for a 64-bit trace id, 32 for a 128-bit one."""
        return _hex_trace_id(self.trace_id)

    @property
    def span_id_hex(self) -> str:
        return f"{self.span_id:016x}"

    @property
    def parent_id_hex(self) -> str:
        return f"{self.parent_id:016x}"

    @property
    def start_time(self) -> float:
        """Seconds since the epoch, like ``jaeger_client.Span.start_time``."""
        return self.start_time_us / 1e6

    @property
    def end_time(self) -> float:
        return (self.start_time_us + self.duration_us) / 1e6

    @property
    def duration(self) -> float:
        """Seconds."""
        return self.duration_us / 1e6

    @property
    def effective_parent_id(self) -> int:
        """``parent_id``, or else the span a same-trace reference points at (0 for a root)."""
        if self.parent_id:
            return self.parent_id
        for wanted in ("child_of", "follows_from"):
            for ref in self.references:
                if ref.ref_type == wanted and ref.trace_id == self.trace_id:
                    return ref.span_id
        return 0


@dataclass(frozen=True, eq=False)
class ReceivedBatch:
    """One ``Batch``: a datagram's or an HTTP body's worth of spans from one process."""

    service_name: str
    process_tags: dict[str, Any]
    spans: tuple[ReceivedSpan, ...]
    seq_no: Optional[int]
    stats: Optional[dict[str, int]]  # ClientStats: full_queue_dropped, too_large_dropped, failed
    transport: str
    source: str  # "host:port" of the sender


@dataclass(frozen=True, eq=False)
class Trace:
    """The spans received so far for one trace id, in arrival order."""

    trace_id: int
    spans: tuple[ReceivedSpan, ...]

    @property
    def trace_id_hex(self) -> str:
        return _hex_trace_id(self.trace_id)

    @property
    def services(self) -> list[str]:
        return sorted({s.service_name for s in self.spans})

    @property
    def duration_us(self) -> int:
        """From the earliest start to the latest end among the received spans."""
        if not self.spans:
            return 0
        start = min(s.start_time_us for s in self.spans)
        return max(s.start_time_us + s.duration_us for s in self.spans) - start

    @property
    def roots(self) -> list[ReceivedSpan]:
        """Spans whose parent was not received (a true root, or an orphan), by start time."""
        return [span for span, _depth in self.walk() if _depth == 0]

    def children(self, span: ReceivedSpan) -> list[ReceivedSpan]:
        """Direct children of ``span`` (by parent id or same-trace reference), by start time."""
        return sorted(
            (s for s in self.spans if s is not span and s.effective_parent_id == span.span_id),
            key=_start_key,
        )

    def find(self, operation_name: str) -> ReceivedSpan:
        """The first span received with ``operation_name``; ``KeyError`` if there is none."""
        for span in self.spans:
            if span.operation_name == operation_name:
                return span
        names = sorted({s.operation_name for s in self.spans})
        raise KeyError(
            f"no span named {operation_name!r} in trace {self.trace_id_hex}; got {names}"
        )

    def walk(self) -> Iterator[tuple[ReceivedSpan, int]]:
        """Depth-first ``(span, depth)`` pairs: roots by start time, each followed by its subtree.

        Every span appears exactly once, even with duplicate ids or a reference cycle (possible only
        in malformed input): a span on a cycle is shown as a root.
        """
        by_id: dict[int, ReceivedSpan] = {}
        for span in self.spans:
            by_id.setdefault(span.span_id, span)
        kids: dict[int, list[ReceivedSpan]] = {}
        top: list[ReceivedSpan] = []
        for span in sorted(self.spans, key=_start_key):
            parent = by_id.get(span.effective_parent_id)
            if parent is None or parent is span:
                top.append(span)
            else:
                kids.setdefault(id(parent), []).append(span)
        seen: set[int] = set()
        pending = list(top)
        while True:
            stack = [(span, 0) for span in reversed(pending)]
            while stack:
                span, depth = stack.pop()
                if id(span) in seen:
                    continue
                seen.add(id(span))
                yield span, depth
                stack.extend((child, depth + 1) for child in reversed(kids.get(id(span), ())))
            # spans left over sit on a parent cycle: break it at the earliest one
            pending = [s for s in sorted(self.spans, key=_start_key) if id(s) not in seen][:1]
            if not pending:
                return


def _start_key(span: ReceivedSpan) -> tuple[int, int]:
    return span.start_time_us, span.span_id


def group_traces(spans: Iterable[ReceivedSpan]) -> list[Trace]:
    """Group spans by trace id, traces in order of their first span's arrival."""
    groups: dict[int, list[ReceivedSpan]] = {}
    for span in spans:
        groups.setdefault(span.trace_id, []).append(span)
    return [Trace(trace_id, tuple(members)) for trace_id, members in groups.items()]


# ---- thrift -> model ---------------------------------------------------------------------------


def _tag_value(tag: Any) -> Any:
    """The value of a decoded ``Tag`` for its ``vType`` (the decoder has checked it is present)."""
    vtype = tag.vType
    if vtype == ttypes.TagType.STRING:
        return tag.vStr
    if vtype == ttypes.TagType.DOUBLE:
        return tag.vDouble
    if vtype == ttypes.TagType.BOOL:
        return tag.vBool
    if vtype == ttypes.TagType.LONG:
        return tag.vLong
    return tag.vBinary


def tags_to_dict(tags: Optional[Sequence[Any]]) -> dict[str, Any]:
    return {tag.key: _tag_value(tag) for tag in tags or ()}


def _trace_id(low: int, high: int) -> int:
    return ((high & _U64) << 64) | (low & _U64)


def span_from_thrift(
    span: Any, service_name: str, process_tags: dict[str, Any], transport: str
) -> ReceivedSpan:
    return ReceivedSpan(
        trace_id=_trace_id(span.traceIdLow, span.traceIdHigh),
        span_id=span.spanId & _U64,
        parent_id=span.parentSpanId & _U64,
        operation_name=span.operationName,
        service_name=service_name,
        flags=span.flags,
        start_time_us=span.startTime,
        duration_us=span.duration,
        tags=tags_to_dict(span.tags),
        logs=tuple(ReceivedLog(log.timestamp, tags_to_dict(log.fields)) for log in span.logs or ()),
        references=tuple(
            ReceivedReference(
                _REF_TYPES.get(ref.refType, str(ref.refType)),
                _trace_id(ref.traceIdLow, ref.traceIdHigh),
                ref.spanId & _U64,
            )
            for ref in span.references or ()
        ),
        process_tags=process_tags,
        transport=transport,
        thrift=span,
    )


def batch_from_thrift(batch: Any, transport: str, source: str) -> ReceivedBatch:
    service = batch.process.serviceName
    process_tags = tags_to_dict(batch.process.tags)
    stats = None
    if batch.stats is not None:
        stats = {
            "full_queue_dropped": batch.stats.fullQueueDroppedSpans,
            "too_large_dropped": batch.stats.tooLargeDroppedSpans,
            "failed": batch.stats.failedToEmitSpans,
        }
    return ReceivedBatch(
        service_name=service,
        process_tags=process_tags,
        spans=tuple(span_from_thrift(s, service, process_tags, transport) for s in batch.spans),
        seq_no=batch.seqNo,
        stats=stats,
        transport=transport,
        source=source,
    )
