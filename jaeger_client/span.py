"""Span: mutable under its own lock until ``finish()``; knows nothing of Thrift or sockets."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Optional

import opentracing
from opentracing.ext import tags as ext_tags

from . import _values
from .constants import DEBUG_FLAG, LOGGER_NAME, SAMPLED_FLAG
from .span_context import SpanContext
from .utils import RateLimitedLogger

if TYPE_CHECKING:
    from .thrift_gen.jaeger import ttypes
    from .tracer import Tracer

__all__ = ["Span"]

logger = logging.getLogger(LOGGER_NAME)
_warn = RateLimitedLogger(logger, 60.0)

_SAMPLING_PRIORITY = ext_tags.SAMPLING_PRIORITY
_SPAN_KIND = ext_tags.SPAN_KIND
_RPC_KINDS = (ext_tags.SPAN_KIND_RPC_CLIENT, ext_tags.SPAN_KIND_RPC_SERVER)
_STRING = _values.STRING
_BOOL = _values.BOOL
_LONG = _values.LONG
_DOUBLE = _values.DOUBLE
_make_tag = _values.make_tag

LogRecord = tuple[float, list[_values.TagTuple]]


class Span(opentracing.Span):
    """A Jaeger span.

    Thread model: any thread may call the mutators; each takes ``update_lock``. ``finish()`` flips
    ``finished`` under the lock and hands the span to the reporter; every mutator checks
    ``finished`` under the same lock, so from then on the span's tags and logs never change and
    the reporter thread reads them without locking.

    Tags and logs are stored already converted (``_values.make_tag``); ``tags`` and ``logs``
    present them as Thrift ``Tag``/``Log`` objects, as upstream stored them.
    """

    __slots__ = (
        "_context",
        "_logs",
        "_tags",
        "_tracer",
        "end_time",
        "finished",
        "operation_name",
        "references",
        "start_time",
        "update_lock",
    )

    def __init__(
        self,
        context: SpanContext,
        tracer: Tracer,
        operation_name: Optional[str],
        tags: Optional[Mapping[str, Any]] = None,
        start_time: Optional[float] = None,
        references: Optional[list[opentracing.Reference]] = None,
    ) -> None:
        self._tracer = tracer
        self._context = context
        self.operation_name = operation_name
        self.start_time = start_time or time.time()
        self.end_time: Optional[float] = None
        self.finished = False
        self.update_lock = threading.Lock()
        self.references = references
        self._tags: list[_values.TagTuple] = []
        self._logs: list[LogRecord] = []
        if tags:
            for key, value in tags.items():
                self.set_tag(key, value)

    # ---- opentracing.Span ----------------------------------------------------------------------

    @property
    def context(self) -> SpanContext:
        return self._context

    @property
    def tracer(self) -> Tracer:
        return self._tracer

    def set_operation_name(self, operation_name: str) -> Span:
        with self.update_lock:
            if self.finished:
                return self
            self.operation_name = operation_name
        self._tracer._on_operation_renamed(self)
        return self

    def set_tag(self, key: str, value: Any) -> Span:
        if key == _SAMPLING_PRIORITY:
            with self.update_lock:
                if self.finished or not self._set_sampling_priority(value):
                    return self
        tracer = self._tracer
        max_length = tracer.max_tag_value_length
        # Fast path for the common primitive types; everything else goes through make_tag.
        t = type(value)
        if t is str and value.isascii() and len(value) <= max_length and type(key) is str:
            tag: _values.TagTuple = (key, _STRING, value)
        elif t is bool and type(key) is str:
            tag = (key, _BOOL, value)
        else:
            tag = _make_tag(key, value, max_length, tracer.max_traceback_length)
        with self.update_lock:
            if self.finished or not self._context.flags & SAMPLED_FLAG:
                return self
            tags = self._tags
            if len(tags) < tracer.max_tags_per_span:
                tags.append(tag)
        return self

    def _set_sampling_priority(self, value: Any) -> bool:
        """Apply ``sampling.priority``; return whether the tag itself should be recorded.

        Caller holds ``update_lock``. Non-integer values are ignored, never raised.
        """
        ctx = self._context
        if (ctx.flags or 0) & DEBUG_FLAG and value:
            return False  # already debug: a second request must not spend throttler credit
        try:
            number = int(value)
        except (TypeError, ValueError, OverflowError):
            return False
        except Exception:  # a user __int__ may raise anything; tagging never raises
            return False
        if number == 0:
            ctx.flags = (ctx.flags or 0) & ~(SAMPLED_FLAG | DEBUG_FLAG)
            return False
        if self._tracer.is_debug_allowed(self.operation_name):
            ctx.flags = (ctx.flags or 0) | SAMPLED_FLAG | DEBUG_FLAG
            return True
        return False

    def log_kv(self, key_values: Mapping[str, Any], timestamp: Optional[float] = None) -> Span:
        if not self._context.flags & SAMPLED_FLAG:
            return self
        tracer = self._tracer
        max_length = tracer.max_tag_value_length
        max_tb = tracer.max_traceback_length
        try:
            items = list(key_values.items())
        except Exception:  # not a mapping: record what it was rather than raise
            items = [("event", key_values)]
        if len(items) > tracer.max_fields_per_log:
            items = items[: tracer.max_fields_per_log]
        fields = [_make_tag(k, v, max_length, max_tb) for k, v in items]
        record = (timestamp or time.time(), fields)
        with self.update_lock:
            if self.finished:
                return self
            logs = self._logs
            if len(logs) < tracer.max_logs_per_span:
                logs.append(record)
        return self

    def set_baggage_item(self, key: str, value: Optional[str]) -> Span:
        tracer = self._tracer
        prev_value = self._context.baggage.get(key)
        value, log_fields = tracer._restrict_baggage(self, key, value)
        if value is not _DENIED:
            with self.update_lock:
                self._context = self._context.with_baggage_item(key, value)
        if self._context.flags & SAMPLED_FLAG:
            fields: dict[str, Any] = {"event": "baggage", "key": key, "value": value}
            if value is _DENIED:
                fields["value"] = None
            if prev_value is not None:
                fields["override"] = "true"
            fields.update(log_fields)
            self.log_kv(fields)
        return self

    def get_baggage_item(self, key: str) -> Optional[str]:
        return self._context.baggage.get(key)

    def finish(self, finish_time: Optional[float] = None) -> None:
        with self.update_lock:
            if self.finished:
                _warn.log(
                    "finish-twice",
                    logging.WARNING,
                    "Span has already been finished; will not be reported again (span %r).",
                    self,
                )
                return
            self.finished = True
            self.end_time = finish_time or time.time()
        if self._context.flags & SAMPLED_FLAG:
            self._tracer.report_span(self)

    # ---- upstream helpers -----------------------------------------------------------------------

    def is_sampled(self) -> bool:
        return bool(self._context.flags & SAMPLED_FLAG)

    def is_debug(self) -> bool:
        return bool(self._context.flags & DEBUG_FLAG)

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
    def trace_id(self) -> int:
        return self._context.trace_id or 0

    @property
    def span_id(self) -> int:
        return self._context.span_id or 0

    @property
    def parent_id(self) -> Optional[int]:
        return self._context.parent_id

    @property
    def flags(self) -> int:
        return self._context.flags or 0

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
        if payload:
            fields["payload"] = payload
        return self.log_kv(fields)

    def error(self, message: str, payload: Any = None) -> Span:
        """DEPRECATED: use ``set_tag('error', True)`` and ``log_kv``."""
        self.set_tag(ext_tags.ERROR, True)
        return self.info(message, payload)

    def __repr__(self) -> str:
        c = self._context
        return (
            f"{c.trace_id or 0:x}:{c.span_id or 0:x}:{c.parent_id or 0:x}:{c.flags or 0:x} "
            f"{self._tracer.service_name}.{self.operation_name}"
        )


class _Denied:
    """Marker: a baggage restriction rejected the key; the context keeps its previous value."""

    def __repr__(self) -> str:
        return "<denied>"


_DENIED: Any = _Denied()
