"""Local samplers: pure decisions, no threads and no I/O.

Every sampler answers ``is_sampled(trace_id, operation) -> (sampled, tags)``. The tracer caches the
converted ``tags`` by identity, so a sampler returns the same dict object on every call until its
configuration changes, and never mutates a dict it has returned: a change installs a new dict.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, NamedTuple, Optional, Union

from .. import constants
from ..constants import (
    SAMPLER_PARAM_TAG_KEY,
    SAMPLER_TYPE_CONST,
    SAMPLER_TYPE_LOWER_BOUND,
    SAMPLER_TYPE_PROBABILISTIC,
    SAMPLER_TYPE_RATE_LIMITING,
    SAMPLER_TYPE_TAG_KEY,
)
from ..rate_limiter import RateLimiter, _check_number

__all__ = [
    "DEFAULT_LOWER_BOUND",
    "DEFAULT_MAX_OPERATIONS",
    "DEFAULT_SAMPLING_PROBABILITY",
    "SAMPLER_PARAM_TAG_KEY",
    "SAMPLER_TYPE_TAG_KEY",
    "AdaptiveSampler",
    "ConstSampler",
    "GuaranteedThroughputProbabilisticSampler",
    "ProbabilisticSampler",
    "RateLimitingSampler",
    "Sampler",
    "get_rate_limit",
    "get_sampling_probability",
]

# upstream's module-level names, kept for code that imports them from here
DEFAULT_SAMPLING_PROBABILITY = constants.DEFAULT_SAMPLING_PROBABILITY
DEFAULT_LOWER_BOUND = constants.DEFAULT_LOWER_BOUND
DEFAULT_MAX_OPERATIONS = constants.DEFAULT_MAX_OPERATIONS
STRATEGIES_STR = constants.PER_OPERATION_STRATEGIES_KEY
OPERATION_STR = constants.OPERATION_KEY
DEFAULT_LOWER_BOUND_STR = constants.DEFAULT_LOWER_BOUND_KEY
PROBABILISTIC_SAMPLING_STR = constants.PROBABILISTIC_SAMPLING_KEY
SAMPLING_RATE_STR = constants.SAMPLING_RATE_KEY
DEFAULT_SAMPLING_PROBABILITY_STR = constants.DEFAULT_SAMPLING_PROBABILITY_KEY
OPERATION_SAMPLING_STR = constants.OPERATION_SAMPLING_KEY
MAX_TRACES_PER_SECOND_STR = constants.MAX_TRACES_PER_SECOND_KEY
RATE_LIMITING_SAMPLING_STR = constants.RATE_LIMITING_SAMPLING_KEY
STRATEGY_TYPE_STR = constants.STRATEGY_TYPE_KEY
PROBABILISTIC_SAMPLING_STRATEGY = constants.STRATEGY_TYPE_PROBABILISTIC
RATE_LIMITING_SAMPLING_STRATEGY = constants.STRATEGY_TYPE_RATE_LIMITING

Tags = dict[str, Any]

_ID_MASK = (1 << constants.MAX_ID_BITS) - 1
_MAX_TPS = constants.MAX_TRACES_PER_SECOND


class Sampler:
    """Decides whether a new trace is recorded: ``is_sampled`` returns ``(sampled, tags)``."""

    def __init__(self, tags: Optional[Tags] = None) -> None:
        self._tags: Tags = tags or {}

    def is_sampled(self, trace_id: int, operation: str = "") -> tuple[bool, Tags]:
        raise NotImplementedError()

    def close(self) -> None:
        raise NotImplementedError()

    def __eq__(self, other: object) -> bool:
        return isinstance(other, self.__class__) and self.__dict__ == other.__dict__

    def __ne__(self, other: object) -> bool:
        return not self.__eq__(other)


class ConstSampler(Sampler):
    """Always returns the same decision; tags ``sampler.type=const``, ``sampler.param=decision``."""

    def __init__(self, decision: bool = True) -> None:
        super().__init__(
            tags={SAMPLER_TYPE_TAG_KEY: SAMPLER_TYPE_CONST, SAMPLER_PARAM_TAG_KEY: decision}
        )
        self.decision = decision

    def is_sampled(self, trace_id: int, operation: str = "") -> tuple[bool, Tags]:
        return self.decision, self._tags

    def close(self) -> None:
        pass

    def __str__(self) -> str:
        return f"ConstSampler({self.decision})"


class ProbabilisticSampler(Sampler):
    """Samples a fraction ``rate`` of traces, decided from the trace id itself.

    New trace ids are random, so the decision is ``low 64 bits of trace_id < rate * 2**64``: no
    random number is drawn, and every process that sees the same id decides the same way.

    :param rate: a finite number within [0.0, 1.0]
    """

    def __init__(self, rate: float) -> None:
        _check_number("rate", rate, 0.0, 1.0)
        super().__init__(
            tags={SAMPLER_TYPE_TAG_KEY: SAMPLER_TYPE_PROBABILISTIC, SAMPLER_PARAM_TAG_KEY: rate}
        )
        self.rate = rate
        self.max_number = 1 << constants.MAX_ID_BITS
        self.boundary = rate * self.max_number

    def is_sampled(self, trace_id: int, operation: str = "") -> tuple[bool, Tags]:
        return (trace_id & _ID_MASK) < self.boundary, self._tags

    def close(self) -> None:
        pass

    def __str__(self) -> str:
        return f"ProbabilisticSampler({self.rate})"


class RateLimitingSampler(Sampler):
    """Samples at most ``max_traces_per_second`` traces, following the traffic's burstiness.

    A leaky bucket of ``max(max_traces_per_second, 1)`` credits, so rates below one trace per
    second still sample whole traces.

    :param max_traces_per_second: a finite number within [0, 1e6]
    """

    def __init__(self, max_traces_per_second: float = 10) -> None:
        _check_number("max_traces_per_second", max_traces_per_second, 0.0, _MAX_TPS)
        super().__init__()
        self.traces_per_second = max_traces_per_second
        self._tags = self._make_tags(max_traces_per_second)
        self.rate_limiter = RateLimiter(
            credits_per_second=max_traces_per_second,
            max_balance=max(max_traces_per_second, 1.0),
        )

    @staticmethod
    def _make_tags(max_traces_per_second: float) -> Tags:
        return {
            SAMPLER_TYPE_TAG_KEY: SAMPLER_TYPE_RATE_LIMITING,
            SAMPLER_PARAM_TAG_KEY: max_traces_per_second,
        }

    def is_sampled(self, trace_id: int, operation: str = "") -> tuple[bool, Tags]:
        return self.rate_limiter.check_credit(1.0), self._tags

    def update(self, max_traces_per_second: float) -> bool:
        """Change the rate in place, keeping the balance proportional; return whether it changed."""
        _check_number("max_traces_per_second", max_traces_per_second, 0.0, _MAX_TPS)
        if self.traces_per_second == max_traces_per_second:
            return False
        self.rate_limiter.update(max_traces_per_second, max(max_traces_per_second, 1.0))
        self.traces_per_second = max_traces_per_second
        self._tags = self._make_tags(
            max_traces_per_second
        )  # a new dict: returned ones never change
        return True

    def close(self) -> None:
        pass

    def __eq__(self, other: object) -> bool:
        """Equal when configured alike; balance and last tick may differ."""
        if not isinstance(other, self.__class__):
            return False
        mine, theirs = self.rate_limiter, other.rate_limiter
        return (
            self.traces_per_second == other.traces_per_second
            and mine.credits_per_second == theirs.credits_per_second
            and mine.max_balance == theirs.max_balance
        )

    def __str__(self) -> str:
        return f"RateLimitingSampler({self.traces_per_second})"


class GuaranteedThroughputProbabilisticSampler(Sampler):
    """Probabilistic sampling with a guaranteed minimum rate per operation.

    The probabilistic sampler decides first; a "yes" still spends lower-bound credit, so the
    lower bound is a floor, not an addition. Otherwise the lower-bound rate limiter decides.
    Tags: ``probabilistic``/``rate`` when the probabilistic sampler said yes, else
    ``lowerbound``/``rate`` (the probability, as upstream and Go report it).

    :param lower_bound: guaranteed traces per second, finite within [0, 1e6]
    :param rate: sampling probability, finite within [0.0, 1.0]
    """

    def __init__(self, operation: str, lower_bound: float, rate: float) -> None:
        _check_number("lower_bound", lower_bound, 0.0, _MAX_TPS)
        _check_number("rate", rate, 0.0, 1.0)
        super().__init__(
            tags={SAMPLER_TYPE_TAG_KEY: SAMPLER_TYPE_LOWER_BOUND, SAMPLER_PARAM_TAG_KEY: rate}
        )
        self.probabilistic_sampler = ProbabilisticSampler(rate)
        self.lower_bound_sampler = RateLimitingSampler(lower_bound)
        self.operation = operation
        self.rate = rate
        self.lower_bound = lower_bound

    def is_sampled(self, trace_id: int, operation: str = "") -> tuple[bool, Tags]:
        sampled, tags = self.probabilistic_sampler.is_sampled(trace_id, operation)
        if sampled:
            self.lower_bound_sampler.is_sampled(trace_id, operation)
            return True, tags
        sampled, _ = self.lower_bound_sampler.is_sampled(trace_id, operation)
        return sampled, self._tags

    def update(self, lower_bound: float, rate: float) -> bool:
        """Change the bounds in place; return whether anything changed.

        Validates both values before changing either. Concurrent ``is_sampled`` calls see the old
        or the new settings, each with its own tags dict.
        """
        _check_number("lower_bound", lower_bound, 0.0, _MAX_TPS)
        _check_number("rate", rate, 0.0, 1.0)
        changed = False
        if self.rate != rate:
            self._tags = {
                SAMPLER_TYPE_TAG_KEY: SAMPLER_TYPE_LOWER_BOUND,
                SAMPLER_PARAM_TAG_KEY: rate,
            }
            self.probabilistic_sampler = ProbabilisticSampler(rate)
            self.rate = rate
            changed = True
        if self.lower_bound != lower_bound:
            self.lower_bound_sampler.update(lower_bound)
            self.lower_bound = lower_bound
            changed = True
        return changed

    def close(self) -> None:
        self.probabilistic_sampler.close()
        self.lower_bound_sampler.close()

    def __str__(self) -> str:
        rate, lower_bound = float(self.rate), float(self.lower_bound)
        return (
            f"GuaranteedThroughputProbabilisticSampler({self.operation}, {rate:f}, {lower_bound:f})"
        )


class _OperationStrategies(NamedTuple):
    """A validated ``operationSampling`` object (sampling.thrift PerOperationSamplingStrategies)."""

    default_probability: float
    lower_bound: float
    operations: dict[str, float]  # operation -> sampling probability, in response order


def _number_field(
    obj: Mapping[str, Any], key: str, where: str, default: Optional[float], high: float
) -> float:
    """``obj[key]`` as a float checked against [0, high]; missing or null means ``default``."""
    value = obj.get(key)
    if value is None:
        if default is None:
            raise ValueError(f"{where}.{key} is required")
        return default
    _check_number(f"{where}.{key}", value, 0.0, high)
    return float(value)


def _parse_operation_strategies(
    strategies: Any, where: str = "operationSampling"
) -> _OperationStrategies:
    """Validate an ``operationSampling`` object; raise ``ValueError`` naming the bad field.

    Missing numbers take upstream's defaults; an entry without ``probabilisticSampling`` gets the
    response's default probability. Wrong types, non-finite or out-of-range values are errors.
    """
    if not isinstance(strategies, Mapping):
        raise ValueError(f"{where} must be an object, got {strategies!r:.100}")
    default_probability = _number_field(
        strategies, DEFAULT_SAMPLING_PROBABILITY_STR, where, DEFAULT_SAMPLING_PROBABILITY, 1.0
    )
    lower_bound = _number_field(
        strategies, DEFAULT_LOWER_BOUND_STR, where, DEFAULT_LOWER_BOUND, _MAX_TPS
    )
    entries = strategies.get(STRATEGIES_STR)
    if entries is None:
        entries = []
    if not isinstance(entries, list):
        raise ValueError(f"{where}.{STRATEGIES_STR} must be a list, got {entries!r:.100}")
    operations: dict[str, float] = {}
    for i, entry in enumerate(entries):
        at = f"{where}.{STRATEGIES_STR}[{i}]"
        if not isinstance(entry, Mapping):
            raise ValueError(f"{at} must be an object, got {entry!r:.100}")
        operation = entry.get(OPERATION_STR)
        if not isinstance(operation, str):
            raise ValueError(f"{at}.{OPERATION_STR} must be a string, got {operation!r:.100}")
        probabilistic = entry.get(PROBABILISTIC_SAMPLING_STR)
        if probabilistic is None:
            rate = default_probability
        elif isinstance(probabilistic, Mapping):
            rate = _number_field(
                probabilistic, SAMPLING_RATE_STR, f"{at}.{PROBABILISTIC_SAMPLING_STR}", None, 1.0
            )
        else:
            raise ValueError(
                f"{at}.{PROBABILISTIC_SAMPLING_STR} must be an object, got {probabilistic!r:.100}"
            )
        operations[operation] = rate
    return _OperationStrategies(default_probability, lower_bound, operations)


def _check_max_operations(max_operations: Any) -> None:
    if (
        isinstance(max_operations, bool)
        or not isinstance(max_operations, int)
        or max_operations < 1
    ):
        raise ValueError(f"max_operations must be a positive integer, got {max_operations!r}")


class AdaptiveSampler(Sampler):
    """Per-operation sampling: one :class:`GuaranteedThroughputProbabilisticSampler` per operation.

    ``strategies`` is the ``operationSampling`` object of a sampling strategy response. An operation
    not listed gets a sampler with the default probability and lower bound, until
    ``max_operations`` operations are known; beyond that the default probabilistic sampler decides.

    Thread model: ``is_sampled`` may run on any thread without a lock (a new operation is added with
    one atomic ``dict.setdefault``); ``update`` builds the new operation map aside and swaps it in.

    :param strategies: ``{defaultSamplingProbability, defaultLowerBoundTracesPerSecond,
        perOperationStrategies: [{operation, probabilisticSampling: {samplingRate}}]}``
    :param max_operations: the most operations tracked, a positive integer
    """

    def __init__(
        self, strategies: Union[Mapping[str, Any], _OperationStrategies], max_operations: int
    ) -> None:
        # the remote sampler passes strategies it has already validated
        config = (
            strategies
            if isinstance(strategies, _OperationStrategies)
            else _parse_operation_strategies(strategies)
        )
        _check_max_operations(max_operations)
        super().__init__()
        self.max_operations = max_operations
        self.samplers: dict[str, GuaranteedThroughputProbabilisticSampler] = {}
        self.default_sampling_probability = config.default_probability
        self.default_sampler = ProbabilisticSampler(config.default_probability)
        self.lower_bound = config.lower_bound
        self._config: Optional[_OperationStrategies] = None
        self._apply(config)

    def is_sampled(self, trace_id: int, operation: str = "") -> tuple[bool, Tags]:
        sampler = self.samplers.get(operation)
        if sampler is None:
            samplers = self.samplers
            if len(samplers) >= self.max_operations:
                return self.default_sampler.is_sampled(trace_id, operation)
            sampler = samplers.setdefault(
                operation,
                GuaranteedThroughputProbabilisticSampler(
                    operation, self.lower_bound, self.default_sampling_probability
                ),
            )
        return sampler.is_sampled(trace_id, operation)

    def update(self, strategies: Mapping[str, Any]) -> bool:
        """Apply a new ``operationSampling`` object; return whether the configuration changed.

        Operations the new strategies no longer list are dropped (upstream kept them forever, with
        stale bounds); they come back with the new defaults when next seen. Listed operations keep
        their samplers, so their lower-bound credit survives the update. Raises ``ValueError``,
        changing nothing, if the strategies are invalid.
        """
        return self._apply(_parse_operation_strategies(strategies))

    def on_operation_renamed(self, tracer: Any, span: Any) -> None:
        """Late binding: re-decide an unsampled root span under its new operation name."""
        _redecide_on_rename(self, span)

    def _apply(self, config: _OperationStrategies) -> bool:
        old = self.samplers
        samplers: dict[str, GuaranteedThroughputProbabilisticSampler] = {}
        for operation, rate in config.operations.items():
            if len(samplers) >= self.max_operations:
                break
            sampler = old.get(operation)
            if sampler is None:
                sampler = GuaranteedThroughputProbabilisticSampler(
                    operation, config.lower_bound, rate
                )
            else:
                sampler.update(config.lower_bound, rate)
            samplers[operation] = sampler
        if config.default_probability != self.default_sampling_probability:
            self.default_sampler = ProbabilisticSampler(config.default_probability)
            self.default_sampling_probability = config.default_probability
        self.lower_bound = config.lower_bound
        self.samplers = samplers
        changed = config != self._config
        self._config = config
        return changed

    def close(self) -> None:
        for sampler in list(self.samplers.values()):
            sampler.close()

    def __str__(self) -> str:
        probability, lower_bound = float(self.default_sampling_probability), float(self.lower_bound)
        return f"AdaptiveSampler({probability:f}, {lower_bound:f}, {self.max_operations:d})"


_FINAL_FLAGS = constants.SAMPLED_FLAG | constants.DEBUG_FLAG


def _redecide_on_rename(sampler: Sampler, span: Any) -> None:
    """Ask ``sampler`` again for a root span renamed before its decision was handed on.

    Only an unsampled root span qualifies: a "yes" is final (its tags were recorded), and so is
    any decision a child span or an injected carrier has already copied (``span.has_children``).
    On a new "yes" the span becomes sampled and gets the sampler tags; tags set while it was
    unsampled were dropped and stay lost.
    """
    context = span.context
    if context.parent_id or (context.flags or 0) & _FINAL_FLAGS or context.trace_id is None:
        return
    if getattr(span, "has_children", False) or getattr(span, "finished", False):
        return
    sampled, tags = sampler.is_sampled(context.trace_id, span.operation_name or "")
    if sampled:
        context.flags = (context.flags or 0) | constants.SAMPLED_FLAG
        for key, value in tags.items():
            span.set_tag(key, value)


def get_sampling_probability(strategy: Optional[Mapping[str, Any]] = None) -> Any:
    """Upstream helper: ``strategy.probabilisticSampling.samplingRate``, else the default."""
    if not strategy:
        return DEFAULT_SAMPLING_PROBABILITY
    probabilistic = strategy.get(PROBABILISTIC_SAMPLING_STR)
    if not probabilistic:
        return DEFAULT_SAMPLING_PROBABILITY
    return probabilistic.get(SAMPLING_RATE_STR, DEFAULT_SAMPLING_PROBABILITY)


def get_rate_limit(strategy: Optional[Mapping[str, Any]] = None) -> Any:
    """Upstream helper: ``strategy.rateLimitingSampling.maxTracesPerSecond``, else the default."""
    if not strategy:
        return DEFAULT_LOWER_BOUND
    rate_limiting = strategy.get(RATE_LIMITING_SAMPLING_STR)
    if not rate_limiting:
        return DEFAULT_LOWER_BOUND
    return rate_limiting.get(MAX_TRACES_PER_SECOND_STR, DEFAULT_LOWER_BOUND)
