"""Span: mutable under its own lock until ``finish()``; knows nothing of Thrift or sockets."""

from __future__ import annotations

import itertools
import logging
import threading
import time
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Optional

import opentracing
from opentracing.ext import tags as ext_tags

from . import _compat_names, _values
from .constants import DEBUG_FLAG, LOGGER_NAME, SAMPLED_FLAG
from .span_context import SpanContext
from .utils import RateLimitedLogger

if TYPE_CHECKING:
    from .thrift_gen.jaeger import ttypes
    from .tracer import Tracer

__all__ = ["LogRecord", "Span"]

logger = logging.getLogger(LOGGER_NAME)
_warn = RateLimitedLogger(logger, 60.0)

_SAMPLING_PRIORITY = ext_tags.SAMPLING_PRIORITY
_SPAN_KIND = ext_tags.SPAN_KIND
_RPC_KINDS = (ext_tags.SPAN_KIND_RPC_CLIENT, ext_tags.SPAN_KIND_RPC_SERVER)
_STRING = _values.STRING
_SHARED_STR_TAGS = _values.SHARED_STR_TAGS
_SHARED_INT_TAGS = _values.SHARED_INT_TAGS
_share_tag = _values.share_tag
_UNSHARED = _values.UNSHARED
_BOOL = _values.BOOL
_LONG = _values.LONG
_DOUBLE = _values.DOUBLE
_I64_MIN = -(1 << 63)
_I64_MAX = (1 << 63) - 1
_make_tag = _values.make_tag
_make_fields = _values.make_fields
_make_key = _values.make_key

#: A stored log: ``(timestamp in seconds, [converted fields])``.
LogRecord = tuple[float, list[_values.TagTuple]]

# Guards the lazy creation of span locks (``Span._make_lock``); held for a few bytecodes.
_LOCK_INIT = threading.Lock()
# Tags and logs of a span started unsampled, until it becomes sampled: one shared empty tuple,
# so such a span allocates no lists. Appending to it raises AttributeError, which the appending
# paths catch (under the span lock) to install a list.
_NO_TAGS: list[_values.TagTuple] = ()  # type: ignore[assignment]  # see above: never appended to
_NO_LOGS: list[LogRecord] = ()  # type: ignore[assignment]  # see above: never appended to


def _timestamp(value: Any) -> float:
    """A caller-supplied start/finish/log time as finite positive float seconds; else now.

    Upstream treated any falsy value as "now"; a non-number (or NaN, inf) would make the span fail
    to encode on the reporter thread, so it becomes "now" as well.
    """
    try:
        seconds = float(value)
    except Exception:  # a str, a datetime, an object whose __float__ raises
        return time.time()
    if 0 < seconds < _MAX_TIMESTAMP_SECONDS:  # NaN and inf fail this too
        return seconds
    return time.time()


# Span times travel as i64 microseconds: later ones would overflow and the span never encode.
_MAX_TIMESTAMP_SECONDS = (2**63 - 1) / 1e6 / 2


def _operation_name(name: Any) -> str:
    if type(name) is str:
        return name if name.isascii() else _values.clean_str(name)
    if name is None:  # upstream stored ``operation_name or ''``
        return ""
    return _values.safe_str(name, 65536)


