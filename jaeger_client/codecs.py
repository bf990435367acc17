"""Propagation codecs: pure functions of (span context, carrier), no I/O.

Formats (wire facts: https://www.jaegertracing.io/docs/latest/client-libraries/#propagation-format,
https://github.com/openzipkin/b3-propagation, https://www.w3.org/TR/trace-context/):

- :class:`TextCodec` - ``uber-trace-id`` + ``uberctx-*`` baggage (TEXT_MAP, HTTP_HEADERS)
- :class:`BinaryCodec` - jaeger-client-go's binary layout (BINARY, ``bytearray`` carrier)
- :class:`ZipkinCodec` - ``'zipkin-span-format'`` dicts or objects (TChannel interop)
- :class:`B3Codec` - Zipkin B3 multi-header; :class:`B3SingleCodec` - the single ``b3`` header
- :class:`TraceContextCodec` - W3C ``traceparent`` and ``tracestate``
- :class:`CompositeCodec` - several of the above on one carrier

Contract: ``inject`` and ``extract`` let only ``InvalidCarrierException`` (the carrier is not
something this codec can read or write) and ``SpanContextCorruptedException`` (a header is there
but malformed) escape, whatever the carrier holds; ``extract`` returns ``None`` when the carrier
holds no context. Extracted baggage is bounded (``constants.MAX_BAGGAGE_*``); the excess is
dropped and counted, never the whole context.
"""

from __future__ import annotations

import codecs
import re
import struct
from binascii import unhexlify as _unhexlify
from collections.abc import Collection, Iterable, Mapping, MutableMapping, Sequence
from typing import Any, Callable, Optional, Union
from urllib.parse import quote, unquote

from opentracing import InvalidCarrierException, SpanContextCorruptedException

from .constants import (
    B3_FLAGS,
    B3_FLAGS_DEBUG,
    B3_PARENT_SPAN_ID,
    B3_SAMPLED,
    B3_SAMPLED_ACCEPT,
    B3_SAMPLED_DEBUG,
    B3_SAMPLED_DENY,
    B3_SINGLE_HEADER,
    B3_SPAN_ID,
    B3_TRACE_ID,
    BAGGAGE_HEADER_KEY,
    BAGGAGE_HEADER_PREFIX,
    DEBUG_FLAG,
    DEBUG_ID_HEADER_KEY,
    MAX_BAGGAGE_HEADER_BYTES,
    MAX_BAGGAGE_ITEM_BYTES,
    MAX_BAGGAGE_ITEMS,
    MAX_ID,
    MAX_TRACE_ID,
    SAMPLED_FLAG,
    TRACE_ID_HEADER,
    W3C_BAGGAGE,
    W3C_TRACEPARENT,
    W3C_TRACEPARENT_INVALID_VERSION,
    W3C_TRACEPARENT_VERSION,
    W3C_TRACESTATE,
    ZIPKIN_FLAGS_KEY,
    ZIPKIN_PARENT_ID_KEY,
    ZIPKIN_SPAN_FORMAT,
    ZIPKIN_SPAN_ID_KEY,
    ZIPKIN_TRACE_ID_KEY,
)
from .span_context import _EMPTY_BAGGAGE, SpanContext
from .span_context import _build as _build_context

__all__ = [
    "B3Codec",
    "B3SingleCodec",
    "BinaryCodec",
    "Codec",
    "CompositeCodec",
    "TextCodec",
    "TraceContextCodec",
    "W3CBaggageCodec",
    "ZipkinCodec",
    "ZipkinSpanFormat",
    "header_to_hex",
    "span_context_from_string",
    "span_context_to_string",
]

# Upstream's name for the TChannel interop format.
ZipkinSpanFormat = ZIPKIN_SPAN_FORMAT

_HEX_DIGITS = "0123456789abcdefABCDEF"
# Strict, ASCII-only: int(x, 16) alone would accept "_", signs, "0x", whitespace and
# non-ASCII digits (RELIABILITY 2.1). fullmatch, unlike "$", rejects a trailing newline.
_UBER_TRACE_ID = re.compile(
    r"([0-9a-fA-F]{1,32}):([0-9a-fA-F]{1,16}):([0-9a-fA-F]{1,16}):([0-9a-fA-F]{1,2})"
)
# every 1-2 digit hex string the flags field can hold -> its value (a dict lookup beats int())
_HEX_BYTE = {a + b: int(a + b, 16) for a in ("", *_HEX_DIGITS) for b in _HEX_DIGITS}
_HEX_1_32 = re.compile(r"[0-9a-fA-F]{1,32}")
# Read padded or not (Node's jaeger-client writes B3 ids without leading zeros), still bounded.
_B3_TRACE_ID = re.compile(r"[0-9a-fA-F]{1,32}")
_B3_SPAN_ID = re.compile(r"[0-9a-fA-F]{1,16}")
_B3_SINGLE = re.compile(
    r"([0-9a-fA-F]{32}|[0-9a-fA-F]{16})-([0-9a-fA-F]{16})(?:-([01d])(?:-([0-9a-fA-F]{16}))?)?"
)
# version-00 traceparent is exactly these 55 chars; later versions may append "-..." fields.
_TRACEPARENT = re.compile(r"([0-9a-f]{2})-([0-9a-f]{32})-([0-9a-f]{16})-([0-9a-f]{2})(-.*)?", re.S)

# tracestate list member (W3C trace-context level 2 keys, which may start with a digit):
# key = simple-key / tenant@system; value = up to 256 printable ASCII but ',' and '=',
# not ending in a space. OWS around a member is stripped before matching.
_TRACESTATE_MEMBER = re.compile(
    r"(?:[a-z0-9][a-z0-9_\-*/]{0,255}|[a-z0-9][a-z0-9_\-*/]{0,240}@[a-z][a-z0-9_\-*/]{0,13})"
    r"=[\x20-\x2b\x2d-\x3c\x3e-\x7e]{0,255}[\x21-\x2b\x2d-\x3c\x3e-\x7e]"
)
_TRACESTATE_MAX_MEMBERS = 32
_TRACESTATE_MAX_LENGTH = 512  # propagated at most; longer: drop >128-char members, then the last
_TRACESTATE_LONG_MEMBER = 128

# An RFC 7230 token (a header name; a W3C baggage key). A W3C baggage value is baggage-octets
# (printable ASCII but space, '"', ',', ';' and '\\'); properties follow ';'.
_TOKEN = re.compile(r"[!#$%&'*+\-.^_`|~0-9A-Za-z]+")
_W3C_VALUE = re.compile(r"[\x21\x23-\x2b\x2d-\x3a\x3c-\x5b\x5d-\x7e]*")
# What a value leaves unescaped: baggage-octets but '%' and '+' (which OpenTelemetry Python
# reads as a space) and '=' (some readers split a member at every '='). quote() always keeps
# letters, digits and "_.-~".
_W3C_VALUE_SAFE = "!#$&'()*/:<>?@[]^`{|}~"
# A W3C baggage key that is not a token is written with the others escaped
_TOKEN_SAFE = "!#$&'*+^`|~"
# What cannot be in an HTTP header name at all (http.client refuses it, or it ends the line):
# controls, space, ':' and non-ASCII. An uberctx-* name escapes these and nothing else, so keys
# that upstream wrote as they were (with '/', '@' ...) still are; extract reverses the escapes.
_HEADER_UNSAFE = re.compile(r"[\x00-\x20\x7f:]|[^\x00-\x7f]")
_ESCAPED_RUN = re.compile(r"(?:%[0-9A-Fa-f]{2})+")

# Binary layout (jaeger-client-go propagation.go): trace-high, trace-low, span, parent: u64;
# flags: u8; baggage count: u32; then per item key-len u32, key, value-len u32, value.
_BINARY_HEADER = struct.Struct(">QQQQBI")
_U32 = struct.Struct(">I")
_MIN_BINARY_ITEM = 2 * _U32.size  # an item with an empty key and value

_new = object.__new__
# an uber-trace-id's ids, zero-padded to their widths and unhexlified: trace high and low, span
# (and parent); one C call, and it raises struct.error unless each id fitted its width
_unpack_ids = struct.Struct(">QQQ").unpack
_unpack_ids_parent = struct.Struct(">QQQQ").unpack
_MAX_TRACE_HEADER = len("0" * 32 + ":" + "0" * 16 + ":" + "0" * 16 + ":00")
# a longer %-encoded uber-trace-id cannot decode (3:1 at most) to a valid one: don't unquote it
_MAX_QUOTED_TRACE_HEADER = 3 * _MAX_TRACE_HEADER
_FAST_BAGGAGE_VALUE = 256  # see TextCodec._fast_baggage_items
# escapes that urllib would keep as a literal '%' (not 2 hex digits), fixed up per carrier:
# a regex step each, so a carrier full of them costs a bounded amount (RELIABILITY 2.2)
_BAD_ESCAPE_BUDGET = 32
# %-encoded baggage values decoded in one call (_decode_together): what 8 KB of baggage can be
_DECODE_TOGETHER_BYTES = 3 * MAX_BAGGAGE_HEADER_BYTES
_BAD_ESCAPE = re.compile(rb"%(?![0-9A-Fa-f]{2})")
_BAD_ESCAPE_TEXT = re.compile("%(?![0-9A-Fa-f]{2})")
# undocumented, but C speed: '\\xHH' escapes decoded as bytes; fall back to urllib without it
_escape_decode: Optional[Callable[[bytes, str], tuple[bytes, int]]] = getattr(
    codecs, "escape_decode", None
)
# the bytes urllib.parse.quote() keeps as they are (its always-safe set and its default '/')
_QUOTE_SAFE = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_.-~/"
_MAX_SHOWN = 64  # characters of a bad header quoted in an exception message
_KEY_CACHE_SIZE = 512  # distinct carrier key spellings remembered per codec
_KEY_CACHE_MAX_LEN = 128
_QUOTED_CACHE_SIZE = 512  # distinct short baggage values remembered quoted, per codec
_PLAIN_CACHE_SIZE = 512  # distinct baggage values remembered as plain, per codec


