"""Tracer: ids, the sampling decision, parent/child, codec lookup, and finish -> reporter."""

from __future__ import annotations

import logging
import os
import random
import socket
import sys
import threading
import time
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, NamedTuple, Optional, Union

import opentracing
from opentracing import Format, UnsupportedFormatException
from opentracing.ext import tags as ext_tags
from opentracing.scope_managers import ThreadLocalScopeManager

from . import _compat_names, _values, constants
from ._fork import GATE as _FORK_GATE
from ._fork import after_fork_in_child, check_pid
from ._future import CloseFuture, completed_future
from .codecs import BinaryCodec, Codec, TextCodec, ZipkinCodec
from .constants import DEBUG_FLAG, SAMPLED_FLAG
from .metrics import LegacyMetricsFactory, Metrics, MetricsFactory, _noop
from .reporter._support import ReporterHealth, ReporterStats
from .sampler import ConstSampler
from .span import _DENIED, _NO_LOGS, _NO_TAGS, Span, _operation_name, _timestamp
from .span_context import SpanContext
from .utils import RateLimitedLogger, local_ip

__all__ = ["DroppedSpanData", "NoopTracer", "Tracer", "TracerMetrics", "TracerStats"]

logger = logging.getLogger(constants.LOGGER_NAME)

_SPAN_KIND = ext_tags.SPAN_KIND
_RPC_SERVER = ext_tags.SPAN_KIND_RPC_SERVER
_EMPTY_BAGGAGE: dict[str, str] = opentracing.SpanContext.EMPTY_BAGGAGE
_new = object.__new__
_new_lock = threading.Lock  # one global load instead of a global and an attribute
_ID_MASK = (1 << constants._max_id_bits) - 1


class TracerMetrics:
    """Tracer-level counters, with upstream's metric names and tags."""

    def __init__(self, metrics_factory: MetricsFactory) -> None:
        c = metrics_factory.create_counter
        self.traces_started_sampled = c("jaeger:traces", {"state": "started", "sampled": "y"})
        self.traces_started_not_sampled = c("jaeger:traces", {"state": "started", "sampled": "n"})
        self.traces_joined_sampled = c("jaeger:traces", {"state": "joined", "sampled": "y"})
        self.traces_joined_not_sampled = c("jaeger:traces", {"state": "joined", "sampled": "n"})
        self.spans_started_sampled = c("jaeger:started_spans", {"sampled": "y"})
        self.spans_started_not_sampled = c("jaeger:started_spans", {"sampled": "n"})
        self.spans_finished = c("jaeger:finished_spans")
        self.span_context_decoding_errors = c("jaeger:span_context_decoding_errors")
        self.baggage_truncations = c("jaeger:baggage_truncations")
        self.baggage_updates_success = c("jaeger:baggage_updates", {"result": "ok"})
        self.baggage_updates_failure = c("jaeger:baggage_updates", {"result": "err"})

    def is_noop(self) -> bool:
        """Whether every counter is the factories' shared no-op (nothing reads the counts)."""
        return all(value is _noop for value in vars(self).values())


class TracerStats(NamedTuple):
    """A snapshot for health checks (``Tracer.stats()``): where the spans went, and what the
    background parts last met. Times are ``time.time()``; ``None`` means never (or not known).
    A last error is not cleared when things recover: compare its time with the last success's."""

    reporter: Optional[ReporterStats]  # the counts; None for a reporter that keeps none
    last_sent_at: Optional[float]  # the sender last accepted a batch
    last_send_error: Optional[str]  # e.g. "cannot send to 127.0.0.1:6831: [Errno 111] ..."
    last_send_error_at: Optional[float]
    sampler: str  # the sampler deciding now, e.g. "RemoteControlledSampler(svc, URL, ...)"
    last_strategy_at: Optional[float]  # a remote sampler last received a valid strategy
    last_sampler_error: Optional[str]  # a remote sampler's last failed poll
    last_sampler_error_at: Optional[float]


_health_warn = RateLimitedLogger()


def _call_optional(owner: Any, name: str) -> Any:
    """``owner.name()`` if it has such a method (a user's reporter may not); never raises."""
    method = getattr(owner, name, None)
    if not callable(method):
        return None
    try:
        return method()
    except Exception as exc:  # a user's reporter: a health check must still answer
        _health_warn.log(name, logging.ERROR, "%r.%s() failed: %r", owner, name, exc)
        return None


