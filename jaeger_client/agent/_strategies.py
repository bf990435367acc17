"""The control plane the dev agent serves: sampling strategies, baggage restrictions, credits.

One JSON file holds all three. It extends the file format of jaeger's ``--sampling.strategies-file``
(``default_strategy`` + ``service_strategies``), so an existing Jaeger strategies file works as is::

    {
      "default_strategy": {
        "type": "probabilistic", "param": 1.0,
        "operation_strategies": [{"operation": "health", "type": "probabilistic", "param": 0.0}],
        "default_lower_bound_traces_per_second": 0.0,
        "baggage_restrictions": {"session-id": 64},
        "credits": {"balance": 10.0, "operation_balances": {"checkout": 2.0}}
      },
      "service_strategies": [
        {"service": "billing", "type": "ratelimiting", "param": 5,
         "baggage_restrictions": {}}
      ]
    }

A service section overrides the default one aspect by aspect: sampling (``type`` + ``param``,
with ``operation_strategies`` merged with the default's as Jaeger does), ``baggage_restrictions``
(key -> max value length; replaces the default's map) and ``credits`` (debug-span credits granted
per ``/credits`` poll: ``balance`` for any operation, ``operation_balances`` per operation).
Built-in defaults: sample everything (probabilistic 1.0), no baggage restrictions (the route
answers 404, so clients keep allowing all baggage), 10 credits per operation per poll.
Wire shapes: shared/reference/WIRE.md (agent HTTP, port 5778).
"""

from __future__ import annotations

import json
import math
import os
import threading
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any, Optional, Union

__all__ = ["Strategies", "StrategyError"]

PROBABILISTIC = "probabilistic"
RATE_LIMITING = "ratelimiting"
DEFAULT_SAMPLING_RATE = 1.0  # a dev agent shows every trace
DEFAULT_CREDIT_BALANCE = 10.0
# jaeger's static strategy store: per-operation default when the service is rate limited
_OPERATION_DEFAULT_PROBABILITY = 0.001
_MAX_I16 = 32767

_TOP_KEYS = {"default_strategy", "service_strategies"}
_SECTION_KEYS = {
    "type",
    "param",
    "operation_strategies",
    "default_lower_bound_traces_per_second",
    "baggage_restrictions",
    "credits",
}
_OPERATION_KEYS = {"operation", "type", "param"}
_CREDIT_KEYS = {"balance", "operation_balances"}


class StrategyError(ValueError):
    """An invalid strategies document; the message says where, the bad value and what is allowed."""


@dataclass(frozen=True)
class _Sampling:
    type: str
    param: float
    operations: tuple[tuple[str, float], ...]  # (operation, probability)
    lower_bound: Optional[float]


@dataclass(frozen=True)
class _Credits:
    balance: float
    operation_balances: Mapping[str, float]


@dataclass(frozen=True)
class _Section:
    sampling: Optional[_Sampling] = None
    baggage: Optional[Mapping[str, int]] = None
    credits: Optional[_Credits] = None


@dataclass(frozen=True)
class _Resolved:
    sampling: _Sampling
    baggage: Optional[Mapping[str, int]]
    credits: _Credits


_BUILT_IN_SAMPLING = _Sampling(PROBABILISTIC, DEFAULT_SAMPLING_RATE, (), None)
_BUILT_IN_CREDITS = _Credits(DEFAULT_CREDIT_BALANCE, {})


def _number(value: Any, where: str, low: float, high: float = math.inf) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value):
        raise StrategyError(f"{where}: expected a number, got {value!r}")
    if not low <= value <= high:
        bounds = f"[{low}, {high}]" if high != math.inf else f">= {low}"
        raise StrategyError(f"{where}: must be {bounds}, got {value!r}")
    return float(value)


def _mapping(value: Any, where: str, allowed: set[str]) -> Mapping[str, Any]:
    if not isinstance(value, Mapping):
        raise StrategyError(f"{where}: expected an object, got {type(value).__name__}")
    unknown = sorted(set(value) - allowed)
    if unknown:
        raise StrategyError(f"{where}: unknown key(s) {unknown}; allowed: {sorted(allowed)}")
    return value


def _open_mapping(value: Any, where: str) -> Mapping[str, Any]:
    """An object whose keys are data (baggage keys, operation names), not a fixed schema."""
    if not isinstance(value, Mapping) or not all(isinstance(k, str) for k in value):
        raise StrategyError(f"{where}: expected an object with string keys, got {value!r}")
    return value


def _strategy(raw: Mapping[str, Any], where: str) -> tuple[str, float]:
    kind = raw.get("type")
    if "param" not in raw:
        raise StrategyError(f"{where}: 'type' needs 'param'")
    if kind == PROBABILISTIC:
        return kind, _number(raw["param"], f"{where}.param", 0.0, 1.0)
    if kind == RATE_LIMITING:
        # maxTracesPerSecond is an i16 on the wire; jaeger truncates the JSON number the same way
        return kind, float(int(_number(raw["param"], f"{where}.param", 0.0, _MAX_I16)))
    raise StrategyError(f"{where}.type: expected 'probabilistic' or 'ratelimiting', got {kind!r}")


