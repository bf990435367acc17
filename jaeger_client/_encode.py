"""Wire encodings built on the reporter's worker thread: compact ``Agent.emitBatch`` datagrams
(UDP agent) and binary ``Batch`` bodies (HTTP collector).

Every span is encoded on its own, so a span that cannot be encoded is dropped alone and the byte
size of each span is known before a datagram is packed. A datagram is then assembled from the
message header, the process bytes (encoded once per ``set_process``), the list of span encodings,
``seqNo`` and ``ClientStats``.

Thrift compact protocol: https://github.com/apache/thrift/blob/master/doc/specs/thrift-compact-protocol.md
Thrift binary protocol: https://github.com/apache/thrift/blob/master/doc/specs/thrift-binary-protocol.md
Struct layouts: ``idl/jaeger.thrift`` and ``idl/agent.thrift``.

Two span encoders produce the same bytes (the tests compare them with each other and with
thrift's own encoders over many random spans):

* accelerated: ``thrift.protocol.fastbinary.encode_compact`` writes the span's fixed fields
  (ids, name, references, flags, timestamps) in one C call; tags and logs are appended from
  per-tag encodings cached by their ``(key, vtype, value)`` tuple.
* pure: the same layout written in Python with table-driven varints.

``ACCELERATED`` (module flag, read when an encoder is built) or the ``accelerated=`` argument
forces one or the other; ``benchmarks/encode.py`` measures both.
"""

from __future__ import annotations

import struct
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, Callable, Optional

from . import _values, constants
from .thrift import _operation_name, _reference_tuples
from .thrift_gen.jaeger import ttypes

if TYPE_CHECKING:
    from .span import Span

try:
    from thrift.protocol import fastbinary as _fastbinary
except ImportError:  # thrift built without its C extension
    _fastbinary = None

__all__ = [
    "ACCELERATED",
    "BINARY_BATCH_OVERHEAD",
    "EMIT_BATCH_OVERHEAD",
    "HAS_FASTBINARY",
    "BinaryEncoder",
    "CompactEncoder",
    "binary_batch_body",
    "emit_batch_message",
]

HAS_FASTBINARY = _fastbinary is not None
# Read by CompactEncoder() when ``accelerated`` is None; tests set it False to force the pure path.
ACCELERATED = HAS_FASTBINARY

# Upper bound on an emitBatch datagram's size minus its process and span encodings: message
# header with the largest seqid (2 + 5 + 1 + len("emitBatch")), args and Batch field headers,
# a list header for up to 2**21 spans, seqNo and ClientStats at max i64, two stop bytes.
# Pinned by tests/test_encode.py::test_emit_batch_overhead_never_exceeds_the_constant.
EMIT_BATCH_OVERHEAD = 72
# Exact size of a binary Batch body minus its process and span encodings.
BINARY_BATCH_OVERHEAD = 60

_MAX_SEQ_ID = (1 << 31) - 1
_NAME = constants.AGENT_EMIT_BATCH.encode("ascii")
_MESSAGE_NAME = bytes((len(_NAME),)) + _NAME  # varint length (< 128) + name
_I64_MIN = -(1 << 63)
_I64_MAX = (1 << 63) - 1
_U64_MASK = (1 << 64) - 1
_I32_MIN = -(1 << 31)
_I32_MAX = (1 << 31) - 1
_TWO_64 = 1 << 64

# Compact-protocol type nibbles (thrift-compact-protocol.md): BOOL_TRUE 1, BOOL_FALSE 2, I32 5,
# I64 6, DOUBLE 7, BINARY 8, LIST 9, STRUCT 12. A field header byte is (id delta << 4) | type.
_CT_STRUCT = 12
_STOP = b"\x00"
_FIELD_STRUCT_1 = b"\x1c"  # delta 1, struct
_FIELD_LIST_1 = b"\x19"  # delta 1, list
_FIELD_I64_1 = b"\x16"  # delta 1, i64
_FIELD_I32_1 = b"\x15"  # delta 1, i32
_FIELD_I32_2 = b"\x25"  # delta 2, i32 (Span.flags after operationName when references are absent)
_FIELD_STR_1 = b"\x18"  # delta 1, binary/string

