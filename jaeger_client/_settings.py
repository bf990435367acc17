"""Config settings: parse and validate upstream's dict keys and the ``JAEGER_*`` variables.

Pure functions of a config mapping and an environment mapping: this module never reads
``os.environ`` itself (``jaeger_client.config`` passes it in). Each setting is recorded with
where it came from (``default``, ``config``, ``argument`` or ``env VAR``), which
``python -m jaeger_client`` shows.
"""

from __future__ import annotations

import logging
import math
import re
import threading
from collections.abc import Mapping
from typing import Any, Callable, NamedTuple, Optional, TypeVar, Union
from urllib.parse import urlsplit

from . import constants
from .utils import get_boolean

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
    "JAEGER_TAGS",
    "JAEGER_SAMPLER_TYPE",
    "JAEGER_SAMPLER_PARAM",
    "JAEGER_SAMPLING_ENDPOINT",
    "JAEGER_SAMPLER_MANAGER_HOST_PORT",
    "JAEGER_SAMPLER_MAX_OPERATIONS",
    "JAEGER_SAMPLER_REFRESH_INTERVAL",
    "JAEGER_REPORTER_MAX_QUEUE_SIZE",
    "JAEGER_REPORTER_FLUSH_INTERVAL",
    "JAEGER_REPORTER_LOG_SPANS",
    "JAEGER_REPORTER_MAX_PACKET_SIZE",
    "JAEGER_ENDPOINT",
    "JAEGER_USER",
    "JAEGER_PASSWORD",
    "JAEGER_AUTH_TOKEN",
    "JAEGER_AGENT_HOST",
    "JAEGER_AGENT_PORT",
    "JAEGER_TRACEID_128BIT",
    "JAEGER_PROPAGATION",
)
SECRET_SETTINGS = frozenset({"collector_password", "collector_auth_token"})


# ---- value parsers: each returns the parsed value or raises _Invalid(what is allowed) ----------


class _Invalid(ValueError):
    """Raised by a parser; the message says what is allowed."""


def _parse_bool(value: Any) -> bool:
    """Upstream's ``get_boolean`` meanings; a value it does not know is an error, not a default."""
    if isinstance(value, bool):
        return value
    if get_boolean(value, True) != get_boolean(value, False):
        raise _Invalid("a boolean: true/false, 1/0 (or none for false)")
    return get_boolean(value, False)


def _int_parser(
    low: int, high: Optional[int] = None, what: str = "an integer"
) -> Callable[[Any], int]:
    allowed = f"{what} from {low} to {high}" if high is not None else f"{what} >= {low}"

    def parse(value: Any) -> int:
        if isinstance(value, bool):
            raise _Invalid(allowed)
        if isinstance(value, int):
            number = value
        elif isinstance(value, float) and value.is_integer():
            number = int(value)
        elif isinstance(value, str):
            try:
                number = int(value.strip(), 10)
            except ValueError:
                raise _Invalid(allowed) from None
        else:
            raise _Invalid(allowed)
        if number < low or (high is not None and number > high):
            raise _Invalid(allowed)
        return number

    return parse


_parse_port = _int_parser(1, 65535, "a port number")
_parse_positive_int = _int_parser(1)

# Go's time.ParseDuration units; a plain number means seconds.
_DURATION_UNITS = {
    "ns": 1e-9,
    "us": 1e-6,
    "µs": 1e-6,  # Go accepts both micro signs
    "μs": 1e-6,
    "ms": 1e-3,
    "s": 1.0,
    "m": 60.0,
    "h": 3600.0,
}
_DURATION_PART = re.compile(r"(\d+(?:\.\d*)?|\.\d+)(ns|us|µs|μs|ms|s|m|h)")


def _parse_duration(text: str) -> float:
    """Seconds from ``'2.5'`` (seconds) or a Go duration such as ``'500ms'``, ``'1m30s'``."""
    text = text.strip()
    try:
        return float(text)
    except ValueError:
        pass
    total, position = 0.0, 0
    while position < len(text):
        match = _DURATION_PART.match(text, position)
        if match is None:
            raise _Invalid("a number of seconds or a duration such as 500ms, 10s, 1m30s")
        total += float(match.group(1)) * _DURATION_UNITS[match.group(2)]
        position = match.end()
    if position == 0:
        raise _Invalid("a number of seconds or a duration such as 500ms, 10s, 1m30s")
    return total