class DroppedSpanData:
    """Counts what spans of one tracer ignored instead of storing; safe to update from any thread.

    ``tags``/``logs``/``log_fields``: over ``max_tags_per_span``/``max_logs_per_span``/
    ``max_fields_per_log``; ``after_finish``: mutations of a sampled span after ``finish()``;
    ``finish_twice``: repeated ``finish()`` calls. Only drop paths touch it, never the hot path.
    """

    __slots__ = ("_lock", "after_finish", "finish_twice", "log_fields", "logs", "tags")

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.tags = 0
        self.logs = 0
        self.log_fields = 0
        self.after_finish = 0
        self.finish_twice = 0

    def add_tags(self, n: int) -> None:
        with self._lock:
            self.tags += n

    def add_logs(self, n: int) -> None:
        with self._lock:
            self.logs += n

    def add_log_fields(self, n: int) -> None:
        with self._lock:
            self.log_fields += n

    def add_after_finish(self) -> None:
        with self._lock:
            self.after_finish += 1

    def add_finish_twice(self) -> None:
        with self._lock:
            self.finish_twice += 1

    def as_dict(self) -> dict[str, int]:
        with self._lock:
            return {
                "tags": self.tags,
                "logs": self.logs,
                "log_fields": self.log_fields,
                "after_finish": self.after_finish,
                "finish_twice": self.finish_twice,
            }

    def _reinit_lock(self) -> None:
        # fork: the parent's lock may have been held by a thread that does not exist in the child
        self._lock = threading.Lock()

    def __repr__(self) -> str:
        return f"DroppedSpanData({self.as_dict()!r})"