# ---- varints -------------------------------------------------------------------------------------
# 14 bits at a time from two tables: _CHUNK[n] is n as two varint bytes that both continue,
# _LAST[n] is n < 2**14 as a complete (1- or 2-byte) varint.

_CHUNK = tuple(bytes(((i & 0x7F) | 0x80, ((i >> 7) & 0x7F) | 0x80)) for i in range(1 << 14))
_LAST = tuple(
    bytes((i,)) if i < 0x80 else bytes(((i & 0x7F) | 0x80, i >> 7)) for i in range(1 << 14)
)


def _varint(n: int) -> bytes:
    """Unsigned LEB128 of ``0 <= n < 2**64``."""
    if n < 0x4000:
        return _LAST[n]
    c = _CHUNK
    if n < 0x10000000:
        return c[n & 0x3FFF] + _LAST[n >> 14]
    if n < 0x40000000000:
        return c[n & 0x3FFF] + c[(n >> 14) & 0x3FFF] + _LAST[n >> 28]
    if n < 0x100000000000000:
        return c[n & 0x3FFF] + c[(n >> 14) & 0x3FFF] + c[(n >> 28) & 0x3FFF] + _LAST[n >> 42]
    if n <= _U64_MASK:
        return (
            c[n & 0x3FFF]
            + c[(n >> 14) & 0x3FFF]
            + c[(n >> 28) & 0x3FFF]
            + c[(n >> 42) & 0x3FFF]
            + _LAST[n >> 56]
        )
    raise OverflowError(f"varint out of range: {n}")


def _zigzag64(n: int) -> bytes:
    """An i64 as the compact protocol writes it; OverflowError outside i64, as fastbinary."""
    if _I64_MIN <= n <= _I64_MAX:
        return _varint((n << 1) ^ (n >> 63))
    raise OverflowError(f"i64 out of range: {n}")


def _zigzag_id(u: int) -> bytes:
    """An unsigned 64-bit id, as its signed i64, zigzag-encoded."""
    u &= _U64_MASK
    if u >> 63:  # negative as i64: zigzag(u - 2**64) == ~(u << 1) within 64 bits
        return _varint(((u << 1) & _U64_MASK) ^ _U64_MASK)
    return _varint(u << 1)


def _zigzag32(n: int) -> bytes:
    if 0 <= n < 0x2000:
        return _LAST[n << 1]
    if _I32_MIN <= n <= _I32_MAX:
        return _varint(((n << 1) ^ (n >> 31)) & 0xFFFFFFFF)
    raise OverflowError(f"i32 out of range: {n}")


def _struct_list_header(n: int) -> bytes:
    return _LIST_HEADERS[n] if n < 0x4000 else b"\xfc" + _varint(n)


_LIST_HEADERS = tuple(
    bytes(((i << 4) | _CT_STRUCT,)) if i < 15 else b"\xfc" + _LAST[i] for i in range(1 << 14)
)


# A list<struct> field with id delta 1 and its header, for n < 2**14 elements.
_LIST_FIELD_HEADERS = tuple(_FIELD_LIST_1 + header for header in _LIST_HEADERS)


def _string(value: str) -> bytes:
    data = value.encode("utf-8")
    n = len(data)
    return (_LAST[n] if n < 0x4000 else _varint(n)) + data


_pack_double = struct.Struct("<d").pack  # compact doubles are little-endian


# ---- tags ----------------------------------------------------------------------------------------


def _encode_tag(tag: _values.TagTuple) -> bytes:
    """One ``Tag`` struct: key (1), vType (2), then the one value field of that type, stop."""
    key, vtype, value = tag
    head = _FIELD_STR_1 + _string(key) + _FIELD_I32_1 + _zigzag32(vtype)
    if vtype == _values.STRING:
        return head + b"\x18" + _string(value) + _STOP  # vStr, field 3
    if vtype == _values.BOOL:
        return head + (b"\x31\x00" if value else b"\x32\x00")  # vBool, field 5: value in the type
    if vtype == _values.LONG:
        return head + b"\x46" + _zigzag64(value) + _STOP  # vLong, field 6
    if vtype == _values.DOUBLE:
        return head + b"\x27" + _pack_double(value) + _STOP  # vDouble, field 4
    if vtype == _values.BINARY:
        n = len(value)
        return head + b"\x58" + (_LAST[n] if n < 0x4000 else _varint(n)) + bytes(value) + _STOP
    raise ValueError(f"unknown tag type {vtype!r}")