def _seconds_parser(allow_zero: bool = False) -> Callable[[Any], Union[int, float]]:
    bound = ">= 0" if allow_zero else "> 0"
    allowed = f"a number of seconds {bound} (or a duration such as 500ms, 1m)"

    def parse(value: Any) -> Union[int, float]:
        if isinstance(value, bool):
            raise _Invalid(allowed)
        if isinstance(value, (int, float)):
            seconds: Union[int, float] = value
        elif isinstance(value, str):
            try:
                seconds = _parse_duration(value)
            except _Invalid:
                raise _Invalid(allowed) from None
        else:
            raise _Invalid(allowed)
        if not math.isfinite(seconds) or seconds < 0 or (seconds == 0 and not allow_zero):
            raise _Invalid(allowed)
        return seconds

    return parse


_parse_interval = _seconds_parser()
_parse_timeout_allowing_zero = _seconds_parser(allow_zero=True)


def _parse_float(value: Any, low: float, high: float, allowed: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float, str)):
        raise _Invalid(allowed)
    try:
        number = float(value)
    except ValueError:
        raise _Invalid(allowed) from None
    if not math.isfinite(number) or not low <= number <= high:
        raise _Invalid(allowed)
    return number


def _parse_rate(value: Any) -> float:
    return _parse_float(value, 0.0, 1.0, "a sampling probability from 0.0 to 1.0")


def _parse_traces_per_second(value: Any) -> float:
    top = constants.MAX_TRACES_PER_SECOND
    return _parse_float(value, 0.0, top, f"a number of traces per second from 0 to {top:g}")


def _parse_const_decision(value: Any) -> bool:
    """``get_boolean``'s values, plus the numbers 0 and 1 (``JAEGER_SAMPLER_PARAM=1.0``)."""
    if isinstance(value, (int, float, str)) and not isinstance(value, bool):
        try:
            number: Optional[float] = float(value)
        except ValueError:
            number = None
        if number in (0.0, 1.0):
            return number == 1.0
    try:
        return _parse_bool(value)
    except _Invalid:
        raise _Invalid("a boolean or 0/1 for the const sampler") from None


def _parse_str(value: Any) -> str:
    if not isinstance(value, str) or not value.strip():
        raise _Invalid("a non-empty string")
    return value.strip()


def _parse_secret(value: Any) -> str:
    if not isinstance(value, str) or not value:
        raise _Invalid("a non-empty string")
    return value


def _parse_url(value: Any) -> str:
    allowed = "an http:// or https:// URL with a host"
    if not isinstance(value, str):
        raise _Invalid(allowed)
    text = value.strip()
    try:
        parts = urlsplit(text)
        _ = parts.port  # raises ValueError for a port outside 0-65535 or not a number
    except ValueError:
        raise _Invalid(allowed) from None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise _Invalid(allowed)
    return text


_HEADER_NAME = re.compile(r"^[!#$%&'*+.^_`|~0-9A-Za-z-]+$")  # RFC 9110 token


def _parse_headers(value: Any) -> dict[str, str]:
    allowed = "a mapping of header names to string values (no CR or LF)"
    if not isinstance(value, Mapping):
        raise _Invalid(allowed)
    headers: dict[str, str] = {}
    for name, header_value in value.items():
        if not isinstance(name, str) or not _HEADER_NAME.match(name):
            raise _Invalid(allowed)
        if not isinstance(header_value, str) or "\r" in header_value or "\n" in header_value:
            raise _Invalid(allowed)
        headers[name] = header_value
    return headers


def _parse_tags(value: Any) -> dict[str, Any]:
    if not isinstance(value, Mapping) or not all(isinstance(k, str) for k in value):
        raise _Invalid("a mapping with string keys")
    return dict(value)


_PROPAGATION_ALIASES = {
    "jaeger": "jaeger",
    "b3": "b3",
    "b3-single": "b3-single",
    "b3single": "b3-single",
    "w3c": "w3c",
}


