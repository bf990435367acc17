"""Jaeger remote sampling for the OpenTelemetry SDK.

OpenTelemetry Python has no Jaeger remote sampler. :class:`JaegerRemoteSampler` puts this
package's :class:`~jaeger_client.sampler.RemoteControlledSampler` behind the SDK's ``Sampler``
interface. The strategy is polled from an agent's ``/sampling`` or a collector's
``/api/sampling``, and it can be per-operation (adaptive), rate-limiting or probabilistic.
A service that moves to the OpenTelemetry SDK keeps the sampling its Jaeger backend controls::

    from opentelemetry.sdk.trace import TracerProvider
    from opentelemetry.sdk.trace.sampling import ParentBased
    from jaeger_client.otel import JaegerRemoteSampler

    provider = TracerProvider(sampler=ParentBased(JaegerRemoteSampler("checkout")))

The SDK's environment configuration (``opentelemetry-instrument``, or a distro's configurator)
finds it through the ``opentelemetry_traces_sampler`` entry points this package declares:
``OTEL_TRACES_SAMPLER=parentbased_jaeger_remote`` (or ``jaeger_remote``) with
``OTEL_TRACES_SAMPLER_ARG=endpoint=http://agent:5778/sampling,pollingIntervalMs=60000,
initialSamplingRate=0.001``, as OpenTelemetry's specification names them. The service name
comes from the SDK's resource (``OTEL_SERVICE_NAME``, or ``service.name`` in
``OTEL_RESOURCE_ATTRIBUTES``).

A sampled root span gets the ``sampler.type`` and ``sampler.param`` attributes that Jaeger
clients set. Jaeger's adaptive sampling reads them to compute each operation's rate.

Needs ``opentelemetry-sdk`` (the ``otel`` extra). Importing ``jaeger_client`` itself never
imports OpenTelemetry.
"""

from __future__ import annotations

import weakref
from collections.abc import Sequence
from typing import Any, Optional

from opentelemetry.context import Context
from opentelemetry.sdk.resources import OTELResourceDetector
from opentelemetry.sdk.trace.sampling import Decision, ParentBased, Sampler, SamplingResult
from opentelemetry.trace import Link, SpanKind, get_current_span
from opentelemetry.trace.span import TraceState
from opentelemetry.util.types import Attributes

from . import constants
from ._settings import note_env
from ._settings._parse import Invalid, check_sampling_endpoint, parse_jaeger_remote_arg
from .metrics import MetricsFactory
from .sampler import ProbabilisticSampler, RemoteControlledSampler

__all__ = [
    "DEFAULT_ENDPOINT",
    "JaegerRemoteSampler",
    "jaeger_remote_sampler",
    "parentbased_jaeger_remote_sampler",
]

DEFAULT_ENDPOINT = f"http://localhost:{constants.DEFAULT_SAMPLING_PORT}{constants.SAMPLING_PATH}"
_LOW_64 = (1 << 64) - 1  # the trace id bits Jaeger's and OpenTelemetry's ratio samplers read


