"""Tag and log value conversion, done once on the application thread at ``set_tag``/``log_kv``.

A converted tag is a plain ``(key, vtype, value)`` tuple whose value already fits its Thrift type
(``jaeger.thrift`` ``TagType``), so encoding on the reporter thread can never fail on a value:
ints outside i64 become decimal strings, lone surrogates are replaced, anything that is not a
primitive is rendered with a bounded ``reprlib`` representation, and every string or byte value is
cut to ``max_length``. Nothing here raises, whatever ``__str__``/``__repr__`` does.
"""

from __future__ import annotations

import reprlib
import traceback
import types
from typing import Any

__all__ = ["BINARY", "BOOL", "DOUBLE", "LONG", "STRING", "TagTuple", "make_tag", "safe_str"]

STRING = 0
DOUBLE = 1
BOOL = 2
LONG = 3
BINARY = 4

TagTuple = tuple[str, int, Any]

_I64_MIN = -(1 << 63)
_I64_MAX = (1 << 63) - 1
# int -> decimal str is refused past sys.get_int_max_str_digits() (4300 by default on 3.11+).
_MAX_DECIMAL_BITS = 4000 * 3

_repr = reprlib.Repr()
_repr.maxlevel = 3
_repr.maxlist = _repr.maxtuple = _repr.maxset = _repr.maxfrozenset = _repr.maxdeque = 16
_repr.maxdict = 16
_repr.maxarray = 16
_repr.maxlong = 64
_repr.maxstring = 256
_repr.maxother = 256
_CONTAINERS = (list, tuple, dict, set, frozenset)


def clean_str(value: str) -> str:
    """Replace lone surrogates (unencodable in UTF-8) with ``?``; other strings are returned as is."""
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return value.encode("utf-8", "replace").decode("utf-8")
    return value


def safe_str(value: Any, max_length: int) -> str:
    """``str(value)`` that never raises, never renders a huge container whole, and is bounded."""
    try:
        if isinstance(value, _CONTAINERS):
            text = _repr.repr(value)
        elif isinstance(value, int) and not isinstance(value, bool):
            text = _int_str(int(value))
        else:
            text = str(value)
            if type(text) is not str:  # a str subclass from a custom __str__
                text = str.__str__(text)
    except Exception:  # any user __str__/__repr__ may raise anything; tagging must not
        try:
            text = f"<unprintable {type(value).__name__} object>"
        except Exception:  # a type whose __name__ access raises; give up on the name
            text = "<unprintable object>"
    if not text.isascii():
        text = clean_str(text)
    if len(text) > max_length:
        text = text[:max_length]
    return text


def _int_str(value: int) -> str:
    if value.bit_length() > _MAX_DECIMAL_BITS:
        return f"0x{value:x}" if value >= 0 else f"-0x{-value:x}"
    return str(value)


def _traceback_str(tb: types.TracebackType, max_traceback_length: int) -> str:
    try:
        text = "".join(traceback.format_tb(tb))
    except Exception:  # a frame whose source or repr raises; the tag is best effort
        text = "<unformattable traceback>"
    if len(text) > max_traceback_length:
        text = text[-max_traceback_length:]
    return text


def make_tag(key: Any, value: Any, max_length: int, max_traceback_length: int) -> TagTuple:
    """Convert one key/value pair to a ``(key, vtype, value)`` tuple that always encodes."""
    if type(key) is not str:
        key = safe_str(key, max_length)
    elif not key.isascii():
        key = clean_str(key)
    t = type(value)
    if t is str:
        if not value.isascii():
            value = clean_str(value)
        return (key, STRING, value if len(value) <= max_length else value[:max_length])
    if t is bool:
        return (key, BOOL, value)
    if t is int:
        if _I64_MIN <= value <= _I64_MAX:
            return (key, LONG, value)
        return (key, STRING, safe_str(value, max_length))
    if t is float:
        return (key, DOUBLE, value)
    return _convert_other(key, value, max_length, max_traceback_length)


def _convert_other(key: str, value: Any, max_length: int, max_traceback_length: int) -> TagTuple:
    if isinstance(value, (bytes, bytearray, memoryview)):
        try:
            data = bytes(value[:max_length])
        except Exception:  # a memoryview of an odd format cannot be sliced to bytes
            return (key, STRING, safe_str(value, max_length))
        return (key, BINARY, data)
    if isinstance(value, bool):
        return (key, BOOL, bool(value))
    if isinstance(value, int):
        return make_tag(key, int(value), max_length, max_traceback_length)
    if isinstance(value, float):
        return (key, DOUBLE, float(value))
    if isinstance(value, str):
        return make_tag(key, str.__str__(value), max_length, max_traceback_length)
    if isinstance(value, types.TracebackType):
        return (key, STRING, _traceback_str(value, max_traceback_length))
    return (key, STRING, safe_str(value, max_length))