class Tracer(opentracing.Tracer):
    """The Jaeger implementation of ``opentracing.Tracer``.

    Thread model: ``start_span``, ``inject``, ``extract`` and ``report_span`` run on application
    threads and never block or do I/O; the reporter, the sampler's poller and the throttler own
    their own threads. A forked child re-seeds the id generator and draws its own ``client-uuid``
    (``_after_fork_in_child``).

    Upstream's parameters keep their names, order and defaults; the ones after ``*`` are new.

    :param metrics: deprecated, use ``metrics_factory``
    :param extra_codecs: ``{format: codec}`` added to (or replacing) the default codecs
    :param tags: process-level tags, sent with every batch; ``ip``, ``hostname``,
        ``jaeger.version`` and ``client-uuid`` are added unless given here
    :param scope_manager: any ``opentracing.ScopeManager``; default ``ThreadLocalScopeManager``
    :param max_tags_per_span: tags over this count are dropped and counted in ``dropped``
    :param max_logs_per_span: logs over this count are dropped and counted in ``dropped``
    :param max_fields_per_log: fields of one log over this count are dropped and counted
    :param baggage_restrictions: an object with ``get_restriction(service, key) -> (allowed,
        max_value_length)``
    """

    _scope_manager: opentracing.ScopeManager  # set by opentracing.Tracer.__init__

    def __init__(
        self,
        service_name: str,
        reporter: Any,
        sampler: Any,
        metrics: Optional[Metrics] = None,
        metrics_factory: Optional[MetricsFactory] = None,
        trace_id_header: str = constants.TRACE_ID_HEADER,
        generate_128bit_trace_id: bool = False,
        baggage_header_prefix: str = constants.BAGGAGE_HEADER_PREFIX,
        debug_id_header: str = constants.DEBUG_ID_HEADER_KEY,
        one_span_per_rpc: bool = False,
        extra_codecs: Optional[Mapping[Any, Codec]] = None,
        tags: Optional[Mapping[str, Any]] = None,
        max_tag_value_length: int = constants.MAX_TAG_VALUE_LENGTH,
        max_traceback_length: int = constants.MAX_TRACEBACK_LENGTH,
        throttler: Any = None,
        scope_manager: Optional[opentracing.ScopeManager] = None,
        *,
        max_tags_per_span: int = constants.DEFAULT_MAX_TAGS_PER_SPAN,
        max_logs_per_span: int = constants.DEFAULT_MAX_LOGS_PER_SPAN,
        max_fields_per_log: int = constants.DEFAULT_MAX_FIELDS_PER_LOG,
        baggage_restrictions: Any = None,
    ) -> None:
        if not isinstance(service_name, str) or not service_name:
            raise ValueError(f"service_name must be a non-empty string, got {service_name!r}")
        if not callable(getattr(reporter, "report_span", None)):
            raise TypeError(f"reporter must have a report_span(span) method, got {reporter!r}")
        if not callable(getattr(sampler, "is_sampled", None)):
            raise TypeError(
                f"sampler must have an is_sampled(trace_id, operation) method, got {sampler!r}"
            )
        for name, value in (
            ("max_tag_value_length", max_tag_value_length),
            ("max_traceback_length", max_traceback_length),
            ("max_tags_per_span", max_tags_per_span),
            ("max_logs_per_span", max_logs_per_span),
            ("max_fields_per_log", max_fields_per_log),
        ):
            if type(value) is not int or value < 1:
                raise ValueError(f"{name} must be a positive integer, got {value!r}")
        if scope_manager is not None and not callable(getattr(scope_manager, "activate", None)):
            raise TypeError(
                f"scope_manager must be an opentracing.ScopeManager, got {scope_manager!r}"
            )
        super().__init__(
            scope_manager=ThreadLocalScopeManager() if scope_manager is None else scope_manager
        )
        self.service_name = service_name
        self.reporter = reporter
        self.sampler = sampler
        self.metrics_factory = metrics_factory or LegacyMetricsFactory(metrics or Metrics())
        self.metrics = TracerMetrics(self.metrics_factory)
        self._extract_warn = RateLimitedLogger(logger, 60.0)  # corrupt inbound headers
        # The span paths skip counting while ``metrics`` is this all-no-op instance.
        self._quiet_metrics: Optional[TracerMetrics] = (
            self.metrics if self.metrics.is_noop() else None
        )
        self.dropped = DroppedSpanData()
        self.random = random.Random()  # seeded from os.urandom; re-seeded in forked children
        self.max_trace_id_bits = (
            constants._max_trace_id_bits if generate_128bit_trace_id else constants._max_id_bits
        )
        self.debug_id_header = debug_id_header
        self.one_span_per_rpc = one_span_per_rpc
        self.max_tag_value_length = max_tag_value_length
        self.max_traceback_length = max_traceback_length
        self.max_tags_per_span = max_tags_per_span
        self.max_logs_per_span = max_logs_per_span
        self.max_fields_per_log = max_fields_per_log
        self.throttler = throttler
        self.baggage_restrictions = baggage_restrictions
        self.codecs: dict[Any, Codec] = {
            Format.TEXT_MAP: TextCodec(
                url_encoding=False,
                trace_id_header=trace_id_header,
                baggage_header_prefix=baggage_header_prefix,
                debug_id_header=debug_id_header,
                metrics=self.metrics,
            ),
            Format.HTTP_HEADERS: TextCodec(
                url_encoding=True,
                trace_id_header=trace_id_header,
                baggage_header_prefix=baggage_header_prefix,
                debug_id_header=debug_id_header,
                metrics=self.metrics,
            ),
            Format.BINARY: BinaryCodec(metrics=self.metrics),
            constants.ZIPKIN_SPAN_FORMAT: ZipkinCodec(),
        }
        if extra_codecs:
            self.codecs.update(extra_codecs)
        self.ip_address = local_ip()
        self.tags: dict[str, Any] = {
            constants.JAEGER_VERSION_TAG_KEY: constants.JAEGER_CLIENT_VERSION
        }
        if tags:
            self.tags.update(tags)
        if self.tags.get(constants.JAEGER_IP_TAG_KEY) is None:
            self.tags[constants.JAEGER_IP_TAG_KEY] = self.ip_address
        if self.tags.get(constants.JAEGER_HOSTNAME_TAG_KEY) is None:
            try:
                self.tags[constants.JAEGER_HOSTNAME_TAG_KEY] = socket.gethostname()
            except OSError:  # no hostname is no reason to refuse to trace
                pass
        # Upstream sent a random integer client id (a LONG tag) only with a throttler; Go always
        # sends one. The throttler needs it for /credits, the collector to tell processes apart.
        self.client_id = _new_client_id()
        # a forked child is a new process: it draws its own id, unless the caller chose one
        self._is_client_uuid_drawn = constants.CLIENT_UUID_TAG_KEY not in self.tags
        self.tags.setdefault(constants.CLIENT_UUID_TAG_KEY, self.client_id)
        self._give_throttler_client_id()
        self._sampler_tags_cache: tuple[Any, list[_values.TagTuple]] = (None, [])
        # ThreadLocalScopeManager.active costs ~1 us on a thread that never activated a scope
        # (getattr on a threading.local raising inside); reading the local's dict is ~10x cheaper.
        self._tls_manager: Optional[ThreadLocalScopeManager] = None
        self._tls_scope: Any = None
        sm = self._scope_manager
        if type(sm) is ThreadLocalScopeManager and hasattr(sm, "_tls_scope"):
            self._tls_manager, self._tls_scope = sm, sm._tls_scope
        self._set_process()
        self._closed: Optional[CloseFuture] = None
        after_fork_in_child(self._after_fork_in_child)

    def _give_throttler_client_id(self) -> None:
        if self.throttler is not None:
            set_client_id = getattr(self.throttler, "set_client_id", None) or getattr(
                self.throttler, "_set_client_id", None
            )
            if set_client_id is not None:
                set_client_id(self.client_id)

    def _set_process(self) -> None:
        """Hand the reporter the process (service name and tags) it sends with every batch."""
        if hasattr(self.reporter, "set_process"):
            self.reporter.set_process(
                service_name=self.service_name,
                tags=self.tags,
                max_length=self.max_tag_value_length,
            )

    def _after_fork_in_child(self) -> None:
        # Children of a pre-fork server must not replay the parent's ids (upstream #282, #305).
        self.random.seed(os.urandom(32))
        self.dropped._reinit_lock()
        if self._is_client_uuid_drawn:
            # Nor the parent's client-uuid, by which the collector tells processes apart. The
            # reporter was built before this tracer, so its own fork hook has run already.
            self.client_id = _new_client_id()
            self.tags[constants.CLIENT_UUID_TAG_KEY] = self.client_id
            try:
                self._set_process()
                # RemoteThrottler keeps the first id it was given: it ignores this one until its
                # own fork hook forgets the parent's
                self._give_throttler_client_id()
            except Exception:  # at-fork hooks must not raise into os.fork()
                logger.exception("failed to hand on the forked child's client-uuid")

    # ---- span creation (hot path) ---------------------------------------------------------------

    def start_active_span(  # type: ignore[override]  # upstream's signature, wider child_of types
        self,
        operation_name: Optional[str] = None,
        child_of: Union[Span, SpanContext, None] = None,
        references: Union[opentracing.Reference, list[opentracing.Reference], None] = None,
        tags: Optional[Mapping[str, Any]] = None,
        start_time: Optional[float] = None,
        ignore_active_span: bool = False,
        finish_on_close: bool = True,
    ) -> opentracing.Scope:
        """Start a span and activate it in the scope manager; returns the :class:`Scope`."""
        span = self.start_span(
            operation_name=operation_name,
            child_of=child_of,
            references=references,
            tags=tags,
            start_time=start_time,
            ignore_active_span=ignore_active_span,
        )
        scope: opentracing.Scope = self._scope_manager.activate(span, finish_on_close)
        return scope

    def start_span(  # type: ignore[override]  # upstream's signature, wider child_of types
        self,
        operation_name: Optional[str] = None,
        child_of: Union[Span, SpanContext, None] = None,
        references: Union[opentracing.Reference, list[opentracing.Reference], None] = None,
        tags: Optional[Mapping[str, Any]] = None,
        start_time: Optional[float] = None,
        ignore_active_span: bool = False,
    ) -> Span:
        """Start a span.

        The parent is ``child_of`` if given, else the active span (unless ``ignore_active_span``),
        else the first of ``references`` whose context is not None. A parent without a trace
        (a ``jaeger-debug-id`` or baggage-only carrier) starts a new trace that keeps its baggage.
        """
        # The common cases (a root span, or a child of a Span or SpanContext, no references) are
        # built here without helper calls or class calls: each Python-level call costs as much
        # as a dozen attribute stores on 3.11. Keep the stores in step with Span.__init__ and
        # SpanContext.__init__.
        now = time.time()
        gate = _FORK_GATE
        if not gate[1] <= now < gate[0]:  # at most once a millisecond: forked without hooks?
            check_pid(now)
        parent: Any = child_of
        if parent is None and not ignore_active_span:
            if self._scope_manager is self._tls_manager:
                # empty until this thread first activates a scope: skip the get() call then
                active = self._tls_scope.__dict__
                if active:
                    scope = active.get("active")
                    if scope is not None:
                        parent = scope.span
            else:
                scope = self._scope_manager.active
                if scope is not None:
                    parent = scope.span
        valid_references = None
        if references:
            parent, valid_references = self._resolve_references(parent, references)
        if parent is not None:
            if type(parent) is Span:
                parent = parent._context or parent._make_context()
            elif type(parent) is not SpanContext:
                parent = self._context_of(parent)

        if parent is None:
            # self.random.getrandbits(...) each time: a bound method held in a local would be
            # allocated, and called through a slower path
            max_bits = self.max_trace_id_bits
            trace_id = self.random.getrandbits(max_bits) or self._random_id(max_bits)
            sampler = self.sampler
            if type(sampler) is ConstSampler:  # its is_sampled, inlined (exact type: no override)
                sampled = sampler.decision
                raw_tags = sampler._tags
            else:
                sampled, raw_tags = sampler.is_sampled(trace_id, operation_name or "")
            if sampled:
                flags = SAMPLED_FLAG
                cached_source, cached = self._sampler_tags_cache
                if raw_tags is not cached_source:
                    cached = self._convert_sampler_tags(raw_tags)
                tag_list: list[_values.TagTuple] = cached[:]
                context = _new(SpanContext)
                context.trace_id = trace_id
                # a root span's id is its trace id's low 64 bits (_root_span_id, inlined for
                # 64-bit trace ids; Span._make_context uses it for roots started unsampled)
                context.span_id = trace_id if max_bits == 64 else self._root_span_id(trace_id)
                context.parent_id = None
                context.flags = flags
                context._baggage = _EMPTY_BAGGAGE
                context._debug_id = None
                context._trace_state = None
            else:
                # No context until something asks for one (Span._make_context): most unsampled
                # root spans are finished without.
                flags = 0
                tag_list = _NO_TAGS
                context = None
            is_root = True
        elif type(parent) is SpanContext:
            # SpanContext.has_trace, inlined
            if not (parent.trace_id and parent.span_id and parent.flags is not None):
                return self._start_from_carrier(
                    operation_name, parent, tags, start_time, valid_references
                )
            if self.one_span_per_rpc and tags and tags.get(_SPAN_KIND) == _RPC_SERVER:
                # Zipkin-style shared span: the server side reuses the client's span id
                span_id = parent.span_id
                parent_id = parent.parent_id
            else:
                span_id = self.random.getrandbits(64) or self._random_id(64)
                parent_id = parent.span_id
            context = _new(SpanContext)
            context.trace_id = parent.trace_id
            context.span_id = span_id
            context.parent_id = parent_id or None
            context.flags = flags = parent.flags
            # copy-on-write: sharing the parent's dict is safe
            context._baggage = parent._baggage or _EMPTY_BAGGAGE
            context._debug_id = None
            try:  # W3C tracestate: a child inherits it
                context._trace_state = parent._trace_state
            except AttributeError:  # a context built without __init__ (unpickled, say)
                context._trace_state = None
            tag_list = _NO_TAGS
            # the decision is handed on: late binding must not revise it
            parent._has_children = True
            is_root = False
        else:  # a foreign SpanContext subclass, or a context without a trace
            if not parent.has_trace:
                return self._start_from_carrier(
                    operation_name, parent, tags, start_time, valid_references
                )
            span = self._start_child(operation_name, parent, tags, start_time, valid_references)
            parent._has_children = True
            return self._finish_start(span, tags or {}, False)

        span = _new(Span)
        span._tracer = self
        span._context = context  # type: ignore[assignment]  # None: see Span._make_context
        if operation_name.__class__ is not str or not operation_name.isascii():
            operation_name = _operation_name(operation_name or "")
        span.operation_name = operation_name
        span.start_time = now if start_time is None else _timestamp(start_time)
        span.end_time = None
        span.finished = False
        span.references = valid_references
        if flags & SAMPLED_FLAG:
            span._lock = _new_lock()
            span._open = None
            span._tags = tag_list or []  # a child's, or a root's without sampler tags
            span._logs = []
        else:  # stores nothing: no lock until one is needed, no lists (see Span)
            span._lock = None  # type: ignore[assignment]  # Span._lock: None until needed
            span._open = [None]
            span._tags = _NO_TAGS
            span._logs = _NO_LOGS
            if context is None:  # a root span: see Span._make_context
                span._trace_id = trace_id
        if tags:
            return self._finish_start(span, tags, is_root)
        m = self.metrics
        if m is not self._quiet_metrics:
            if flags & SAMPLED_FLAG:
                m.spans_started_sampled(1)
                if is_root:
                    m.traces_started_sampled(1)
            else:
                m.spans_started_not_sampled(1)
                if is_root:
                    m.traces_started_not_sampled(1)
        return span

    def _finish_start(self, span: Span, tags: Mapping[str, Any], is_root: bool) -> Span:
        """Apply ``start_span``'s tags, then count the span (and trace) as started."""
        for key, value in tags.items():
            span.set_tag(key, value)
        m = self.metrics
        context = span._context  # None: started unsampled and still without a context
        is_sampled = context is not None and context.flags & SAMPLED_FLAG
        if is_root:
            if is_sampled:
                m.spans_started_sampled(1)
                m.traces_started_sampled(1)
            else:
                m.spans_started_not_sampled(1)
                m.traces_started_not_sampled(1)
            return span
        rpc_server = tags.get(_SPAN_KIND) == _RPC_SERVER
        if is_sampled:
            m.spans_started_sampled(1)
            if rpc_server:
                m.traces_joined_sampled(1)
        else:
            m.spans_started_not_sampled(1)
            if rpc_server:
                m.traces_joined_not_sampled(1)
        return span

    def _start_from_carrier(
        self,
        operation_name: Optional[str],
        parent: SpanContext,
        tags: Optional[Mapping[str, Any]],
        start_time: Optional[float],
        references: Optional[list[opentracing.Reference]],
    ) -> Span:
        """A new trace from a debug-id-only or baggage-only carrier (a context without a trace)."""
        span = self._start_trace(operation_name, parent, start_time, references)
        return self._finish_start(span, tags or {}, True)

    @staticmethod
    def _context_of(parent: Any) -> Optional[SpanContext]:
        if isinstance(parent, SpanContext):
            return parent
        context = getattr(parent, "context", None)  # allow a Span where a context is expected
        return context if isinstance(context, SpanContext) else None

    def _resolve_references(
        self, parent: Any, references: Any
    ) -> tuple[Any, Optional[list[opentracing.Reference]]]:
        if isinstance(references, opentracing.Reference) or not isinstance(
            references, (list, tuple)
        ):
            references = [references]  # one Reference (a namedtuple itself) or any single object
        valid = [r for r in references if getattr(r, "referenced_context", None) is not None]
        if valid and (parent is None or not getattr(self._context_of(parent), "has_trace", False)):
            parent = valid[0].referenced_context
        return parent, (valid or None)

    def random_id(self) -> int:
        """DEPRECATED (as upstream): a random 64-bit id; ids are drawn by ``_random_id``."""
        return self._random_id(constants._max_id_bits)

    def _root_span_id(self, trace_id: int) -> int:
        """A root span's id: its trace id's low 64 bits, as jaeger-client-go and -java (a fresh
        random id if those are 0). ``start_span`` inlines the 64-bit case."""
        return trace_id & _ID_MASK or self._random_id(64)

    def _random_id(self, bitsize: int) -> int:
        """A random non-zero id of ``bitsize`` bits (0 means "absent" on the wire)."""
        value = self.random.getrandbits(bitsize)
        while not value:
            value = self.random.getrandbits(bitsize)
        return value

    def _start_trace(
        self,
        operation_name: Optional[str],
        parent: Optional[SpanContext],
        start_time: Optional[float],
        references: Optional[list[opentracing.Reference]],
    ) -> Span:
        """A new trace: from nothing, or from a debug-id-only or baggage-only carrier."""
        trace_id = self._random_id(self.max_trace_id_bits)
        span_id = self._root_span_id(trace_id)
        flags = 0
        baggage = None
        debug_tag = None
        if parent is not None:
            if parent.debug_id and self.is_debug_allowed(operation_name):
                flags = SAMPLED_FLAG | DEBUG_FLAG
                debug_tag = _values.make_tag(
                    self.debug_id_header,
                    parent.debug_id,
                    self.max_tag_value_length,
                    self.max_traceback_length,
                )
            if parent.baggage:
                baggage = dict(parent.baggage)
        sampler_tags: Optional[list[_values.TagTuple]] = None
        if not flags:
            # Upstream skipped the sampler for baggage-only or throttled debug carriers, so those
            # traces were never sampled; Go consults it, and so do we.
            sampled, raw_tags = self.sampler.is_sampled(trace_id, operation_name or "")
            if sampled:
                flags = SAMPLED_FLAG
                sampler_tags = self._convert_sampler_tags(raw_tags)
        context = SpanContext(trace_id, span_id, None, flags, baggage)
        span = Span(context, self, operation_name or "", None, start_time, references)
        if sampler_tags:
            span._tags.extend(sampler_tags)
        if debug_tag is not None:
            span._tags.append(debug_tag)
        return span

    def _convert_sampler_tags(self, raw_tags: Any) -> list[_values.TagTuple]:
        cached_source, cached = self._sampler_tags_cache
        if raw_tags is cached_source:  # samplers return the same dict until their config changes
            return cached
        converted = [
            _values.make_tag(k, v, self.max_tag_value_length, self.max_traceback_length)
            for k, v in (raw_tags or {}).items()
        ]
        self._sampler_tags_cache = (raw_tags, converted)
        return converted

    def _start_child(
        self,
        operation_name: Optional[str],
        parent: SpanContext,
        tags: Optional[Mapping[str, Any]],
        start_time: Optional[float],
        references: Optional[list[opentracing.Reference]],
    ) -> Span:
        if self.one_span_per_rpc and tags and tags.get(_SPAN_KIND) == _RPC_SERVER:
            # Zipkin-style shared span: the server side reuses the client's span id
            span_id = parent.span_id
            parent_id = parent.parent_id
        else:
            span_id = self.random.getrandbits(64) or self._random_id(64)
            parent_id = parent.span_id
        context = SpanContext(
            parent.trace_id,
            span_id,
            parent_id,
            parent.flags,
            parent._baggage or None,  # contexts are copy-on-write, so sharing the dict is safe
        )
        _inherit_trace_state(parent, context)
        return Span(context, self, operation_name or "", None, start_time, references)

    # ---- finishing -------------------------------------------------------------------------------

    def report_span(self, span: Span) -> None:
        self.reporter.report_span(span)
        m = self.metrics
        if m is not self._quiet_metrics:
            m.spans_finished(1)

    def is_debug_allowed(self, *args: Any, **kwargs: Any) -> bool:
        throttler = self.throttler
        if throttler is None:
            return True
        return bool(throttler.is_allowed(*args, **kwargs))

    def _on_operation_renamed(self, span: Span) -> None:
        """Late binding hook: a per-operation sampler may re-decide a root span on rename.

        The sampler should leave a span alone once ``span.has_children`` is true (its decision
        has been handed on to a child or injected into a carrier).
        """
        hook = getattr(self.sampler, "on_operation_renamed", None)
        if hook is not None:
            hook(self, span)

    def _restrict_baggage(
        self, span: Span, key: str, value: Optional[str]
    ) -> tuple[Any, dict[str, Any]]:
        """Apply baggage restrictions: the value to store (or ``_DENIED``) and extra log fields."""
        manager = self.baggage_restrictions
        if manager is None or value is None:
            return value, {}
        try:
            allowed, max_length = manager.get_restriction(self.service_name, key)
        except Exception:  # a restriction manager bug must not break set_baggage_item
            return value, {}
        if not allowed:
            self.metrics.baggage_updates_failure(1)
            return _DENIED, {"invalid": "true"}
        self.metrics.baggage_updates_success(1)
        if len(value) > max_length:
            self.metrics.baggage_truncations(1)
            return value[:max_length], {"truncated": "true"}
        return value, {}

    # ---- propagation -------------------------------------------------------------------------

    def inject(self, span_context: Any, format: Any, carrier: Any) -> None:  # OT name
        """Write ``span_context`` (a SpanContext, or a Span) into ``carrier`` in ``format``."""
        # a subscript, not .get(): no method call on the hot path; None stays "unsupported"
        try:
            codec = self.codecs[format]
        except (KeyError, TypeError):  # TypeError: an unhashable format
            codec = None
        if codec is None:
            raise UnsupportedFormatException(format)
        if type(span_context) is not SpanContext:  # exact type: no helper call on the hot path
            context = self._context_of(span_context)
            if context is None:
                raise ValueError(f"Expecting Jaeger SpanContext, not {type(span_context)!r}")
            span_context = context
        codec.inject(span_context, carrier)
        span_context._has_children = True  # a remote child will continue from here

    def extract(  # type: ignore[override]  # upstream returns None for an empty carrier
        self,
        format: Any,  # OT name
        carrier: Any,
    ) -> Optional[SpanContext]:
        """Read a SpanContext from ``carrier``; None when the carrier holds none."""
        try:
            codec = self.codecs[format]
        except (KeyError, TypeError):  # TypeError: an unhashable format
            codec = None
        if codec is None:
            raise UnsupportedFormatException(format)
        try:
            return codec.extract(carrier)
        except opentracing.SpanContextCorruptedException as exc:
            self.metrics.span_context_decoding_errors(1)
            self._extract_warn.log(
                "extract",
                logging.WARNING,
                "Cannot extract a span context (%.200s); counted in "
                "jaeger:span_context_decoding_errors, logged at most once a minute",
                exc,
            )
            raise

    # ---- lifecycle ---------------------------------------------------------------------------

    def stats(self) -> TracerStats:
        """A snapshot for a health endpoint: the reporter's counts (``ReporterStats``), when it
        last sent and its last failure, the sampler deciding now and, for the remote sampler,
        its last strategy and last failed poll. Cheap, and safe from any thread."""
        health = _call_optional(self.reporter, "health")
        if isinstance(health, ReporterHealth):
            counts: Optional[ReporterStats] = health.stats
            sent_at, error, error_at = health.last_sent_at, health.last_error, health.last_error_at
        else:  # a reporter of the user's: counts if it has them
            stats = _call_optional(self.reporter, "stats")
            counts = stats if isinstance(stats, ReporterStats) else None
            sent_at = error = error_at = None
        sampler = self.sampler
        try:
            described = str(sampler)
        except Exception:  # a user's sampler: a health check must still answer
            described = type(sampler).__name__
        strategy_at = getattr(sampler, "last_strategy_at", None)
        poll_error = getattr(sampler, "last_error", None)
        if not (isinstance(poll_error, tuple) and len(poll_error) == 2):
            poll_error = (None, None)
        return TracerStats(
            reporter=counts,
            last_sent_at=sent_at,
            last_send_error=error,
            last_send_error_at=error_at,
            sampler=described,
            last_strategy_at=strategy_at if isinstance(strategy_at, float) else None,
            last_sampler_error=poll_error[1],
            last_sampler_error_at=poll_error[0],
        )

    def flush(self, timeout: Optional[float] = None) -> bool:
        """Send everything reported so far; return whether it was all sent within ``timeout``."""
        flush = getattr(self.reporter, "flush", None)
        if flush is None:
            return True
        return bool(flush(timeout))

    def close(self) -> CloseFuture:
        """Stop pollers and the reporter; the future completes once every reported span is sent.

        Idempotent: every call returns the same future.
        """
        if self._closed is not None:
            return self._closed
        for part in (self.sampler, self.throttler, self.baggage_restrictions):
            close = getattr(part, "close", None)
            if close is not None:
                try:
                    close()
                except Exception:  # closing one part must not keep the others open
                    logger.exception("error closing %r", part)
        future = self.reporter.close()
        if not isinstance(future, CloseFuture):
            future = _adopt(future)
        self._closed = future
        return future


