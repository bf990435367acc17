"""Config: upstream's dict keys plus the ``JAEGER_*`` environment -> validated settings -> a Tracer.

This is the only module that reads ``os.environ`` (once, at construction; parsing and validation
live in ``jaeger_client._settings``).

Precedence, highest first, for every setting:

1. a key in the ``config`` dict (for ``service_name`` then the ``service_name=`` argument);
2. its ``JAEGER_*`` environment variable (once set, it hides the fallback in 3. even when its
   value is invalid and the default is used instead);
3. its OpenTelemetry variable, where there is one: ``OTEL_SERVICE_NAME`` then ``service.name`` in
   ``OTEL_RESOURCE_ATTRIBUTES`` (service name), ``OTEL_SDK_DISABLED`` (``enabled``),
   ``OTEL_TRACES_SAMPLER`` with ``OTEL_TRACES_SAMPLER_ARG`` (``sampler``, and for
   ``jaeger_remote`` also ``sampling_endpoint`` and ``sampling_refresh_interval``), and
   ``OTEL_PROPAGATORS`` (``propagation``: its formats after ``jaeger``);
4. the default.

``JAEGER_TAGS`` is the exception, as upstream: its tags are merged into ``config['tags']`` and win
on conflicting keys. When it is unset, the attributes in ``OTEL_RESOURCE_ATTRIBUTES`` (but
``service.name``) are merged the same way. An environment variable set to the empty string counts
as unset (as in Go), and a config key set to ``None`` counts as absent.

Errors: a config key that is present but invalid raises ``ValueError`` naming the key, the value
and what is allowed, always (not only with ``validate=True``). An invalid ``JAEGER_*`` variable
raises from :meth:`Config.from_env`; a plain ``Config(...)`` logs it once on ``jaeger_tracing``
and uses the default instead. An ``OTEL_*`` value this tracer cannot use is logged once and
ignored on both paths, as OpenTelemetry's SDKs read them.
"""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, Optional, Union

import opentracing
from opentracing.propagation import Format

from . import _compat_names, _settings, constants
from .local_agent_net import LocalAgentSender
from .metrics import LegacyMetricsFactory, Metrics, MetricsFactory, NoopMetricsFactory
from .reporter import CompositeReporter, LoggingReporter, Reporter
from .sampler import (
    ConstSampler,
    ProbabilisticSampler,
    RateLimitingSampler,
    RemoteControlledSampler,
    Sampler,
)
from .tracer import NoopTracer, Tracer, TracerMetrics
from .utils import ErrorReporter

if TYPE_CHECKING:
    from .codecs import Codec

__all__ = ["Config"]

# upstream's module-level names, kept for code that imports them from here
DEFAULT_REPORTING_HOST = constants.DEFAULT_REPORTING_HOST
DEFAULT_REPORTING_PORT = constants.DEFAULT_REPORTING_PORT
DEFAULT_SAMPLING_PORT = constants.DEFAULT_SAMPLING_PORT
DEFAULT_THROTTLER_PORT = constants.DEFAULT_THROTTLER_PORT
LOCAL_AGENT_DEFAULT_ENABLED = True

logger = logging.getLogger(constants.LOGGER_NAME)

# Read by other Jaeger clients (Go, Java), not here; from_env(validate=True) accepts them
_OTHER_CLIENTS_ENV = frozenset(
    {
        "JAEGER_RPC_METRICS",
        "JAEGER_SENDER_FACTORY",
    }
)


