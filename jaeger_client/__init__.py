"""jaeger_client: an OpenTracing 2.x tracer for Jaeger, a drop-in successor to jaeger-client 4.8."""

__version__ = "5.0.0.dev0"

from .config import Config  # noqa: E402
from .sampler import (  # noqa: E402
    ConstSampler,
    ProbabilisticSampler,
    RateLimitingSampler,
    RemoteControlledSampler,
)
from .span import Span  # noqa: E402
from .span_context import SpanContext  # noqa: E402
from .tracer import Tracer  # noqa: E402

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