def _parse_propagation(value: Any) -> tuple[str, ...]:
    allowed = "a list or comma-separated string of jaeger, b3, b3-single, w3c"
    if isinstance(value, str):
        items: list[Any] = value.split(",")
    elif isinstance(value, (list, tuple)):
        items = list(value)
    else:
        raise _Invalid(allowed)
    names: list[str] = []
    for item in items:
        name = _PROPAGATION_ALIASES.get(item.strip().lower()) if isinstance(item, str) else None
        if name is None:
            raise _Invalid(allowed)
        if name not in names:
            names.append(name)
    if not names:
        raise _Invalid(allowed)
    return tuple(names)


_SAMPLER_TYPES = {
    constants.SAMPLER_TYPE_CONST: constants.SAMPLER_TYPE_CONST,
    constants.SAMPLER_TYPE_PROBABILISTIC: constants.SAMPLER_TYPE_PROBABILISTIC,
    constants.SAMPLER_TYPE_RATE_LIMITING: constants.SAMPLER_TYPE_RATE_LIMITING,
    "rate_limiting": constants.SAMPLER_TYPE_RATE_LIMITING,
    constants.SAMPLER_TYPE_REMOTE: constants.SAMPLER_TYPE_REMOTE,
}
_SAMPLER_PARAM_PARSERS: dict[str, Callable[[Any], Any]] = {
    constants.SAMPLER_TYPE_CONST: _parse_const_decision,
    constants.SAMPLER_TYPE_PROBABILISTIC: _parse_rate,
    constants.SAMPLER_TYPE_RATE_LIMITING: _parse_traces_per_second,
    constants.SAMPLER_TYPE_REMOTE: _parse_rate,
}


def _parse_sampler_type(value: Any) -> str:
    kind = _SAMPLER_TYPES.get(value.strip().lower()) if isinstance(value, str) else None
    if kind is None:
        raise _Invalid("one of const, probabilistic, ratelimiting (or rate_limiting), remote")
    return kind


class SamplerSetting(NamedTuple):
    """A sampler described by type and param (or a ready Sampler instance, type ``instance``)."""

    type: str
    param: Any

    def __str__(self) -> str:
        if self.type == "instance":
            return repr(self.param)
        return f"{self.type} (param {self.param!r})"


class Propagation(NamedTuple):
    names: tuple[str, ...]
    http_headers_only: bool  # upstream's propagation: 'b3' replaced only the HTTP_HEADERS codec

    def __str__(self) -> str:
        text = ",".join(self.names)
        return f"{text} (HTTP_HEADERS only, as upstream)" if self.http_headers_only else text


class Group(NamedTuple):
    """A sub-dictionary such as ``throttler``: whether it is present, and its resolved values."""

    enabled: bool

    def __str__(self) -> str:
        return "on" if self.enabled else "off"


# ---- environment helpers -----------------------------------------------------------------------

_logged: set[str] = set()
_logged_lock = threading.Lock()


def log_once(message: str) -> None:
    with _logged_lock:
        if message in _logged:
            return
        _logged.add(message)
    logger.warning(message)


_ENV_REFERENCE = re.compile(r"^\$\{([^}:]*)(?::(.*))?\}$", re.DOTALL)


def _parse_env_tags(
    text: str, environ: Mapping[str, str], report: Callable[[str], None]
) -> dict[str, str]:
    """``k=v,k2=${VAR:default}`` -> tags; a value may contain ``=``; bad entries are reported."""
    tags: dict[str, str] = {}
    for entry in text.split(","):
        if not entry.strip():
            continue  # tolerate "a=1," and "a=1,,b=2"
        key, sep, value = entry.partition("=")
        key, value = key.strip(), value.strip()
        if not sep or not key:
            report(f"JAEGER_TAGS entry {entry.strip()!r}: expected key=value")
            continue
        reference = _ENV_REFERENCE.match(value)
        if reference is not None:
            name, default = reference.group(1), reference.group(2)
            value = environ.get(name, "") or (default or "")
        tags[key] = value
    return tags


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
        except _Invalid as e:
            self.config_error(key, value, e)
            return False, None

    def env(self, var: str) -> Optional[str]:
        raw = self.environ.get(var)
        return raw if raw is not None and raw.strip() else None

    def parse_env(self, var: str, parse: Callable[[Any], _T]) -> tuple[bool, Any]:
        raw = self.env(var)
        if raw is None:
            return False, None
        try:
            return True, parse(raw)
        except _Invalid as e:
            shown = "<redacted>" if var in ("JAEGER_PASSWORD", "JAEGER_AUTH_TOKEN") else repr(raw)
            self.env_error(f"{var}={shown}: expected {e}")
            return False, None

    def resolve(
        self,
        name: str,
        parse: Callable[[Any], Any],
        default: Any,
        env: Optional[str] = None,
        group: Optional[Mapping[str, Any]] = None,
        key: Optional[str] = None,
    ) -> Any:
        """Config key (``name``, or ``key`` inside ``group``) > environment ``env`` > default."""
        container = self.config if group is None else group
        config_key = name if key is None else key
        value = container.get(config_key)
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

    def group(self, key: str) -> Optional[Mapping[str, Any]]:
        """A sub-dictionary: a mapping, ``True`` (= ``{}``) or absent/None/False (= off)."""
        value = self.config.get(key)
        if value is None or value is False:
            return None
        if value is True:
            return {}
        if not isinstance(value, Mapping):
            self.config_error(key, value, "a mapping (or true/false)")
            return None
        return value