class Config:
    """Builds a Jaeger tracer from a config dict (usually a YAML section) and the environment.

    .. code-block:: yaml

        enabled: true
        logging: true
        sampler:
            type: const        # const, probabilistic, ratelimiting, remote
            param: true
        local_agent:
            reporting_host: 127.0.0.1

    :param config: upstream's keys (see the README for all of them); never modified
    :param metrics: deprecated, use ``metrics_factory``
    :param service_name: used when ``config`` has no ``service_name``
    :param metrics_factory: where the tracer's metrics go; ``metrics: false`` discards them
    :param validate: also reject keys this library does not read
    :param scope_manager: None means ``ThreadLocalScopeManager``
    :param environ: the environment to read instead of ``os.environ`` (``{}`` ignores it)
    """

    _initialized = False
    _initialized_lock = threading.Lock()

    def __init__(
        self,
        config: Mapping[str, Any],
        metrics: Optional[Metrics] = None,
        service_name: Optional[str] = None,
        metrics_factory: Optional[MetricsFactory] = None,
        validate: bool = False,
        scope_manager: Optional[opentracing.ScopeManager] = None,
        *,
        environ: Optional[Mapping[str, str]] = None,
    ) -> None:
        self._setup(
            config, metrics, service_name, metrics_factory, validate, scope_manager, environ, False
        )

    @classmethod
    def from_env(
        cls,
        service_name: Optional[str] = None,
        config: Optional[Mapping[str, Any]] = None,
        *,
        metrics_factory: Optional[MetricsFactory] = None,
        validate: bool = False,
        scope_manager: Optional[opentracing.ScopeManager] = None,
        environ: Optional[Mapping[str, str]] = None,
    ) -> Config:
        """A Config from the ``JAEGER_*`` (and ``OTEL_*``) environment; an invalid variable raises.

        ``ValueError`` names every invalid variable and what it allows. Keys in ``config`` still
        take precedence over the environment.
        """
        self = cls.__new__(cls)
        self._setup(
            {} if config is None else config,
            None,
            service_name,
            metrics_factory,
            validate,
            scope_manager,
            environ,
            True,
        )
        return self

    def _setup(
        self,
        config: Mapping[str, Any],
        metrics: Optional[Metrics],
        service_name: Optional[str],
        metrics_factory: Optional[MetricsFactory],
        validate: bool,
        scope_manager: Optional[opentracing.ScopeManager],
        environ: Optional[Mapping[str, str]],
        strict_env: bool,
    ) -> None:
        if not isinstance(config, Mapping):
            raise TypeError(f"config must be a dict, got {type(config).__name__}")
        if service_name is not None and not isinstance(service_name, str):
            raise TypeError(f"service_name must be a string, got {service_name!r}")
        self.config = config
        self.scope_manager = scope_manager
        self._environ: Mapping[str, str] = dict(os.environ if environ is None else environ)
        resolved = _settings.resolve(
            config,
            service_name,
            self._environ,
            strict_env=strict_env,
            validate=validate,
        )
        if strict_env and validate:
            for name in sorted(self._environ):
                if (
                    name.startswith("JAEGER_")
                    and name not in _settings.ENV_VARS
                    and name not in _OTHER_CLIENTS_ENV
                ):
                    resolved.errors.append(
                        f"environment variable {name} is not one this library reads "
                        "(a typo? validate=True rejects unknown JAEGER_* names)"
                    )
        if resolved.values["service_name"] is None:
            resolved.errors.insert(
                0,
                "service_name required in the config or param "
                "(or JAEGER_SERVICE_NAME / OTEL_SERVICE_NAME / service.name in "
                "OTEL_RESOURCE_ATTRIBUTES in the environment)",
            )
        if len(resolved.errors) == 1:
            raise ValueError(resolved.errors[0])
        if resolved.errors:
            listed = "".join(f"\n- {error}" for error in resolved.errors)
            raise ValueError(f"{len(resolved.errors)} configuration errors:{listed}")
        self._values = resolved.values
        self._sources = resolved.sources
        self._service_name: str = self._values["service_name"]
        if self._values["metrics"]:
            self._metrics_factory = metrics_factory or LegacyMetricsFactory(metrics or Metrics())
        else:
            self._metrics_factory = NoopMetricsFactory()
        # Background errors are always logged (first at once, then once a minute): upstream logged
        # them only with `logging: true`, so by default a dead agent went unnoticed.
        self._error_reporter = ErrorReporter(
            metrics=Metrics(), logger=logger, log_interval_minutes=1
        )

    def _validate_config(self, config: Mapping[str, Any]) -> None:
        """Raise ``ValueError`` listing keys this library does not read (``validate=True``)."""
        _settings.check_known_keys(config)

    # ---- where each setting came from ------------------------------------------------------

    @property
    def sources(self) -> dict[str, str]:
        """Each setting's origin: ``default``, ``config``, ``argument`` or ``env VAR``."""
        return dict(self._sources)

    def describe(self) -> list[tuple[str, str, str]]:
        """``(setting, effective value, source)`` rows; secrets are masked."""
        rows = []
        for name, source in self._sources.items():
            value = _display(name, self._values[name])
            if name == "sampling_endpoint" and self.sampling_endpoint is None:
                agent = f"{self.local_agent_reporting_host}:{self.local_agent_sampling_port}"
                value = f"- (the agent's: http://{agent}/sampling)"
            elif name == "collector_endpoint" and self.collector_endpoint is None:
                value = "- (spans go to the agent over UDP)"
            rows.append((name, value, source))
        return rows

    def ignored_environment(self) -> list[str]:
        """``JAEGER_*`` variables set in the environment this Config read but not used by it."""
        known = set(_settings.ENV_VARS)
        return sorted(k for k in self._environ if k.startswith("JAEGER_") and k not in known)

    def _optional_str(self, name: str) -> Optional[str]:
        value = self._values[name]
        return None if value is None else str(value)

    # ---- upstream's properties ----------------------------------------------------------------

    @property
    def service_name(self) -> str:
        return self._service_name

    @property
    def metrics(self) -> None:
        """Deprecated (upstream returned None as well)."""
        return None

    @property
    def error_reporter(self) -> ErrorReporter:
        return self._error_reporter

    @property
    def enabled(self) -> bool:
        """False builds a no-op tracer (``enabled: false`` or ``JAEGER_DISABLED=true``)."""
        return bool(self._values["enabled"])

    @property
    def reporter_batch_size(self) -> int:
        return int(self._values["reporter_batch_size"])

    @property
    def reporter_queue_size(self) -> int:
        return int(self._values["reporter_queue_size"])

    @property
    def logging(self) -> bool:
        return bool(self._values["logging"])

    @property
    def trace_id_header(self) -> str:
        """The header (or TEXT_MAP key) carrying the trace context."""
        return str(self._values["trace_id_header"])

    @property
    def generate_128bit_trace_id(self) -> bool:
        return bool(self._values["generate_128bit_trace_id"])

    @property
    def baggage_header_prefix(self) -> str:
        """The prefix of headers carrying one baggage item each."""
        return str(self._values["baggage_header_prefix"])

    @property
    def debug_id_header(self) -> str:
        """The header that forces a debug trace; its value is recorded as a root span tag."""
        return str(self._values["debug_id_header"])

    @property
    def max_tag_value_length(self) -> int:
        return int(self._values["max_tag_value_length"])

    @property
    def max_traceback_length(self) -> int:
        return int(self._values["max_traceback_length"])

    @property
    def sampler(self) -> Optional[Sampler]:
        """A new sampler from ``sampler``; None means the remote sampler (built by new_tracer)."""
        setting: _settings.SamplerSetting = self._values["sampler"]
        if setting.type == "instance":
            instance: Sampler = setting.param
            return instance
        if setting.type == constants.SAMPLER_TYPE_CONST:
            return ConstSampler(decision=setting.param)
        if setting.type == constants.SAMPLER_TYPE_PROBABILISTIC:
            return ProbabilisticSampler(rate=setting.param)
        if setting.type == constants.SAMPLER_TYPE_RATE_LIMITING:
            return RateLimitingSampler(max_traces_per_second=setting.param)
        return None

    @property
    def sampling_refresh_interval(self) -> float:
        return float(self._values["sampling_refresh_interval"])

    @property
    def reporter_flush_interval(self) -> float:
        return float(self._values["reporter_flush_interval"])

    def local_agent_group(self) -> Optional[Mapping[str, Any]]:
        """The ``local_agent`` dict as given."""
        group = self.config.get("local_agent")
        return group if isinstance(group, Mapping) else None

    @property
    def local_agent_enabled(self) -> bool:
        """Read for compatibility; like upstream, nothing depends on it."""
        return bool(self._values["local_agent.enabled"])

    @property
    def local_agent_sampling_port(self) -> int:
        return int(self._values["local_agent.sampling_port"])

    @property
    def local_agent_reporting_port(self) -> int:
        return int(self._values["local_agent.reporting_port"])

    @property
    def local_agent_reporting_host(self) -> str:
        return str(self._values["local_agent.reporting_host"])

    @property
    def max_operations(self) -> int:
        """Operations the per-operation sampler tracks (upstream returned None for the default)."""
        return int(self._values["max_operations"])

    @property
    def tags(self) -> dict[str, Any]:
        """Process tags: ``tags`` merged with ``JAEGER_TAGS`` (or, when that is unset, with
        ``OTEL_RESOURCE_ATTRIBUTES`` but ``service.name``) into a new dict."""
        return dict(self._values["tags"])

    @property
    def propagation(self) -> dict[Any, Codec]:
        """Codecs replacing the default ones (the tracer's ``extra_codecs``)."""
        setting: _settings.Propagation = self._values["propagation"]
        if setting.names == ("jaeger",):
            return {}
        from . import codecs  # imported late: only needed when propagation is configured

        if setting.http_headers_only:  # upstream's propagation: 'b3'
            return {Format.HTTP_HEADERS: codecs.B3Codec(self.generate_128bit_trace_id)}
        return {
            fmt: self._create_codec(setting.names, url_encoding=fmt == Format.HTTP_HEADERS)
            for fmt in (Format.TEXT_MAP, Format.HTTP_HEADERS)
        }

    def throttler_group(self) -> Optional[Mapping[str, Any]]:
        """The ``throttler`` dict (``{}`` for ``throttler: true``); None when there is none."""
        if not self._values["throttler"].enabled:
            return None
        group = self.config.get("throttler")
        return group if isinstance(group, Mapping) else {}

    @property
    def throttler_port(self) -> Optional[int]:
        if self.throttler_group() is None:
            return None
        return int(self._values["throttler.port"])

    @property
    def throttler_refresh_interval(self) -> Optional[float]:
        if self.throttler_group() is None:
            return None
        return float(self._values["throttler.refresh_interval"])

    # ---- settings this library adds ----------------------------------------------------------

    @property
    def reporter_attempt_reconnect_interval(self) -> Optional[float]:
        """Seconds between two resolutions of the agent's host name by the UDP sender (it also
        resolves after a send fails); None when ``reporter_attempt_reconnecting_disabled``."""
        if self._values["reporter_attempt_reconnecting_disabled"]:
            return None
        return float(self._values["reporter_attempt_reconnect_interval"])

    @property
    def max_packet_size(self) -> int:
        """The largest UDP datagram sent to the agent, in bytes."""
        return int(self._values["max_packet_size"])

    @property
    def sampling_endpoint(self) -> Optional[str]:
        """The sampling strategy URL; None means the agent's, on ``local_agent.sampling_port``."""
        return self._optional_str("sampling_endpoint")

    @property
    def collector_endpoint(self) -> Optional[str]:
        """A collector URL (``http://jaeger-collector:14268/api/traces``); None means the agent."""
        return self._optional_str("collector_endpoint")

    @property
    def collector_user(self) -> Optional[str]:
        return self._optional_str("collector_user")

    @property
    def collector_password(self) -> Optional[str]:
        return self._optional_str("collector_password")

    @property
    def collector_auth_token(self) -> Optional[str]:
        """A bearer token; not sent when ``collector_user`` is set (basic auth wins, as in Java)."""
        return self._optional_str("collector_auth_token")

    @property
    def collector_headers(self) -> Optional[dict[str, str]]:
        headers = self._values["collector_headers"]
        return None if headers is None else dict(headers)

    @property
    def collector_timeout(self) -> float:
        return float(self._values["collector_timeout"])

    @property
    def exit_flush_timeout(self) -> float:
        """Seconds the interpreter may wait at exit to send queued spans; 0 disables it."""
        return float(self._values["exit_flush_timeout"])

    @property
    def max_tags_per_span(self) -> int:
        return int(self._values["max_tags_per_span"])

    @property
    def max_logs_per_span(self) -> int:
        return int(self._values["max_logs_per_span"])

    def baggage_restrictions_group(self) -> Optional[Mapping[str, Any]]:
        """The ``baggage_restrictions`` dict (``{}`` for ``true``); None when there is none."""
        if not self._values["baggage_restrictions"].enabled:
            return None
        group = self.config.get("baggage_restrictions")
        return group if isinstance(group, Mapping) else {}

    @property
    def baggage_restrictions_refresh_interval(self) -> Optional[float]:
        if self.baggage_restrictions_group() is None:
            return None
        return float(self._values["baggage_restrictions.refresh_interval"])

    @property
    def deny_baggage_on_initialization_failure(self) -> Optional[bool]:
        """Whether baggage is refused until restrictions were fetched once (Go's option)."""
        if self.baggage_restrictions_group() is None:
            return None
        return bool(self._values["baggage_restrictions.deny_baggage_on_initialization_failure"])

    # ---- building the tracer ------------------------------------------------------------------

    @staticmethod
    def initialized() -> bool:
        with Config._initialized_lock:
            return Config._initialized

    def initialize_tracer(self, io_loop: Any = None) -> Union[Tracer, NoopTracer, None]:
        """Build the tracer and make it ``opentracing.tracer``: only the first call in a process.

        Later calls log a warning and return None, as upstream. If building fails, a later call
        may try again.
        """
        with Config._initialized_lock:
            if Config._initialized:
                logger.warning("Jaeger tracer already initialized, skipping")
                return None
            Config._initialized = True
        try:
            tracer = self.new_tracer(io_loop)
        except BaseException:
            with Config._initialized_lock:
                Config._initialized = False
            raise
        self._initialize_global_tracer(tracer=tracer)
        return tracer

    def new_tracer(self, io_loop: Any = None) -> Union[Tracer, NoopTracer]:
        """A new tracer (a ``NoopTracer`` when disabled); ``opentracing.tracer`` is left alone.

        :param io_loop: accepted for compatibility and ignored: no Tornado is used
        """
        if not self.enabled:
            logger.info("Jaeger tracing disabled; using a no-op tracer for %s", self.service_name)
            return NoopTracer(scope_manager=self.scope_manager)
        channel = self._create_local_agent_channel(io_loop=io_loop)
        started: list[Any] = []  # parts with threads or sockets, closed if a later part fails
        try:
            sampler = self.sampler
            if sampler is None:
                sampler = self._create_remote_sampler(channel)
                started.append(sampler)
            logger.info("Using sampler %s", sampler)
            reporter: Any = self._create_reporter(channel)
            started.append(reporter)
            if self.logging:
                reporter = CompositeReporter(reporter, LoggingReporter(logger))
            throttler = None
            if self.throttler_group() is not None:
                throttler = self._create_throttler(channel)
                started.append(throttler)
            restrictions = None
            if self.baggage_restrictions_group() is not None:
                restrictions = self._create_baggage_restrictions_manager(channel)
                started.append(restrictions)
            return self.create_tracer(
                reporter=reporter,
                sampler=sampler,
                throttler=throttler,
                baggage_restrictions=restrictions,
            )
        except BaseException:
            for part in started:
                try:
                    part.close()
                except Exception:  # keep the original error; closing is best effort here
                    logger.exception("error closing %r", part)
            raise

    def create_tracer(
        self,
        reporter: Any,
        sampler: Any,
        throttler: Any = None,
        *,
        baggage_restrictions: Any = None,
    ) -> Tracer:
        """A Tracer from the given parts and this config's other settings."""
        return Tracer(
            service_name=self.service_name,
            reporter=reporter,
            sampler=sampler,
            metrics_factory=self._metrics_factory,
            trace_id_header=self.trace_id_header,
            generate_128bit_trace_id=self.generate_128bit_trace_id,
            baggage_header_prefix=self.baggage_header_prefix,
            debug_id_header=self.debug_id_header,
            tags=self.tags,
            max_tag_value_length=self.max_tag_value_length,
            max_traceback_length=self.max_traceback_length,
            extra_codecs=self.propagation,
            throttler=throttler,
            scope_manager=self.scope_manager,
            max_tags_per_span=self.max_tags_per_span,
            max_logs_per_span=self.max_logs_per_span,
            baggage_restrictions=baggage_restrictions,
        )

    def _initialize_global_tracer(self, tracer: opentracing.Tracer) -> None:
        opentracing.set_global_tracer(tracer)
        logger.info("opentracing.tracer initialized to %s[app_name=%s]", tracer, self.service_name)

    def _create_local_agent_channel(self, io_loop: Any) -> LocalAgentSender:
        """Where the agent is: spans go to its UDP port, sampling and credits to its HTTP port."""
        return LocalAgentSender(
            host=self.local_agent_reporting_host,
            sampling_port=self.local_agent_sampling_port,
            reporting_port=self.local_agent_reporting_port,
            io_loop=io_loop,
            throttling_port=self.throttler_port,
        )

    def _create_remote_sampler(self, channel: LocalAgentSender) -> Sampler:
        setting: _settings.SamplerSetting = self._values["sampler"]
        initial_rate = (
            setting.param
            if setting.type == constants.SAMPLER_TYPE_REMOTE
            else constants.DEFAULT_SAMPLING_PROBABILITY
        )
        return RemoteControlledSampler(
            channel=channel,
            service_name=self.service_name,
            init_sampler=ProbabilisticSampler(rate=initial_rate),
            sampling_refresh_interval=self.sampling_refresh_interval,
            max_operations=self.max_operations,
            logger=logger,
            metrics_factory=self._metrics_factory,
            error_reporter=self.error_reporter,
            sampling_endpoint=self.sampling_endpoint,
        )

    def _create_reporter(self, channel: LocalAgentSender) -> Reporter:
        return Reporter(
            channel=channel,
            queue_capacity=self.reporter_queue_size,
            batch_size=self.reporter_batch_size,
            flush_interval=self.reporter_flush_interval,
            logger=logger,
            metrics_factory=self._metrics_factory,
            error_reporter=self.error_reporter,
            sender=self._create_collector_sender(),
            max_packet_size=self.max_packet_size,
            exit_flush_timeout=self.exit_flush_timeout,
            resolve_interval=self.reporter_attempt_reconnect_interval,
        )

    def _create_collector_sender(self) -> Any:
        """An HTTP sender to ``collector_endpoint``; None keeps the reporter's UDP sender."""
        endpoint = self.collector_endpoint
        if endpoint is None:
            return None
        from .senders import HTTPSender  # imported late: only collector users need it

        user = self.collector_user
        return HTTPSender(
            endpoint,
            user=user,
            password=self.collector_password,
            auth_token=None if user is not None else self.collector_auth_token,
            headers=self.collector_headers,
            timeout=self.collector_timeout,
        )

    def _create_throttler(self, channel: LocalAgentSender) -> Any:
        from .throttler import RemoteThrottler  # imported late: only throttler users need it

        interval = self.throttler_refresh_interval
        return RemoteThrottler(
            channel,
            self.service_name,
            refresh_interval=(
                constants.DEFAULT_THROTTLER_REFRESH_INTERVAL if interval is None else interval
            ),
            logger=logger,
            metrics_factory=self._metrics_factory,
            error_reporter=self.error_reporter,
        )

    def _create_baggage_restrictions_manager(self, channel: LocalAgentSender) -> Any:
        from .baggage import RemoteBaggageRestrictionManager  # only baggage-restriction users

        interval = self.baggage_restrictions_refresh_interval
        return RemoteBaggageRestrictionManager(
            channel,
            self.service_name,
            refresh_interval=(
                constants.DEFAULT_BAGGAGE_RESTRICTIONS_REFRESH_INTERVAL
                if interval is None
                else interval
            ),
            deny_baggage_on_initialization_failure=bool(
                self.deny_baggage_on_initialization_failure
            ),
            logger=logger,
            metrics_factory=self._metrics_factory,
            error_reporter=self.error_reporter,
        )

    def _create_codec(self, names: tuple[str, ...], url_encoding: bool) -> Codec:
        """One codec for the ``propagation`` formats ``names``, in order (composite if several)."""
        from . import codecs

        parts: list[Codec] = []
        for name in names:
            if name == "jaeger":
                parts.append(
                    codecs.TextCodec(
                        url_encoding=url_encoding,
                        trace_id_header=self.trace_id_header,
                        baggage_header_prefix=self.baggage_header_prefix,
                        debug_id_header=self.debug_id_header,
                        metrics=TracerMetrics(self._metrics_factory),
                    )
                )
            elif name == "b3":
                parts.append(codecs.B3Codec(self.generate_128bit_trace_id))
            elif name == "b3-single":
                parts.append(codecs.B3SingleCodec())
            elif name == "w3c":
                parts.append(codecs.TraceContextCodec())
            else:  # "baggage"; _settings accepts no other name
                parts.append(codecs.W3CBaggageCodec(metrics=TracerMetrics(self._metrics_factory)))
        return parts[0] if len(parts) == 1 else codecs.CompositeCodec(parts)