_TAG_CACHE_MAX = 4096
_TAG_CACHE_MAX_BYTES = 256


# ---- span encoders -------------------------------------------------------------------------------


class _SpanHead:
    """Span fields 1-9 for fastbinary, which reads them with getattr.

    One instance per encoder, refilled for every span: slot stores cost less than building a
    tuple (and a NamedTuple from it) per span.
    """

    __slots__ = (
        "duration",
        "flags",
        "operationName",
        "parentSpanId",
        "references",
        "spanId",
        "startTime",
        "traceIdHigh",
        "traceIdLow",
    )

    traceIdLow: int
    traceIdHigh: int
    spanId: int
    parentSpanId: int
    operationName: str
    flags: int
    startTime: int
    duration: int

    def __init__(self) -> None:
        self.references: Optional[list[_SpanRef]] = None


class _SpanRef:
    __slots__ = ("refType", "spanId", "traceIdHigh", "traceIdLow")

    def __init__(self, ref_type: int, low: int, high: int, span_id: int) -> None:
        self.refType = ref_type
        self.traceIdLow = low
        self.traceIdHigh = high
        self.spanId = span_id


# Span's spec without fields 10 (tags) and 11 (logs): the C encoder writes the head of the struct
# and its stop byte; the stop is cut and the tag and log lists appended in Python.
_HEAD_SPEC: list[Any] = [_SpanHead, ttypes.Span.thrift_spec[:10]]
_EMPTY_LOGS_AND_STOP = _LIST_FIELD_HEADERS[0] + _STOP