def resolve(
    config: Mapping[str, Any],
    service_name: Optional[str],
    environ: Mapping[str, str],
    strict_env: bool,
    validate: bool,
) -> Resolver:
    r = Resolver(config, environ, strict_env)
    if validate:
        check_known_keys(config)

    # service name: config key > service_name argument > JAEGER_SERVICE_NAME > OTEL_SERVICE_NAME
    if config.get("service_name") is not None:
        r.resolve("service_name", _parse_str, None)
    elif service_name:
        r.set("service_name", service_name, "argument")
    else:
        for var in ("JAEGER_SERVICE_NAME", "OTEL_SERVICE_NAME"):
            ok, name = r.parse_env(var, _parse_str)
            if ok:
                r.set("service_name", name, f"env {var}")
                break
        else:
            r.set("service_name", None, "default")

    ok, disabled = False, None
    if config.get("enabled") is None:
        ok, disabled = r.parse_env("JAEGER_DISABLED", _parse_bool)
    if ok:
        r.set("enabled", not disabled, "env JAEGER_DISABLED")
    else:
        r.resolve("enabled", _parse_bool, True)
    r.resolve("logging", _parse_bool, False, "JAEGER_REPORTER_LOG_SPANS")
    r.resolve("metrics", _parse_bool, True)

    _resolve_sampler(r)
    r.resolve(
        "sampling_refresh_interval",
        _parse_interval,
        constants.DEFAULT_SAMPLING_INTERVAL,
        "JAEGER_SAMPLER_REFRESH_INTERVAL",
    )
    r.resolve(
        "max_operations",
        _parse_positive_int,
        constants.DEFAULT_MAX_OPERATIONS,
        "JAEGER_SAMPLER_MAX_OPERATIONS",
    )
    _resolve_sampling_endpoint(r)

    agent = r.group("local_agent") or {}
    host = r.resolve(
        "local_agent.reporting_host",
        _parse_str,
        constants.DEFAULT_REPORTING_HOST,
        "JAEGER_AGENT_HOST",
        agent,
        "reporting_host",
    )
    r.resolve(
        "local_agent.reporting_port",
        _parse_port,
        constants.DEFAULT_REPORTING_PORT,
        "JAEGER_AGENT_PORT",
        agent,
        "reporting_port",
    )
    r.resolve(
        "local_agent.sampling_port",
        _parse_port,
        constants.DEFAULT_SAMPLING_PORT,
        None,
        agent,
        "sampling_port",
    )
    r.resolve("local_agent.enabled", _parse_bool, True, None, agent, "enabled")

    _resolve_reporter_sizes(r)
    r.resolve(
        "reporter_flush_interval",
        _parse_interval,
        constants.DEFAULT_FLUSH_INTERVAL,
        "JAEGER_REPORTER_FLUSH_INTERVAL",
    )
    _resolve_max_packet_size(r, host)
    r.resolve(
        "exit_flush_timeout", _parse_timeout_allowing_zero, constants.DEFAULT_EXIT_FLUSH_TIMEOUT
    )
    _resolve_collector(r)

    _resolve_tags(r)
    _resolve_propagation(r)
    r.resolve("trace_id_header", _parse_str, constants.TRACE_ID_HEADER)
    r.resolve("baggage_header_prefix", _parse_str, constants.BAGGAGE_HEADER_PREFIX)
    r.resolve("debug_id_header", _parse_str, constants.DEBUG_ID_HEADER_KEY)
    r.resolve("generate_128bit_trace_id", _parse_bool, False, "JAEGER_TRACEID_128BIT")
    r.resolve("max_tag_value_length", _parse_positive_int, constants.MAX_TAG_VALUE_LENGTH)
    r.resolve("max_traceback_length", _parse_positive_int, constants.MAX_TRACEBACK_LENGTH)
    r.resolve("max_tags_per_span", _parse_positive_int, constants.DEFAULT_MAX_TAGS_PER_SPAN)
    r.resolve("max_logs_per_span", _parse_positive_int, constants.DEFAULT_MAX_LOGS_PER_SPAN)

    throttler = r.group("throttler")
    r.set("throttler", Group(throttler is not None), "default" if throttler is None else "config")
    if throttler is not None:
        r.resolve(
            "throttler.port", _parse_port, constants.DEFAULT_THROTTLER_PORT, None, throttler, "port"
        )
        r.resolve(
            "throttler.refresh_interval",
            _parse_interval,
            constants.DEFAULT_THROTTLER_REFRESH_INTERVAL,
            None,
            throttler,
            "refresh_interval",
        )
    restrictions = r.group("baggage_restrictions")
    r.set(
        "baggage_restrictions",
        Group(restrictions is not None),
        "default" if restrictions is None else "config",
    )
    if restrictions is not None:
        r.resolve(
            "baggage_restrictions.deny_baggage_on_initialization_failure",
            _parse_bool,
            False,
            None,
            restrictions,
            "deny_baggage_on_initialization_failure",
        )
        r.resolve(
            "baggage_restrictions.refresh_interval",
            _parse_interval,
            constants.DEFAULT_BAGGAGE_RESTRICTIONS_REFRESH_INTERVAL,
            None,
            restrictions,
            "refresh_interval",
        )
    return r


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