def _display(name: str, value: Any) -> str:
    """A setting's value as ``python -m jaeger_client`` shows it."""
    if value is None:
        return "-"
    if name in _settings.SECRET_SETTINGS:
        return "***"
    if name == "collector_headers":
        return ", ".join(f"{k}: ***" for k in value) or "-"
    if name == "tags":
        return ", ".join(f"{k}={v}" for k, v in value.items()) or "-"
    return str(value)


if TYPE_CHECKING:  # upstream's names held here by import (see _compat_names)
    from opentracing import ScopeManager as ScopeManager

    from .codecs import B3Codec as B3Codec
    from .constants import BAGGAGE_HEADER_PREFIX as BAGGAGE_HEADER_PREFIX
    from .constants import DEBUG_ID_HEADER_KEY as DEBUG_ID_HEADER_KEY
    from .constants import DEFAULT_FLUSH_INTERVAL as DEFAULT_FLUSH_INTERVAL
    from .constants import DEFAULT_SAMPLING_INTERVAL as DEFAULT_SAMPLING_INTERVAL
    from .constants import DEFAULT_THROTTLER_REFRESH_INTERVAL as DEFAULT_THROTTLER_REFRESH_INTERVAL
    from .constants import MAX_TAG_VALUE_LENGTH as MAX_TAG_VALUE_LENGTH
    from .constants import MAX_TRACEBACK_LENGTH as MAX_TRACEBACK_LENGTH
    from .constants import SAMPLER_TYPE_CONST as SAMPLER_TYPE_CONST
    from .constants import SAMPLER_TYPE_PROBABILISTIC as SAMPLER_TYPE_PROBABILISTIC
    from .constants import SAMPLER_TYPE_RATE_LIMITING as SAMPLER_TYPE_RATE_LIMITING
    from .constants import TRACE_ID_HEADER as TRACE_ID_HEADER
    from .reporter import BaseReporter as BaseReporter
    from .throttler import RemoteThrottler as RemoteThrottler
    from .throttler import Throttler as Throttler
    from .utils import get_boolean as get_boolean
else:
    __getattr__ = _compat_names.module_getattr(
        __name__,
        {
            "jaeger_client.codecs": ("B3Codec",),
            "jaeger_client.constants": (
                "BAGGAGE_HEADER_PREFIX",
                "DEBUG_ID_HEADER_KEY",
                "DEFAULT_FLUSH_INTERVAL",
                "DEFAULT_SAMPLING_INTERVAL",
                "DEFAULT_THROTTLER_REFRESH_INTERVAL",
                "MAX_TAG_VALUE_LENGTH",
                "MAX_TRACEBACK_LENGTH",
                "SAMPLER_TYPE_CONST",
                "SAMPLER_TYPE_PROBABILISTIC",
                "SAMPLER_TYPE_RATE_LIMITING",
                "TRACE_ID_HEADER",
            ),
            "jaeger_client.reporter": ("BaseReporter",),
            "jaeger_client.throttler": ("RemoteThrottler", "Throttler"),
            "jaeger_client.utils": ("get_boolean",),
            "opentracing": ("ScopeManager",),
        },
    )