class CompactEncoder:
    """Compact-protocol encodings of spans and the process, and emitBatch assembly.

    Not thread-safe (it keeps a tag cache): one instance per sender, used by the worker thread.

    :param accelerated: use thrift's C extension; None means the module flag ``ACCELERATED``.
        True without the extension raises ``ValueError``.
    """

    def __init__(self, *, accelerated: Optional[bool] = None) -> None:
        if accelerated is None:
            accelerated = ACCELERATED and HAS_FASTBINARY
        if accelerated and not HAS_FASTBINARY:
            raise ValueError("accelerated: thrift.protocol.fastbinary is not available")
        self.is_accelerated = bool(accelerated)
        # never replaced (only cleared), so its bound get is made once
        self._tag_cache: dict[_values.TagTuple, bytes] = {}
        self._cache_get = self._tag_cache.get
        self._head = _SpanHead()
        self._ts_upper = -1
        self._ts_suffix = b""
        self.encode_span: Callable[[Span], bytes] = (
            self._encode_span_accelerated if self.is_accelerated else self._encode_span_pure
        )

    def encode_process(self, service_name: str, tags: Sequence[_values.TagTuple]) -> bytes:
        """The ``Process`` struct (serviceName, tags) with its stop byte."""
        return b"".join(
            [
                _FIELD_STR_1,
                _string(_operation_name(service_name)),
                _FIELD_LIST_1,
                _struct_list_header(len(tags)),
                *self._tags(tags),
                _STOP,
            ]
        )

    def _tags(self, tags: Sequence[_values.TagTuple]) -> list[bytes]:
        cache = self._tag_cache
        return [cache.get(tag) or self._encode_tag_miss(tag) for tag in tags]

    def _encode_tag_miss(self, tag: _values.TagTuple) -> bytes:
        data = _encode_tag(tag)
        value = tag[2]
        # Equal keys must mean equal bytes: 0.0 == -0.0 as dict keys, and NaN never matches.
        if len(data) <= _TAG_CACHE_MAX_BYTES and not (
            tag[1] == _values.DOUBLE and (value == 0.0 or value != value)
        ):
            cache = self._tag_cache
            if len(cache) >= _TAG_CACHE_MAX:
                cache.clear()  # bounded without LRU bookkeeping; refills with what is common
            cache[tag] = data
        return data

    def _timestamp(self, seconds: float) -> bytes:
        """An i64 microsecond timestamp, zigzag varint; the upper bytes are reused between calls.

        Above the low 14 bits a timestamp changes every ~8 ms, so consecutive log records (and
        spans) mostly share the encoding of ``z >> 14``.
        """
        z = int(seconds * 1000000) << 1  # zigzag of a non-negative i64
        if 0x4000 <= z < _TWO_64:
            # varint(z) == the low 14 bits as two continuing bytes + varint(z >> 14)
            upper = z >> 14
            if upper != self._ts_upper:
                self._ts_upper = upper
                self._ts_suffix = _varint(upper)
            return _CHUNK[z & 0x3FFF] + self._ts_suffix
        return _zigzag64(z >> 1)

    def _tail(self, span: Span, parts: list[Any]) -> bytes:
        """Append fields 10 (tags) and 11 (logs) and the stop byte to ``parts``; join.

        Tags are looked up in the cache in bulk; a miss leaves None, filled in afterwards.
        """
        cache_get = self._tag_cache.get
        headers = _LIST_FIELD_HEADERS
        tags = span._tags
        logs = span._logs
        tags_at = len(parts) + 1
        n = len(tags)
        parts.append(headers[n] if n < 0x4000 else _FIELD_LIST_1 + _struct_list_header(n))
        parts += map(cache_get, tags)
        n = len(logs)
        parts.append(headers[n] if n < 0x4000 else _FIELD_LIST_1 + _struct_list_header(n))
        for timestamp, fields in logs:
            n = len(fields)
            parts.append(_FIELD_I64_1 + self._timestamp(timestamp))
            parts.append(headers[n] if n < 0x4000 else _FIELD_LIST_1 + _struct_list_header(n))
            parts += map(cache_get, fields)
            parts.append(_STOP)
        parts.append(_STOP)
        if not all(parts):  # a cache miss left None (encodings are never empty)
            self._fill_misses(parts, tags_at, tags, logs)
        return b"".join(parts)

    def _fill_misses(
        self,
        parts: list[Any],
        at: int,
        tags: Sequence[_values.TagTuple],
        logs: Sequence[tuple[float, Sequence[_values.TagTuple]]],
    ) -> None:
        """Encode the tags ``_tail`` did not find in the cache, walking its layout again."""
        miss = self._encode_tag_miss
        for i, tag in enumerate(tags, at):
            if parts[i] is None:
                parts[i] = miss(tag)
        at += len(tags) + 1  # past the tags and the logs' list header
        for _, fields in logs:
            at += 2  # timestamp, fields' list header
            for i, tag in enumerate(fields, at):
                if parts[i] is None:
                    parts[i] = miss(tag)
            at += len(fields) + 1  # past the fields and the log's stop byte

    def _encode_span_accelerated(self, span: Span) -> bytes:
        ctx = span._context
        head = self._head
        # ids as signed i64 (thrift._signed64, inlined: this runs for every span); most ids are
        # 64-bit, so the high half of the trace id is 0 and no mask is needed
        trace_id = ctx.trace_id or 0
        if 0 <= trace_id <= _I64_MAX:
            head.traceIdLow = trace_id
            head.traceIdHigh = 0
        elif 0 <= trace_id <= _U64_MASK:
            head.traceIdLow = trace_id - _TWO_64
            head.traceIdHigh = 0
        else:
            low = trace_id & _U64_MASK
            high = (trace_id >> 64) & _U64_MASK
            head.traceIdLow = low - _TWO_64 if low > _I64_MAX else low
            head.traceIdHigh = high - _TWO_64 if high > _I64_MAX else high
        span_id = ctx.span_id or 0
        if not 0 <= span_id <= _I64_MAX:
            span_id &= _U64_MASK
            if span_id > _I64_MAX:
                span_id -= _TWO_64
        head.spanId = span_id
        parent_id = ctx.parent_id or 0
        if not 0 <= parent_id <= _I64_MAX:
            parent_id &= _U64_MASK
            if parent_id > _I64_MAX:
                parent_id -= _TWO_64
        head.parentSpanId = parent_id
        name = span.operation_name
        head.operationName = name if type(name) is str and name.isascii() else _operation_name(name)
        if span.references:
            refs = _reference_tuples(span.references)
            head.references = [_SpanRef(*r) for r in refs] if refs else None
        head.flags = ctx.flags or 0
        start = span.start_time
        end = span.end_time
        head.startTime = int(start * 1000000)
        head.duration = int(((start if end is None else end) - start) * 1000000)
        try:
            data = _fastbinary.encode_compact(head, _HEAD_SPEC)
        finally:
            head.references = None
        # Tags are looked up in the cache in bulk; a miss leaves None, filled in afterwards.
        cache_get = self._cache_get
        headers = _LIST_FIELD_HEADERS
        tags = span._tags
        logs = span._logs
        n = len(tags)
        parts = [
            data[:-1],
            headers[n] if n < 0x4000 else _FIELD_LIST_1 + _struct_list_header(n),
            *map(cache_get, tags),
        ]
        if not logs:
            parts.append(_EMPTY_LOGS_AND_STOP)
        else:
            n = len(logs)
            parts.append(headers[n] if n < 0x4000 else _FIELD_LIST_1 + _struct_list_header(n))
            for timestamp, fields in logs:
                # _timestamp, inlined: above the low 14 bits a timestamp changes every ~8 ms, so
                # consecutive log records mostly share the encoding of z >> 14
                z = int(timestamp * 1000000) << 1  # zigzag of a non-negative i64
                if 0x4000 <= z < _TWO_64:
                    upper = z >> 14
                    if upper != self._ts_upper:
                        self._ts_upper = upper
                        self._ts_suffix = _varint(upper)
                    parts.append(_FIELD_I64_1 + _CHUNK[z & 0x3FFF] + self._ts_suffix)
                else:
                    parts.append(_FIELD_I64_1 + _zigzag64(z >> 1))
                n = len(fields)
                parts.append(headers[n] if n < 0x4000 else _FIELD_LIST_1 + _struct_list_header(n))
                parts += map(cache_get, fields)
                parts.append(_STOP)
            parts.append(_STOP)
        if not all(parts):  # a cache miss left None (encodings are never empty)
            self._fill_misses(parts, 2, tags, logs)
        return b"".join(parts)

    def _encode_span_pure(self, span: Span) -> bytes:
        ctx = span._context
        trace_id = ctx.trace_id or 0
        start = span.start_time
        end = span.end_time
        name = span.operation_name
        if type(name) is not str or not name.isascii():
            name = _operation_name(name)
        data = name.encode("utf-8")
        n = len(data)
        parts = [
            _FIELD_I64_1
            + _zigzag_id(trace_id)
            + _FIELD_I64_1
            + _zigzag_id(trace_id >> 64)
            + _FIELD_I64_1
            + _zigzag_id(ctx.span_id or 0)
            + _FIELD_I64_1
            + _zigzag_id(ctx.parent_id or 0)
            + _FIELD_STR_1
            + (_LAST[n] if n < 0x4000 else _varint(n)),
            data,
        ]
        refs = _reference_tuples(span.references) if span.references else None
        if refs:
            parts.append(_FIELD_LIST_1 + _struct_list_header(len(refs)))
            for ref_type, low, high, ref_span_id in refs:
                parts.append(
                    _FIELD_I32_1
                    + _zigzag32(ref_type)
                    + _FIELD_I64_1
                    + _zigzag_id(low)
                    + _FIELD_I64_1
                    + _zigzag_id(high)
                    + _FIELD_I64_1
                    + _zigzag_id(ref_span_id)
                    + _STOP
                )
            flags_header = _FIELD_I32_1
        else:
            flags_header = _FIELD_I32_2
        parts.append(
            flags_header
            + _zigzag32(ctx.flags or 0)
            + _FIELD_I64_1
            + self._timestamp(start)
            + _FIELD_I64_1
            + _zigzag64(int(((start if end is None else end) - start) * 1000000))
        )
        return self._tail(span, parts)


