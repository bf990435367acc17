"""Parsers for config and environment values: each returns the value or raises ``Invalid``.

``Invalid``'s message says what is allowed; the caller adds the key or variable and the value.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from typing import Any, Callable, NamedTuple, Optional, Union
from urllib.parse import unquote, urlsplit

from .. import constants
from ..utils import get_boolean, is_host

__all__ = [
    "SAMPLER_PARAM_PARSERS",
    "Group",
    "Invalid",
    "Propagation",
    "SamplerSetting",
    "check_sampling_endpoint",
    "int_parser",
    "parse_bool",
    "parse_const_decision",
    "parse_duration",
    "parse_env_tags",
    "parse_float",
    "parse_headers",
    "parse_interval",
    "parse_jaeger_remote_arg",
    "parse_otel_propagators",
    "parse_otel_traces_sampler",
    "parse_poll_interval",
    "parse_port",
    "parse_positive_int",
    "parse_propagation",
    "parse_rate",
    "parse_resource_attributes",
    "parse_sampler_type",
    "parse_secret",
    "parse_str",
    "parse_tags",
    "parse_timeout_allowing_zero",
    "parse_traces_per_second",
    "parse_url",
    "seconds_parser",
]


class Invalid(ValueError):
    """Raised by a parser; the message says what is allowed."""


def parse_bool(value: Any) -> bool:
    """Upstream's ``get_boolean`` meanings; a value it does not know is an error, not a default."""
    if isinstance(value, bool):
        return value
    if get_boolean(value, True) != get_boolean(value, False):
        raise Invalid("a boolean: true/false, 1/0 (or none for false)")
    return get_boolean(value, False)


def int_parser(
    low: int, high: Optional[int] = None, what: str = "an integer"
) -> Callable[[Any], int]:
    allowed = f"{what} from {low} to {high}" if high is not None else f"{what} >= {low}"

    def parse(value: Any) -> int:
        if isinstance(value, bool):
            raise Invalid(allowed)
        if isinstance(value, int):
            number = value
        elif isinstance(value, float) and value.is_integer():
            number = int(value)
        elif isinstance(value, str):
            try:
                number = int(value.strip(), 10)
            except ValueError:
                raise Invalid(allowed) from None
        else:
            raise Invalid(allowed)
        if number < low or (high is not None and number > high):
            raise Invalid(allowed)
        return number

    return parse


parse_port = int_parser(1, 65535, "a port number")
parse_positive_int = int_parser(1)

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


def parse_duration(text: str) -> float:
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
            raise Invalid("a number of seconds or a duration such as 500ms, 10s, 1m30s")
        total += float(match.group(1)) * _DURATION_UNITS[match.group(2)]
        position = match.end()
    if position == 0:
        raise Invalid("a number of seconds or a duration such as 500ms, 10s, 1m30s")
    return total


def seconds_parser(
    allow_zero: bool = False, below: float = math.inf
) -> Callable[[Any], Union[int, float]]:
    bound = ">= 0" if allow_zero else "> 0"
    if below != math.inf:
        bound += f" and under {below:,.0f}"
    allowed = f"a number of seconds {bound} (or a duration such as 500ms, 1m)"

    def parse(value: Any) -> Union[int, float]:
        if isinstance(value, bool):
            raise Invalid(allowed)
        if isinstance(value, (int, float)):
            seconds: Union[int, float] = value
        elif isinstance(value, str):
            try:
                seconds = parse_duration(value)
            except Invalid:
                raise Invalid(allowed) from None
        else:
            raise Invalid(allowed)
        if not (0 <= seconds < below) or (seconds == 0 and not allow_zero):
            raise Invalid(allowed)
        return seconds

    return parse


parse_interval = seconds_parser()
# the pollers' intervals: local_agent_net.check_seconds takes them under 1e6 s (~11.5 days)
parse_poll_interval = seconds_parser(below=1e6)
parse_timeout_allowing_zero = seconds_parser(allow_zero=True)


def parse_float(value: Any, low: float, high: float, allowed: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float, str)):
        raise Invalid(allowed)
    try:
        number = float(value)
    except ValueError:
        raise Invalid(allowed) from None
    if not math.isfinite(number) or not low <= number <= high:
        raise Invalid(allowed)
    return number


