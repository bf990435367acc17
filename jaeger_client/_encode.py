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
  (ids, name, references, flags, timestamps) in one C call; the tag list and each log's field
  list are appended from encodings cached by the tuple of their ``(key, vtype, value)`` tags.
* pure: the fixed fields written in Python with table-driven varints (ids, timestamps) and a
  cache of operation names; tag and field lists from the same caches.

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


def _duration_field(duration: int) -> bytes:
    """Span.duration (field 9, delta 1), header included."""
    return _FIELD_I64_1 + _zigzag64(duration)


# _duration_field for 0 <= duration < 2**13 (µs): most spans
_DURATION_FIELDS = tuple(_FIELD_I64_1 + _LAST[d << 1] for d in range(1 << 13))

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
# Whole tag lists and log field lists: fewer entries, larger ones (about 1 MB at most).
_BLOCK_CACHE_MAX = 1024
_BLOCK_CACHE_MAX_BYTES = 1024
_NO_LIST: list[Any] = [object()]  # equal to no list of tags or fields
_NAME_CACHE_MAX = 1024

# zigzag(u - 2**64) for an unsigned id u >= 2**63 is _ZZ_NEG - (u << 1)
_ZZ_NEG = (1 << 65) - 1


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
_EMPTY_TAGS = _LIST_FIELD_HEADERS[0]
_ZERO_HIGH = _FIELD_I64_1 + b"\x00"  # Span.traceIdHigh 0 (64-bit trace ids)
# Span.flags (field 7, delta 2 after operationName) for flags < 2**13, and startTime's header
_FLAGS_AFTER_NAME = tuple(_FIELD_I32_2 + _LAST[f << 1] + _FIELD_I64_1 for f in range(1 << 13))


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
        # per tag: fills the list caches below, and serves the process's tags
        self._tag_cache: dict[_values.TagTuple, bytes] = {}
        # whole tag lists and log field lists, by their tuple: most spans repeat them exactly
        self._tag_blocks: dict[tuple[_values.TagTuple, ...], bytes] = {}
        self._tag_block_get = self._tag_blocks.get
        self._field_blocks: dict[tuple[_values.TagTuple, ...], bytes] = {}
        self._field_block_get = self._field_blocks.get
        self._names: dict[str, bytes] = {}
        self._name_get = self._names.get
        self._head = _SpanHead()
        # varint of a timestamp's zigzag >> 14: it changes every ~8 ms, so consecutive spans and
        # log records mostly share it
        self._ts_upper = -1
        # the last cached tag list and log field list, with their blocks: consecutive spans
        # (one endpoint's, a batch of them) mostly repeat them, and a list compare costs less
        # than building, hashing and comparing the tuple key. Copies: a span's lists may change
        self._last_tags: list[Any] = _NO_LIST
        self._last_tags_block = b""
        self._last_fields: list[Any] = _NO_LIST
        self._last_fields_block = b""
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
        parts = [data[:-1]]  # without the stop byte
        return self._tags_and_logs(parts, span)

    def _encode_span_pure(self, span: Span) -> bytes:
        """The whole span in Python, as one join: ids by 14-bit tables, the rest from caches.

        An id is written from its unsigned 64 bits: zigzag(signed(u)) is ``u << 1`` below 2**63
        and ``2**65 - 1 - (u << 1)`` above. A root span's id equals its trace id's low half and
        a child of the root has it as parent, so that varint is reused.
        """
        ctx = span._context
        c = _CHUNK
        trace_id = ctx.trace_id or 0
        if 0 <= trace_id <= _U64_MASK:
            z = trace_id << 1
            high = _ZERO_HIGH
        else:
            z = (trace_id & _U64_MASK) << 1
            high = _FIELD_I64_1 + _zigzag_id(trace_id >> 64)
        if z >> 64:
            z = _ZZ_NEG - z
        if z >> 56:
            low = (
                c[z & 0x3FFF]
                + c[(z >> 14) & 0x3FFF]
                + c[(z >> 28) & 0x3FFF]
                + c[(z >> 42) & 0x3FFF]
                + _LAST[z >> 56]
            )
        else:
            low = _varint(z)
        span_id = ctx.span_id or 0
        if span_id == trace_id:
            sid = low
        elif 0 <= span_id <= _U64_MASK:
            z = span_id << 1
            if z >> 64:
                z = _ZZ_NEG - z
            if z >> 56:
                sid = (
                    c[z & 0x3FFF]
                    + c[(z >> 14) & 0x3FFF]
                    + c[(z >> 28) & 0x3FFF]
                    + c[(z >> 42) & 0x3FFF]
                    + _LAST[z >> 56]
                )
            else:
                sid = _varint(z)
        else:
            sid = _zigzag_id(span_id)
        parent_id = ctx.parent_id
        if not parent_id:
            pid = b"\x00"
        elif parent_id == trace_id:
            pid = low
        else:
            pid = _zigzag_id(parent_id)
        name = span.operation_name
        op = self._name_get(name) if type(name) is str else None
        if op is None:
            op = self._encode_name(name)
        flags = ctx.flags or 0
        # flags (field 7: delta 2 after operationName), with startTime's field header
        flags_part = (
            _FLAGS_AFTER_NAME[flags]
            if 0 <= flags < 0x2000
            else _FIELD_I32_2 + _zigzag32(flags) + _FIELD_I64_1
        )
        start = span.start_time
        end = span.end_time
        z = int(start * 1000000) << 1  # zigzag of a non-negative i64
        if 0x4000 <= z < _TWO_64:  # see _timestamp
            upper = z >> 14
            if upper != self._ts_upper:
                self._ts_upper = upper
                self._ts_suffix = _varint(upper)
            start_part = c[z & 0x3FFF] + self._ts_suffix
        else:
            start_part = _zigzag64(z >> 1)
        duration = int(((start if end is None else end) - start) * 1000000)
        parts = [
            b"\x16",
            low,
            high,
            b"\x16",
            sid,
            b"\x16",
            pid,
            op,
            flags_part,
            start_part,
            _DURATION_FIELDS[duration] if 0 <= duration < 0x2000 else _duration_field(duration),
        ]
        refs = span.references
        if refs:
            refs_part = self._encode_references(refs)
            if refs_part:  # flags follow references: delta 1
                parts[8] = _FIELD_I32_1 + flags_part[1:]
                parts.insert(8, refs_part)
        return self._tags_and_logs(parts, span)

    def _tags_and_logs(self, parts: list[bytes], span: Span) -> bytes:
        """Append the tags and logs fields (cached blocks) and the stop byte to ``parts``; join.

        The rest of a span, the same for both encoders.
        """
        tags = span._tags
        if not tags:
            parts.append(_EMPTY_TAGS)
        elif tags == self._last_tags:
            parts.append(self._last_tags_block)
        else:
            key = tuple(tags)
            block = self._tag_block_get(key)
            if block is None:
                block = self._tags_block(key)
            else:
                self._last_tags = list(key)
                self._last_tags_block = block
            parts.append(block)
        logs = span._logs
        if not logs:
            parts.append(_EMPTY_LOGS_AND_STOP)
            return b"".join(parts)
        n = len(logs)
        parts.append(
            _LIST_FIELD_HEADERS[n] if n < 0x4000 else _FIELD_LIST_1 + _struct_list_header(n)
        )
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
            if fields == self._last_fields:
                parts.append(self._last_fields_block)
                continue
            key = tuple(fields)
            block = self._field_block_get(key)
            if block is None:
                block = self._fields_block(key)
            else:
                self._last_fields = list(key)
                self._last_fields_block = block
            parts.append(block)
        parts.append(_STOP)
        return b"".join(parts)

    def _encode_name(self, name: Any) -> bytes:
        """operationName (field 5) with its header; cached by the name when it is a str."""
        data = _FIELD_STR_1 + _string(_operation_name(name))
        if type(name) is str and len(data) <= _TAG_CACHE_MAX_BYTES:
            cache = self._names
            if len(cache) >= _NAME_CACHE_MAX:
                cache.clear()
            cache[name] = data
        return data

    def _encode_references(self, references: Any) -> bytes:
        """references (field 6, delta 1 after operationName), or b"" when none is usable."""
        refs = _reference_tuples(references)
        if not refs:
            return b""
        parts = [_FIELD_LIST_1 + _struct_list_header(len(refs))]
        for ref_type, ref_low, ref_high, ref_span_id in refs:
            parts.append(
                _FIELD_I32_1
                + _zigzag32(ref_type)
                + _FIELD_I64_1
                + _zigzag_id(ref_low)
                + _FIELD_I64_1
                + _zigzag_id(ref_high)
                + _FIELD_I64_1
                + _zigzag_id(ref_span_id)
                + _STOP
            )
        return b"".join(parts)

    def _tags_block(self, tags: tuple[_values.TagTuple, ...]) -> bytes:
        """Span.tags (field 10, delta 1 after duration): header and tags; cached by the tuple."""
        n = len(tags)
        block = b"".join(
            [
                _LIST_FIELD_HEADERS[n] if n < 0x4000 else _FIELD_LIST_1 + _struct_list_header(n),
                *self._tags(tags),
            ]
        )
        self._store_block(self._tag_blocks, tags, block)
        return block

    def _fields_block(self, fields: tuple[_values.TagTuple, ...]) -> bytes:
        """Log.fields (field 2, delta 1 after timestamp), the Log's stop byte included."""
        n = len(fields)
        block = b"".join(
            [
                _LIST_FIELD_HEADERS[n] if n < 0x4000 else _FIELD_LIST_1 + _struct_list_header(n),
                *self._tags(fields),
                _STOP,
            ]
        )
        self._store_block(self._field_blocks, fields, block)
        return block

    @staticmethod
    def _store_block(
        cache: dict[tuple[_values.TagTuple, ...], bytes],
        key: tuple[_values.TagTuple, ...],
        block: bytes,
    ) -> None:
        if len(block) > _BLOCK_CACHE_MAX_BYTES:
            return
        for _, vtype, value in key:
            # equal keys must mean equal bytes: 0.0 == -0.0 as dict keys (see _encode_tag_miss)
            if vtype == _values.DOUBLE and (value == 0.0 or value != value):
                return
        if len(cache) >= _BLOCK_CACHE_MAX:
            cache.clear()  # bounded without LRU bookkeeping; refills with what is common
        cache[key] = block


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
