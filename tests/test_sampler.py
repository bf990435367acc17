"""Local samplers: decisions, tags (identity contract), validation, upstream-compatible API."""

from __future__ import annotations

import copy
import math
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from typing import Any

import pytest

from jaeger_client.rate_limiter import RateLimiter
from jaeger_client.reporter import InMemoryReporter
from jaeger_client.sampler import (
    DEFAULT_LOWER_BOUND,
    DEFAULT_MAX_OPERATIONS,
    DEFAULT_SAMPLING_PROBABILITY,
    AdaptiveSampler,
    ConstSampler,
    GuaranteedThroughputProbabilisticSampler,
    ProbabilisticSampler,
    RateLimitingSampler,
    Sampler,
    get_rate_limit,
    get_sampling_probability,
)
from jaeger_client.tracer import Tracer

HALF = 1 << 63  # splits the 64-bit id space in two


def tags(kind: str, param: Any) -> dict[str, Any]:
    return {"sampler.type": kind, "sampler.param": param}


class FakeClock:
    def __init__(self, now: float = 1000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeClock]:
    fake = FakeClock()
    monkeypatch.setattr(RateLimiter, "timestamp", staticmethod(fake))
    yield fake


def strategies(default: float = 0.5, lower_bound: float = 1.0, **ops: float) -> dict[str, Any]:
    return {
        "defaultSamplingProbability": default,
        "defaultLowerBoundTracesPerSecond": lower_bound,
        "perOperationStrategies": [
            {"operation": op, "probabilisticSampling": {"samplingRate": rate}}
            for op, rate in ops.items()
        ],
    }


# ---- base and const ---------------------------------------------------------------------------


def test_abstract_sampler_raises_not_implemented() -> None:
    sampler = Sampler()
    with pytest.raises(NotImplementedError):
        sampler.is_sampled(trace_id=123)
    with pytest.raises(NotImplementedError):
        sampler.close()


@pytest.mark.parametrize("decision", [True, False])
def test_const_sampler_returns_its_decision_and_tags(decision: bool) -> None:
    sampler = ConstSampler(decision)
    for trace_id in (1, HALF, (1 << 128) - 1):
        assert sampler.is_sampled(trace_id) == (decision, tags("const", decision))
    assert str(sampler) == f"ConstSampler({decision})"
    sampler.close()


def test_const_sampler_defaults_to_sampling_everything() -> None:
    assert ConstSampler().is_sampled(7)[0] is True


# ---- probabilistic ----------------------------------------------------------------------------


def test_probabilistic_sampler_compares_low_64_bits_with_rate_boundary() -> None:
    sampler = ProbabilisticSampler(0.5)
    assert sampler.is_sampled(HALF - 10) == (True, tags("probabilistic", 0.5))
    assert sampler.is_sampled(HALF + 10)[0] is False
    # 128-bit ids: only the low 64 bits count, as upstream and Go
    assert sampler.is_sampled((5 << 64) | (HALF - 10))[0] is True
    assert sampler.is_sampled((5 << 64) | (HALF + 10))[0] is False
    assert str(sampler) == "ProbabilisticSampler(0.5)"


def test_probabilistic_sampler_extremes() -> None:
    never, always = ProbabilisticSampler(0.0), ProbabilisticSampler(1.0)
    for trace_id in (1, HALF, (1 << 64) - 1, (1 << 128) - 1):
        assert never.is_sampled(trace_id)[0] is False
        assert always.is_sampled(trace_id)[0] is True


def test_probabilistic_sampler_samples_about_its_rate_of_random_ids() -> None:
    import random

    rng = random.Random(42)
    sampler = ProbabilisticSampler(0.1)
    hits = sum(sampler.is_sampled(rng.getrandbits(64))[0] for _ in range(20000))
    assert 1700 < hits < 2300


# ---- validation (no asserts: identical under python -O) ----------------------------------------