def parse_rate(value: Any) -> float:
    return parse_float(value, 0.0, 1.0, "a sampling probability from 0.0 to 1.0")


def parse_traces_per_second(value: Any) -> float:
    top = constants.MAX_TRACES_PER_SECOND
    return parse_float(value, 0.0, top, f"a number of traces per second from 0 to {top:g}")


def parse_const_decision(value: Any) -> bool:
    """``get_boolean``'s values, plus the numbers 0 and 1 (``JAEGER_SAMPLER_PARAM=1.0``)."""
    if isinstance(value, (int, float, str)) and not isinstance(value, bool):
        try:
            number: Optional[float] = float(value)
        except ValueError:
            number = None
        if number in (0.0, 1.0):
            return number == 1.0
    try:
        return parse_bool(value)
    except Invalid:
        raise Invalid("a boolean or 0/1 for the const sampler") from None


def parse_str(value: Any) -> str:
    if not isinstance(value, str) or not value.strip():
        raise Invalid("a non-empty string")
    return value.strip()


def parse_host(value: Any) -> str:
    host = parse_str(value)
    if not is_host(host):
        raise Invalid("a host name or an IP address (no scheme, port or path)")
    return host


def parse_secret(value: Any) -> str:
    if not isinstance(value, str) or not value:
        raise Invalid("a non-empty string")
    return value


def parse_url(value: Any) -> str:
    allowed = "an http:// or https:// URL with a host"
    if not isinstance(value, str):
        raise Invalid(allowed)
    text = value.strip()
    try:
        parts = urlsplit(text)
        _ = parts.port  # raises ValueError for a port outside 0-65535 or not a number
    except ValueError:
        raise Invalid(allowed) from None
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise Invalid(allowed)
    return text


_HEADER_NAME = re.compile(r"^[!#$%&'*+.^_`|~0-9A-Za-z-]+$")  # RFC 9110 token


def parse_headers(value: Any) -> dict[str, str]:
    allowed = "a mapping of header names to string values (no CR or LF)"
    if not isinstance(value, Mapping):
        raise Invalid(allowed)
    headers: dict[str, str] = {}
    for name, header_value in value.items():
        if not isinstance(name, str) or not _HEADER_NAME.match(name):
            raise Invalid(allowed)
        if not isinstance(header_value, str) or "\r" in header_value or "\n" in header_value:
            raise Invalid(allowed)
        headers[name] = header_value
    return headers


def parse_tags(value: Any) -> dict[str, Any]:
    if not isinstance(value, Mapping) or not all(isinstance(k, str) for k in value):
        raise Invalid("a mapping with string keys")
    return dict(value)


_PROPAGATION_ALIASES = {
    "jaeger": "jaeger",
    "b3": "b3",
    "b3multi": "b3",  # OTEL_PROPAGATORS' name (its "b3" is the single header)
    "b3-single": "b3-single",
    "b3single": "b3-single",
    "w3c": "w3c",
    "tracecontext": "w3c",  # OTEL_PROPAGATORS' name
    "baggage": "baggage",  # W3C baggage header, OTEL_PROPAGATORS' name
}


def parse_propagation(value: Any) -> tuple[str, ...]:
    allowed = "a list or comma-separated string of jaeger, b3, b3-single, w3c, baggage"
    if isinstance(value, str):
        items: list[Any] = value.split(",")
    elif isinstance(value, (list, tuple)):
        items = list(value)
    else:
        raise Invalid(allowed)
    names: list[str] = []
    for item in items:
        name = _PROPAGATION_ALIASES.get(item.strip().lower()) if isinstance(item, str) else None
        if name is None:
            raise Invalid(allowed)
        if name not in names:
            names.append(name)
    if not names:
        raise Invalid(allowed)
    return tuple(names)