def _new_client_id() -> int:
    return random.SystemRandom().randint(1, sys.maxsize)


def _inherit_trace_state(parent: Any, context: SpanContext) -> None:
    """Copy the parent's W3C ``tracestate`` to a child's context (a foreign parent may lack it)."""
    context._trace_state = getattr(parent, "_trace_state", None)


def _adopt(future: Any) -> CloseFuture:
    """Wrap whatever a user reporter's ``close()`` returned in a :class:`CloseFuture`."""
    if future is None:
        return completed_future()
    result = CloseFuture()
    add = getattr(future, "add_done_callback", None)
    if add is None:
        result.set_result(future)
        return result

    def done(f: Any) -> None:
        try:
            exc = f.exception()
        except Exception as e:  # a cancelled or broken foreign future
            exc = e
        if exc is not None:
            result.set_exception(exc)
        else:
            result.set_result(f.result())

    add(done)
    return result


class NoopTracer(opentracing.Tracer):
    """What ``Config(enabled=False)`` builds: the OpenTracing no-op tracer plus close/flush."""

    def __init__(self, scope_manager: Optional[opentracing.ScopeManager] = None) -> None:
        super().__init__(scope_manager=scope_manager)
        self.service_name = ""
        self.tags: dict[str, Any] = {}

    def flush(self, timeout: Optional[float] = None) -> bool:
        return True

    def stats(self) -> TracerStats:
        return TracerStats(None, None, None, None, "disabled", None, None, None)

    def close(self) -> CloseFuture:
        return completed_future()


if TYPE_CHECKING:  # upstream's names held here by import (see _compat_names)
    from opentracing import Reference as Reference
    from opentracing import ScopeManager as ScopeManager

    from .codecs import ZipkinSpanFormat as ZipkinSpanFormat
    from .reporter import BaseReporter as BaseReporter
    from .sampler import Sampler as Sampler
    from .throttler import Throttler as Throttler
else:
    __getattr__ = _compat_names.module_getattr(
        __name__,
        {
            "jaeger_client.codecs": ("ZipkinSpanFormat",),
            "jaeger_client.reporter": ("BaseReporter",),
            "jaeger_client.sampler": ("Sampler",),
            "jaeger_client.throttler": ("Throttler",),
            "opentracing": ("Reference", "ScopeManager"),
        },
    )
