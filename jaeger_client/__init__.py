"""jaeger_client: an OpenTracing 2.x tracer for Jaeger, a drop-in successor to jaeger-client 4.8."""

from ._version import __version__
from .config import Config
from .sampler import (
    ConstSampler,
    ProbabilisticSampler,
    RateLimitingSampler,
    RemoteControlledSampler,
)
from .span import Span
from .span_context import SpanContext
from .tracer import Tracer

__all__ = [
    "Config",
    "ConstSampler",
    "ProbabilisticSampler",
    "RateLimitingSampler",
    "RemoteControlledSampler",
    "Span",
    "SpanContext",
    "Tracer",
    "__version__",
]