class _Kind:
    """What a TextCodec carrier key is; a ``str`` kind is instead the baggage key it carries."""

    __slots__ = ("name",)

    def __init__(self, name: str) -> None:
        self.name = name

    def __repr__(self) -> str:
        return f"<{self.name}>"


_OTHER = ""  # falsy, like an empty baggage key, which is ignored too
_TRACE = _Kind("trace")
_DEBUG_ID = _Kind("debug-id")
_BAGGAGE_HEADER = _Kind("baggage-header")
_KeyKind = Union[str, _Kind]


class _QuotedValues(dict[str, str]):
    """Baggage value -> ``urllib.parse.quote(value)``, as HTTP_HEADERS inject writes it: values
    repeat (tenants, regions ...), so short ones are remembered (up to ``_QUOTED_CACHE_SIZE``).
    ``quoted[value]`` raises ``TypeError`` for a value that is not a ``str``."""

    __slots__ = ()

    def __missing__(self, value: str) -> str:
        if type(value) is not str:
            raise TypeError(f"not a str: {type(value).__name__}")
        # ASCII letters and digits are what quote() keeps as they are
        text = value if value.isascii() and value.isalnum() else quote(value, errors="replace")
        if len(value) <= _FAST_BAGGAGE_VALUE and len(self) < _QUOTED_CACHE_SIZE:
            self[value] = text
        return text


class _HeaderNames(dict[str, str]):
    """Baggage key -> its header name (``prefix + key``; in HTTP headers with what cannot be in a
    header name %-escaped, see ``_header_safe``), as inject writes it: keys repeat, so short ones
    are remembered (up to ``_KEY_CACHE_SIZE``), their hash with them.
    ``names[key]`` raises ``TypeError`` for a key that is not a ``str``."""

    __slots__ = ("is_http", "prefix")

    def __init__(self, prefix: str, is_http: bool = False) -> None:
        super().__init__()
        self.prefix = prefix
        self.is_http = is_http

    def __missing__(self, key: str) -> str:
        if type(key) is not str:
            raise TypeError(f"not a str: {type(key).__name__}")
        name = self.prefix + (_header_safe(key) if self.is_http else key)
        if len(key) <= _KEY_CACHE_MAX_LEN and len(self) < _KEY_CACHE_SIZE:
            self[key] = name
        return name


class _KeyKinds(dict[Any, _KeyKind]):
    """Carrier key as sent -> its kind, for one TextCodec: ``kinds[key]`` classifies a key not
    seen before (``__missing__``) and remembers short ``str`` keys (up to ``_KEY_CACHE_SIZE``),
    so a known key costs one subscript: no ``lower()`` and no comparisons per header."""

    __slots__ = (
        "baggage_header",
        "baggage_prefix",
        "debug_id_header",
        "is_http",
        "trace_id_header",
    )

    def __init__(
        self,
        trace_id_header: str,
        baggage_prefix: str,
        debug_id_header: str,
        baggage_header: str,
        is_http: bool = False,
    ) -> None:
        super().__init__()
        self.trace_id_header = trace_id_header
        self.baggage_prefix = baggage_prefix
        self.debug_id_header = debug_id_header
        self.baggage_header = baggage_header
        self.is_http = is_http  # uberctx-* names: reverse _header_safe's escapes

    def __missing__(self, key: Any) -> _KeyKind:
        """The kind of any key (remembered if it is a short ``str``); needs no hash of ``key``."""
        if isinstance(key, str):
            lowered = key.lower()
        elif isinstance(key, (bytes, bytearray)):
            try:
                lowered = key.decode("utf-8").lower()
            except UnicodeDecodeError:
                return _OTHER
        else:
            return _OTHER
        kind: _KeyKind
        if lowered == self.trace_id_header:
            kind = _TRACE
        elif lowered.startswith(self.baggage_prefix):
            kind = lowered[len(self.baggage_prefix) :]
            if self.is_http and "%" in kind:
                kind = _header_unescaped(kind)
        elif lowered == self.debug_id_header:
            kind = _DEBUG_ID
        elif lowered == self.baggage_header:
            kind = _BAGGAGE_HEADER
        else:
            kind = _OTHER
        if type(key) is str and len(key) <= _KEY_CACHE_MAX_LEN and len(self) < _KEY_CACHE_SIZE:
            self[key] = kind
        return kind


_Carrier = Any  # carriers are whatever the application hands us; checked at run time
_Counter = Callable[[int], Any]


def _shown(value: Any) -> str:
    """``repr(value)``, cut short: a 1 MB header must not become a 1 MB exception message."""
    if isinstance(value, (str, bytes, bytearray)) and len(value) > _MAX_SHOWN:
        return f"{value[:_MAX_SHOWN]!r}... ({len(value)} long)"
    try:
        text = repr(value)
    except Exception:  # a hostile __repr__ must not turn into a non-OT exception
        return f"<{type(value).__name__}>"
    return text if len(text) <= _MAX_SHOWN else text[:_MAX_SHOWN] + "..."


def _as_text(value: Any) -> Optional[str]:
    """A header value as ``str``: lists of one are unwrapped, bytes decoded as UTF-8.

    Returns ``None`` for anything else (several values, ``None``, numbers, undecodable bytes).
    """
    if isinstance(value, str):
        return value
    if isinstance(value, (list, tuple)):
        if len(value) != 1:
            return None
        value = value[0]
        if isinstance(value, str):
            return value
    if isinstance(value, (bytes, bytearray)):
        try:
            return value.decode("utf-8")
        except UnicodeDecodeError:
            return None
    return None


def _utf8_len(text: str) -> int:
    if text.isascii():
        return len(text)
    return len(text.encode("utf-8", "surrogatepass"))


def _unquote_plus(text: str, budget: Optional[int] = None) -> tuple[Optional[str], int]:
    """``urllib.parse.unquote_plus(text)`` (UTF-8, ``errors="replace"``) without a Python step
    per escape; returns the decoded text and what is left of ``budget``.

    ``budget`` bounds the escapes that need fixing up first (a ``%`` not followed by two hex
    digits, which urllib keeps as it is): with more than that, the result is ``None``.
    ``None`` means no bound. The result equals urllib's (a property test proves it): escapes
    become bytes, the bytes are decoded as UTF-8; text that is not ASCII is decoded as a whole,
    which gives what urllib's run-by-run decoding gives because a non-ASCII character starts
    with a UTF-8 lead byte, which ends any incomplete sequence before it.
    """
    if "+" in text:
        text = text.replace("+", " ")
    if "%" not in text:
        return text, budget or 0
    if text.isascii():
        data = text.encode("ascii")
    else:
        try:
            data = text.encode("utf-8")
        except UnicodeEncodeError:  # lone surrogates, which urllib keeps as they are
            data = b""
    if _escape_decode is None or not data:
        # urllib's own loop: a Python step per escape, so every escape counts
        spent = text.count("%")
        if budget is not None and spent > budget:
            return None, 0
        return unquote(text), 0 if budget is None else budget - spent
    escapes = data.count(b"%")
    escaped = data.replace(b"\\", b"\\\\")  # keep backslashes (no copy if none)
    # errors="replace" writes one byte for a bad "\\x" escape where a good one turns 3 bytes
    # into 1: so only with every escape good is the result 2 bytes shorter per escape
    raw = _escape_decode(escaped.replace(b"%", b"\\x"), "replace")[0]
    if len(raw) != len(data) - 2 * escapes:  # some '%' must stay literal: make them '%25'
        if budget is None:
            data = _BAD_ESCAPE.sub(b"%25", data)
        elif not budget:
            return None, 0
        else:
            data, bad = _BAD_ESCAPE.subn(b"%25", data, budget + 1)
            if bad > budget:
                return None, 0  # spent: later values with bad escapes cost no regex work
            budget -= bad
        escaped = data.replace(b"\\", b"\\\\")
        raw = _escape_decode(escaped.replace(b"%", b"\\x"), "strict")[0]
    return raw.decode("utf-8", "replace"), budget or 0


def _decode_together(
    entries: Collection[tuple[str, str]], escapes: int
) -> tuple[Collection[tuple[str, Optional[str]]], int]:
    """%-decode the :class:`_Encoded` values of ``entries`` with few Python steps.

    The values are joined with newlines, decoded in one ``_unquote_plus`` call and split again:
    exact when the decoded text holds as many newlines as were put in. Otherwise (a raw or
    %-escaped newline, or more bad escapes than ``escapes`` allows) they are decoded one by
    one; once the bad-escape budget is spent, a value with a bad escape becomes None (to be
    dropped) after one regex search. Only the first ``_DECODE_TOGETHER_BYTES`` of them: later
    ones are decoded by _bound_baggage only if they can still fit.
    """
    encoded: list[str] = [value for _, value in entries if type(value) is _Encoded]
    if sum(map(len, encoded)) + len(encoded) > _DECODE_TOGETHER_BYTES:
        size = 0
        for count, value in enumerate(encoded):
            size += len(value) + 1
            if size > _DECODE_TOGETHER_BYTES:
                del encoded[count:]
                break
    if len(encoded) < 2:
        return entries, escapes
    joined, left = _unquote_plus("\n".join(encoded), escapes)
    decoded: list[Optional[str]] = [] if joined is None else joined.split("\n")  # type: ignore[assignment]
    if len(decoded) == len(encoded):
        escapes = left
    else:
        decoded = []
        search = _BAD_ESCAPE_TEXT.search
        for value in encoded:
            if not escapes and search(value):
                decoded.append(None)
            else:
                text, escapes = _unquote_plus(value, escapes)
                decoded.append(text)
    # the decoded values in order; past the first _DECODE_TOGETHER_BYTES, values stay encoded
    values = iter(decoded)
    return [(k, next(values, v) if type(v) is _Encoded else v) for k, v in entries], escapes


def _quoted_len(value: str) -> int:
    """``len(quote(value, errors="replace"))`` without quoting: 3 for each byte quote() escapes."""
    data = value.encode("utf-8", "replace")
    return len(data) + 2 * len(data.translate(None, _QUOTE_SAFE))