def _seq_id_varint(seq_id: int) -> bytes:
    return _varint(seq_id & _MAX_SEQ_ID)


def emit_batch_message(
    process: bytes,
    spans: Sequence[bytes],
    seq_id: int,
    seq_no: int,
    stats: tuple[int, int, int],
) -> bytes:
    """One ``Agent.emitBatch`` oneway message (compact protocol), ready to send as a datagram.

    :param process: ``CompactEncoder.encode_process`` output
    :param spans: ``CompactEncoder.encode_span`` outputs
    :param seq_id: the message sequence id (kept to 31 bits)
    :param seq_no: ``Batch.seqNo``
    :param stats: ``ClientStats`` (fullQueueDroppedSpans, tooLargeDroppedSpans, failedToEmitSpans)
    """
    return b"".join(
        [
            # protocol id 0x82; version 1 | ONEWAY (4) << 5; seqid varint; name
            b"\x82\x81",
            _seq_id_varint(seq_id),
            _MESSAGE_NAME,
            _FIELD_STRUCT_1,  # emitBatch_args.batch (1)
            _FIELD_STRUCT_1,  # Batch.process (1)
            process,
            _FIELD_LIST_1,  # Batch.spans (2)
            _struct_list_header(len(spans)),
            *spans,
            _FIELD_I64_1,  # Batch.seqNo (3)
            _zigzag64(seq_no),
            _FIELD_STRUCT_1,  # Batch.stats (4): ClientStats fields 1-3
            _FIELD_I64_1,
            _zigzag64(stats[0]),
            _FIELD_I64_1,
            _zigzag64(stats[1]),
            _FIELD_I64_1,
            _zigzag64(stats[2]),
            _STOP,
            _STOP,  # Batch
            _STOP,  # emitBatch_args
        ]
    )