BAD_RATES = [-0.1, 1.1, math.nan, math.inf, -math.inf, "0.5", None, True, [0.5]]
BAD_LIMITS = [-1, -0.5, math.nan, math.inf, 1e9, "10", None, False, {}]


@pytest.mark.parametrize("rate", BAD_RATES)
def test_probabilistic_sampler_rejects_invalid_rate(rate: Any) -> None:
    with pytest.raises(ValueError, match="rate") as info:
        ProbabilisticSampler(rate)
    assert repr(rate) in str(info.value)


@pytest.mark.parametrize("limit", BAD_LIMITS)
def test_rate_limiting_sampler_rejects_invalid_rate(limit: Any) -> None:
    with pytest.raises(ValueError, match="max_traces_per_second") as info:
        RateLimitingSampler(limit)
    assert repr(limit) in str(info.value)
    sampler = RateLimitingSampler(3)
    with pytest.raises(ValueError, match="max_traces_per_second"):
        sampler.update(limit)
    assert sampler.traces_per_second == 3


@pytest.mark.parametrize(
    ("lower_bound", "rate", "name"),
    [
        (-1, 0.5, "lower_bound"),
        (math.nan, 0.5, "lower_bound"),
        (1e9, 0.5, "lower_bound"),
        (1, 2, "rate"),
    ],
)
def test_guaranteed_throughput_sampler_rejects_invalid_bounds(
    lower_bound: Any, rate: Any, name: str
) -> None:
    with pytest.raises(ValueError, match=name):
        GuaranteedThroughputProbabilisticSampler("op", lower_bound, rate)
    sampler = GuaranteedThroughputProbabilisticSampler("op", 1, 0.5)
    with pytest.raises(ValueError, match=name):
        sampler.update(lower_bound, rate)
    assert (sampler.lower_bound, sampler.rate) == (1, 0.5), "a rejected update changes nothing"


@pytest.mark.parametrize(
    ("bad", "field"),
    [
        ({"defaultSamplingProbability": 7}, "defaultSamplingProbability"),
        ({"defaultSamplingProbability": "0.5"}, "defaultSamplingProbability"),
        ({"defaultSamplingProbability": math.nan}, "defaultSamplingProbability"),
        ({"defaultLowerBoundTracesPerSecond": -1}, "defaultLowerBoundTracesPerSecond"),
        ({"defaultLowerBoundTracesPerSecond": math.inf}, "defaultLowerBoundTracesPerSecond"),
        ({"perOperationStrategies": "garbage"}, "perOperationStrategies"),
        ({"perOperationStrategies": ["x"]}, r"perOperationStrategies\[0\]"),
        ({"perOperationStrategies": [{"operation": 5}]}, r"\[0\]\.operation"),
        (
            {
                "perOperationStrategies": [
                    {"operation": "a", "probabilisticSampling": {"samplingRate": 9}}
                ]
            },
            "samplingRate",
        ),
        (
            {"perOperationStrategies": [{"operation": "a", "probabilisticSampling": {}}]},
            "samplingRate is required",
        ),
        (
            {"perOperationStrategies": [{"operation": "a", "probabilisticSampling": 0.5}]},
            "probabilisticSampling",
        ),
    ],
)
def test_adaptive_sampler_rejects_invalid_strategies(bad: dict[str, Any], field: str) -> None:
    with pytest.raises(ValueError, match=field):
        AdaptiveSampler(bad, 10)
    sampler = AdaptiveSampler(strategies(0.25, 2.0, op=0.5), 10)
    before = str(sampler), dict(sampler.samplers)
    with pytest.raises(ValueError, match=field):
        sampler.update(bad)
    assert (str(sampler), dict(sampler.samplers)) == before, "a rejected update changes nothing"


@pytest.mark.parametrize("bad", [0, -3, 2.5, "10", None, True])
def test_adaptive_sampler_rejects_invalid_max_operations(bad: Any) -> None:
    with pytest.raises(ValueError, match="max_operations"):
        AdaptiveSampler({}, bad)


