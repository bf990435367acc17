"""Config settings: parse and validate upstream's dict keys and the ``JAEGER_*`` variables.

Pure functions of a config mapping and an environment mapping: this module never reads
``os.environ`` itself (``jaeger_client.config`` passes it in). Each setting is recorded with
where it came from (``default``, ``config``, ``argument`` or ``env VAR``), which
``python -m jaeger_client`` shows.

A few OpenTelemetry variables are read as fallbacks, each only where the config key and the
``JAEGER_*`` variable for the same setting are unset: ``OTEL_SERVICE_NAME`` and ``service.name``
in ``OTEL_RESOURCE_ATTRIBUTES``, the other resource attributes as process tags,
``OTEL_SDK_DISABLED``, ``OTEL_TRACES_SAMPLER`` with ``OTEL_TRACES_SAMPLER_ARG``, and
``OTEL_PROPAGATORS`` (its formats after ``jaeger``). A ``JAEGER_*`` variable that is set hides its
fallback even when its value is invalid.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Mapping
from typing import Any, Callable, Optional, TypeVar, Union

from .. import constants
from ._parse import (
    SAMPLER_PARAM_PARSERS,
    Group,
    Invalid,
    Propagation,
    SamplerSetting,
    int_parser,
    parse_bool,
    parse_env_tags,
    parse_headers,
    parse_host,
    parse_interval,
    parse_jaeger_remote_arg,
    parse_otel_propagators,
    parse_otel_traces_sampler,
    parse_poll_interval,
    parse_port,
    parse_positive_int,
    parse_propagation,
    parse_rate,
    parse_resource_attributes,
    parse_sampler_type,
    parse_secret,
    parse_str,
    parse_tags,
    parse_timeout_allowing_zero,
    parse_url,
)

__all__ = [
    "ENV_VARS",
    "SECRET_SETTINGS",
    "Group",
    "Propagation",
    "Resolver",
    "SamplerSetting",
    "check_known_keys",
    "log_once",
    "resolve",
]

logger = logging.getLogger(constants.LOGGER_NAME)

_T = TypeVar("_T")

# Every key the library reads; validate=True rejects any other.
_TOP_LEVEL_KEYS = frozenset(
    {
        "service_name",
        "enabled",
        "logging",
        "metrics",
        "sampler",
        "sampling_refresh_interval",
        "max_operations",
        "sampling_endpoint",
        "local_agent",
        "reporter_batch_size",
        "reporter_queue_size",
        "reporter_flush_interval",
        "reporter_attempt_reconnect_interval",
        "reporter_attempt_reconnecting_disabled",
        "max_packet_size",
        "exit_flush_timeout",
        "collector_endpoint",
        "collector_user",
        "collector_password",
        "collector_auth_token",
        "collector_headers",
        "collector_timeout",
        "tags",
        "propagation",
        "trace_id_header",
        "baggage_header_prefix",
        "debug_id_header",
        "generate_128bit_trace_id",
        "max_tag_value_length",
        "max_traceback_length",
        "max_tags_per_span",
        "max_logs_per_span",
        "throttler",
        "baggage_restrictions",
    }
)
_GROUP_KEYS = {
    "sampler": frozenset({"type", "param"}),
    "local_agent": frozenset({"reporting_host", "reporting_port", "sampling_port", "enabled"}),
    "throttler": frozenset({"port", "refresh_interval"}),
    "baggage_restrictions": frozenset(
        {"deny_baggage_on_initialization_failure", "refresh_interval"}
    ),
}
# Every environment variable read (JAEGER_* ones not listed here are reported as ignored).
ENV_VARS = (
    "JAEGER_SERVICE_NAME",
    "OTEL_SERVICE_NAME",
    "JAEGER_DISABLED",
    "OTEL_SDK_DISABLED",
    "JAEGER_TAGS",
    "OTEL_RESOURCE_ATTRIBUTES",
    "JAEGER_SAMPLER_TYPE",
    "JAEGER_SAMPLER_PARAM",
    "OTEL_TRACES_SAMPLER",
    "OTEL_TRACES_SAMPLER_ARG",
    "JAEGER_SAMPLING_ENDPOINT",
    "JAEGER_SAMPLER_MANAGER_HOST_PORT",
    "JAEGER_SAMPLER_MAX_OPERATIONS",
    "JAEGER_SAMPLER_REFRESH_INTERVAL",
    "JAEGER_REPORTER_MAX_QUEUE_SIZE",
    "JAEGER_REPORTER_FLUSH_INTERVAL",
    "JAEGER_REPORTER_LOG_SPANS",
    "JAEGER_REPORTER_MAX_PACKET_SIZE",
    "JAEGER_REPORTER_ATTEMPT_RECONNECT_INTERVAL",
    "JAEGER_REPORTER_ATTEMPT_RECONNECTING_DISABLED",
    "JAEGER_ENDPOINT",
    "JAEGER_USER",
    "JAEGER_PASSWORD",
    "JAEGER_AUTH_TOKEN",
    "JAEGER_AGENT_HOST",
    "JAEGER_AGENT_PORT",
    "JAEGER_TRACEID_128BIT",
    "JAEGER_PROPAGATION",
    "OTEL_PROPAGATORS",
)
SECRET_SETTINGS = frozenset({"collector_password", "collector_auth_token"})


# ---- environment helpers -----------------------------------------------------------------------

_logged: set[str] = set()
_logged_lock = threading.Lock()


def log_once(message: str) -> None:
    with _logged_lock:
        if message in _logged:
            return
        _logged.add(message)
    logger.warning(message)


def note_env(message: str) -> None:
    """An OpenTelemetry variable (or part of one) this tracer cannot use: logged once."""
    log_once(f"jaeger_client: ignoring environment variable {message}")


# ---- resolution --------------------------------------------------------------------------------


class Resolver:
    """Collects settings and their sources from the config dict, the environment and defaults."""

    def __init__(self, config: Mapping[str, Any], environ: Mapping[str, str], strict_env: bool):
        self.config = config
        self.environ = environ
        self.strict_env = strict_env
        self.values: dict[str, Any] = {}
        self.sources: dict[str, str] = {}
        self.errors: list[str] = []
        self._groups: dict[str, Optional[Mapping[str, Any]]] = {}
        # the jaeger_remote OTEL_TRACES_SAMPLER_ARG, when that sampler is used: later steps read
        # its endpoint and polling_interval as fallbacks
        self.otel_remote: dict[str, Any] = {}
        self._resource: Optional[dict[str, str]] = None

    def set(self, name: str, value: Any, source: str) -> None:
        self.values[name] = value
        self.sources[name] = source

    def config_error(self, key: str, value: Any, allowed: object) -> None:
        shown = "<redacted>" if key in SECRET_SETTINGS else repr(value)
        self.errors.append(f"config key {key!r}: expected {allowed}, got {shown}")

    def env_error(self, message: str) -> None:
        if self.strict_env:
            self.errors.append(f"environment variable {message}")
        else:
            log_once(f"jaeger_client: ignoring environment variable {message}; using the default")

    def parse_config(self, key: str, value: Any, parse: Callable[[Any], _T]) -> tuple[bool, Any]:
        try:
            return True, parse(value)
        except Invalid as e:
            self.config_error(key, value, e)
            return False, None

    def env(self, var: str) -> Optional[str]:
        raw = self.environ.get(var)
        return raw if raw is not None and raw.strip() else None

    def parse_env(
        self, var: str, parse: Callable[[Any], _T], lenient: bool = False
    ) -> tuple[bool, Any]:
        """``(True, value)``, or ``(False, None)`` when unset or invalid. ``lenient`` (the
        OpenTelemetry fallbacks) logs an invalid value once and ignores it even under
        ``from_env``: the variable is set up for OpenTelemetry SDKs, which read it leniently."""
        raw = self.env(var)
        if raw is None:
            return False, None
        try:
            return True, parse(raw)
        except Invalid as e:
            shown = "<redacted>" if var in ("JAEGER_PASSWORD", "JAEGER_AUTH_TOKEN") else repr(raw)
            if lenient:
                note_env(f"{var}={shown}: expected {e}")
            else:
                self.env_error(f"{var}={shown}: expected {e}")
            return False, None

    def resolve(
        self, name: str, parse: Callable[[Any], Any], default: Any, env: Optional[str] = None
    ) -> Any:
        """Config key > environment ``env`` > default; ``a.b`` is key ``b`` of group ``a``."""
        group, _, key = name.rpartition(".")
        container = (self.group(group) or {}) if group else self.config
        value = container.get(key)
        if value is not None:
            ok, parsed = self.parse_config(name, value, parse)
            if ok:
                self.set(name, parsed, "config")
                return parsed
        elif env is not None:
            ok, parsed = self.parse_env(env, parse)
            if ok:
                self.set(name, parsed, f"env {env}")
                return parsed
        self.set(name, default, "default")
        return default

    def resource_attributes(self) -> dict[str, str]:
        """``OTEL_RESOURCE_ATTRIBUTES``, parsed once; ``{}`` if unset or invalid (reported once)."""
        if self._resource is None:
            ok, parsed = self.parse_env(
                "OTEL_RESOURCE_ATTRIBUTES", parse_resource_attributes, lenient=True
            )
            self._resource = parsed if ok else {}
        return self._resource

    def group(self, key: str) -> Optional[Mapping[str, Any]]:
        """A sub-dictionary: a mapping, ``True`` (= ``{}``) or absent/None/False (= off)."""
        if key not in self._groups:
            value = self.config.get(key)
            group: Optional[Mapping[str, Any]] = None
            if value is True:
                group = {}
            elif isinstance(value, Mapping):
                group = value
            elif value is not None and value is not False:
                self.config_error(key, value, "a mapping (or true/false)")
            self._groups[key] = group
        return self._groups[key]


def resolve(
    config: Mapping[str, Any],
    service_name: Optional[str],
    environ: Mapping[str, str],
    strict_env: bool,
    validate: bool,
) -> Resolver:
    """Every setting with its source; invalid values are in ``errors`` (or logged, for env)."""
    if validate:
        check_known_keys(config)
    r = Resolver(config, environ, strict_env)
    _resolve_service_name(r, service_name)
    for step in _STEPS:
        if callable(step):
            step(r)
        else:
            r.resolve(*step)
    return r


def _resolve_service_name(r: Resolver, argument: Optional[str]) -> None:
    """Config key > ``service_name`` argument > JAEGER_SERVICE_NAME > OTEL_SERVICE_NAME >
    ``service.name`` in OTEL_RESOURCE_ATTRIBUTES (OpenTelemetry's order for the last two)."""
    if r.config.get("service_name") is not None:
        r.resolve("service_name", parse_str, None)
    elif argument:
        r.set("service_name", argument, "argument")
    elif (
        r.resolve("service_name", parse_str, None, "JAEGER_SERVICE_NAME") is None
        and r.resolve("service_name", parse_str, None, "OTEL_SERVICE_NAME") is None
    ):
        name = r.resource_attributes().get("service.name", "").strip()
        if name:
            r.set("service_name", name, "env OTEL_RESOURCE_ATTRIBUTES")


def _resolve_enabled(r: Resolver) -> None:
    ok, disabled, source = False, None, "env JAEGER_DISABLED"
    if r.config.get("enabled") is None:
        ok, disabled = r.parse_env("JAEGER_DISABLED", parse_bool)
        otel = r.env("OTEL_SDK_DISABLED") if r.env("JAEGER_DISABLED") is None else None
        if otel is not None:
            # the OpenTelemetry spec: "true" in any case disables, and any other value does not
            ok, disabled, source = True, otel.strip().lower() == "true", "env OTEL_SDK_DISABLED"
    if ok:
        r.set("enabled", not disabled, source)
    else:
        r.resolve("enabled", parse_bool, True)


def check_known_keys(config: Mapping[str, Any]) -> None:
    unexpected = [str(k) for k in config if k not in _TOP_LEVEL_KEYS]
    for group, allowed in _GROUP_KEYS.items():
        value = config.get(group)
        if isinstance(value, Mapping):
            unexpected += [f"{group}.{k}" for k in value if k not in allowed]
    if unexpected:
        raise ValueError(
            f"Unexpected keys found in config: {', '.join(unexpected)}; "
            f"allowed keys: {', '.join(sorted(_TOP_LEVEL_KEYS))}"
        )


_DEFAULT_SAMPLER = SamplerSetting(
    constants.SAMPLER_TYPE_REMOTE, constants.DEFAULT_SAMPLING_PROBABILITY
)


def _resolve_sampler(r: Resolver) -> None:
    """Config ``sampler`` > JAEGER_SAMPLER_TYPE (+ _PARAM) > a lone JAEGER_SAMPLER_PARAM (the
    remote sampler's initial rate) > OTEL_TRACES_SAMPLER (+ _ARG) > the remote sampler."""
    value = r.config.get("sampler")
    if value is not None:
        if callable(getattr(value, "is_sampled", None)):  # a ready Sampler (upstream 4.7+)
            r.set("sampler", SamplerSetting("instance", value), "config")
            return
        if not isinstance(value, Mapping):
            r.config_error("sampler", value, "a Sampler or a mapping with type and param")
            r.set("sampler", _DEFAULT_SAMPLER, "default")
            return
        raw_type, raw_param = value.get("type"), value.get("param")
        if raw_type is None or raw_type == "":
            kind = constants.SAMPLER_TYPE_REMOTE  # upstream: no type -> the remote sampler
        else:
            ok, kind = r.parse_config("sampler.type", raw_type, parse_sampler_type)
            if not ok:
                r.set("sampler", _DEFAULT_SAMPLER, "default")
                return
        param = _sampler_param(r, kind, raw_param, "sampler.param")
        r.set("sampler", SamplerSetting(kind, param), "config")
        return

    raw_type, raw_param = r.env("JAEGER_SAMPLER_TYPE"), r.env("JAEGER_SAMPLER_PARAM")
    if raw_type is None and raw_param is None:
        if not _resolve_otel_sampler(r):
            r.set("sampler", _DEFAULT_SAMPLER, "default")
        return
    kind = constants.SAMPLER_TYPE_REMOTE  # Go's default type; a lone param is its initial rate
    if raw_type is not None:
        ok, kind = r.parse_env("JAEGER_SAMPLER_TYPE", parse_sampler_type)
        if not ok:
            r.set("sampler", _DEFAULT_SAMPLER, "default")
            return
    param = _sampler_param(r, kind, raw_param, None)
    if param is None:  # invalid (and reported): the environment's sampler is not used
        r.set("sampler", _DEFAULT_SAMPLER, "default")
        return
    given = (("JAEGER_SAMPLER_TYPE", raw_type), ("JAEGER_SAMPLER_PARAM", raw_param))
    source = " + ".join(f"env {var}" for var, raw in given if raw is not None)
    r.set("sampler", SamplerSetting(kind, param), source)


def _resolve_otel_sampler(r: Resolver) -> bool:
    """OTEL_TRACES_SAMPLER (+ OTEL_TRACES_SAMPLER_ARG), read only when neither
    JAEGER_SAMPLER_TYPE nor JAEGER_SAMPLER_PARAM is set; returns whether it set ``sampler``.

    ``always_on`` -> const True, ``always_off`` -> const False, ``traceidratio`` -> probabilistic
    at the ARG's rate (OpenTelemetry's default 1.0), ``jaeger_remote`` -> the remote sampler,
    with the ARG's ``initialSamplingRate`` as its initial rate; its ``endpoint`` and
    ``pollingIntervalMs`` are kept in ``r.otel_remote`` for the steps that resolve
    ``sampling_endpoint`` and ``sampling_refresh_interval``. Each ``parentbased_X`` means the
    same as ``X``: this tracer's child spans always follow their parent's decision, so only root
    spans are sampled by it (``always_off`` does not drop a trace sampled upstream).

    As OpenTelemetry reads them: a sampler name this tracer has not (another SDK's) and an
    invalid ARG are logged once and ignored, never an error, ``from_env`` included; the ARG is
    then taken as unset.
    """
    ok, kind = r.parse_env("OTEL_TRACES_SAMPLER", parse_otel_traces_sampler, lenient=True)
    if not ok:
        return False
    if kind in ("always_on", "always_off"):
        setting = SamplerSetting(constants.SAMPLER_TYPE_CONST, kind == "always_on")
        r.set("sampler", setting, "env OTEL_TRACES_SAMPLER")
        return True
    remote = kind == "jaeger_remote"
    parse = parse_jaeger_remote_arg if remote else parse_rate
    ok, arg = r.parse_env("OTEL_TRACES_SAMPLER_ARG", parse, lenient=True)
    sources = ["env OTEL_TRACES_SAMPLER"]
    options: dict[str, Any] = arg if ok and remote else {}
    rate = options.get("initial_sampling_rate") if remote else (arg if ok else None)
    if rate is not None:
        sources.append("env OTEL_TRACES_SAMPLER_ARG")
    else:
        rate = constants.DEFAULT_SAMPLING_PROBABILITY if remote else 1.0
    sampler_type = constants.SAMPLER_TYPE_REMOTE if remote else constants.SAMPLER_TYPE_PROBABILISTIC
    r.set("sampler", SamplerSetting(sampler_type, rate), " + ".join(sources))
    r.otel_remote = options
    return True


def _sampler_param(r: Resolver, kind: str, raw: Any, config_key: Optional[str]) -> Any:
    """The param for sampler type ``kind``; None when invalid (the error is reported)."""

    def invalid(allowed: str) -> None:
        if config_key is not None:
            r.config_error(config_key, raw, allowed)
        else:
            r.env_error(f"JAEGER_SAMPLER_PARAM={raw!r}: expected {allowed}")

    if raw is None:
        if kind in (constants.SAMPLER_TYPE_PROBABILISTIC, constants.SAMPLER_TYPE_RATE_LIMITING):
            invalid(f"a param for sampler type {kind}")
            return None
        if kind == constants.SAMPLER_TYPE_REMOTE:
            return constants.DEFAULT_SAMPLING_PROBABILITY
        return False  # const without param: upstream's get_boolean(None, False)
    try:
        return SAMPLER_PARAM_PARSERS[kind](raw)
    except Invalid as e:
        invalid(f"{e} for sampler type {kind}")
        return None


def _resolve_sampling_refresh_interval(r: Resolver) -> None:
    """Config key > JAEGER_SAMPLER_REFRESH_INTERVAL > ``pollingIntervalMs`` of a jaeger_remote
    OTEL_TRACES_SAMPLER_ARG > the default."""
    otel = r.otel_remote.get("polling_interval")
    if (
        otel is not None
        and r.config.get("sampling_refresh_interval") is None
        and r.env("JAEGER_SAMPLER_REFRESH_INTERVAL") is None
    ):
        r.set("sampling_refresh_interval", otel, "env OTEL_TRACES_SAMPLER_ARG")
        return
    r.resolve(
        "sampling_refresh_interval",
        parse_poll_interval,
        constants.DEFAULT_SAMPLING_INTERVAL,
        "JAEGER_SAMPLER_REFRESH_INTERVAL",
    )


def _resolve_sampling_endpoint(r: Resolver) -> None:
    """Config key > JAEGER_SAMPLING_ENDPOINT > JAEGER_SAMPLER_MANAGER_HOST_PORT (deprecated) >
    ``endpoint`` of a jaeger_remote OTEL_TRACES_SAMPLER_ARG > None (the agent's)."""
    if r.config.get("sampling_endpoint") is not None or r.env("JAEGER_SAMPLING_ENDPOINT"):
        r.resolve("sampling_endpoint", parse_url, None, "JAEGER_SAMPLING_ENDPOINT")
        return
    raw = r.env("JAEGER_SAMPLER_MANAGER_HOST_PORT")
    if raw is not None:  # deprecated: Go treats it as a URL, Java as host:port
        text = raw.strip()
        url = text if "://" in text else f"http://{text}/sampling"
        try:
            endpoint = parse_url(url)
        except Invalid as e:
            r.env_error(f"JAEGER_SAMPLER_MANAGER_HOST_PORT={raw!r}: expected host:port or {e}")
        else:
            log_once(
                "jaeger_client: JAEGER_SAMPLER_MANAGER_HOST_PORT is deprecated, "
                "use JAEGER_SAMPLING_ENDPOINT"
            )
            r.set("sampling_endpoint", endpoint, "env JAEGER_SAMPLER_MANAGER_HOST_PORT")
            return
    elif "endpoint" in r.otel_remote:
        r.set("sampling_endpoint", r.otel_remote["endpoint"], "env OTEL_TRACES_SAMPLER_ARG")
        return
    r.set("sampling_endpoint", None, "default")


def _resolve_reporter_sizes(r: Resolver) -> None:
    queue = r.resolve(
        "reporter_queue_size",
        parse_positive_int,
        constants.DEFAULT_REPORTER_QUEUE_SIZE,
        "JAEGER_REPORTER_MAX_QUEUE_SIZE",
    )
    if r.config.get("reporter_batch_size") is None:
        # a small explicit queue keeps working with the default batch (upstream: queue 50 is valid)
        r.set("reporter_batch_size", min(constants.DEFAULT_REPORTER_BATCH_SIZE, queue), "default")
        return
    batch = r.resolve("reporter_batch_size", parse_positive_int, None)
    if batch is None or batch <= queue:
        return
    if r.sources["reporter_queue_size"].startswith("env ") and not r.strict_env:
        r.env_error(
            f"JAEGER_REPORTER_MAX_QUEUE_SIZE={queue}: smaller than reporter_batch_size {batch}"
        )
        queue = max(constants.DEFAULT_REPORTER_QUEUE_SIZE, batch)
        r.set("reporter_queue_size", queue, "default")
        return
    r.errors.append(
        f"reporter_batch_size {batch} is larger than reporter_queue_size {queue} "
        f"(from {r.sources['reporter_queue_size']}); a batch must fit in the queue"
    )


def _resolve_max_packet_size(r: Resolver) -> None:
    # an IPv6 literal allows the larger IPv6 payload; names are assumed to resolve to IPv4
    host = r.values["local_agent.reporting_host"]
    limit = constants.UDP_MAX_PAYLOAD_IPV6 if ":" in host else constants.UDP_MAX_PAYLOAD_IPV4
    r.resolve(
        "max_packet_size",
        int_parser(1, limit, f"a UDP payload size in bytes for host {host}"),
        constants.UDP_MAX_PACKET_SIZE,
        "JAEGER_REPORTER_MAX_PACKET_SIZE",
    )


def _check_collector_credentials(r: Resolver) -> None:
    user, password = r.values["collector_user"], r.values["collector_password"]
    if (user is None) == (password is None):
        return
    given = "collector_user" if user is not None else "collector_password"
    if r.sources[given].startswith("env ") and not r.strict_env:
        r.env_error("JAEGER_USER and JAEGER_PASSWORD must be set together; ignoring both")
        r.set("collector_user", None, "default")
        r.set("collector_password", None, "default")
    else:
        r.errors.append(
            "collector_user and collector_password (JAEGER_USER, JAEGER_PASSWORD) "
            "must be set together"
        )


def _resolve_tags(r: Resolver) -> None:
    """Config ``tags`` merged with JAEGER_TAGS or, when that is unset, with the attributes in
    OTEL_RESOURCE_ATTRIBUTES but ``service.name``; the environment wins on conflicting keys."""
    tags: dict[str, Any] = {}
    sources = []
    value = r.config.get("tags")
    if value is not None:
        ok, parsed = r.parse_config("tags", value, parse_tags)
        if ok:
            tags.update(parsed)
            sources.append("config")
    raw = r.env("JAEGER_TAGS")
    if raw is not None:
        bad: list[str] = []
        env_tags = parse_env_tags(raw, r.environ, bad.append)
        for message in bad:
            r.env_error(message)
        if not (bad and r.strict_env):
            tags.update(env_tags)  # env wins on conflicting keys, as upstream
            sources.append("env JAEGER_TAGS")
    else:
        # service.name names the service (see _resolve_service_name): it is not a tag
        attributes = {k: v for k, v in r.resource_attributes().items() if k != "service.name"}
        if attributes:
            tags.update(attributes)
            sources.append("env OTEL_RESOURCE_ATTRIBUTES")
    r.set("tags", tags, " + ".join(sources) or "default")


def _resolve_propagation(r: Resolver) -> None:
    value = r.config.get("propagation")
    if value is not None:
        ok, names = r.parse_config("propagation", value, parse_propagation)
        if ok:
            upstream_b3 = isinstance(value, str) and value.strip().lower() == "b3"
            r.set("propagation", Propagation(names, upstream_b3), "config")
            return
    elif r.env("JAEGER_PROPAGATION") is not None:
        ok, names = r.parse_env("JAEGER_PROPAGATION", parse_propagation)
        if ok:
            r.set("propagation", Propagation(names, False), "env JAEGER_PROPAGATION")
            return
    else:  # OpenTelemetry's formats after jaeger (parse_otel_propagators)
        ok, parsed = r.parse_env("OTEL_PROPAGATORS", parse_otel_propagators, lenient=True)
        if ok:
            names, skipped = parsed
            if skipped:
                note_env(
                    f"OTEL_PROPAGATORS: {', '.join(skipped)} (no such format here; "
                    "tracecontext, baggage, b3, b3multi and jaeger are read)"
                )
            r.set("propagation", Propagation(names, False), "env OTEL_PROPAGATORS")
            return
    r.set("propagation", Propagation(("jaeger",), False), "default")


def _optional_group(name: str, *settings: _Simple) -> Callable[[Resolver], None]:
    """A group such as ``throttler`` that is off unless present; its settings only then."""

    def step(r: Resolver) -> None:
        present = r.group(name) is not None
        r.set(name, Group(present), "config" if present else "default")
        if present:
            for setting in settings:
                r.resolve(*setting)

    return step


# (setting, parser, default, environment variable); a dotted setting is a key in a group
_Simple = tuple[str, Callable[[Any], Any], Any, Optional[str]]

# Resolution order is display order (python -m jaeger_client); steps may read earlier settings.
_STEPS: tuple[Union[_Simple, Callable[[Resolver], None]], ...] = (
    _resolve_enabled,
    ("logging", parse_bool, False, "JAEGER_REPORTER_LOG_SPANS"),
    ("metrics", parse_bool, True, None),
    _resolve_sampler,
    _resolve_sampling_refresh_interval,
    (
        "max_operations",
        parse_positive_int,
        constants.DEFAULT_MAX_OPERATIONS,
        "JAEGER_SAMPLER_MAX_OPERATIONS",
    ),
    _resolve_sampling_endpoint,
    (
        "local_agent.reporting_host",
        parse_host,
        constants.DEFAULT_REPORTING_HOST,
        "JAEGER_AGENT_HOST",
    ),
    (
        "local_agent.reporting_port",
        parse_port,
        constants.DEFAULT_REPORTING_PORT,
        "JAEGER_AGENT_PORT",
    ),
    ("local_agent.sampling_port", parse_port, constants.DEFAULT_SAMPLING_PORT, None),
    ("local_agent.enabled", parse_bool, True, None),
    _resolve_reporter_sizes,
    (
        "reporter_flush_interval",
        parse_interval,
        constants.DEFAULT_FLUSH_INTERVAL,
        "JAEGER_REPORTER_FLUSH_INTERVAL",
    ),
    (
        "reporter_attempt_reconnect_interval",
        parse_interval,
        constants.DEFAULT_UDP_RESOLVE_INTERVAL,
        "JAEGER_REPORTER_ATTEMPT_RECONNECT_INTERVAL",
    ),
    (
        "reporter_attempt_reconnecting_disabled",
        parse_bool,
        False,
        "JAEGER_REPORTER_ATTEMPT_RECONNECTING_DISABLED",
    ),
    _resolve_max_packet_size,
    (
        "exit_flush_timeout",
        parse_timeout_allowing_zero,
        constants.DEFAULT_EXIT_FLUSH_TIMEOUT,
        None,
    ),
    ("collector_endpoint", parse_url, None, "JAEGER_ENDPOINT"),
    ("collector_user", parse_secret, None, "JAEGER_USER"),
    ("collector_password", parse_secret, None, "JAEGER_PASSWORD"),
    ("collector_auth_token", parse_secret, None, "JAEGER_AUTH_TOKEN"),
    ("collector_headers", parse_headers, None, None),
    ("collector_timeout", parse_interval, constants.DEFAULT_COLLECTOR_TIMEOUT, None),
    _check_collector_credentials,
    _resolve_tags,
    _resolve_propagation,
    ("trace_id_header", parse_str, constants.TRACE_ID_HEADER, None),
    ("baggage_header_prefix", parse_str, constants.BAGGAGE_HEADER_PREFIX, None),
    ("debug_id_header", parse_str, constants.DEBUG_ID_HEADER_KEY, None),
    ("generate_128bit_trace_id", parse_bool, False, "JAEGER_TRACEID_128BIT"),
    ("max_tag_value_length", parse_positive_int, constants.MAX_TAG_VALUE_LENGTH, None),
    ("max_traceback_length", parse_positive_int, constants.MAX_TRACEBACK_LENGTH, None),
    ("max_tags_per_span", parse_positive_int, constants.DEFAULT_MAX_TAGS_PER_SPAN, None),
    ("max_logs_per_span", parse_positive_int, constants.DEFAULT_MAX_LOGS_PER_SPAN, None),
    _optional_group(
        "throttler",
        ("throttler.port", parse_port, constants.DEFAULT_THROTTLER_PORT, None),
        (
            "throttler.refresh_interval",
            parse_poll_interval,
            constants.DEFAULT_THROTTLER_REFRESH_INTERVAL,
            None,
        ),
    ),
    _optional_group(
        "baggage_restrictions",
        (
            "baggage_restrictions.deny_baggage_on_initialization_failure",
            parse_bool,
            False,
            None,
        ),
        (
            "baggage_restrictions.refresh_interval",
            parse_poll_interval,
            constants.DEFAULT_BAGGAGE_RESTRICTIONS_REFRESH_INTERVAL,
            None,
        ),
    ),
)