_SAMPLER_TYPES = {
    constants.SAMPLER_TYPE_CONST: constants.SAMPLER_TYPE_CONST,
    constants.SAMPLER_TYPE_PROBABILISTIC: constants.SAMPLER_TYPE_PROBABILISTIC,
    constants.SAMPLER_TYPE_RATE_LIMITING: constants.SAMPLER_TYPE_RATE_LIMITING,
    "rate_limiting": constants.SAMPLER_TYPE_RATE_LIMITING,
    constants.SAMPLER_TYPE_REMOTE: constants.SAMPLER_TYPE_REMOTE,
}
SAMPLER_PARAM_PARSERS: dict[str, Callable[[Any], Any]] = {
    constants.SAMPLER_TYPE_CONST: parse_const_decision,
    constants.SAMPLER_TYPE_PROBABILISTIC: parse_rate,
    constants.SAMPLER_TYPE_RATE_LIMITING: parse_traces_per_second,
    constants.SAMPLER_TYPE_REMOTE: parse_rate,
}


def parse_sampler_type(value: Any) -> str:
    kind = _SAMPLER_TYPES.get(value.strip().lower()) if isinstance(value, str) else None
    if kind is None:
        raise Invalid("one of const, probabilistic, ratelimiting (or rate_limiting), remote")
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


_ENV_REFERENCE = re.compile(r"^\$\{([^}:]*)(?::(.*))?\}$", re.DOTALL)