def _parse_sampling(raw: Mapping[str, Any], where: str) -> Optional[_Sampling]:
    if "type" not in raw:
        for key in ("param", "operation_strategies", "default_lower_bound_traces_per_second"):
            if key in raw:
                raise StrategyError(f"{where}: {key!r} needs 'type' in the same section")
        return None
    kind, param = _strategy(raw, where)
    operations: list[tuple[str, float]] = []
    ops_raw = raw.get("operation_strategies", [])
    if not isinstance(ops_raw, list):
        raise StrategyError(f"{where}.operation_strategies: expected a list, got {ops_raw!r}")
    for i, op_raw in enumerate(ops_raw):
        op_where = f"{where}.operation_strategies[{i}]"
        op = _mapping(op_raw, op_where, _OPERATION_KEYS)
        name = op.get("operation")
        if not isinstance(name, str) or not name:
            raise StrategyError(f"{op_where}.operation: expected a non-empty string, got {name!r}")
        if op.get("type") != PROBABILISTIC:
            raise StrategyError(
                f"{op_where}.type: operations support only 'probabilistic', got {op.get('type')!r}"
            )
        operations.append((name, _strategy(op, op_where)[1]))
    lower: Optional[float] = None
    if "default_lower_bound_traces_per_second" in raw:
        key = "default_lower_bound_traces_per_second"
        lower = _number(raw[key], f"{where}.{key}", 0.0)
    return _Sampling(kind, param, tuple(operations), lower)


def _parse_section(raw: Any, where: str, extra_keys: frozenset[str] = frozenset()) -> _Section:
    section = _mapping(raw, where, _SECTION_KEYS | extra_keys)
    baggage: Optional[dict[str, int]] = None
    if "baggage_restrictions" in section:
        bag_where = f"{where}.baggage_restrictions"
        baggage = {}
        for key, length in _open_mapping(section["baggage_restrictions"], bag_where).items():
            if isinstance(length, bool) or not isinstance(length, int) or length < 0:
                raise StrategyError(
                    f"{bag_where}[{key!r}]: expected an integer >= 0, got {length!r}"
                )
            baggage[key] = length
    credits: Optional[_Credits] = None
    if "credits" in section:
        cr_where = f"{where}.credits"
        cr = _mapping(section["credits"], cr_where, _CREDIT_KEYS)
        balance = DEFAULT_CREDIT_BALANCE
        if "balance" in cr:
            balance = _number(cr["balance"], f"{cr_where}.balance", 0.0)
        per_op_where = f"{cr_where}.operation_balances"
        per_op = _open_mapping(cr.get("operation_balances", {}), per_op_where)
        credits = _Credits(
            balance, {op: _number(v, f"{per_op_where}[{op!r}]", 0.0) for op, v in per_op.items()}
        )
    return _Section(_parse_sampling(section, where), baggage, credits)


def _parse_document(raw: Any) -> tuple[_Section, dict[str, _Section]]:
    doc = _mapping(raw, "strategies", _TOP_KEYS)
    default = _parse_section(doc.get("default_strategy", {}), "default_strategy")
    services: dict[str, _Section] = {}
    entries = doc.get("service_strategies", [])
    if not isinstance(entries, list):
        raise StrategyError(f"service_strategies: expected a list, got {entries!r}")
    for i, entry in enumerate(entries):
        where = f"service_strategies[{i}]"
        section = _parse_section(entry, where, frozenset({"service"}))
        name = entry.get("service")
        if not isinstance(name, str) or not name:
            raise StrategyError(f"{where}.service: expected a non-empty string, got {name!r}")
        if name in services:
            raise StrategyError(f"{where}.service: {name!r} appears twice")
        services[name] = section
    return default, services


def _merge_sampling(service: _Sampling, default: Optional[_Sampling]) -> _Sampling:
    """Jaeger's static store: a service inherits the default's per-operation strategies."""
    if default is None or not default.operations:
        return service
    if service.operations:
        own = {name for name, _ in service.operations}
        inherited = tuple(op for op in default.operations if op[0] not in own)
        return replace(service, operations=service.operations + inherited)
    if service.type == PROBABILISTIC:
        lower = service.lower_bound if service.lower_bound is not None else default.lower_bound
        return replace(service, operations=default.operations, lower_bound=lower)
    return service