def _context_of(span_context: Any) -> SpanContext:
    """Accept a :class:`SpanContext` or anything with one as ``.context`` (a Span), as upstream."""
    if isinstance(span_context, SpanContext):
        return span_context
    context = getattr(span_context, "context", None)
    if isinstance(context, SpanContext):
        return context
    raise SpanContextCorruptedException(
        f"expected a jaeger SpanContext or Span, got {type(span_context).__name__}"
    )


def _is_mutable_mapping(carrier: Any) -> bool:
    return type(carrier) is dict or isinstance(carrier, MutableMapping)


def _carrier_items(carrier: Any) -> Iterable[Any]:
    if type(carrier) is dict:
        return carrier.items()
    items = getattr(carrier, "items", None)
    if items is None or not callable(items):
        raise InvalidCarrierException(f"carrier is not a mapping: {type(carrier).__name__}")
    result: Iterable[Any] = items()
    return result


def _bad_carrier(carrier: Any, error: BaseException) -> InvalidCarrierException:
    return InvalidCarrierException(f"carrier {type(carrier).__name__} failed: {_shown(error)}")


class _Encoded(str):
    """A baggage value still %-encoded: decoded when it is bounded, if it can fit at all."""

    __slots__ = ()


def _bound_baggage(
    entries: list[tuple[str, str]], overhead: int, quoted: bool = False, escapes: int = 0
) -> tuple[dict[str, str], int]:
    """Keep the baggage within the bounds; return it and how many items were dropped.

    At most ``MAX_BAGGAGE_ITEMS`` items, each key + value at most ``MAX_BAGGAGE_ITEM_BYTES``
    UTF-8 bytes, all together at most ``MAX_BAGGAGE_HEADER_BYTES`` with each item also costing
    ``overhead`` (the header prefix it is re-injected under): a context re-injects at most
    8 KB of baggage however large the carrier was. With ``quoted`` (HTTP_HEADERS), a value
    counts as the ``quote()``-d text it is re-injected as, up to 3 bytes per byte. A repeated
    key keeps its last value, as a dict would; earlier keys win the space. An :class:`_Encoded`
    value is %-decoded here, with ``escapes`` bad escapes to fix up in all (see _unquote_plus).
    """
    # dedupe in C, last value wins
    merged: Collection[tuple[str, Optional[str]]] = (
        dict(entries).items() if len(entries) > 1 else entries
    )
    if len(merged) > 1:
        merged, escapes = _decode_together(merged, escapes)  # type: ignore[arg-type]
    baggage: dict[str, str] = {}
    budget = MAX_BAGGAGE_HEADER_BYTES
    dropped = 0
    seen = 0
    for key, value in merged:
        if len(baggage) >= MAX_BAGGAGE_ITEMS or budget <= overhead:
            dropped += len(merged) - seen  # nothing more can fit
            break
        seen += 1
        if type(value) is _Encoded:
            value, escapes = _unquote_plus(value, escapes)
        if value is None:
            dropped += 1  # too many escapes to fix up: dropped like an oversize item
            continue
        if quoted and not (value.isascii() and value.isalnum()):
            size = _utf8_len(key) + _quoted_len(value)  # as inject writes it
        elif key.isascii() and value.isascii():
            size = len(key) + len(value)
        else:
            size = _utf8_len(key) + _utf8_len(value)
        cost = size + overhead
        if size > MAX_BAGGAGE_ITEM_BYTES or cost > budget:
            dropped += 1
            continue
        budget -= cost
        baggage[key] = value
    return baggage, dropped


def _check_counter(metrics: Any) -> Optional[_Counter]:
    if metrics is None:
        return None
    counter = getattr(metrics, "baggage_truncations", None)
    if not callable(counter):
        raise TypeError(
            "metrics must have a callable baggage_truncations(n) (a tracer's TracerMetrics), "
            f"got {type(metrics).__name__}"
        )
    return counter  # type: ignore[no-any-return]  # checked callable above


# ---- upstream's module-level helpers -----------------------------------------------------------


def span_context_to_string(
    trace_id: int, span_id: int, parent_id: Optional[int], flags: int
) -> str:
    """Serialize ids as ``{trace_id}:{span_id}:{parent_id}:{flags}``.

    Variable-length lower-case hex without zero padding, as upstream; a missing parent is ``0``.
    """
    return "%x:%x:%x:%x" % (trace_id, span_id, parent_id or 0, flags)  # noqa: UP031  # see inject


def span_context_from_string(value: Any) -> tuple[int, int, Optional[int], int]:
    """Parse an ``uber-trace-id`` value into ``(trace_id, span_id, parent_id, flags)``.

    Accepts padded or unpadded, upper- or lower-case hex: 1-32 digits for the trace id, 1-16 for
    span and parent, 1-2 for flags; nothing else (no whitespace, sign, ``0x``, ``_`` or non-ASCII
    digits). A parent of ``0`` becomes ``None``. A list of one string is unwrapped, as upstream.

    :raises SpanContextCorruptedException: for anything else, including a zero trace or span id
    """
    if type(value) is not str:
        value = _trace_header_text(value)
    match = _UBER_TRACE_ID.fullmatch(value)
    if match is None:
        raise SpanContextCorruptedException(f"malformed trace context {_shown(value)}")
    trace, span, parent, flags = match.groups()
    trace_id = int(trace, 16)
    span_id = int(span, 16)
    if not trace_id or not span_id:
        raise SpanContextCorruptedException(
            f"malformed trace context {_shown(value)}: zero trace or span id"
        )
    # int() is most of the cost: skip it for the usual root parent and 1-2 digit flags
    return (
        trace_id,
        span_id,
        None if parent == "0" else (int(parent, 16) or None),
        _HEX_BYTE[flags],
    )


_span_context_from_string = span_context_from_string  # to tell whether users patched it


def _trace_header_text(value: Any) -> str:
    if isinstance(value, list) and value:
        # some frameworks present headers as lists of values
        if len(value) > 1:
            raise SpanContextCorruptedException(
                f"trace context must be a string or a list of one string: {_shown(value)}"
            )
        value = value[0]
    if not isinstance(value, str):
        raise SpanContextCorruptedException(f"trace context is not a string: {_shown(value)}")
    return value


def header_to_hex(header: Any) -> int:
    """Parse 1-32 ASCII hex digits (a B3 id header) into an int.

    :raises SpanContextCorruptedException: if ``header`` is not such a string
    """
    if not isinstance(header, str) or _HEX_1_32.fullmatch(header) is None:
        raise SpanContextCorruptedException(
            f"malformed trace context {_shown(header)}, expected hex string"
        )
    return int(header, 16)


# ---- codecs ------------------------------------------------------------------------------------


class Codec:
    """Converts a :class:`SpanContext` to and from one carrier format."""

    def inject(self, span_context: SpanContext, carrier: _Carrier) -> None:
        raise NotImplementedError()

    def extract(self, carrier: _Carrier) -> Optional[SpanContext]:
        raise NotImplementedError()