def test_adaptive_sampler_rejects_non_mapping_strategies() -> None:
    with pytest.raises(ValueError, match="must be an object"):
        AdaptiveSampler([], 10)  # type: ignore[arg-type]


_OPTIMIZED_CHECKS = textwrap.dedent(
    """
    import math, sys
    from jaeger_client.sampler import (
        AdaptiveSampler, GuaranteedThroughputProbabilisticSampler, ProbabilisticSampler,
        RateLimitingSampler,
    )
    from jaeger_client.rate_limiter import RateLimiter
    assert False, "asserts must be stripped in this interpreter"
    cases = [
        (ProbabilisticSampler, (5,)),
        (ProbabilisticSampler, (-1,)),
        (ProbabilisticSampler, (math.nan,)),
        (RateLimitingSampler, (-10,)),
        (RateLimitingSampler, (1e9,)),
        (RateLimitingSampler, (math.inf,)),
        (GuaranteedThroughputProbabilisticSampler, ("op", -1, 0.5)),
        (GuaranteedThroughputProbabilisticSampler, ("op", 1, 7)),
        (AdaptiveSampler, ({"defaultSamplingProbability": 7}, 10)),
        (AdaptiveSampler, ({"defaultSamplingProbability": math.nan}, 10)),
        (AdaptiveSampler, ({}, 0)),
        (RateLimiter, (-1, 1)), (RateLimiter, (1, math.nan)),
    ]
    for factory, args in cases:
        try:
            factory(*args)
        except ValueError:
            continue
        print("accepted", factory.__name__, args)
        sys.exit(1)
    print("optimize", sys.flags.optimize, "rejected", len(cases))
    """
)