def _sampling_json(sampling: _Sampling, legacy: bool) -> dict[str, Any]:
    names = ("PROBABILISTIC", "RATE_LIMITING") if not legacy else (0, 1)
    body: dict[str, Any]
    if sampling.type == PROBABILISTIC:
        body = {"strategyType": names[0], "probabilisticSampling": {"samplingRate": sampling.param}}
    else:
        body = {
            "strategyType": names[1],
            "rateLimitingSampling": {"maxTracesPerSecond": int(sampling.param)},
        }
    if sampling.operations:
        default_probability = (
            sampling.param if sampling.type == PROBABILISTIC else _OPERATION_DEFAULT_PROBABILITY
        )
        body["operationSampling"] = {
            "defaultSamplingProbability": default_probability,
            "defaultLowerBoundTracesPerSecond": sampling.lower_bound or 0.0,
            "perOperationStrategies": [
                {"operation": name, "probabilisticSampling": {"samplingRate": rate}}
                for name, rate in sampling.operations
            ],
        }
    return body


class Strategies:
    """What ``/sampling``, ``/``, ``/baggageRestrictions`` and ``/credits`` answer, per service.

    Thread-safe: HTTP handler threads read while a test (or the CLI) may replace sections.
    """

    def __init__(self, document: Optional[Mapping[str, Any]] = None) -> None:
        """:param document: a strategies document (see the module docstring); None = built-ins"""
        self._lock = threading.Lock()
        self._default, self._services = _parse_document(document if document is not None else {})

    @classmethod
    def from_file(cls, path: Union[str, os.PathLike[str]]) -> Strategies:
        """Load a strategies JSON file; ``StrategyError`` names the file and what is wrong."""
        try:
            with open(path, encoding="utf-8") as f:
                document = json.load(f)
        except (OSError, ValueError) as e:
            raise StrategyError(f"strategies file {os.fspath(path)!r}: {e}") from e
        try:
            return cls(document)
        except StrategyError as e:
            raise StrategyError(f"strategies file {os.fspath(path)!r}: {e}") from e

    # ---- changing it (tests) --------------------------------------------------------------------

    def _update(self, service: Optional[str], **aspects: Any) -> None:
        with self._lock:
            if service is None:
                self._default = replace(self._default, **aspects)
            else:
                self._services[service] = replace(
                    self._services.get(service, _Section()), **aspects
                )

    def set_sampling(
        self, strategy: Optional[Mapping[str, Any]], service: Optional[str] = None
    ) -> None:
        """Replace a service's (or the default) sampling ``{"type", "param", ...}``; None unsets."""
        where = f"strategy for {service!r}" if service else "default strategy"
        sampling = None
        if strategy is not None:
            allowed = {
                "type",
                "param",
                "operation_strategies",
                "default_lower_bound_traces_per_second",
            }
            sampling = _parse_sampling(_mapping(strategy, where, allowed), where)
            if sampling is None:
                raise StrategyError(f"{where}: 'type' is required")
        self._update(service, sampling=sampling)

    def set_baggage_restrictions(
        self, restrictions: Optional[Mapping[str, int]], service: Optional[str] = None
    ) -> None:
        """Replace the key -> max value length map; None = fall back to the default (or 404)."""
        section = {} if restrictions is None else {"baggage_restrictions": restrictions}
        self._update(service, baggage=_parse_section(section, "baggage restrictions").baggage)

    def set_credits(
        self, credits: Optional[Mapping[str, Any]], service: Optional[str] = None
    ) -> None:
        """Replace ``{"balance": float, "operation_balances": {op: float}}``; None = fall back."""
        section = {} if credits is None else {"credits": credits}
        self._update(service, credits=_parse_section(section, "credits").credits)

    # ---- answering ------------------------------------------------------------------------------

    def _resolve(self, service: str) -> _Resolved:
        with self._lock:
            own, default = self._services.get(service, _Section()), self._default
        sampling = default.sampling or _BUILT_IN_SAMPLING
        if own.sampling is not None:
            sampling = _merge_sampling(own.sampling, default.sampling)
        baggage = own.baggage if own.baggage is not None else default.baggage
        return _Resolved(sampling, baggage, own.credits or default.credits or _BUILT_IN_CREDITS)

    def sampling(self, service: str, *, legacy: bool = False) -> dict[str, Any]:
        """The ``SamplingStrategyResponse`` JSON; ``legacy`` gives integer enums (route ``/``)."""
        return _sampling_json(self._resolve(service).sampling, legacy)

    def baggage_restrictions(self, service: str) -> Optional[list[dict[str, Any]]]:
        """``[{"baggageKey", "maxValueLength"}]``, or None when none apply to ``service``."""
        baggage = self._resolve(service).baggage
        if baggage is None:
            return None
        return [{"baggageKey": key, "maxValueLength": length} for key, length in baggage.items()]

    def credits(self, service: str, operations: Sequence[str]) -> dict[str, Any]:
        """``{"balances": [{"operation", "balance"}]}`` for each requested operation, once each."""
        credits = self._resolve(service).credits
        balances = [
            {"operation": op, "balance": credits.operation_balances.get(op, credits.balance)}
            for op in dict.fromkeys(operations)
        ]
        return {"balances": balances}