# ---- binary protocol (HTTP collector) ------------------------------------------------------------

_pack_i32 = struct.Struct(">i").pack
_pack_i64 = struct.Struct(">q").pack


class BinaryEncoder:
    """Binary-protocol encodings of spans and the process for a collector's ``/api/traces``.

    Spans are mapped with ``jaeger_client.thrift`` and written by fastbinary when available,
    otherwise by thrift's pure ``TBinaryProtocol``.

    :param accelerated: as for :class:`CompactEncoder`
    """

    def __init__(self, *, accelerated: Optional[bool] = None) -> None:
        if accelerated is None:
            accelerated = ACCELERATED and HAS_FASTBINARY
        if accelerated and not HAS_FASTBINARY:
            raise ValueError("accelerated: thrift.protocol.fastbinary is not available")
        self.is_accelerated = bool(accelerated)

    def _encode(self, obj: Any) -> bytes:
        if self.is_accelerated:
            data: bytes = _fastbinary.encode_binary(obj, [type(obj), type(obj).thrift_spec])
            return data
        from thrift.protocol.TBinaryProtocol import TBinaryProtocol
        from thrift.transport.TTransport import TMemoryBuffer

        buffer = TMemoryBuffer()
        obj.write(TBinaryProtocol(buffer))
        value: bytes = buffer.getvalue()
        return value

    def encode_span(self, span: Span) -> bytes:
        from .thrift import make_span

        return self._encode(make_span(span))

    def encode_process(self, service_name: str, tags: Sequence[_values.TagTuple]) -> bytes:
        from .thrift import make_thrift_tag

        process = ttypes.Process(
            serviceName=_operation_name(service_name), tags=[make_thrift_tag(t) for t in tags]
        )
        return self._encode(process)


def binary_batch_body(
    process: bytes, spans: Sequence[bytes], seq_no: int, stats: tuple[int, int, int]
) -> bytes:
    """A bare ``Batch`` struct in the binary protocol (the collector's HTTP body)."""
    return b"".join(
        [
            b"\x0c\x00\x01",  # process: struct, field 1
            process,
            b"\x0f\x00\x02\x0c",  # spans: list, field 2, of struct
            _pack_i32(len(spans)),
            *spans,
            b"\x0a\x00\x03",  # seqNo: i64, field 3
            _pack_i64(seq_no),
            b"\x0c\x00\x04",  # stats: struct, field 4
            b"\x0a\x00\x01",
            _pack_i64(stats[0]),
            b"\x0a\x00\x02",
            _pack_i64(stats[1]),
            b"\x0a\x00\x03",
            _pack_i64(stats[2]),
            _STOP,
            _STOP,
        ]
    )