def test_validation_is_identical_under_python_O() -> None:
    result = subprocess.run(
        [sys.executable, "-O", "-c", _OPTIMIZED_CHECKS],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert result.stdout.split() == ["optimize", "1", "rejected", "13"]


# ---- rate limiting ------------------------------------------------------------------------------


def test_rate_limiting_sampler_spends_credit_per_trace(clock: FakeClock) -> None:
    sampler = RateLimitingSampler(2)
    sampler.rate_limiter.balance = 2.0
    assert [sampler.is_sampled(0)[0] for _ in range(3)] == [True, True, False]
    clock.now += 0.25
    assert sampler.is_sampled(0)[0] is False
    clock.now += 0.25
    assert sampler.is_sampled(0)[0] is True
    clock.now += 5  # 10 credits' worth, capped at 2
    assert [sampler.is_sampled(0)[0] for _ in range(4)] == [True, True, False, False]
    assert sampler.is_sampled(0)[1] == tags("ratelimiting", 2)
    assert str(sampler) == "RateLimitingSampler(2)"


def test_rate_limiting_below_one_per_second_samples_whole_traces(clock: FakeClock) -> None:
    sampler = RateLimitingSampler(0.1)
    sampler.rate_limiter.balance = 1.0
    assert [sampler.is_sampled(0)[0] for _ in range(2)] == [True, False]
    clock.now += 9.9
    assert sampler.is_sampled(0)[0] is False
    clock.now += 0.2
    assert sampler.is_sampled(0)[0] is True


def test_rate_limiting_sampler_samples_at_its_rate_over_time(clock: FakeClock) -> None:
    sampler = RateLimitingSampler(4)
    sampler.rate_limiter.balance = 0.0
    sampled = 0
    for _ in range(1280):  # 128 requests per second for 10 seconds (binary-exact steps)
        clock.now += 1 / 128
        sampled += sampler.is_sampled(0)[0]
    assert sampled == 40


def test_rate_limiting_zero_never_samples(clock: FakeClock) -> None:
    sampler = RateLimitingSampler(0)
    clock.now += 3600
    assert not any(sampler.is_sampled(0)[0] for _ in range(10))


def test_rate_limiting_update_is_proportional_and_swaps_tags(clock: FakeClock) -> None:
    sampler = RateLimitingSampler(3.0)
    sampler.rate_limiter.balance = 3.0
    assert sampler.is_sampled(0)[0]
    old_tags = sampler.is_sampled(0)[1]
    snapshot = dict(old_tags)
    assert sampler.update(3.0) is False, "same rate: nothing to do"
    assert sampler.is_sampled(0)[1] is old_tags
    sampler.rate_limiter.balance = 2.0
    assert sampler.update(2.0) is True
    assert sampler.rate_limiter.balance == pytest.approx(4.0 / 3.0)
    assert str(sampler) == "RateLimitingSampler(2.0)"
    new_tags = sampler.is_sampled(0)[1]
    assert new_tags == tags("ratelimiting", 2.0)
    assert new_tags is not old_tags and old_tags == snapshot, "a returned dict is never mutated"


def test_sampler_equality_ignores_rate_limiter_state() -> None:
    assert ConstSampler(True) == ConstSampler(True) != ConstSampler(False)
    assert ProbabilisticSampler(0.01) == ProbabilisticSampler(0.01) != ProbabilisticSampler(0.02)
    assert ConstSampler(True) != ProbabilisticSampler(0.01)
    one, two = RateLimitingSampler(0.01), RateLimitingSampler(0.01)
    one.rate_limiter.balance, two.rate_limiter.balance = 0.1, 0.9
    assert one == two
    assert one != RateLimitingSampler(0.02)
    assert one != ConstSampler(True)
    assert one != ProbabilisticSampler(0.01)


# ---- guaranteed throughput ---------------------------------------------------------------------


def test_guaranteed_throughput_probabilistic_first_then_lower_bound(clock: FakeClock) -> None:
    sampler = GuaranteedThroughputProbabilisticSampler("op", 2, 0.5)
    sampler.lower_bound_sampler.rate_limiter.balance = 2.0
    assert sampler.is_sampled(HALF - 10) == (True, tags("probabilistic", 0.5))
    # the probabilistic "yes" still spent one lower-bound credit: one left
    assert sampler.is_sampled(HALF + 10) == (True, tags("lowerbound", 0.5))
    assert sampler.is_sampled(HALF + 10)[0] is False
    assert str(sampler) == "GuaranteedThroughputProbabilisticSampler(op, 0.500000, 2.000000)"

    assert sampler.update(3, 0.51) is True
    assert sampler.update(3, 0.51) is False
    sampler.lower_bound_sampler.rate_limiter.balance = 3.0
    assert sampler.is_sampled(HALF - 10) == (True, tags("probabilistic", 0.51))
    assert sampler.is_sampled(HALF + (HALF // 4)) == (True, tags("lowerbound", 0.51))
    assert str(sampler) == "GuaranteedThroughputProbabilisticSampler(op, 0.510000, 3.000000)"
    sampler.close()


def test_guaranteed_throughput_lower_bound_holds_at_probability_zero(clock: FakeClock) -> None:
    sampler = GuaranteedThroughputProbabilisticSampler("op", 0.5, 0.0)
    sampler.lower_bound_sampler.rate_limiter.balance = 0.0
    sampled = 0
    for _ in range(100):  # 8 requests per second for 12.5 seconds (binary-exact steps)
        clock.now += 1 / 8
        sampled += sampler.is_sampled(HALF)[0]
    assert sampled == 6


# ---- per operation ------------------------------------------------------------------------------


def test_adaptive_sampler_per_operation_rates_and_defaults(clock: FakeClock) -> None:
    sampler = AdaptiveSampler(strategies(0.51, 3, op=0.5), 2)
    assert sampler.is_sampled(HALF - 10, "op") == (True, tags("probabilistic", 0.5))
    # first sight of new_op: a sampler with the default probability and lower bound
    assert sampler.is_sampled(HALF - 10, "new_op") == (True, tags("probabilistic", 0.51))
    sampler.samplers["new_op"].lower_bound_sampler.rate_limiter.balance = 1.0
    assert sampler.is_sampled(HALF + (HALF // 4), "new_op") == (True, tags("lowerbound", 0.51))
    # max_operations (2) reached: the default probabilistic sampler decides, no lower bound
    assert sampler.is_sampled(HALF - 10, "new_op_2") == (True, tags("probabilistic", 0.51))
    assert sampler.is_sampled(HALF + (HALF // 4), "new_op_2")[0] is False
    assert "new_op_2" not in sampler.samplers
    assert str(sampler) == "AdaptiveSampler(0.510000, 3.000000, 2)"


def test_adaptive_sampler_default_values() -> None:
    sampler = AdaptiveSampler({}, 2)
    assert str(sampler) == "AdaptiveSampler(0.001000, 0.001667, 2)"
    assert sampler.is_sampled(0, "op") == (True, tags("probabilistic", 0.001))
    assert (
        str(sampler.samplers["op"])
        == "GuaranteedThroughputProbabilisticSampler(op, 0.001000, 0.001667)"
    )
    assert sampler.default_sampling_probability == DEFAULT_SAMPLING_PROBABILITY
    assert sampler.lower_bound == DEFAULT_LOWER_BOUND


def test_adaptive_update_changes_listed_operations_and_prunes_the_rest(clock: FakeClock) -> None:
    sampler = AdaptiveSampler(strategies(0.51, 3, op=0.5, gone=0.2), 10)
    sampler.is_sampled(HALF - 10, "seen_only_locally")
    kept = sampler.samplers["op"]
    assert set(sampler.samplers) == {"op", "gone", "seen_only_locally"}

    assert sampler.update(strategies(0.52, 4, op=0.52, new_op_3=0.53)) is True
    assert set(sampler.samplers) == {"op", "new_op_3"}, "upstream never forgot 'gone' (defect 12)"
    assert sampler.samplers["op"] is kept, "a listed operation keeps its lower-bound credit"
    assert sampler.is_sampled(HALF - 10, "op") == (True, tags("probabilistic", 0.52))
    assert sampler.is_sampled(HALF - 10, "new_op_3") == (True, tags("probabilistic", 0.53))
    # a pruned operation comes back with the new defaults
    assert sampler.is_sampled(HALF - 10, "gone") == (True, tags("probabilistic", 0.52))
    assert (
        str(sampler.samplers["gone"])
        == "GuaranteedThroughputProbabilisticSampler(gone, 0.520000, 4.000000)"
    )
    assert str(sampler) == "AdaptiveSampler(0.520000, 4.000000, 10)"
    assert sampler.update(strategies(0.52, 4, op=0.52, new_op_3=0.53)) is False, "same config"


def test_adaptive_update_caps_listed_operations_at_max_operations() -> None:
    sampler = AdaptiveSampler(strategies(0.5, 1, **{f"op{i}": 0.5 for i in range(10)}), 3)
    assert list(sampler.samplers) == ["op0", "op1", "op2"]
    sampler.update(strategies(0.5, 1, **{f"x{i}": 0.5 for i in range(10)}))
    assert list(sampler.samplers) == ["x0", "x1", "x2"]


def test_adaptive_entry_without_probabilistic_sampling_uses_response_default() -> None:
    sampler = AdaptiveSampler(
        {"defaultSamplingProbability": 0.3, "perOperationStrategies": [{"operation": "a"}]}, 5
    )
    assert sampler.samplers["a"].rate == 0.3


def test_adaptive_values_are_floats_whatever_the_json_number_type() -> None:
    sampler = AdaptiveSampler(strategies(1, 2, op=1), 5)
    _, op_tags = sampler.is_sampled(HALF, "op")
    assert op_tags == tags("probabilistic", 1.0)
    assert type(op_tags["sampler.param"]) is float


def test_adaptive_sampler_is_safe_from_many_threads() -> None:
    import threading

    sampler = AdaptiveSampler(strategies(0.5, 1, op=0.5), 50)
    errors: list[BaseException] = []
    start = threading.Barrier(4)

    def work(n: int) -> None:
        start.wait()
        try:
            for i in range(2000):
                sampler.is_sampled(i * 7919, f"op-{(i + n) % 80}")
                if n == 0 and i % 200 == 0:
                    sampler.update(strategies(0.5 + i / 10000, 1, op=0.4))
        except BaseException as e:  # collected for the assertion below
            errors.append(e)

    threads = [threading.Thread(target=work, args=(n,)) for n in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(20)
    assert errors == []
    assert len(sampler.samplers) <= 50 + 3, "max_operations may be overshot only by racing threads"


# ---- tags identity contract (the tracer caches converted tags by identity) -------------------


def _all_samplers() -> list[Sampler]:
    return [
        ConstSampler(True),
        ProbabilisticSampler(1.0),
        RateLimitingSampler(1000),
        GuaranteedThroughputProbabilisticSampler("op", 1, 1.0),
        AdaptiveSampler(strategies(1.0, 1, op=1.0), 10),
    ]


@pytest.mark.parametrize("sampler", _all_samplers(), ids=lambda s: type(s).__name__)
def test_tags_are_the_same_dict_until_configuration_changes(sampler: Sampler) -> None:
    first = sampler.is_sampled(1, "op")[1]
    snapshot = copy.deepcopy(first)
    for trace_id in range(2, 50):
        assert sampler.is_sampled(trace_id, "op")[1] is first
    assert first == snapshot


def test_updates_never_mutate_returned_tags() -> None:
    gtp = GuaranteedThroughputProbabilisticSampler("op", 1, 0.0)
    gtp.lower_bound_sampler.rate_limiter.balance = 1.0
    returned = gtp.is_sampled(HALF, "op")[1]
    probabilistic = gtp.probabilistic_sampler.is_sampled(0)[1]
    snapshots = copy.deepcopy((returned, probabilistic))
    gtp.update(2, 0.5)
    assert (returned, probabilistic) == snapshots


def test_tracer_puts_sampler_tags_on_sampled_root_spans_only() -> None:
    reporter = InMemoryReporter()
    tracer = Tracer("svc", reporter, ProbabilisticSampler(1.0))
    root = tracer.start_span("root")
    child = tracer.start_span("child", child_of=root)
    root_tags = {key: value for key, _, value in root._tags}
    assert root_tags["sampler.type"] == "probabilistic"
    assert root_tags["sampler.param"] == 1.0
    assert not any(key.startswith("sampler.") for key, _, _ in child._tags)

    never = Tracer("svc", reporter, ProbabilisticSampler(0.0))
    assert not never.start_span("root").is_sampled()


# ---- upstream helpers, constants, speed --------------------------------------------------------


@pytest.mark.parametrize(
    ("strategy", "expected"),
    [
        ({"probabilisticSampling": {"samplingRate": 0.003}}, 0.003),
        ({}, 0.001),
        (None, 0.001),
        ({"probabilisticSampling": {}}, 0.001),
        ({"probabilisticSampling": None}, 0.001),
    ],
)
def test_get_sampling_probability(strategy: Any, expected: float) -> None:
    assert get_sampling_probability(strategy) == expected


@pytest.mark.parametrize(
    ("strategy", "expected"),
    [
        ({"rateLimitingSampling": {"maxTracesPerSecond": 1}}, 1),
        ({}, DEFAULT_LOWER_BOUND),
        (None, DEFAULT_LOWER_BOUND),
        ({"rateLimitingSampling": {}}, DEFAULT_LOWER_BOUND),
        ({"rateLimitingSampling": None}, DEFAULT_LOWER_BOUND),
    ],
)
def test_get_rate_limit(strategy: Any, expected: float) -> None:
    assert get_rate_limit(strategy) == pytest.approx(expected)


def test_upstream_default_constants() -> None:
    assert (DEFAULT_SAMPLING_PROBABILITY, DEFAULT_MAX_OPERATIONS) == (0.001, 2000)
    assert pytest.approx(1 / 600) == DEFAULT_LOWER_BOUND