def _resolve_sampler(r: Resolver) -> None:
    value = r.config.get("sampler")
    default = SamplerSetting(constants.SAMPLER_TYPE_REMOTE, constants.DEFAULT_SAMPLING_PROBABILITY)
    if value is not None:
        if callable(getattr(value, "is_sampled", None)):  # a ready Sampler (upstream 4.7+)
            r.set("sampler", SamplerSetting("instance", value), "config")
            return
        if not isinstance(value, Mapping):
            r.config_error("sampler", value, "a Sampler or a mapping with type and param")
            r.set("sampler", default, "default")
            return
        raw_type, raw_param = value.get("type"), value.get("param")
        if raw_type is None or raw_type == "":
            kind = constants.SAMPLER_TYPE_REMOTE  # upstream: no type -> the remote sampler
        else:
            ok, kind = r.parse_config("sampler.type", raw_type, _parse_sampler_type)
            if not ok:
                r.set("sampler", default, "default")
                return
        param = _sampler_param(r, kind, raw_param, "sampler.param")
        r.set("sampler", SamplerSetting(kind, param), "config")
        return

    raw_type, raw_param = r.env("JAEGER_SAMPLER_TYPE"), r.env("JAEGER_SAMPLER_PARAM")
    if raw_type is None and raw_param is None:
        r.set("sampler", default, "default")
        return
    kind = constants.SAMPLER_TYPE_REMOTE  # Go's default type; a lone param is its initial rate
    if raw_type is not None:
        ok, kind = r.parse_env("JAEGER_SAMPLER_TYPE", _parse_sampler_type)
        if not ok:
            r.set("sampler", default, "default")
            return
    param = _sampler_param(r, kind, raw_param, None)
    if param is None:  # invalid (and reported): the environment's sampler is not used
        r.set("sampler", default, "default")
        return
    given = (("JAEGER_SAMPLER_TYPE", raw_type), ("JAEGER_SAMPLER_PARAM", raw_param))
    source = " + ".join(f"env {var}" for var, raw in given if raw is not None)
    r.set("sampler", SamplerSetting(kind, param), source)


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
        return _SAMPLER_PARAM_PARSERS[kind](raw)
    except _Invalid as e:
        invalid(f"{e} for sampler type {kind}")
        return None


