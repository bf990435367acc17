"""Domain objects -> ``jaeger.thrift`` structs (the generated classes); pure functions, no I/O.

Field numbers and types: ``idl/jaeger.thrift`` (written from the Jaeger IDL,
https://github.com/jaegertracing/jaeger-idl/blob/main/thrift/jaeger.thrift). Ids are unsigned
on the API side and travel as signed i64 (two's complement); a 128-bit trace id travels as two
i64 halves. Timestamps travel as integer microseconds, truncated as upstream did.

The wire encoders (``_encode``) do not go through these objects on the hot path; they produce
byte-identical output, which the tests check against these functions.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any, Optional

from opentracing import ReferenceType

from . import _values
from .constants import MAX_TAG_VALUE_LENGTH, MAX_TRACEBACK_LENGTH
from .thrift_gen.jaeger import ttypes
from .thrift_gen.sampling import SamplingManager as sampling_manager

if TYPE_CHECKING:
    from .span import LogRecord, Span

__all__ = [
    "id_to_int",
    "make_client_stats",
    "make_jaeger_batch",
    "make_log",
    "make_process",
    "make_ref_type",
    "make_references",
    "make_span",
    "make_tag",
    "make_tags",
    "make_thrift_log",
    "make_thrift_tag",
    "parse_sampling_strategy",
    "timestamp_micros",
]

_max_signed_port = (1 << 15) - 1
_max_unsigned_port = 1 << 16
_max_signed_id = (1 << 63) - 1
_max_unsigned_id = 1 << 64
_U64_MASK = _max_unsigned_id - 1

_STRING = _values.STRING
_DOUBLE = _values.DOUBLE
_BOOL = _values.BOOL
_LONG = _values.LONG
_BINARY = _values.BINARY


def _id_to_low(big_id: Optional[int]) -> Optional[int]:
    """The low (rightmost) 64 bits of ``big_id``, unsigned."""
    if big_id is None:
        return None
    return big_id & _U64_MASK


def _id_to_high(big_id: Optional[int]) -> Optional[int]:
    """The high 64 bits of a 128-bit ``big_id``, unsigned (0 for a 64-bit id)."""
    if big_id is None:
        return None
    return (big_id >> 64) & _U64_MASK


def id_to_int(big_id: Optional[int]) -> Optional[int]:
    """An unsigned 64-bit id as the signed i64 Thrift carries (two's complement)."""
    if big_id is None:
        return None
    big_id &= _U64_MASK  # an id wider than 64 bits keeps its low half rather than fail to encode
    if big_id > _max_signed_id:
        big_id -= _max_unsigned_id
    return big_id


def _signed64(value: int) -> int:
    value &= _U64_MASK
    return value - _max_unsigned_id if value > _max_signed_id else value


def timestamp_micros(ts: float) -> int:
    """Seconds (a float from ``time.time()``) -> integer microseconds, truncated as upstream."""
    return int(ts * 1000000)


def _operation_name(name: Any) -> str:
    """The operation name as a string that always encodes (``None`` -> ``""``)."""
    if type(name) is str:
        return name if name.isascii() else _values.clean_str(name)
    if name is None:
        return ""
    return _values.safe_str(name, MAX_TAG_VALUE_LENGTH)


# ---- tags and logs ----


def make_thrift_tag(tag: _values.TagTuple) -> Any:
    """A converted ``(key, vtype, value)`` tuple (``_values.make_tag``) -> ``ttypes.Tag``."""
    key, vtype, value = tag
    if vtype == _STRING:
        return ttypes.Tag(key=key, vType=vtype, vStr=value)
    if vtype == _BOOL:
        return ttypes.Tag(key=key, vType=vtype, vBool=value)
    if vtype == _LONG:
        return ttypes.Tag(key=key, vType=vtype, vLong=value)
    if vtype == _DOUBLE:
        return ttypes.Tag(key=key, vType=vtype, vDouble=value)
    return ttypes.Tag(key=key, vType=vtype, vBinary=value)


def make_thrift_log(record: LogRecord) -> Any:
    """A stored log record ``(timestamp_seconds, [tag tuples])`` -> ``ttypes.Log``."""
    timestamp, fields = record
    return ttypes.Log(
        timestamp=timestamp_micros(timestamp), fields=[make_thrift_tag(t) for t in fields]
    )


def make_tag(
    key: Any,
    value: Any,
    max_length: int = MAX_TAG_VALUE_LENGTH,
    max_traceback_length: int = MAX_TRACEBACK_LENGTH,
) -> Any:
    """Any key/value -> ``ttypes.Tag`` of the matching type (bool, long, double, binary, string).

    Ints outside i64 become decimal strings, bytes become BINARY, strings are cut to
    ``max_length`` and tracebacks to ``max_traceback_length`` (see ``_values.make_tag``).
    """
    return make_thrift_tag(_values.make_tag(key, value, max_length, max_traceback_length))


def make_tags(
    tags: Optional[Mapping[Any, Any]],
    max_length: int = MAX_TAG_VALUE_LENGTH,
    max_traceback_length: int = MAX_TRACEBACK_LENGTH,
) -> list[Any]:
    """A mapping -> a list of ``ttypes.Tag`` (see :func:`make_tag`)."""
    return [make_tag(k, v, max_length, max_traceback_length) for k, v in (tags or {}).items()]


def make_log(
    timestamp: float,
    fields: Optional[Mapping[Any, Any]],
    max_length: int = MAX_TAG_VALUE_LENGTH,
    max_traceback_length: int = MAX_TRACEBACK_LENGTH,
) -> Any:
    """A timestamp (seconds) and a field mapping -> ``ttypes.Log``."""
    return ttypes.Log(
        timestamp=timestamp_micros(timestamp),
        fields=make_tags(fields, max_length, max_traceback_length),
    )


def _process_tag_tuples(
    tags: Optional[Mapping[Any, Any]], max_length: int
) -> list[_values.TagTuple]:
    return [
        _values.make_tag(k, v, max_length, MAX_TRACEBACK_LENGTH) for k, v in (tags or {}).items()
    ]


def make_process(service_name: str, tags: Optional[Mapping[Any, Any]], max_length: int) -> Any:
    """The service name and process tags (typed, as spans' tags are) -> ``ttypes.Process``."""
    return ttypes.Process(
        serviceName=_operation_name(service_name),
        tags=[make_thrift_tag(t) for t in _process_tag_tuples(tags, max_length)],
    )


# ---- references and spans ----


def make_ref_type(span_ref_type: Any) -> int:
    """``opentracing.ReferenceType`` -> ``SpanRefType`` (anything but FOLLOWS_FROM is CHILD_OF)."""
    if span_ref_type == ReferenceType.FOLLOWS_FROM:
        return int(ttypes.SpanRefType.FOLLOWS_FROM)
    return int(ttypes.SpanRefType.CHILD_OF)


def _reference_tuples(references: Optional[Iterable[Any]]) -> list[tuple[int, int, int, int]]:
    """``(refType, traceIdLow, traceIdHigh, spanId)`` per usable reference, ids signed.

    References whose context carries no Jaeger ids (``None``, a foreign context) are skipped.
    """
    out: list[tuple[int, int, int, int]] = []
    for ref in references or ():
        ctx = getattr(ref, "referenced_context", None)
        trace_id = getattr(ctx, "trace_id", None)
        span_id = getattr(ctx, "span_id", None)
        if type(trace_id) is not int or type(span_id) is not int:
            continue
        out.append(
            (
                make_ref_type(ref.type),
                _signed64(trace_id),
                _signed64(trace_id >> 64),
                _signed64(span_id),
            )
        )
    return out


def make_references(references: Optional[Iterable[Any]]) -> Optional[list[Any]]:
    """Explicit ``references=`` -> a list of ``ttypes.SpanRef``, or None when there are none."""
    refs = _reference_tuples(references)
    if not refs:
        return None
    return [
        ttypes.SpanRef(refType=r, traceIdLow=lo, traceIdHigh=hi, spanId=s) for r, lo, hi, s in refs
    ]


def make_span(span: Span) -> Any:
    """A finished span -> ``ttypes.Span``.

    ``tags`` and ``logs`` are always lists (possibly empty); ``references`` is None unless the
    span was started with explicit ``references=`` (``child_of=`` is carried by parentSpanId).
    """
    ctx = span.context  # made on demand for a root span started unsampled (never reported)
    trace_id = ctx.trace_id or 0
    end_time = span.end_time if span.end_time is not None else span.start_time
    return ttypes.Span(
        traceIdLow=_signed64(trace_id),
        traceIdHigh=_signed64(trace_id >> 64),
        spanId=_signed64(ctx.span_id or 0),
        parentSpanId=_signed64(ctx.parent_id or 0),
        operationName=_operation_name(span.operation_name),
        references=make_references(span.references),
        flags=ctx.flags or 0,
        startTime=timestamp_micros(span.start_time),
        duration=timestamp_micros(end_time - span.start_time),
        tags=[make_thrift_tag(t) for t in span._tags],
        logs=[make_thrift_log(r) for r in span._logs],
    )


def make_client_stats(
    full_queue_dropped_spans: int, too_large_dropped_spans: int, failed_to_emit_spans: int
) -> Any:
    """Client-side loss counters -> ``ttypes.ClientStats`` (sent with every batch)."""
    return ttypes.ClientStats(
        fullQueueDroppedSpans=full_queue_dropped_spans,
        tooLargeDroppedSpans=too_large_dropped_spans,
        failedToEmitSpans=failed_to_emit_spans,
    )


def make_jaeger_batch(
    spans: Sequence[Span],
    process: Any,
    seq_no: Optional[int] = None,
    stats: Any = None,
) -> Any:
    """Spans and a ``ttypes.Process`` -> ``ttypes.Batch`` with optional ``seqNo`` and ``stats``."""
    return ttypes.Batch(
        process=process,
        spans=[make_span(span) for span in spans],
        seqNo=seq_no,
        stats=stats,
    )


# ---- sampling ----


def parse_sampling_strategy(response: Any) -> tuple[Any, Optional[str]]:
    """A ``SamplingStrategyResponse`` -> ``(sampler, None)`` or ``(None, error message)``.

    Kept from upstream for its import path (Go-style value/error pair).
    """
    s_type = response.strategyType
    if s_type == sampling_manager.SamplingStrategyType.PROBABILISTIC:
        if response.probabilisticSampling is None:
            return None, "probabilisticSampling field is None"
        rate = response.probabilisticSampling.samplingRate
        if 0 <= rate <= 1.0:
            from . import sampler

            probabilistic: Any = sampler.ProbabilisticSampler
            return probabilistic(rate=rate), None
        return None, f"Probabilistic sampling rate not in [0, 1] range: {rate}"
    if s_type == sampling_manager.SamplingStrategyType.RATE_LIMITING:
        if response.rateLimitingSampling is None:
            return None, "rateLimitingSampling field is None"
        mtps = response.rateLimitingSampling.maxTracesPerSecond
        if 0 <= mtps < 500:
            from . import sampler

            rate_limiting: Any = sampler.RateLimitingSampler
            return rate_limiting(max_traces_per_second=mtps), None
        return None, f"Rate limiting parameter not in [0, 500] range: {mtps}"
    return None, f"Unsupported sampling strategy type: {s_type}"