def parse_env_tags(
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


# ---- OpenTelemetry's variables ------------------------------------------------------------------

_PERCENT_ESCAPE = re.compile(r"%(?![0-9A-Fa-f]{2})")


def _percent_decode(text: str) -> str:
    """RFC 3986 percent-decoding that fails on a stray ``%`` or bytes that are not UTF-8."""
    if _PERCENT_ESCAPE.search(text):
        raise ValueError("a '%' not followed by two hex digits")
    try:
        return unquote(text, errors="strict")
    except UnicodeDecodeError:
        raise ValueError("percent-escapes that are not UTF-8") from None


def parse_resource_attributes(text: str) -> dict[str, str]:
    """``OTEL_RESOURCE_ATTRIBUTES``: ``key=value,...``, values percent-encoded.

    Whitespace around keys and values is trimmed and empty items (``a=1,``) are skipped. Any
    malformed item invalidates the whole value, as the OpenTelemetry specification asks:
    https://opentelemetry.io/docs/specs/otel/resource/sdk/#specifying-resource-information-via-an-environment-variable
    """
    attributes: dict[str, str] = {}
    for item in text.split(","):
        if not item.strip():
            continue
        raw_key, sep, raw_value = item.partition("=")
        if not sep or not raw_key.strip():
            raise Invalid(f"comma-separated key=value items with a key, got {item.strip()!r}")
        try:  # values are percent-encoded; keys are not (as the SDK's OTELResourceDetector)
            key, value = raw_key.strip(), _percent_decode(raw_value.strip())
        except ValueError as e:
            raise Invalid(f"percent-encoded key=value items; {item.strip()!r} has {e}") from None
        attributes[key] = value
    return attributes


# OTEL_TRACES_SAMPLER -> the sampler it means here. Our tracer's children always follow their
# parent's decision, so each ``parentbased_X`` is the same sampler as ``X``.
_OTEL_TRACES_SAMPLERS = {
    "always_on": "always_on",
    "parentbased_always_on": "always_on",
    "always_off": "always_off",
    "parentbased_always_off": "always_off",
    "traceidratio": "traceidratio",
    "parentbased_traceidratio": "traceidratio",
    "jaeger_remote": "jaeger_remote",
    "parentbased_jaeger_remote": "jaeger_remote",
}


def parse_otel_traces_sampler(value: Any) -> str:
    """``OTEL_TRACES_SAMPLER`` (any case) -> always_on, always_off, traceidratio or jaeger_remote.

    The ``parentbased_`` names give the same result: a child span of this tracer always takes
    its parent's decision, so only root spans ever reach the sampler.
    """
    kind = _OTEL_TRACES_SAMPLERS.get(value.strip().lower()) if isinstance(value, str) else None
    if kind is None:
        raise Invalid(f"one of {', '.join(_OTEL_TRACES_SAMPLERS)}")
    return kind


_GRPC_SAMPLING_PORT = 14250  # the collector's gRPC sampling.proto service: not HTTP JSON
_COLLECTOR_HTTP_PORT = 14268  # the collector's HTTP port: sampling at /api/sampling
_parse_polling_ms = int_parser(1, 999_999_999, "a whole number of milliseconds")


def parse_jaeger_remote_arg(text: str) -> dict[str, Any]:
    """The ``jaeger_remote`` sampler's ``OTEL_TRACES_SAMPLER_ARG`` -> ``RemoteControlledSampler``
    settings: ``endpoint=URL,pollingIntervalMs=N,initialSamplingRate=R``, each optional.

    Returns the keys given, as ``endpoint`` (the URL polled as ``{URL}?service=NAME``),
    ``polling_interval`` (seconds) and ``initial_sampling_rate``. The message of ``Invalid``
    names the item that is wrong and what it allows. An endpoint on port 14250 is refused: that
    is the collector's gRPC port (the specification's default), and this client polls the HTTP
    JSON endpoint instead. The format is OpenTelemetry's:
    https://opentelemetry.io/docs/specs/otel/configuration/sdk-environment-variables/#general-sdk-configuration
    """
    options: dict[str, Any] = {}
    for item in text.split(","):
        if not item.strip():
            continue
        raw_key, sep, raw_value = item.partition("=")
        key, value = raw_key.strip(), raw_value.strip()
        if not sep:
            raise Invalid(f"comma-separated key=value items, got {item.strip()!r}")
        if key == "endpoint":
            options["endpoint"] = _parse_remote_endpoint(value)
        elif key == "pollingIntervalMs":
            try:
                options["polling_interval"] = _parse_polling_ms(value) / 1000.0
            except Invalid as e:
                raise Invalid(f"pollingIntervalMs: {e}, got {value!r}") from None
        elif key == "initialSamplingRate":
            try:
                options["initial_sampling_rate"] = parse_rate(value)
            except Invalid as e:
                raise Invalid(f"initialSamplingRate: {e}, got {value!r}") from None
        else:
            raise Invalid(
                f"the keys endpoint, pollingIntervalMs and initialSamplingRate, got {key!r}"
            )
    return options


def _parse_remote_endpoint(value: str) -> str:
    try:
        url = parse_url(value)
    except Invalid as e:
        raise Invalid(f"endpoint: {e}, got {value!r}") from None
    return check_sampling_endpoint(url)


def check_sampling_endpoint(url: str) -> str:
    """``url``, unless it is on the collector's gRPC port (``Invalid``, a ``ValueError``)."""
    try:
        port = urlsplit(url).port
    except ValueError:  # a bad port: left to the URL checks of whoever uses it
        return url
    if port == _COLLECTOR_HTTP_PORT and urlsplit(url).path in ("", "/"):
        raise Invalid(
            f"endpoint: a sampling URL with its path, got {url!r}: a collector serves "
            f"sampling at http://HOST:{_COLLECTOR_HTTP_PORT}/api/sampling"
        )
    if port == _GRPC_SAMPLING_PORT:
        raise Invalid(
            f"endpoint: an HTTP sampling URL, got {url!r}: port {_GRPC_SAMPLING_PORT} is the "
            "Jaeger collector's gRPC sampling port, which this client cannot poll; use the "
            f"agent's http://HOST:{constants.DEFAULT_SAMPLING_PORT}{constants.SAMPLING_PATH} "
            f"or the collector's http://HOST:{_COLLECTOR_HTTP_PORT}/api/sampling"
        )
    return url


# OTEL_PROPAGATORS -> our propagation names (OpenTelemetry's "b3" is the single header)
_OTEL_PROPAGATORS = {
    "tracecontext": "w3c",
    "baggage": "baggage",
    "b3": "b3-single",
    "b3multi": "b3",
    "jaeger": "jaeger",
}


def parse_otel_propagators(value: Any) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """``OTEL_PROPAGATORS`` -> (``propagation`` names, the names skipped). The names always start
    with ``jaeger``: a variable set for a deployment's OpenTelemetry services adds their formats
    and never stops this tracer from writing and reading Jaeger's own headers. Names with no
    format here (``xray``, ``ottrace``, another SDK's) are skipped, as is ``none``."""
    if not isinstance(value, str):
        raise Invalid("a comma-separated list")
    names = ["jaeger"]
    skipped: list[str] = []
    for item in value.split(","):
        name = item.strip().lower()
        if not name or name == "none":
            continue
        ours = _OTEL_PROPAGATORS.get(name)
        if ours is None:
            skipped.append(name)
        elif ours not in names:
            names.append(ours)
    return tuple(names), tuple(skipped)