class Span(opentracing.Span):
    """A Jaeger span.

    Thread model: any thread may call the mutators; each takes ``update_lock`` and does no I/O
    under it. ``finish()`` flips ``finished`` under the lock, then hands the span to the reporter;
    every mutator checks ``finished`` under the same lock, so from then on the span's tags and logs
    never change and the reporter thread reads them without locking. Mutations after ``finish()``
    are ignored and counted in ``tracer.dropped``, as are tags and logs over the tracer's caps.

    A span the tracer starts unsampled stores nothing, so it has no lock until something needs
    one (``_make_lock``): its ``finish()`` claims the span by popping the one item of ``_open``
    (``list.pop`` is atomic, with or without the GIL). A lock made before that claim is that item,
    and the finisher acquires and releases it after setting ``finished``: every mutation begun
    under the lock before then is complete, and every later one sees ``finished``. A lock made
    after the claim finds ``_open`` empty and sets ``finished`` itself.

    A root span started unsampled has no :class:`SpanContext` either until something asks for
    one (``context``, a child, baggage, ``sampling.priority``): ``_context`` is None and
    ``_trace_id`` holds its trace id (``_make_context``). Its flags are 0 until then.

    Tags and logs are stored already converted (``_values.make_tag``): tags and logs of an
    unsampled span are not stored at all. ``tags`` and ``logs`` present them as Thrift
    ``Tag``/``Log`` objects, as upstream stored them.
    """

    __slots__ = (
        "_context",
        "_lock",
        "_logs",
        "_open",
        "_tags",
        "_trace_id",
        "_tracer",
        "end_time",
        "finished",
        "operation_name",
        "references",
        "start_time",
    )

    # None until a mutation needs it, for a span the tracer started unsampled (see the class doc);
    # typed without Optional because the hot paths call it and catch AttributeError instead
    _lock: threading.Lock
    # [None] or [lock] until finish() claims the span: only for a span started unsampled
    _open: Optional[list[Optional[threading.Lock]]]
    # None, for a root span started unsampled, until _make_context (see the class doc); typed
    # without Optional because only a few paths can meet such a span, and they check
    _context: SpanContext
    _trace_id: int  # set only while _context is None

    def __init__(
        self,
        context: SpanContext,
        tracer: Tracer,
        operation_name: str,
        tags: Optional[Mapping[str, Any]] = None,
        start_time: Optional[float] = None,
        references: Optional[list[opentracing.Reference]] = None,
    ) -> None:
        self._tracer = tracer
        self._context = context
        if type(operation_name) is not str or not operation_name.isascii():
            operation_name = _operation_name(operation_name)
        self.operation_name = operation_name
        self.start_time = time.time() if start_time is None else _timestamp(start_time)
        self.end_time: Optional[float] = None
        self.finished = False
        self._lock = threading.Lock()
        self._open = None
        self.references = references
        self._tags: list[_values.TagTuple] = []
        self._logs: list[LogRecord] = []
        if tags:
            for key, value in tags.items():
                self.set_tag(key, value)

    # ---- opentracing.Span ----------------------------------------------------------------------

    @property
    def context(self) -> SpanContext:
        return self._context or self._make_context()

    def _make_context(self) -> SpanContext:
        """Create the context of a root span started unsampled; every caller gets the same one."""
        with _LOCK_INIT:
            context = self._context
            if context is None:
                trace_id = self._trace_id
                context = SpanContext(trace_id, self._tracer._root_span_id(trace_id), None, 0)
                self._context = context
        return context

    @property
    def tracer(self) -> Tracer:
        return self._tracer

    @property
    def update_lock(self) -> threading.Lock:
        """The lock every mutator holds (upstream's attribute; made on first use if need be)."""
        return self._lock or self._make_lock()

    def _make_lock(self) -> threading.Lock:
        """Create the lock of a span started unsampled; every caller gets the same one."""
        with _LOCK_INIT:
            lock = self._lock
            if lock is None:
                lock = threading.Lock()
                token = self._open
                if token is not None:
                    try:
                        token[0] = lock  # finish() will pop it, and wait out its holder
                    except IndexError:  # finish() has claimed the span already
                        self.finished = True
                self._lock = lock
        return lock

    def set_operation_name(self, operation_name: str) -> Span:
        """Rename the span; a per-operation sampler may then revise its decision (late binding)."""
        if type(operation_name) is not str or not operation_name.isascii():
            operation_name = _operation_name(operation_name)
        with self._lock or self._make_lock():
            if self.finished:
                self._tracer.dropped.add_after_finish()
                return self
            self.operation_name = operation_name
        self._tracer._on_operation_renamed(self)
        return self

    def set_tag(self, key: str, value: Any) -> Span:
        """Record a tag; its value is converted now (see ``_values.make_tag``) and never raises."""
        # Unsampled (flags 0): only a key that normalizes to "sampling.priority" matters. A str
        # key of at most 17 characters does only if it is that key: clean_str leaves ASCII
        # alone, and cutting to max_tag_value_length only shortens. Longer keys take the path
        # below. Every bytecode counts here (``__class__`` is cheaper than ``type()`` on 3.11).
        context = self._context
        if context is None:  # a root span started unsampled, without a context yet: flags 0
            if key.__class__ is str and key != _SAMPLING_PRIORITY and len(key) < 18:
                return self
            flags = 0
        else:
            flags = context.flags
            if not flags and key.__class__ is str and key != _SAMPLING_PRIORITY and len(key) < 18:
                return self
        tracer = self._tracer
        max_length = tracer.max_tag_value_length
        if type(key) is str and len(key) <= max_length:
            # Within the length only "sampling.priority" itself normalizes to it (clean_str
            # leaves ASCII alone), so an unsampled span returns before the ASCII check.
            if key == _SAMPLING_PRIORITY:
                return self._set_sampling_priority_tag(value)
            if not flags & SAMPLED_FLAG:
                return self  # unsampled: nothing is stored, so nothing is converted
            if not key.isascii():
                key = _values.clean_str(key)
        else:
            key = _make_key(key, max_length)
            if key == _SAMPLING_PRIORITY:
                return self._set_sampling_priority_tag(value)
            if not flags & SAMPLED_FLAG:
                return self
        t = type(value)
        # shared tuples for repeated tags (see _values.share_tag)
        if t is str and value.isascii() and len(value) <= max_length:
            try:
                values = _SHARED_STR_TAGS[key]
                tag: _values.TagTuple = (
                    values[value] if values is not _UNSHARED else (key, _STRING, value)
                )
            except KeyError:
                tag = _share_tag(_SHARED_STR_TAGS, key, _STRING, value)
        elif t is bool:
            tag = (key, _BOOL, value)
        elif t is int and _I64_MIN <= value <= _I64_MAX:
            try:
                values = _SHARED_INT_TAGS[key]
                tag = values[value] if values is not _UNSHARED else (key, _LONG, value)
            except KeyError:
                tag = _share_tag(_SHARED_INT_TAGS, key, _LONG, value)
        elif t is float:
            tag = (key, _DOUBLE, value)
        else:
            tag = _make_tag(key, value, max_length, tracer.max_traceback_length)
        # acquire/release, not ``with``: a with-statement costs twice as much on 3.11
        lock = self._lock
        try:
            lock.acquire()
        except AttributeError:  # None: started unsampled, and sampled since
            lock = self._make_lock()
            lock.acquire()
        try:
            if not self.finished:
                tags = self._tags
                if len(tags) < tracer.max_tags_per_span:
                    try:
                        tags.append(tag)
                    except AttributeError:  # _NO_TAGS: started unsampled, and sampled since
                        self._tags = [tag]
                    return self
                is_full = True
            else:
                is_full = False
        finally:
            lock.release()
        if is_full:
            tracer.dropped.add_tags(1)
        else:
            tracer.dropped.add_after_finish()
        return self

    def _set_sampling_priority_tag(self, value: Any) -> Span:
        tracer = self._tracer
        with self._lock or self._make_lock():
            if self.finished:
                tracer.dropped.add_after_finish()
                return self
            if not self._set_sampling_priority(value):
                return self
            tags = self._tags
            if len(tags) < tracer.max_tags_per_span:
                tag = _make_tag(
                    _SAMPLING_PRIORITY,
                    value,
                    tracer.max_tag_value_length,
                    tracer.max_traceback_length,
                )
                if tags is _NO_TAGS:
                    self._tags = [tag]
                else:
                    tags.append(tag)
                return self
        tracer.dropped.add_tags(1)
        return self

    def _set_sampling_priority(self, value: Any) -> bool:
        """Apply ``sampling.priority``; return whether the tag itself should be recorded.

        Caller holds ``update_lock``. A value that is not an integer (``None``, ``object()``,
        ``"high"``, NaN) is ignored, never raised: upstream let ``TypeError`` escape.
        """
        ctx = self._context or self._make_context()
        try:
            if ctx.flags & DEBUG_FLAG and value:
                return False  # already debug: a second request must not spend throttler credit
            number = int(value)
        except Exception:  # any __bool__/__int__ may raise anything; tagging never raises
            return False
        if number == 0:
            ctx.flags &= ~(SAMPLED_FLAG | DEBUG_FLAG)
            return False
        if self._tracer.is_debug_allowed(self.operation_name):
            ctx.flags |= SAMPLED_FLAG | DEBUG_FLAG
            return True
        return False

    def log_kv(self, key_values: Mapping[str, Any], timestamp: Optional[float] = None) -> Span:
        """Record a structured log; at most ``tracer.max_fields_per_log`` fields are kept."""
        context = self._context
        if context is None or not context.flags & SAMPLED_FLAG:  # None: see the class doc
            return self
        tracer = self._tracer
        dropped_fields = 0
        try:
            if type(key_values) is dict and len(key_values) <= tracer.max_fields_per_log:
                # Fast path: str keys and values that need no conversion (what _make_fields
                # would make of them), without a call per log.
                max_length = tracer.max_tag_value_length
                fields: list[_values.TagTuple] = []
                for key, value in key_values.items():
                    if (
                        type(key) is str
                        and type(value) is str
                        and key.isascii()
                        and value.isascii()
                        and len(key) <= max_length
                        and len(value) <= max_length
                    ):
                        try:
                            values = _SHARED_STR_TAGS[key]
                            fields.append(
                                values[value] if values is not _UNSHARED else (key, _STRING, value)
                            )
                        except KeyError:
                            fields.append(_share_tag(_SHARED_STR_TAGS, key, _STRING, value))
                    else:
                        fields = _make_fields(
                            key_values.items(), max_length, tracer.max_traceback_length
                        )
                        break
            else:
                max_fields = tracer.max_fields_per_log
                items = list(itertools.islice(key_values.items(), max_fields))
                dropped_fields = max(0, len(key_values) - max_fields)
                fields = _make_fields(
                    items, tracer.max_tag_value_length, tracer.max_traceback_length
                )
        except Exception:  # not a mapping, or a mapping that fails (or changes) while read
            fields = _make_fields(
                (("event", key_values),), tracer.max_tag_value_length, tracer.max_traceback_length
            )
        record = (time.time() if timestamp is None else _timestamp(timestamp), fields)
        # acquire/release, not ``with``: a with-statement costs twice as much on 3.11
        lock = self._lock
        try:
            lock.acquire()
        except AttributeError:  # None: started unsampled, and sampled since
            lock = self._make_lock()
            lock.acquire()
        try:
            if not self.finished:
                logs = self._logs
                if len(logs) < tracer.max_logs_per_span:
                    try:
                        logs.append(record)
                    except AttributeError:  # _NO_LOGS: started unsampled, and sampled since
                        self._logs = [record]
                    if not dropped_fields:
                        return self
                    is_full = False
                else:
                    is_full = True
            else:
                is_full = False
                dropped_fields = -1
        finally:
            lock.release()
        if is_full:
            tracer.dropped.add_logs(1)
        elif dropped_fields < 0:
            tracer.dropped.add_after_finish()
        else:
            tracer.dropped.add_log_fields(dropped_fields)
        return self

    def set_baggage_item(self, key: str, value: Optional[str]) -> Span:
        """Set (or, with ``None``, delete) a baggage item; logged as an event when sampled."""
        if type(key) is not str:
            key = _values.safe_str(key, 4096)
        if value is not None and type(value) is not str:
            value = _values.safe_str(value, 4096)
        tracer = self._tracer
        prev_value = self.context.baggage.get(key)  # makes the context if need be
        stored, log_fields = tracer._restrict_baggage(self, key, value)
        with self._lock or self._make_lock():
            if self.finished:
                tracer.dropped.add_after_finish()
                return self
            if stored is not _DENIED:
                self._context = self._context.with_baggage_item(key, stored)
        if self._context.flags & SAMPLED_FLAG:
            fields: dict[str, Any] = {
                "event": "baggage",
                "key": key,
                "value": None if stored is _DENIED else stored,
            }
            if prev_value is not None:
                fields["override"] = "true"
            fields.update(log_fields)
            self.log_kv(fields)
        return self

    def get_baggage_item(self, key: str) -> Optional[str]:
        context = self._context
        return None if context is None else context.baggage.get(key)

    def finish(self, finish_time: Optional[float] = None) -> None:
        """Finish the span and hand it to the reporter if sampled.

        A second call is ignored: counted in ``tracer.dropped.finish_twice`` and logged as a
        warning at most once a minute. As upstream, ``end_time`` stays None on a span that is
        not sampled when it finishes.
        """
        token = self._open
        if token is not None:  # started unsampled: claimed without a lock (see the class doc)
            try:
                lock = token.pop()
            except IndexError:
                self._finish_twice()
                return
            self.finished = True
            if lock is not None:  # made before the claim: wait out mutations begun under it
                lock.acquire()
                lock.release()
            # sampled since it started: by sampling.priority or late binding; a context still
            # None was never asked for, so never sampled (see the class doc)
            context = self._context
            if context is not None and context.flags & SAMPLED_FLAG:
                self.end_time = time.time() if finish_time is None else _timestamp(finish_time)
                self._tracer.report_span(self)
            return
        end_time = time.time() if finish_time is None else _timestamp(finish_time)
        # acquire/release, not ``with``: a with-statement costs twice as much on 3.11
        lock = self._lock
        lock.acquire()
        try:
            finished = self.finished
            if not finished:
                self.finished = True
                self.end_time = end_time
        finally:
            lock.release()
        if finished:
            self._finish_twice()
            return
        if self._context.flags & SAMPLED_FLAG:
            self._tracer.report_span(self)

    def _finish_twice(self) -> None:
        self._tracer.dropped.add_finish_twice()
        _warn.log(
            "finish-twice",
            logging.WARNING,
            "Span has already been finished; will not be reported again (span %r).",
            self,
        )

    # ---- upstream helpers -----------------------------------------------------------------------

    def is_sampled(self) -> bool:
        return bool(self.flags & SAMPLED_FLAG)

    def is_debug(self) -> bool:
        return bool(self.flags & DEBUG_FLAG)

    def _span_kind(self) -> Optional[Any]:
        for key, _, value in self._tags:
            if key == _SPAN_KIND:
                return value
        return None

    def is_rpc(self) -> bool:
        return self._span_kind() in _RPC_KINDS

    def is_rpc_client(self) -> bool:
        return self._span_kind() == ext_tags.SPAN_KIND_RPC_CLIENT

    @property
    def has_children(self) -> bool:
        """Whether a child span was started from this span's context, or the context injected.

        Once true, the sampling decision has been handed on, so a sampler must not revise it.
        """
        context = self._context
        return False if context is None else context.has_children

    @property
    def trace_id(self) -> int:
        context = self._context
        return self._trace_id if context is None else context.trace_id or 0

    @property
    def span_id(self) -> int:
        return self.context.span_id or 0

    @property
    def parent_id(self) -> Optional[int]:
        context = self._context
        return None if context is None else context.parent_id

    @property
    def flags(self) -> int:
        context = self._context
        return 0 if context is None else context.flags or 0

    @property
    def tags(self) -> list[ttypes.Tag]:
        """The span's tags as Thrift ``Tag`` objects (a copy; upstream exposed its list)."""
        from .thrift import make_thrift_tag

        return [make_thrift_tag(t) for t in self._tags]

    @property
    def logs(self) -> list[ttypes.Log]:
        """The span's logs as Thrift ``Log`` objects (a copy)."""
        from .thrift import make_thrift_log

        return [make_thrift_log(record) for record in self._logs]

    def info(self, message: str, payload: Any = None) -> Span:
        """DEPRECATED: use ``log_kv``."""
        fields: dict[str, Any] = {"event": message}
        try:
            present = bool(payload)  # upstream's test: a falsy payload is left out
        except Exception:  # a payload whose __bool__/__len__ raises is still logged, never raised
            present = True
        if present:
            fields["payload"] = payload
        return self.log_kv(fields)

    def error(self, message: str, payload: Any = None) -> Span:
        """DEPRECATED: use ``set_tag('error', True)`` and ``log_kv``."""
        self.set_tag(ext_tags.ERROR, True)
        return self.info(message, payload)

    def __repr__(self) -> str:
        c = self.context
        return (
            f"{c.trace_id or 0:x}:{c.span_id or 0:x}:{c.parent_id or 0:x}:{c.flags or 0:x} "
            f"{self._tracer.service_name}.{self.operation_name}"
        )


class _Denied:
    """Marker: a baggage restriction rejected the key; the context keeps its previous value."""

    def __repr__(self) -> str:
        return "<denied>"


_DENIED: Any = _Denied()


if TYPE_CHECKING:  # upstream's names held here by import (see _compat_names)
    from opentracing import Reference as Reference
else:
    __getattr__ = _compat_names.module_getattr(
        __name__,
        {
            "opentracing": ("Reference",),
        },
    )