class JaegerRemoteSampler(Sampler):
    """An OpenTelemetry ``Sampler`` whose strategy a Jaeger agent or collector serves.

    It decides for every span it is asked about. Wrap it in ``ParentBased`` so that children
    follow their parent, as Jaeger clients do. It polls on a daemon thread
    (``jaeger-sampler-poller``), which starts on the first decision and again in a forked
    child. ``close()`` stops it, and so does dropping the last reference to the sampler; the
    SDK's ``TracerProvider.shutdown()`` does not close samplers.

    A sampled span keeps the attributes it was started with, plus ``sampler.type`` and
    ``sampler.param``. Deciding never blocks on the network and never raises.

    :param service_name: the ``service`` the strategy is asked for
    :param endpoint: the HTTP sampling URL, polled as ``{endpoint}?service=NAME``: an agent's
        ``http://host:5778/sampling`` (the default, on localhost) or a collector's
        ``http://host:14268/api/sampling``
    :param polling_interval: seconds between polls (default 60)
    :param initial_sampling_rate: the probability used until the first strategy arrives
        (default 0.001)
    :param max_operations: operations a per-operation strategy tracks (default 2000)
    :param http_timeout: seconds a poll may take in all
    :param metrics_factory: where the ``jaeger:sampler_*`` counters go
    """

    def __init__(
        self,
        service_name: str,
        *,
        endpoint: str = DEFAULT_ENDPOINT,
        polling_interval: float = constants.DEFAULT_SAMPLING_INTERVAL,
        initial_sampling_rate: float = constants.DEFAULT_SAMPLING_PROBABILITY,
        max_operations: int = constants.DEFAULT_MAX_OPERATIONS,
        http_timeout: float = constants.DEFAULT_HTTP_TIMEOUT,
        metrics_factory: Optional[MetricsFactory] = None,
    ) -> None:
        check_sampling_endpoint(endpoint)
        self.remote = RemoteControlledSampler(
            service_name=service_name,
            sampling_endpoint=endpoint,
            init_sampler=ProbabilisticSampler(initial_sampling_rate),
            sampling_refresh_interval=polling_interval,
            max_operations=max_operations,
            http_timeout=http_timeout,
            metrics_factory=metrics_factory,
        )
        # the poller thread holds the remote sampler, not this object: stop it with this one
        self._finalizer = weakref.finalize(self, self.remote.close)

    def should_sample(
        self,
        parent_context: Optional[Context],
        trace_id: int,
        name: str,
        kind: Optional[SpanKind] = None,
        attributes: Attributes = None,
        links: Optional[Sequence[Link]] = None,
        trace_state: Optional[TraceState] = None,
    ) -> SamplingResult:
        sampled, tags = self.remote.is_sampled(trace_id & _LOW_64, name)
        parent = get_current_span(parent_context).get_span_context()
        state = parent.trace_state if parent is not None and parent.is_valid else None
        if not sampled:
            return SamplingResult(Decision.DROP, None, state)
        if attributes:  # the SDK starts the span with these: keep the caller's
            merged = dict(attributes)
            merged.update(tags)
            return SamplingResult(Decision.RECORD_AND_SAMPLE, merged, state)
        return SamplingResult(Decision.RECORD_AND_SAMPLE, tags, state)

    def get_description(self) -> str:
        remote = self.remote
        return f"JaegerRemoteSampler{{{remote.service_name}, {remote.sampling_endpoint}}}"

    def close(self) -> None:
        """Stop polling; the last strategy keeps deciding. Idempotent."""
        self._finalizer()


def jaeger_remote_sampler(arg: Optional[str] = None) -> JaegerRemoteSampler:
    """The ``jaeger_remote`` entry point: ``OTEL_TRACES_SAMPLER_ARG`` as OpenTelemetry's
    specification defines it (``endpoint=URL,pollingIntervalMs=N,initialSamplingRate=R``, each
    optional). An invalid ARG is logged once and ignored, as the specification says (raising
    would make the SDK fall back to always-on sampling). The service name is the one the SDK's
    environment gives (``OTEL_SERVICE_NAME``, then ``service.name`` in
    ``OTEL_RESOURCE_ATTRIBUTES``), else ``unknown_service``."""
    options: dict[str, Any] = {}
    try:
        options = parse_jaeger_remote_arg(arg or "")
    except Invalid as e:
        note_env(f"OTEL_TRACES_SAMPLER_ARG={arg!r}: expected {e}; the sampler uses its defaults")
    service_name = OTELResourceDetector().detect().attributes.get("service.name")
    return JaegerRemoteSampler(str(service_name or "unknown_service"), **options)


def parentbased_jaeger_remote_sampler(arg: Optional[str] = None) -> ParentBased:
    """The ``parentbased_jaeger_remote`` entry point: :func:`jaeger_remote_sampler` for root
    spans; children follow their parent."""
    return ParentBased(jaeger_remote_sampler(arg))