def _resolve_sampling_endpoint(r: Resolver) -> None:
    if r.config.get("sampling_endpoint") is not None or r.env("JAEGER_SAMPLING_ENDPOINT"):
        r.resolve("sampling_endpoint", _parse_url, None, "JAEGER_SAMPLING_ENDPOINT")
        return
    raw = r.env("JAEGER_SAMPLER_MANAGER_HOST_PORT")
    if raw is not None:  # deprecated: Go treats it as a URL, Java as host:port
        text = raw.strip()
        url = text if "://" in text else f"http://{text}/sampling"
        try:
            endpoint = _parse_url(url)
        except _Invalid as e:
            r.env_error(f"JAEGER_SAMPLER_MANAGER_HOST_PORT={raw!r}: expected host:port or {e}")
        else:
            log_once(
                "jaeger_client: JAEGER_SAMPLER_MANAGER_HOST_PORT is deprecated, "
                "use JAEGER_SAMPLING_ENDPOINT"
            )
            r.set("sampling_endpoint", endpoint, "env JAEGER_SAMPLER_MANAGER_HOST_PORT")
            return
    r.set("sampling_endpoint", None, "default")


def _resolve_reporter_sizes(r: Resolver) -> None:
    queue = r.resolve(
        "reporter_queue_size",
        _parse_positive_int,
        constants.DEFAULT_REPORTER_QUEUE_SIZE,
        "JAEGER_REPORTER_MAX_QUEUE_SIZE",
    )
    if r.config.get("reporter_batch_size") is None:
        # a small explicit queue keeps working with the default batch (upstream: queue 50 is valid)
        r.set("reporter_batch_size", min(constants.DEFAULT_REPORTER_BATCH_SIZE, queue), "default")
        return
    batch = r.resolve("reporter_batch_size", _parse_positive_int, None)
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


def _resolve_max_packet_size(r: Resolver, host: str) -> None:
    # an IPv6 literal allows the larger IPv6 payload; names are assumed to resolve to IPv4
    limit = constants.UDP_MAX_PAYLOAD_IPV6 if ":" in host else constants.UDP_MAX_PAYLOAD_IPV4
    r.resolve(
        "max_packet_size",
        _int_parser(1, limit, f"a UDP payload size in bytes for host {host}"),
        constants.UDP_MAX_PACKET_SIZE,
        "JAEGER_REPORTER_MAX_PACKET_SIZE",
    )


def _resolve_collector(r: Resolver) -> None:
    r.resolve("collector_endpoint", _parse_url, None, "JAEGER_ENDPOINT")
    user = r.resolve("collector_user", _parse_secret, None, "JAEGER_USER")
    password = r.resolve("collector_password", _parse_secret, None, "JAEGER_PASSWORD")
    r.resolve("collector_auth_token", _parse_secret, None, "JAEGER_AUTH_TOKEN")
    r.resolve("collector_headers", _parse_headers, None)
    r.resolve("collector_timeout", _parse_interval, constants.DEFAULT_COLLECTOR_TIMEOUT)
    if (user is None) != (password is None):
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
    tags: dict[str, Any] = {}
    sources = []
    value = r.config.get("tags")
    if value is not None:
        ok, parsed = r.parse_config("tags", value, _parse_tags)
        if ok:
            tags.update(parsed)
            sources.append("config")
    raw = r.env("JAEGER_TAGS")
    if raw is not None:
        bad: list[str] = []
        env_tags = _parse_env_tags(raw, r.environ, bad.append)
        for message in bad:
            r.env_error(message)
        if not (bad and r.strict_env):
            tags.update(env_tags)  # env wins on conflicting keys, as upstream
            sources.append("env JAEGER_TAGS")
    r.set("tags", tags, " + ".join(sources) or "default")


def _resolve_propagation(r: Resolver) -> None:
    value = r.config.get("propagation")
    if value is not None:
        ok, names = r.parse_config("propagation", value, _parse_propagation)
        if ok:
            upstream_b3 = isinstance(value, str) and value.strip().lower() == "b3"
            r.set("propagation", Propagation(names, upstream_b3), "config")
            return
    else:
        ok, names = r.parse_env("JAEGER_PROPAGATION", _parse_propagation)
        if ok:
            r.set("propagation", Propagation(names, False), "env JAEGER_PROPAGATION")
            return
    r.set("propagation", Propagation(("jaeger",), False), "default")
