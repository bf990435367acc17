"""Samplers: pure sampling decisions, and RemoteControlledSampler (delegates, owns its poller).

A package since it outgrew one module; every name upstream's ``jaeger_client.sampler`` had
imports from here. ``_local`` holds the decisions, ``_remote`` the control plane client.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from .. import _compat_names
from ._local import (
    DEFAULT_LOWER_BOUND,
    DEFAULT_LOWER_BOUND_STR,
    DEFAULT_MAX_OPERATIONS,
    DEFAULT_SAMPLING_PROBABILITY,
    DEFAULT_SAMPLING_PROBABILITY_STR,
    MAX_TRACES_PER_SECOND_STR,
    OPERATION_SAMPLING_STR,
    OPERATION_STR,
    PROBABILISTIC_SAMPLING_STR,
    PROBABILISTIC_SAMPLING_STRATEGY,
    RATE_LIMITING_SAMPLING_STR,
    RATE_LIMITING_SAMPLING_STRATEGY,
    SAMPLER_PARAM_TAG_KEY,
    SAMPLER_TYPE_TAG_KEY,
    SAMPLING_RATE_STR,
    STRATEGIES_STR,
    STRATEGY_TYPE_STR,
    AdaptiveSampler,
    ConstSampler,
    GuaranteedThroughputProbabilisticSampler,
    ProbabilisticSampler,
    RateLimitingSampler,
    Sampler,
    get_rate_limit,
    get_sampling_probability,
)
from ._remote import RemoteControlledSampler, SamplerMetrics

__all__ = [
    "DEFAULT_LOWER_BOUND",
    "DEFAULT_LOWER_BOUND_STR",
    "DEFAULT_MAX_OPERATIONS",
    "DEFAULT_SAMPLING_PROBABILITY",
    "DEFAULT_SAMPLING_PROBABILITY_STR",
    "MAX_TRACES_PER_SECOND_STR",
    "OPERATION_SAMPLING_STR",
    "OPERATION_STR",
    "PROBABILISTIC_SAMPLING_STR",
    "PROBABILISTIC_SAMPLING_STRATEGY",
    "RATE_LIMITING_SAMPLING_STR",
    "RATE_LIMITING_SAMPLING_STRATEGY",
    "SAMPLER_PARAM_TAG_KEY",
    "SAMPLER_TYPE_TAG_KEY",
    "SAMPLING_RATE_STR",
    "STRATEGIES_STR",
    "STRATEGY_TYPE_STR",
    "AdaptiveSampler",
    "ConstSampler",
    "GuaranteedThroughputProbabilisticSampler",
    "ProbabilisticSampler",
    "RateLimitingSampler",
    "RemoteControlledSampler",
    "Sampler",
    "SamplerMetrics",
    "get_rate_limit",
    "get_sampling_probability",
]


if TYPE_CHECKING:  # upstream's names held here by import (see _compat_names)
    from ..constants import DEFAULT_SAMPLING_INTERVAL as DEFAULT_SAMPLING_INTERVAL
    from ..constants import SAMPLER_TYPE_CONST as SAMPLER_TYPE_CONST
    from ..constants import SAMPLER_TYPE_LOWER_BOUND as SAMPLER_TYPE_LOWER_BOUND
    from ..constants import SAMPLER_TYPE_PROBABILISTIC as SAMPLER_TYPE_PROBABILISTIC
    from ..constants import SAMPLER_TYPE_RATE_LIMITING as SAMPLER_TYPE_RATE_LIMITING
    from ..constants import _max_id_bits as _max_id_bits
    from ..metrics import LegacyMetricsFactory as LegacyMetricsFactory
    from ..metrics import Metrics as Metrics
    from ..metrics import MetricsFactory as MetricsFactory
    from ..rate_limiter import RateLimiter as RateLimiter
    from ..sampler._remote import default_logger as default_logger
    from ..utils import ErrorReporter as ErrorReporter
else:
    __getattr__ = _compat_names.module_getattr(
        __name__,
        {
            "jaeger_client.constants": (
                "DEFAULT_SAMPLING_INTERVAL",
                "SAMPLER_TYPE_CONST",
                "SAMPLER_TYPE_LOWER_BOUND",
                "SAMPLER_TYPE_PROBABILISTIC",
                "SAMPLER_TYPE_RATE_LIMITING",
                "_max_id_bits",
            ),
            "jaeger_client.metrics": ("LegacyMetricsFactory", "Metrics", "MetricsFactory"),
            "jaeger_client.rate_limiter": ("RateLimiter",),
            "jaeger_client.sampler._remote": ("default_logger",),
            "jaeger_client.utils": ("ErrorReporter",),
        },
    )
