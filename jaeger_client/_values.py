"""Tag and log value conversion, done once on the application thread at ``set_tag``/``log_kv``.

A converted tag is a plain ``(key, vtype, value)`` tuple whose value already fits its Thrift type
(``jaeger.thrift`` ``TagType``), so encoding on the reporter thread can never fail on a value:
ints outside i64 become decimal strings, lone surrogates are replaced, anything that is not a
primitive is rendered with a bounded, ``reprlib``-style representation, and every string or byte
value is cut to ``max_length``. Nothing here raises, whatever ``__str__`` or ``__repr__`` does.
"""

from __future__ import annotations

import collections
import traceback
import types
from collections.abc import ItemsView, Iterable, KeysView, ValuesView
from typing import Any, Callable, Optional

__all__ = [
    "BINARY",
    "BOOL",
    "DOUBLE",
    "LONG",
    "STRING",
    "TagTuple",
    "clean_str",
    "make_fields",
    "make_key",
    "make_tag",
    "safe_str",
]

# jaeger.thrift TagType
STRING = 0
DOUBLE = 1
BOOL = 2
LONG = 3
BINARY = 4

TagTuple = tuple[str, int, Any]

# Shared tag tuples: most tags repeat across spans (http.method GET, component, status 200),
# and a tuple made once and kept is one allocation less per tag, and one object less for the
# garbage collector to count and traverse while the span waits in the reporter's queue (in a
# burst that is most of the application thread's extra cost). Plain dicts, so that a hit is two
# specialised subscripts, ``table[key][value]``, and a miss (a KeyError) goes to ``share_tag``.
# Bounded: at most _SHARED_TAG_KEYS keys per table (cleared when full) and _SHARED_TAG_VALUES
# values per key, each at most _SHARED_TAG_VALUE_LEN long. A key with more values, or a longer
# one, maps to UNSHARED from then on, and its callers make each tuple themselves (no miss, no
# exception: ids and URLs cost what they cost before). At the very most about 1 MB for both
# tables; a few KB for the usual handful of repeated tags.
_SHARED_TAG_KEYS = 256
_SHARED_TAG_VALUES = 16
_SHARED_TAG_VALUE_LEN = 64
SharedTags = dict[str, dict[Any, TagTuple]]
UNSHARED: dict[Any, TagTuple] = {}  # a table's value for a key not shared; compared by identity


def share_tag(table: SharedTags, key: str, vtype: int, value: Any) -> TagTuple:
    """``(key, vtype, value)``, remembered in ``table`` if the bounds allow (see above)."""
    tag = (key, vtype, value)
    values = table.get(key)
    if values is None:
        if len(table) >= _SHARED_TAG_KEYS:
            table.clear()  # bounded without LRU bookkeeping; refills with what is common
        values = table[key] = {}
    elif values is UNSHARED:
        return tag
    if len(values) >= _SHARED_TAG_VALUES or (
        vtype == STRING and len(value) > _SHARED_TAG_VALUE_LEN
    ):
        table[key] = UNSHARED
    else:
        values[value] = tag
    return tag


# Callers check the value's exact type (a bool is not an int here: True == 1 as a dict key),
# that a str is ASCII, and the tracer's length limit, before they look a tag up:
#     values = table[key]; tag = values[value] if values is not UNSHARED else (key, t, value)
# with a KeyError from either subscript sent to share_tag.
SHARED_STR_TAGS: SharedTags = {}
SHARED_INT_TAGS: SharedTags = {}

_I64_MIN = -(1 << 63)
_I64_MAX = (1 << 63) - 1
# int -> decimal str is refused past sys.get_int_max_str_digits() (4300 by default on 3.11+);
# 12,000 bits is about 3,600 digits, safely below it. Bigger ints are rendered in hex.
_MAX_DECIMAL_BITS = 12000


def _int_str(value: int) -> str:
    if value.bit_length() > _MAX_DECIMAL_BITS:
        return f"0x{value:x}" if value >= 0 else f"-0x{-value:x}"
    return str(value)


# Limits of the bounded rendering (``reprlib``'s idea, with limits that suit a 1 KB tag value).
_MAX_LEVEL = 3
_MAX_ITEMS = 16
_MAX_STRING = 256
_MAX_OTHER = 256
_MAX_LONG = 64
_FILL = "..."
_VIEWS = (KeysView, ValuesView, ItemsView)
_OBJECT_STR: Any = object.__str__