class TextCodec(Codec):
    """Jaeger's native text format: ``uber-trace-id``, ``uberctx-*``, ``jaeger-debug-id``,
    ``jaeger-baggage``, for TEXT_MAP (``url_encoding=False``) and HTTP_HEADERS (``True``).

    Header names are lower-cased with ``_`` turned into ``-`` (as upstream) and matched
    case-insensitively. Inject writes unpadded lower-case hex, as upstream; extract accepts
    padded or unpadded, upper or lower case. With ``url_encoding``, baggage values are written
    with ``urllib.parse.quote`` (space as ``%20``) and read back with ``%XX`` and ``+`` decoded,
    so values from Go and Java clients (space as ``+``) survive.

    :param baggage_header: the ad-hoc ``k1=v1, k2=v2`` baggage header
    :param metrics: the tracer's ``TracerMetrics``; extracted baggage dropped by the bounds is
        counted with ``metrics.baggage_truncations(n)``
    """

    def __init__(
        self,
        url_encoding: bool = False,
        trace_id_header: str = TRACE_ID_HEADER,
        baggage_header_prefix: str = BAGGAGE_HEADER_PREFIX,
        debug_id_header: str = DEBUG_ID_HEADER_KEY,
        baggage_header: str = BAGGAGE_HEADER_KEY,
        *,
        metrics: Any = None,
    ) -> None:
        for name, header in (
            ("trace_id_header", trace_id_header),
            ("baggage_header_prefix", baggage_header_prefix),
            ("debug_id_header", debug_id_header),
            ("baggage_header", baggage_header),
        ):
            if not isinstance(header, str) or not header:
                raise ValueError(f"TextCodec {name} must be a non-empty string, got {header!r}")
        self.url_encoding = bool(url_encoding)
        self.trace_id_header = trace_id_header.lower().replace("_", "-")
        self.baggage_prefix = baggage_header_prefix.lower().replace("_", "-")
        self.debug_id_header = debug_id_header.lower().replace("_", "-")
        self.baggage_header = baggage_header.lower().replace("_", "-")
        self.prefix_length = len(self.baggage_prefix)
        self._count_truncations = _check_counter(metrics)
        # How many plain items (ASCII value <= 256, cached key <= 128 chars) extract takes
        # without accounting: that many can reach neither the item nor the total byte bound,
        # even re-injected url-encoded (quote() writes up to 3 characters per character).
        worst_value = (3 if self.url_encoding else 1) * _FAST_BAGGAGE_VALUE
        worst_item = _utf8_len(self.baggage_prefix) + 4 * _KEY_CACHE_MAX_LEN + worst_value
        self._fast_baggage_items = min(16, MAX_BAGGAGE_HEADER_BYTES // worst_item)
        # with a prefix so long that not even one fits, no value is plain
        self._fast_value_max = _FAST_BAGGAGE_VALUE if self._fast_baggage_items else -1
        self._kinds = _KeyKinds(
            self.trace_id_header,
            self.baggage_prefix,
            self.debug_id_header,
            self.baggage_header,
            is_http=self.url_encoding,
        )
        # baggage values known to be plain here (extract takes them as they are): one set
        # lookup instead of the length, ASCII and escape checks; bounded like _quoted
        self._plain: set[str] = set()
        # baggage value -> as injected with url_encoding: quoted[value], remembered when short
        self._quoted = _QuotedValues()
        # baggage key -> its header name: names[key], remembered when short
        self._names = _HeaderNames(self.baggage_prefix, is_http=self.url_encoding)

    # -- inject

    def inject(self, span_context: SpanContext, carrier: _Carrier) -> None:
        if type(carrier) is not dict:
            if not isinstance(carrier, MutableMapping):
                raise InvalidCarrierException(f"carrier is not a dict: {type(carrier).__name__}")
            self._inject_foreign(span_context, carrier)
            return
        context = span_context if type(span_context) is SpanContext else _context_of(span_context)
        trace_id = context.trace_id
        if trace_id:
            try:
                # not url-encoded even in HTTP mode: ':' is fine in a header value;
                # %-formatting: one C call, half the cost of an f-string's four format() calls
                parent_id = context.parent_id
                if parent_id:
                    value = "%x:%x:%x:%x" % (  # noqa: UP031
                        trace_id,
                        context.span_id or 0,
                        parent_id,
                        context.flags or 0,
                    )
                else:  # a root span's: one id fewer to format
                    value = "%x:%x:0:%x" % (trace_id, context.span_id or 0, context.flags or 0)  # noqa: UP031
                carrier[self.trace_id_header] = value
            except (TypeError, ValueError) as e:
                raise SpanContextCorruptedException(
                    f"cannot serialize {_shown(context)}: {e}"
                ) from e
        baggage = context._baggage  # the property costs a Python call on the hot path
        if not baggage:
            return
        # _inject_baggage inlined for plain str items (a call costs ~500 instructions on 3.11)
        names = self._names
        if self.url_encoding:
            quoted = self._quoted
            try:
                for key, value in baggage.items():
                    carrier[names[key]] = quoted[value]
            except Exception:  # a key or value not a str (TypeError, or its own hash): all again
                self._inject_baggage(baggage, carrier)
        else:
            for key, value in baggage.items():
                if type(key) is not str or type(value) is not str:
                    self._inject_baggage({key: value}, carrier)
                    continue
                carrier[names[key]] = value

    def _inject_baggage(self, baggage: Mapping[Any, Any], carrier: dict[str, Any]) -> None:
        """One ``{prefix}{key}`` header per item; in HTTP mode the value url-encoded and the
        name made safe (``_header_safe``)."""
        prefix = self.baggage_prefix
        url_encoding = self.url_encoding
        quoted = self._quoted
        for key, value in baggage.items():
            text: Optional[str] = value
            if type(value) is not str:
                text = _quote_value(value) if url_encoding else _baggage_text(value)
                if text is None:
                    continue
            elif url_encoding:
                text = quoted[value]
            name: Optional[str] = key if type(key) is str else _baggage_text(key)
            if name is not None:
                carrier[prefix + (_header_safe(name) if url_encoding else name)] = text

    def _inject_foreign(self, span_context: SpanContext, carrier: MutableMapping[Any, Any]) -> None:
        """Inject into a mapping that is not a dict: write a dict, then copy it over."""
        headers: dict[str, str] = {}
        self.inject(span_context, headers)
        try:
            carrier.update(headers)
        except Exception as e:  # a foreign mapping's __setitem__ may raise anything; OT allows ICE
            raise _bad_carrier(carrier, e) from e

    # -- extract

    def extract(self, carrier: _Carrier) -> Optional[SpanContext]:
        if type(carrier) is not dict:
            return self._extract_items(carrier)
        # The common case, in few Python steps: a dict with an uber-trace-id and a few plain
        # baggage items. Anything else (the debug id, the baggage header, a value to decode or
        # bound, or too many items) starts over in _extract_items: a dict is read twice at no
        # risk, and that way this loop keeps no iterator to hand over.
        trace_value: Any = None
        baggage: Optional[dict[str, str]] = None
        kinds = self._kinds
        plain_only = False  # True once every item is read
        try:
            for key, value in carrier.items():
                kind = kinds[key]  # a dict's keys hash; an unknown one is classified
                if not kind:
                    continue
                if kind is _TRACE:
                    if value is not None:
                        trace_value = value
                    continue
                if (
                    type(kind) is not str
                    or type(value) is not str
                    or len(kind) > _KEY_CACHE_MAX_LEN
                ):
                    break  # the debug id, the baggage header, a value not a str, a long key
                if value not in self._plain:  # not a local: most carriers carry no baggage
                    if not (
                        len(value) <= self._fast_value_max
                        and value.isascii()
                        # ASCII letters and digits alone need no decoding: one scan, not two
                        and (
                            value.isalnum()
                            or not (self.url_encoding and ("%" in value or "+" in value))
                        )
                    ):
                        break
                    plain = self._plain
                    if len(plain) >= _PLAIN_CACHE_SIZE:
                        plain.clear()  # bounded without LRU bookkeeping, like the tag cache
                    plain.add(value)
                if baggage is None:
                    baggage = {kind: value}
                elif len(baggage) < self._fast_baggage_items:
                    baggage[kind] = value
                else:
                    break
            else:
                plain_only = True
        except (InvalidCarrierException, SpanContextCorruptedException):
            raise
        except Exception as e:  # the carrier's keys are foreign: __hash__, __eq__, lower() ...
            raise _bad_carrier(carrier, e) from e
        if not plain_only:
            return self._extract_items(carrier)

        if trace_value is None:
            return SpanContext(None, None, None, None, baggage) if baggage else None
        # span_context_from_string inlined, unless users patched it. unhexlify is as strict as
        # the regex (no sign, space, "_", "0x" or non-ASCII digit, which int() would take);
        # zfill pads each id to its field's width, so the unpack's exact length means that none
        # was longer. No length check first: the flags table and the unpack bound every field,
        # after C work linear in a header the application already holds
        if type(trace_value) is str and span_context_from_string is _span_context_from_string:
            try:
                trace, span, parent, flag = trace_value.split(":")
                flags = _HEX_BYTE[flag]
                if parent == "0":  # a root's context
                    high, low, span_id = _unpack_ids(_unhexlify(trace.zfill(32) + span.zfill(16)))
                    parent_id = None
                elif parent:  # an empty one would pad to 0: the full path rejects it
                    high, low, span_id, parent_id = _unpack_ids_parent(
                        _unhexlify(trace.zfill(32) + span.zfill(16) + parent.zfill(16))
                    )
                    parent_id = parent_id or None
                else:
                    raise ValueError(parent)
                trace_id = high << 64 | low if high else low
                if trace_id and span_id:
                    # span_context._build inlined (its call costs ~600 instructions on
                    # 3.11, a quarter of the build): keep in step with SpanContext.__init__
                    context: SpanContext = _new(SpanContext)
                    context.trace_id = trace_id
                    context.span_id = span_id
                    context.parent_id = parent_id
                    context.flags = flags
                    context._baggage = baggage or _EMPTY_BAGGAGE
                    context._debug_id = None
                    context._trace_state = None
                    return context
            except (KeyError, ValueError, struct.error):  # binascii.Error is a ValueError
                pass  # not 4 fields, flags or an id not hex or too long: the full path says why
        ids = self._trace_ids(trace_value)
        if not ids[0] and not baggage:
            return None
        return _build_context(*ids, baggage)

    def _extract_items(self, carrier: _Carrier) -> Optional[SpanContext]:
        """extract for any carrier: also the debug id, the baggage header, values to decode and
        baggage beyond the dict fast path's few plain items."""
        trace_value: Any = None
        baggage: Optional[dict[str, str]] = None
        debug_value: Any = None
        # baggage: plain items, well inside the bounds; pending: everything, once one is not
        pending: Optional[list[tuple[_KeyKind, Any]]] = None
        url_encoding = self.url_encoding
        fast_value_max = self._fast_value_max
        kinds = self._kinds
        try:
            items = carrier.items() if type(carrier) is dict else _carrier_items(carrier)
            for key, value in items:
                if value is None:
                    continue
                # a foreign carrier's key may not hash: classified, not looked up
                kind = kinds[key] if type(key) is str else kinds.__missing__(key)
                if not kind:
                    continue
                if kind is _TRACE:
                    trace_value = value
                elif kind is _DEBUG_ID:
                    debug_value = value
                elif (
                    pending is None
                    and type(kind) is str
                    and type(value) is str
                    and len(value) <= fast_value_max
                    and len(kind) <= _KEY_CACHE_MAX_LEN
                    and value.isascii()
                    and not (url_encoding and ("%" in value or "+" in value))
                ):
                    # plain: no decoding, and few enough that no bound can be reached
                    if baggage is None:
                        baggage = {kind: value}
                    elif len(baggage) < self._fast_baggage_items:
                        baggage[kind] = value
                    else:
                        pending = [*baggage.items(), (kind, value)]
                elif pending is None:
                    # the baggage header, or a value to decode or bound: take the full path
                    pending = [*baggage.items(), (kind, value)] if baggage else [(kind, value)]
                else:
                    pending.append((kind, value))
        except (InvalidCarrierException, SpanContextCorruptedException):
            raise
        except Exception as e:  # the carrier is foreign code: items(), iteration, keys' __eq__ ...
            raise _bad_carrier(carrier, e) from e

        trace_id = span_id = parent_id = flags = None
        if trace_value is not None:
            trace_id, span_id, parent_id, flags = self._trace_ids(trace_value)

        debug_id = None
        if debug_value is not None:
            debug_id = _as_text(debug_value)
            if debug_id is not None and url_encoding and "%" in debug_id:
                debug_id = unquote(debug_id)

        if pending is not None:
            baggage = self._bounded_baggage(pending)
        if not trace_id and debug_id is None and not baggage:
            return None
        return SpanContext(trace_id, span_id, parent_id, flags, baggage, debug_id)

    def _trace_ids(
        self, trace_value: Any
    ) -> tuple[Optional[int], Optional[int], Optional[int], Optional[int]]:
        """An ``uber-trace-id`` value as (trace, span, parent, flags); all None if the ids are
        zero (a patched span_context_from_string may return that rather than raise)."""
        if type(trace_value) is not str:
            trace_value = _header_text(self.trace_id_header, trace_value)
        if (
            self.url_encoding
            and "%" in trace_value
            and len(trace_value) <= _MAX_QUOTED_TRACE_HEADER
        ):
            trace_value = unquote(trace_value)
        match = _UBER_TRACE_ID.fullmatch(trace_value)
        trace_id = span_id = None
        if match is not None and span_context_from_string is _span_context_from_string:
            # span_context_from_string inlined (a call and a tuple less), unless patched
            trace, span, parent, flag = match.groups()
            trace_id = int(trace, 16)
            span_id = int(span, 16)
            if trace_id and span_id:
                parent_id = None if parent == "0" else (int(parent, 16) or None)
                return trace_id, span_id, parent_id, _HEX_BYTE[flag]
        # through the module global: users patch codecs.span_context_from_string
        ids: tuple[Optional[int], ...] = span_context_from_string(trace_value)
        if not ids[0] or not ids[1]:
            return None, None, None, None
        return ids  # type: ignore[return-value]  # 4 items, as span_context_from_string's

    def _bounded_baggage(self, values: list[tuple[_KeyKind, Any]]) -> Optional[dict[str, str]]:
        url_encoding = self.url_encoding
        entries: list[tuple[str, str]] = []
        dropped = 0
        budget = _BAD_ESCAPE_BUDGET  # per carrier: see _unquote_plus
        for key, value in values:
            text = value if type(value) is str else _as_text(value)
            if text is None:
                continue  # not a string: ignored, like a header that is not there
            if key is _BAGGAGE_HEADER:
                lost, budget = self._parse_baggage_header(text, entries, budget)
                dropped += lost
            elif isinstance(key, str):
                # decoding shrinks a value at most 3:1 ("%XX"), so a longer one cannot fit
                if len(text) > 3 * MAX_BAGGAGE_ITEM_BYTES:
                    dropped += 1
                    continue
                if url_encoding and ("%" in text or "+" in text):
                    # %XX, and + as a space (Go and Java clients write a space as +), decoded
                    # by _bound_baggage only if the item can still fit
                    text = _Encoded(text)
                entries.append((key, text))
        baggage, over = _bound_baggage(entries, self.prefix_length, url_encoding, budget)
        dropped += over
        if dropped and self._count_truncations is not None:
            self._count_truncations(dropped)
        return baggage or None

    def _parse_baggage_header(
        self, header: str, entries: list[tuple[str, str]], budget: int
    ) -> tuple[int, int]:
        """``k1=v1, k2=v2``: items without exactly one ``=`` are skipped, as upstream and Go.

        Like a W3C baggage header, only the first ``MAX_BAGGAGE_HEADER_BYTES`` bytes and the
        first ``MAX_BAGGAGE_ITEMS`` comma-separated members are read, so a hostile header costs
        no Python loop over 10,000 items. Appends the items to ``entries``; returns how many
        members were cut off and what is left of the bad-escape ``budget`` (_unquote_plus).
        """
        dropped = 0
        window = MAX_BAGGAGE_HEADER_BYTES + 1
        if len(header) > window:
            cut = header.rfind(",", 0, window)  # keep whole members only
            dropped = header.count(",", cut + 1) + 1
            header = header[:cut] if cut >= 0 else ""
        if self.url_encoding and ("%" in header or "+" in header):
            # the whole value first, as upstream and Go
            decoded, budget = _unquote_plus(header, budget)
            if decoded is None:  # too many escapes to fix up: every member is dropped
                return dropped + header.count(",") + 1, budget
            header = decoded
        parts = header.split(",", MAX_BAGGAGE_ITEMS)
        if len(parts) > MAX_BAGGAGE_ITEMS:
            dropped += parts.pop().count(",") + 1
        for part in parts:
            kv = part.split("=")
            if len(kv) == 2:
                key = kv[0].strip()
                if key:
                    entries.append((key, kv[1].strip()))
        return dropped, budget


def _baggage_text(value: Any) -> Optional[str]:
    """A baggage key or value that is not a ``str``, as text; ``None`` to leave it out."""
    if isinstance(value, str):
        return value
    if isinstance(value, (bytes, bytearray)):
        return value.decode("utf-8", "replace")
    if value is None:
        return None
    try:
        return str(value)
    except Exception:  # a hostile __str__ must not fail the request: leave the item out
        return None


def _quote_value(value: Any) -> Optional[str]:
    # quote() takes bytes as they are, keeping upstream's %FF for a non-UTF-8 byte
    if isinstance(value, (bytes, bytearray)):
        return quote(bytes(value))
    text = _baggage_text(value)
    if text is None:
        return None
    return quote(text, errors="replace")  # lone surrogates cannot be encoded


class BinaryCodec(Codec):
    """jaeger-client-go's binary format in a ``bytearray`` carrier (Format.BINARY).

    Big-endian: trace-id high u64, low u64, span u64, parent u64, flags u8, baggage count u32,
    then per item key-len u32, key, value-len u32, value (UTF-8); see jaeger-client-go
    ``propagation.go``. Extract checks every length against the bytes that remain and the
    baggage bounds before it copies anything.

    :param metrics: the tracer's ``TracerMetrics``; dropped baggage is counted with
        ``metrics.baggage_truncations(n)``
    """

    def __init__(self, *, metrics: Any = None) -> None:
        self._count_truncations = _check_counter(metrics)

    def inject(self, span_context: SpanContext, carrier: _Carrier) -> None:
        if not isinstance(carrier, bytearray):
            raise InvalidCarrierException(f"carrier is not a bytearray: {type(carrier).__name__}")
        context = span_context if type(span_context) is SpanContext else _context_of(span_context)
        items = []
        for key, value in context.baggage.items():
            raw_key, raw_value = _utf8(key), _utf8(value)
            if raw_key is not None and raw_value is not None:
                items.append(
                    b"".join(
                        (_U32.pack(len(raw_key)), raw_key, _U32.pack(len(raw_value)), raw_value)
                    )
                )
        trace_id = context.trace_id or 0
        try:
            header = _BINARY_HEADER.pack(
                trace_id >> 64,
                trace_id & MAX_ID,
                context.span_id or 0,
                context.parent_id or 0,
                context.flags or 0,
                len(items),
            )
        except (TypeError, struct.error) as e:
            raise SpanContextCorruptedException(f"cannot serialize {_shown(context)}: {e}") from e
        carrier += header
        carrier += b"".join(items)

    def extract(self, carrier: _Carrier) -> Optional[SpanContext]:
        if not isinstance(carrier, (bytearray, bytes)):
            raise InvalidCarrierException(f"carrier is not a bytearray: {type(carrier).__name__}")
        size = len(carrier)
        if not size:
            return None  # nothing was injected
        if size < _BINARY_HEADER.size:
            raise SpanContextCorruptedException(
                f"binary span context needs {_BINARY_HEADER.size} bytes, got {size}"
            )
        high, low, span_id, parent_id, flags, count = _BINARY_HEADER.unpack_from(carrier)
        trace_id = (high << 64) | low
        if not trace_id or not span_id:
            raise SpanContextCorruptedException("binary span context: zero trace or span id")
        baggage = None
        if count:
            baggage = self._read_baggage(carrier, count)
        return _build_context(trace_id, span_id, parent_id, flags, baggage)

    def _read_baggage(self, data: Union[bytes, bytearray], count: int) -> Optional[dict[str, str]]:
        pos = _BINARY_HEADER.size
        size = len(data)
        if count * _MIN_BINARY_ITEM > size - pos:
            raise SpanContextCorruptedException(
                f"binary span context declares {count} baggage items in {size - pos} bytes"
            )
        entries: list[tuple[str, str]] = []
        dropped = 0
        unpack = _U32.unpack_from
        for index in range(count):
            if len(entries) >= MAX_BAGGAGE_ITEMS:
                dropped += count - index
                break
            # each length is checked against what remains before anything is sliced
            if size - pos < _U32.size:
                raise _truncated(index)
            (key_len,) = unpack(data, pos)
            pos += _U32.size
            if key_len > size - pos:
                raise _truncated(index)
            key_at = pos
            pos += key_len
            if size - pos < _U32.size:
                raise _truncated(index)
            (value_len,) = unpack(data, pos)
            pos += _U32.size
            if value_len > size - pos:
                raise _truncated(index)
            value_at = pos
            pos += value_len
            if key_len + value_len > MAX_BAGGAGE_ITEM_BYTES:
                dropped += 1
                continue
            try:
                key = data[key_at : key_at + key_len].decode("utf-8")
                value = data[value_at : value_at + value_len].decode("utf-8")
            except UnicodeDecodeError as e:
                raise SpanContextCorruptedException(
                    f"binary span context: baggage item {index} is not UTF-8"
                ) from e
            entries.append((key, value))
        baggage, over = _bound_baggage(entries, 0)
        dropped += over
        if dropped and self._count_truncations is not None:
            self._count_truncations(dropped)
        return baggage or None


def _truncated(index: int) -> SpanContextCorruptedException:
    return SpanContextCorruptedException(
        f"binary span context: baggage item {index} runs past the end of the carrier"
    )


def _utf8(value: Any) -> Optional[bytes]:
    if isinstance(value, bytes):
        return value
    text = _baggage_text(value)
    # lone surrogates cannot be sent; replace them rather than fail the request
    return None if text is None else text.encode("utf-8", "replace")


class ZipkinCodec(Codec):
    """``'zipkin-span-format'``: TChannel's interop carrier.

    A dict with keys ``trace_id``, ``span_id``, ``parent_id``, ``traceflags`` (ints), or an
    object with attributes of those names. No baggage.
    """

    _KEYS = (ZIPKIN_TRACE_ID_KEY, ZIPKIN_SPAN_ID_KEY, ZIPKIN_PARENT_ID_KEY, ZIPKIN_FLAGS_KEY)

    def inject(self, span_context: SpanContext, carrier: _Carrier) -> None:
        if not _is_mutable_mapping(carrier):
            raise InvalidCarrierException(f"carrier is not a dict: {type(carrier).__name__}")
        context = _context_of(span_context)
        values = (context.trace_id, context.span_id, context.parent_id, context.flags)
        try:
            for key, value in zip(self._KEYS, values):
                carrier[key] = value
        except Exception as e:  # a foreign mapping's __setitem__ may raise anything
            raise _bad_carrier(carrier, e) from e

    def extract(self, carrier: _Carrier) -> Optional[SpanContext]:
        try:
            if isinstance(carrier, Mapping):
                trace_id, span_id, parent_id, flags = (carrier.get(k) for k in self._KEYS)
            else:
                values = []
                for key in self._KEYS:
                    if not hasattr(carrier, key):
                        raise InvalidCarrierException(f"carrier has no {key}")
                    values.append(getattr(carrier, key))
                trace_id, span_id, parent_id, flags = values
        except InvalidCarrierException:
            raise
        except Exception as e:  # foreign __getattr__/get may raise anything
            raise _bad_carrier(carrier, e) from e
        if not trace_id:
            return None
        _check_int(ZIPKIN_TRACE_ID_KEY, trace_id, 1, MAX_TRACE_ID)
        # None passes through as upstream: the tracer then starts a new trace
        if span_id is not None:
            _check_int(ZIPKIN_SPAN_ID_KEY, span_id, 1, MAX_ID)
        if parent_id is not None:
            _check_int(ZIPKIN_PARENT_ID_KEY, parent_id, 0, MAX_ID)
        if flags is not None:
            _check_int(ZIPKIN_FLAGS_KEY, flags, 0, 0xFF)
        return SpanContext(trace_id, span_id, parent_id, flags)


def _check_int(name: str, value: Any, low: int, high: int) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise SpanContextCorruptedException(
            f"{name} must be an int in [{low}, {high:#x}], got {_shown(value)}"
        )


def _header_values(
    carrier: Any,
    names: Mapping[str, int],
    prefixes: tuple[str, ...] = (),
    prefixed: Optional[list[tuple[_KeyKind, Any]]] = None,
) -> dict[int, Any]:
    """Pick the headers in ``names`` (lower-case name -> slot) out of ``carrier``, any case.

    With ``prefixed``, headers whose lower-case name starts with one of ``prefixes`` are
    appended to it as (name without the prefix, value).
    """
    found: dict[int, Any] = {}
    try:
        for key, value in _carrier_items(carrier):
            if value is None:
                continue
            if isinstance(key, (bytes, bytearray)):
                try:
                    key = key.decode("utf-8")
                except UnicodeDecodeError:
                    continue
            elif not isinstance(key, str):
                continue
            slot = names.get(key)
            if slot is None:
                lowered = key.lower()
                slot = names.get(lowered)
                if slot is None:
                    if prefixed is not None and lowered.startswith(prefixes):
                        for prefix in prefixes:
                            if lowered.startswith(prefix):
                                prefixed.append((lowered[len(prefix) :], value))
                                break
                    continue
            found[slot] = value
    except InvalidCarrierException:
        raise
    except Exception as e:  # the carrier is foreign code: items(), iteration, keys' __eq__ ...
        raise _bad_carrier(carrier, e) from e
    return found


def _header_text(name: str, value: Any) -> str:
    text = _as_text(value)
    if text is None:
        raise SpanContextCorruptedException(
            f"{name} must be a string or a list of one string, got {_shown(value)}"
        )
    return text


def _parse_hex(name: str, value: Any, pattern: re.Pattern[str]) -> int:
    text = _header_text(name, value)
    if pattern.fullmatch(text) is None:
        raise SpanContextCorruptedException(f"malformed {name} {_shown(text)}")
    return int(text, 16)


def _required_ids(context: SpanContext) -> tuple[int, int]:
    trace_id, span_id = context.trace_id, context.span_id
    if not (isinstance(trace_id, int) and 0 < trace_id <= MAX_TRACE_ID) or not (
        isinstance(span_id, int) and 0 < span_id <= MAX_ID
    ):
        raise SpanContextCorruptedException(
            f"cannot serialize {_shown(context)}: no valid trace/span id"
        )
    return trace_id, span_id


def _optional_parent(context: SpanContext) -> Optional[int]:
    parent_id = context.parent_id
    if parent_id is None or (isinstance(parent_id, int) and 0 <= parent_id <= MAX_ID):
        return parent_id
    raise SpanContextCorruptedException(f"cannot serialize {_shown(context)}: bad parent id")


def _b3_id(trace_id: int) -> str:
    """B3 ids are 16 hex digits, or 32 for a 128-bit trace id."""
    return f"{trace_id:016x}" if trace_id <= MAX_ID else f"{trace_id:032x}"


_B3_TRACE, _B3_SPAN, _B3_PARENT, _B3_SAMPLED, _B3_FLAGS = range(5)
_B3_TRUE = (B3_SAMPLED_ACCEPT, "true")
_B3_FALSE = (B3_SAMPLED_DENY, "false")


# What Go's and Java's jaeger clients write B3 baggage as (their default prefix); read too
_B3_ALT_BAGGAGE_PREFIX = "baggage-"


class B3Codec(Codec):
    """Zipkin B3 multi-header propagation (https://github.com/openzipkin/b3-propagation).

    Inject writes ``X-B3-TraceId`` (16 hex digits, 32 for a 128-bit id or, as upstream, for every
    id with ``generate_128bit_trace_id``), ``X-B3-SpanId``,
    ``X-B3-ParentSpanId`` if there is a parent, then ``X-B3-Flags: 1`` if debug, else
    ``X-B3-Sampled: 1`` or ``0``. Extract matches names case-insensitively, takes up to 32
    hex digits for the trace id and up to 16 for span ids (Node's jaeger-client writes them
    unpadded), ``X-B3-Sampled`` ``1``/``true``/``0``/
    ``false`` and ``X-B3-Flags: 1`` (debug, which implies sampled). A context without
    ``X-B3-Sampled`` is not sampled: a Jaeger context cannot say "not decided yet".

    Baggage travels as one ``uberctx-{key}`` header per item (url-encoded with
    ``url_encoding``), as the npm jaeger-client's ``ZipkinB3TextMapCodec`` writes and reads it,
    with :class:`TextCodec`'s bounds. Go's and Java's B3 codecs use ``baggage-{key}``: extract
    reads that prefix too. B3 itself defines no baggage.

    :param metrics: the tracer's ``TracerMetrics``; extracted baggage dropped by the bounds is
        counted with ``metrics.baggage_truncations(n)``
    """

    trace_header = B3_TRACE_ID
    _trace_header_lc = trace_header.lower()
    span_header = B3_SPAN_ID
    _span_header_lc = span_header.lower()
    parent_span_header = B3_PARENT_SPAN_ID
    _parent_span_header_lc = parent_span_header.lower()
    sampled_header = B3_SAMPLED
    _sampled_header_lc = sampled_header.lower()
    flags_header = B3_FLAGS
    _flags_header_lc = flags_header.lower()

    _NAMES = {
        _trace_header_lc: _B3_TRACE,
        _span_header_lc: _B3_SPAN,
        _parent_span_header_lc: _B3_PARENT,
        _sampled_header_lc: _B3_SAMPLED,
        _flags_header_lc: _B3_FLAGS,
    }

    def __init__(
        self,
        generate_128bit_trace_id: bool = False,
        *,
        url_encoding: bool = True,
        baggage_header_prefix: str = BAGGAGE_HEADER_PREFIX,
        metrics: Any = None,
    ) -> None:
        self.generate_128bit_trace_id = bool(generate_128bit_trace_id)
        self._baggage = TextCodec(
            url_encoding=url_encoding, baggage_header_prefix=baggage_header_prefix, metrics=metrics
        )
        self._prefixes = tuple({self._baggage.baggage_prefix, _B3_ALT_BAGGAGE_PREFIX})

    def inject(self, span_context: SpanContext, carrier: _Carrier) -> None:
        self._inject_ids(span_context, carrier)
        context = span_context if type(span_context) is SpanContext else _context_of(span_context)
        if context.baggage:
            headers: dict[str, str] = {}
            self._baggage._inject_baggage(context.baggage, headers)
            _update(carrier, headers)

    def _inject_ids(self, span_context: SpanContext, carrier: _Carrier) -> None:
        """The B3 headers alone (CompositeCodec leaves baggage to a TextCodec next to this)."""
        if not _is_mutable_mapping(carrier):
            raise InvalidCarrierException(f"carrier is not a dict: {type(carrier).__name__}")
        context = span_context if type(span_context) is SpanContext else _context_of(span_context)
        trace_id, span_id = _required_ids(context)
        parent_id = _optional_parent(context)
        trace_hex = f"{trace_id:032x}" if self.generate_128bit_trace_id else _b3_id(trace_id)
        headers = {self.trace_header: trace_hex, self.span_header: f"{span_id:016x}"}
        if parent_id:
            headers[self.parent_span_header] = f"{parent_id:016x}"
        flags = context.flags or 0
        if flags & DEBUG_FLAG:
            headers[self.flags_header] = B3_FLAGS_DEBUG
        else:
            # upstream wrote nothing when unsampled, so the next hop decided again (defect 15)
            headers[self.sampled_header] = (
                B3_SAMPLED_ACCEPT if flags & SAMPLED_FLAG else B3_SAMPLED_DENY
            )
        _update(carrier, headers)

    def extract(self, carrier: _Carrier) -> Optional[SpanContext]:
        return self._extract(carrier, with_baggage=True)

    def _extract_ids(self, carrier: _Carrier) -> Optional[SpanContext]:
        return self._extract(carrier, with_baggage=False)

    def _extract(self, carrier: _Carrier, with_baggage: bool) -> Optional[SpanContext]:
        pending: Optional[list[tuple[_KeyKind, Any]]] = [] if with_baggage else None
        found = _header_values(carrier, self._NAMES, self._prefixes, pending)
        if pending and self._baggage.url_encoding:  # names escaped by _header_safe
            pending = [
                (_header_unescaped(k) if isinstance(k, str) and "%" in k else k, v)
                for k, v in pending
            ]
        baggage = self._baggage._bounded_baggage(pending) if pending else None
        if _B3_TRACE not in found or _B3_SPAN not in found:
            # like TextCodec: baggage alone starts a new trace that carries it
            return SpanContext(None, None, None, None, baggage) if baggage else None
        trace_id = _parse_hex(self.trace_header, found[_B3_TRACE], _B3_TRACE_ID)
        span_id = _parse_hex(self.span_header, found[_B3_SPAN], _B3_SPAN_ID)
        if not trace_id or not span_id:
            raise SpanContextCorruptedException("B3: zero trace or span id")
        parent_id = None
        if _B3_PARENT in found:
            parent_id = _parse_hex(self.parent_span_header, found[_B3_PARENT], _B3_SPAN_ID)
        flags = 0
        sampled = _as_text(found.get(_B3_SAMPLED))
        if sampled is not None and sampled.lower() in _B3_TRUE:
            flags = SAMPLED_FLAG
        if _as_text(found.get(_B3_FLAGS)) == B3_FLAGS_DEBUG:
            flags = SAMPLED_FLAG | DEBUG_FLAG  # B3: debug implies an accept decision
        return SpanContext(trace_id, span_id, parent_id, flags, baggage)


def _update(carrier: Any, headers: dict[str, str]) -> None:
    if type(carrier) is dict:
        carrier.update(headers)
        return
    try:
        carrier.update(headers)
    except Exception as e:  # a foreign mapping's update may raise anything
        raise _bad_carrier(carrier, e) from e


class B3SingleCodec(Codec):
    """The single ``b3`` header: ``{trace}-{span}[-{sampled}[-{parent}]]``.

    ``sampled`` is ``1``, ``0`` or ``d`` (debug). A header without it is not sampled, as in
    :class:`B3Codec`; a header that is only a sampling state (``b3: 0``) carries no context.
    """

    header = B3_SINGLE_HEADER

    def __init__(self) -> None:
        self._names = {self.header.lower(): 0}

    def inject(self, span_context: SpanContext, carrier: _Carrier) -> None:
        if not _is_mutable_mapping(carrier):
            raise InvalidCarrierException(f"carrier is not a dict: {type(carrier).__name__}")
        context = span_context if type(span_context) is SpanContext else _context_of(span_context)
        flags = context.flags or 0
        if flags & DEBUG_FLAG:
            sampled = B3_SAMPLED_DEBUG
        else:
            sampled = B3_SAMPLED_ACCEPT if flags & SAMPLED_FLAG else B3_SAMPLED_DENY
        trace_id, span_id = _required_ids(context)
        parent_id = _optional_parent(context)
        value = f"{_b3_id(trace_id)}-{span_id:016x}-{sampled}"
        if parent_id:
            value += f"-{parent_id:016x}"
        _update(carrier, {self.header: value})

    def extract(self, carrier: _Carrier) -> Optional[SpanContext]:
        found = _header_values(carrier, self._names)
        if not found:
            return None
        text = _header_text(self.header, found[0])
        if text in (B3_SAMPLED_ACCEPT, B3_SAMPLED_DENY, B3_SAMPLED_DEBUG):
            return None  # a bare sampling decision, no ids to continue
        match = _B3_SINGLE.fullmatch(text)
        if match is None:
            raise SpanContextCorruptedException(f"malformed {self.header} header {_shown(text)}")
        trace_id = int(match[1], 16)
        span_id = int(match[2], 16)
        if not trace_id or not span_id:
            raise SpanContextCorruptedException("b3: zero trace or span id")
        sampled = match[3]
        if sampled == B3_SAMPLED_DEBUG:
            flags = SAMPLED_FLAG | DEBUG_FLAG
        else:
            flags = SAMPLED_FLAG if sampled == B3_SAMPLED_ACCEPT else 0
        parent_id = int(match[4], 16) if match[4] else None
        return SpanContext(trace_id, span_id, parent_id, flags)


class TraceContextCodec(Codec):
    """W3C Trace Context ``traceparent`` and ``tracestate`` (https://www.w3.org/TR/trace-context/).

    ``traceparent: 00-{32 hex trace id}-{16 hex parent id}-{2 hex flags}``, lower-case only;
    version ``ff`` and all-zero ids are rejected; a later version may append fields. The sampled
    flag maps to Jaeger's sampled bit; W3C has no debug bit.

    ``tracestate`` is read only with a valid ``traceparent``: list members that are not
    ``key=value`` as the spec defines them are dropped (the spec allows either that or dropping
    the header), as are duplicate keys and members past the 32nd; if the rest is longer than
    512 characters, members over 128 characters go first, then members from the end. What is
    left is kept on the context (:attr:`SpanContext.trace_state`), which children inherit, and
    written back by inject.
    """

    header = W3C_TRACEPARENT
    state_header = W3C_TRACESTATE

    def __init__(self) -> None:
        self._names = {self.header.lower(): 0, self.state_header.lower(): 1}

    def inject(self, span_context: SpanContext, carrier: _Carrier) -> None:
        if not _is_mutable_mapping(carrier):
            raise InvalidCarrierException(f"carrier is not a dict: {type(carrier).__name__}")
        context = span_context if type(span_context) is SpanContext else _context_of(span_context)
        trace_id, span_id = _required_ids(context)
        sampled = 0x01 if (context.flags or 0) & SAMPLED_FLAG else 0
        value = f"{W3C_TRACEPARENT_VERSION}-{trace_id:032x}-{span_id:016x}-{sampled:02x}"
        headers = {self.header: value}
        trace_state = getattr(context, "_trace_state", None)
        if type(trace_state) is str and trace_state:
            headers[self.state_header] = trace_state
        _update(carrier, headers)

    def extract(self, carrier: _Carrier) -> Optional[SpanContext]:
        found = _header_values(carrier, self._names)
        if 0 not in found:
            return None
        text = _header_text(self.header, found[0])
        match = _TRACEPARENT.fullmatch(text)
        if (
            match is None
            or match[1] == W3C_TRACEPARENT_INVALID_VERSION
            or (match[1] == W3C_TRACEPARENT_VERSION and match[5] is not None)
        ):
            raise SpanContextCorruptedException(f"malformed {self.header} {_shown(text)}")
        trace_id = int(match[2], 16)
        span_id = int(match[3], 16)
        if not trace_id or not span_id:
            raise SpanContextCorruptedException(f"{self.header}: zero trace or parent id")
        flags = SAMPLED_FLAG if int(match[4], 16) & 0x01 else 0
        context = SpanContext(trace_id, span_id, None, flags)
        if 1 in found:
            trace_state = _parse_trace_state(found[1])
            if trace_state:
                context._trace_state = trace_state
        return context


def _parse_trace_state(value: Any) -> Optional[str]:
    """A ``tracestate`` header (or several, as a list) as the validated string to propagate."""
    text: Optional[str]
    if isinstance(value, (list, tuple)):  # several header fields combine with ',' (RFC 7230)
        texts = [_as_text(v) for v in value[:_TRACESTATE_MAX_MEMBERS]]
        text = ",".join(t for t in texts if t is not None)
    else:
        text = _as_text(value)
        if text is None:
            return None
    # reading past 2x the member limit cannot add a member: bound the Python loop
    parts = text.split(",", 2 * _TRACESTATE_MAX_MEMBERS)
    members: list[str] = []
    keys: set[str] = set()
    for part in parts[: 2 * _TRACESTATE_MAX_MEMBERS]:
        member = part.strip(" \t")
        if not member or _TRACESTATE_MEMBER.fullmatch(member) is None:
            continue  # empty members are allowed; invalid ones are dropped
        key = member[: member.index("=")]
        if key in keys:
            continue
        keys.add(key)
        members.append(member)
        if len(members) == _TRACESTATE_MAX_MEMBERS:
            break
    size = sum(map(len, members)) + len(members) - 1
    if size > _TRACESTATE_MAX_LENGTH:
        kept = []
        for member in members:  # the spec: drop members over 128 characters first
            if len(member) > _TRACESTATE_LONG_MEMBER:
                size -= len(member) + 1
            else:
                kept.append(member)
        members = kept
        while members and size > _TRACESTATE_MAX_LENGTH:  # then from the end
            size -= len(members.pop()) + 1
    return ",".join(members) or None


class W3CBaggageCodec(Codec):
    """W3C Baggage: the ``baggage`` header (https://www.w3.org/TR/baggage/), baggage only.

    ``baggage: key1=value1,key2=value2;property`` carries no trace: next to a trace format in
    ``propagation`` (``[jaeger, w3c, baggage]`` is what OpenTelemetry's default
    ``tracecontext,baggage`` reads and writes), its items are merged into that format's context;
    alone, extract returns a context with only baggage, which starts a new trace that keeps it.

    Keys are tokens, as the spec says, and are neither encoded nor decoded; inject %-escapes a
    key that is not a token (as ``uberctx-*`` header names are in HTTP_HEADERS). Values are
    percent-encoded UTF-8; inject also escapes ``%``, ``+`` and ``=``, so that both spec readers
    and OpenTelemetry Python (which reads ``+`` as a space) get the text back, and extract reads
    ``+`` as a space, as OpenTelemetry Python writes it. Properties after ``;`` are dropped.

    W3C's limits hold both ways, on the wire: at most 180 members, 4,096 bytes each and 8,192 in
    all (extract reads whole members of the header's first 8,192 characters: a valid member is
    ASCII, so characters are bytes). Members past them, members that are not ``token=value``, and
    values that are not text are dropped and counted with ``metrics.baggage_truncations(n)``;
    whatever lies past the first 8,192 characters counts as one.
    Several ``baggage`` headers (a list) are read as one.
    """

    header = W3C_BAGGAGE

    def __init__(self, *, metrics: Any = None) -> None:
        self._names = {self.header: 0}
        self._count_truncations = _check_counter(metrics)

    def inject(self, span_context: SpanContext, carrier: _Carrier) -> None:
        if not _is_mutable_mapping(carrier):
            raise InvalidCarrierException(f"carrier is not a dict: {type(carrier).__name__}")
        context = span_context if type(span_context) is SpanContext else _context_of(span_context)
        baggage = context._baggage
        if not baggage:
            return
        members: list[str] = []
        size = -1  # no comma before the first member
        dropped = 0
        for seen, (key, value) in enumerate(baggage.items()):
            if len(members) == MAX_BAGGAGE_ITEMS:
                dropped += len(baggage) - seen
                break
            key_text = _baggage_text(key)
            value_text = _baggage_text(value)
            if not key_text or value_text is None:
                dropped += 1
                continue
            member = f"{_token(key_text)}={_w3c_quote(value_text)}"
            if len(member) > MAX_BAGGAGE_ITEM_BYTES or size + 1 + len(member) > (
                MAX_BAGGAGE_HEADER_BYTES
            ):
                dropped += 1
                continue
            members.append(member)
            size += 1 + len(member)
        if dropped and self._count_truncations is not None:
            self._count_truncations(dropped)
        if members:
            _update(carrier, {self.header: ",".join(members)})

    def extract(self, carrier: _Carrier) -> Optional[SpanContext]:
        found = _header_values(carrier, self._names)
        if not found:
            return None
        text, dropped = _w3c_window(found[0])
        baggage: dict[str, str] = {}
        kept = 0
        for part in text.split(","):  # at most 4,097 parts: the window is 8,192 bytes
            member = part.strip(" \t")
            if not member:
                continue  # empty members are allowed, and lose nothing
            if kept == MAX_BAGGAGE_ITEMS or len(member) > MAX_BAGGAGE_ITEM_BYTES:
                dropped += 1
                continue
            key, eq, value = member.partition(";")[0].partition("=")  # properties are not kept
            key = key.rstrip(" \t")
            value = value.strip(" \t")
            if not eq or _TOKEN.fullmatch(key) is None or _W3C_VALUE.fullmatch(value) is None:
                dropped += 1
                continue
            if "%" in value or "+" in value:
                value = _unquote_plus(value)[0] or ""
            baggage[key] = value
            kept += 1
        if dropped and self._count_truncations is not None:
            self._count_truncations(dropped)
        if not baggage:
            return None
        return SpanContext(None, None, None, None, baggage)


def _w3c_window(value: Any) -> tuple[str, int]:
    """A ``baggage`` header value (a list of them joined with ','), cut to whole members within
    the first ``MAX_BAGGAGE_HEADER_BYTES``; and how many were left out: each list item that is
    not text, and one for everything past the window."""
    window = MAX_BAGGAGE_HEADER_BYTES + 1  # cut at a comma, what is left is at most 8,192
    dropped = 0
    if isinstance(value, (list, tuple)):  # several header fields combine with ','
        texts: list[str] = []
        size = -1
        for item in value:
            if size > window:
                break  # past the window: counted below
            item_text = _as_text(item)
            if item_text is None:
                dropped += 1
                continue
            item_text = item_text[: window + 1 - size]  # no copy of a huge field
            texts.append(item_text)
            size += 1 + len(item_text)
        text = ",".join(texts)
    else:
        text = _as_text(value)  # type: ignore[assignment]
        if text is None:
            return "", 1
    if len(text) > window:
        cut = text.rfind(",", 0, window)
        text = text[:cut] if cut >= 0 else ""
        dropped += 1
    return text, dropped


def _token(key: str) -> str:
    """``key`` as a W3C baggage key: a token as it is, else %-escaped."""
    if _TOKEN.fullmatch(key) is not None:
        return key
    return quote(key, safe=_TOKEN_SAFE, errors="replace")


def _header_safe(key: str) -> str:
    """``key`` in an HTTP header name: what cannot be there (controls, space, ':', non-ASCII)
    %-escaped as UTF-8, everything else as it is (jaeger-client 4.8 wrote every key as it was)."""
    if _HEADER_UNSAFE.search(key) is None:
        return key
    return _HEADER_UNSAFE.sub(lambda m: quote(m.group(), safe="", errors="replace"), key)


def _header_unescaped(key: str) -> str:
    """Reverse ``_header_safe`` in a ``uberctx-*`` name: a run of ``%XX`` escapes is decoded when
    what it decodes to is something ``_header_safe`` escapes; other ``%`` are left alone."""

    def decode(match: re.Match[str]) -> str:
        text = unquote(match.group(), errors="strict") if match.group().isascii() else ""
        return text if text and _HEADER_UNSAFE.search(text) else match.group()

    try:
        return _ESCAPED_RUN.sub(decode, key)
    except UnicodeDecodeError:  # not our escapes (not UTF-8): the name as it came
        return key


def _w3c_quote(text: str) -> str:
    if text.isascii() and text.isalnum():
        return text
    return quote(text, safe=_W3C_VALUE_SAFE, errors="replace")


class CompositeCodec(Codec):
    """Several formats on one carrier: inject writes every one, extract returns the first
    context found, in the order given (``propagation: [jaeger, b3, w3c]``).

    A context with a trace wins over one with only baggage or a debug id (which is returned if
    no format finds a trace). A format whose header is malformed does not hide a later one that
    parses; if none finds a trace, the first error is raised (baggage alone does not hide it;
    a ``jaeger-debug-id`` does, as it asks for a new debug trace).
    Baggage found by the others is merged into the winner's (see ``_merge_baggage``).
    """

    def __init__(self, codecs: Sequence[Codec]) -> None:
        if isinstance(codecs, (str, bytes)) or not isinstance(codecs, Sequence) or not codecs:
            raise ValueError(f"CompositeCodec needs a non-empty list of codecs, got {codecs!r}")
        for codec in codecs:
            if not (
                callable(getattr(codec, "inject", None))
                and callable(getattr(codec, "extract", None))
            ):
                raise TypeError(f"CompositeCodec: {codec!r} has no inject/extract methods")
        self.codecs: tuple[Codec, ...] = tuple(codecs)
        # the tracer's baggage_truncations counter, if a part has one: counts merge overflow
        self._count_truncations: Optional[_Counter] = next(
            (
                counter
                for counter in (getattr(c, "_count_truncations", None) for c in self.codecs)
                if counter is not None
            ),
            None,
        )
        # B3 and Jaeger both carry baggage as uberctx-*: with a TextCodec of the same prefix
        # present, a B3Codec writes and reads ids only, so the two never disagree (one url-
        # encodes and the other not, on TEXT_MAP) and nothing is written twice
        text_prefixes = {c.baggage_prefix for c in self.codecs if isinstance(c, TextCodec)}
        self._injects: tuple[Callable[[SpanContext, _Carrier], None], ...] = tuple(
            c._inject_ids
            if isinstance(c, B3Codec) and c._baggage.baggage_prefix in text_prefixes
            else c.inject
            for c in self.codecs
        )
        self._extracts: tuple[Callable[[_Carrier], Optional[SpanContext]], ...] = tuple(
            c._extract_ids
            if isinstance(c, B3Codec) and c._baggage.baggage_prefix in text_prefixes
            else c.extract
            for c in self.codecs
        )

    def inject(self, span_context: SpanContext, carrier: _Carrier) -> None:
        for inject in self._injects:
            inject(span_context, carrier)

    def extract(self, carrier: _Carrier) -> Optional[SpanContext]:
        error: Optional[Exception] = None
        found: list[SpanContext] = []
        for extract in self._extracts:
            try:
                context = extract(carrier)
            except (InvalidCarrierException, SpanContextCorruptedException) as e:
                if error is None:
                    error = e
                continue
            if context is not None:
                found.append(context)
        if not found:
            if error is not None:
                raise error
            return None
        winner = next((c for c in found if c.has_trace), found[0])
        if error is not None and not winner.has_trace and winner.debug_id is None:
            raise error  # a corrupted trace header is not hidden by baggage another format found
        extra = [c for c in found if c is not winner and c.baggage]
        if not extra:
            return winner
        merged = SpanContext(
            trace_id=winner.trace_id,
            span_id=winner.span_id,
            parent_id=winner.parent_id,
            flags=winner.flags,
            baggage=self._merge_baggage([winner, *extra]),
            debug_id=winner.debug_id,
        )
        trace_state = getattr(winner, "_trace_state", None)
        if trace_state is not None:
            merged._trace_state = trace_state
        return merged

    def _merge_baggage(self, contexts: list[SpanContext]) -> dict[str, str]:
        """Formats without baggage of their own (B3, W3C) travel with uberctx-* headers, and W3C
        baggage beside them: merge all, in priority order (the context with the trace, then the
        others as listed), within the bounds; what does not fit is counted.

        ``uberctx-*`` keys arrive lower-cased (they are header names), W3C keys as written: keys
        are matched without case, and a mixed-case spelling is kept over an all-lower one.
        """
        items: list[list[str]] = []  # [key, value] in priority order
        index: dict[str, int] = {}  # lower-cased key -> its place, for the contexts before
        for context in contexts:
            added: dict[str, int] = {}
            for key, value in context.baggage.items():
                folded = key.lower()
                place = index.get(folded)  # keys differing in case in one context stay apart
                if place is None:
                    added.setdefault(folded, len(items))
                    items.append([key, value])
                elif items[place][0] == folded != key:  # an uberctx-* key: take this spelling
                    items[place][0] = key
            for folded, place in added.items():
                index.setdefault(folded, place)
        baggage, dropped = _bound_baggage([(key, value) for key, value in items], 0)
        if dropped and self._count_truncations is not None:
            self._count_truncations(dropped)
        return baggage