def _shorten(text: str, limit: int) -> str:
    if len(text) <= limit:
        return text
    head = max(0, (limit - len(_FILL)) // 2)
    tail = max(0, limit - len(_FILL) - head)
    return text[:head] + _FILL + text[len(text) - tail :]


def _render(x: Any, level: int) -> str:
    """A bounded ``repr``: at most ``_MAX_ITEMS`` items per level, at most ``_MAX_LEVEL`` deep.

    Unlike ``reprlib.Repr`` it never sorts a whole dict or set first, bounds container subclasses
    (``OrderedDict``, ``defaultdict``, a user's ``list`` subclass) and dict views too, and renders
    ints past the decimal-digit limit in hex instead of failing.
    """
    t = type(x)
    renderer = _RENDERERS.get(t) or _subclass_renderer(t)
    if renderer is not None:
        return renderer(x, level)
    if isinstance(x, _VIEWS):
        return f"{t.__name__}({_render_items(x, level, '[', ']')})"
    return _render_other(x)


def _render_items(x: Iterable[Any], level: int, left: str, right: str, trail: str = "") -> str:
    pieces: list[str] = []
    for i, item in enumerate(x):
        if level <= 0 or i == _MAX_ITEMS:
            pieces.append(_FILL)
            break
        pieces.append(_render(item, level - 1))
    if len(pieces) == 1 and trail and pieces[0] != _FILL:
        right = trail + right
    return left + ", ".join(pieces) + right


def _render_dict(x: Any, level: int) -> str:
    # insertion order, as str(dict) shows it; never sorted, never walked past _MAX_ITEMS
    pieces: list[str] = []
    for i, (k, v) in enumerate(x.items()):
        if level <= 0 or i == _MAX_ITEMS:
            pieces.append(_FILL)
            break
        pieces.append(f"{_render(k, level - 1)}: {_render(v, level - 1)}")
    return "{" + ", ".join(pieces) + "}"


def _render_list(x: Any, level: int) -> str:
    return _render_items(x, level, "[", "]")


def _render_tuple(x: Any, level: int) -> str:
    return _render_items(x, level, "(", ")", ",")


def _render_set(x: Any, level: int) -> str:
    return _render_items(x, level, "{", "}") if x else "set()"


def _render_frozenset(x: Any, level: int) -> str:
    return _render_items(x, level, "frozenset({", "})") if x else "frozenset()"


def _render_deque(x: Any, level: int) -> str:
    return _render_items(x, level, "deque([", "])")


def _render_str(x: Any, level: int) -> str:
    return _shorten(repr(str.__str__(x[: _MAX_STRING + 1])), _MAX_STRING)


def _render_bytes(x: Any, level: int) -> str:
    return _shorten(repr(bytes(x[: _MAX_STRING + 1])), _MAX_STRING)


def _render_int(x: Any, level: int) -> str:
    return _shorten(_int_str(int(x)), _MAX_LONG)


def _render_other(x: Any, level: int = 0) -> str:
    try:
        text = repr(x)
        if type(text) is not str:
            text = str.__str__(text)
    except Exception:  # any user __repr__ may raise anything
        return f"<{_type_name(x)} object>"
    return _shorten(text, _MAX_OTHER)


_Renderer = Callable[[Any, int], str]
_RENDERERS: dict[type, _Renderer] = {
    str: _render_str,
    bytes: _render_bytes,
    int: _render_int,
    bool: _render_other,
    float: _render_other,
    type(None): _render_other,
    list: _render_list,
    tuple: _render_tuple,
    dict: _render_dict,
    set: _render_set,
    frozenset: _render_frozenset,
    collections.deque: _render_deque,
}
_CONTAINER_BASES = (list, tuple, dict, set, frozenset, collections.deque)


def _subclass_renderer(t: type) -> Optional[_Renderer]:
    """The bounded renderer of a container subclass that does not define its own ``__repr__``."""
    for base in _CONTAINER_BASES:
        if issubclass(t, base):
            if t.__repr__ is base.__repr__ or t.__module__ == "collections":
                return _RENDERERS[base]
            return None
    return None


def _type_name(value: Any) -> str:
    try:
        return str(type(value).__name__)
    except Exception:  # a metaclass whose __name__ raises
        return "object"


def clean_str(value: str) -> str:
    """Replace lone surrogates (unencodable in UTF-8) with ``?``; other strings are kept as is."""
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return value.encode("utf-8", "replace").decode("utf-8")
    return value


def safe_str(value: Any, max_length: int) -> str:
    """``str(value)`` that never raises, never renders a huge container whole, and is bounded."""
    try:
        if type(value) is str:
            text = value
        elif isinstance(value, int) and not isinstance(value, bool):
            text = _int_str(int(value))
        elif _is_bounded_container(value):
            text = _render(value, _MAX_LEVEL)
        else:
            text = str(value)
            if type(text) is not str:  # a str subclass from a custom __str__
                text = str.__str__(text)
    except Exception:  # any user __str__/__repr__ may raise anything; tagging must not
        text = f"<unprintable {_type_name(value)} object>"
    if not text.isascii():
        text = clean_str(text)
    if len(text) > max_length:
        text = text[:max_length]
    return text


def _is_bounded_container(value: Any) -> bool:
    t = type(value)
    if t in _CONTAINER_BASES or isinstance(value, _VIEWS):
        return True
    if not isinstance(value, _CONTAINER_BASES):
        return False
    # a subclass that renders itself (its own __str__ or __repr__) keeps its rendering
    return t.__str__ is _OBJECT_STR and _subclass_renderer(t) is not None


def _traceback_str(tb: types.TracebackType, max_traceback_length: int) -> str:
    try:
        text = "".join(traceback.format_tb(tb))
    except Exception:  # a frame whose source or repr raises; the tag is best effort
        text = "<unformattable traceback>"
    if not text.isascii():
        text = clean_str(text)
    if len(text) > max_traceback_length:
        # keep the innermost frames: they say where the error happened
        text = text[-max_traceback_length:]
    return text


def make_key(key: Any, max_length: int) -> str:
    """A tag or log-field key as a bounded, UTF-8-encodable ``str``."""
    if type(key) is not str:
        return safe_str(key, max_length)
    text: str = key if key.isascii() else clean_str(key)
    return text if len(text) <= max_length else text[:max_length]


def make_tag(key: Any, value: Any, max_length: int, max_traceback_length: int) -> TagTuple:
    """Convert one key/value pair to a ``(key, vtype, value)`` tuple that always encodes."""
    if type(key) is not str or not key.isascii() or len(key) > max_length:
        key = make_key(key, max_length)
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
    try:
        if isinstance(value, (bytes, bytearray, memoryview)):
            try:
                data = bytes(value[:max_length])
            except Exception:  # a memoryview of an odd format cannot be sliced to bytes
                return (key, STRING, safe_str(value, max_length))
            return (key, BINARY, data)
        if isinstance(value, bool):
            return (key, BOOL, bool(value))
        if isinstance(value, int):  # IntEnum, IntFlag, other int subclasses
            return make_tag(key, int(value), max_length, max_traceback_length)
        if isinstance(value, float):
            return (key, DOUBLE, float(value))
        if isinstance(value, str):
            return make_tag(key, str.__str__(value), max_length, max_traceback_length)
        if isinstance(value, types.TracebackType):
            return (key, STRING, _traceback_str(value, max_traceback_length))
    except Exception:  # a subclass whose __int__/__float__/slicing raises
        pass
    return (key, STRING, safe_str(value, max_length))


def make_fields(
    key_values: Iterable[tuple[Any, Any]],
    max_length: int,
    max_traceback_length: int,
) -> list[TagTuple]:
    """Convert ``(key, value)`` pairs (a log record's fields); primitives take the fast path."""
    fields: list[TagTuple] = []
    append = fields.append
    for key, value in key_values:
        if type(key) is str and key.isascii() and len(key) <= max_length:
            t = type(value)
            if t is str and value.isascii() and len(value) <= max_length:
                append((key, STRING, value))
                continue
            if t is int and _I64_MIN <= value <= _I64_MAX:
                append((key, LONG, value))
                continue
            if t is float:
                append((key, DOUBLE, value))
                continue
            if t is bool:
                append((key, BOOL, value))
                continue
        append(make_tag(key, value, max_length, max_traceback_length))
    return fields
