"""Header interop with OpenTelemetry Python's propagators: a fleet half-way through a migration.

Each pair crosses both ways in HTTP headers: a trace we start is extracted by OpenTelemetry's
propagator, continued there with a child span id and injected back for us to extract; and a
trace OpenTelemetry starts (a 128-bit trace id, as its SDK draws them) is extracted here,
continued and handed back. Sampled, unsampled and (from our side) debug; baggage where the pair
carries it: Jaeger's ``uberctx-*`` both sides, and W3C ``baggage`` beside ``traceparent``
(OpenTelemetry's default ``tracecontext,baggage``). B3 carries no baggage in OpenTelemetry.

Header names cross lower-cased, as an HTTP/2 hop or a WSGI getter hands them over (OpenTelemetry's
default getter on a dict is case-sensitive; ours is not).

Facts the cases pin: OpenTelemetry's Jaeger propagator marks every sampled span it injects as
debug (flags ``03``), so we read its sampled contexts as debug, as any Jaeger client does; W3C
has no debug bit, so our debug arrives there as plain sampled.
"""

from __future__ import annotations

import random
from typing import Any, Callable, Union

import pytest
from opentelemetry import baggage as otel_baggage
from opentelemetry import trace as otel_trace
from opentelemetry.baggage.propagation import W3CBaggagePropagator
from opentelemetry.context import Context
from opentelemetry.propagators.b3 import B3MultiFormat, B3SingleFormat
from opentelemetry.propagators.composite import CompositePropagator
from opentelemetry.propagators.jaeger import JaegerPropagator
from opentelemetry.trace.propagation.tracecontext import TraceContextTextMapPropagator
from opentracing.propagation import Format

from jaeger_client import Config, ConstSampler, Tracer
from jaeger_client.constants import DEBUG_FLAG, SAMPLED_FLAG
from jaeger_client.reporter import InMemoryReporter

BAGGAGE = {"tenant": "acme corp", "path": "/a/b?c=d&e", "plus": "1+1=2", "accent": "é日本"}
Sampling = Union[bool, str]  # True, False or "debug"


def w3c() -> CompositePropagator:
    return CompositePropagator([TraceContextTextMapPropagator(), W3CBaggagePropagator()])


# name -> (our propagation, OpenTelemetry propagator factory, whether baggage crosses)
PAIRS: dict[str, tuple[Any, Callable[[], Any], bool]] = {
    "jaeger": ("jaeger", JaegerPropagator, True),
    "b3": (["b3"], B3MultiFormat, False),
    "b3-single": (["b3-single"], B3SingleFormat, False),
    "w3c": (["w3c", "baggage"], w3c, True),
    # what README suggests for a fleet half-way there, against OpenTelemetry's default
    "jaeger+w3c+baggage": (["jaeger", "w3c", "baggage"], w3c, True),
}


def our_tracer(propagation: Any, bits: int = 64) -> Tracer:
    config = Config(
        {"propagation": propagation, "generate_128bit_trace_id": bits == 128},
        service_name="python-peer",
        environ={},
    )
    return config.create_tracer(reporter=InMemoryReporter(), sampler=ConstSampler(True))


def over_http(headers: dict[str, str]) -> dict[str, str]:
    return {name.lower(): value for name, value in headers.items()}


def our_flags_seen_by_otel(sampling: Sampling) -> bool:
    return sampling is not False


def otel_context(trace_id: int, span_id: int, sampled: bool, bag: dict[str, str]) -> Context:
    span_context = otel_trace.SpanContext(
        trace_id=trace_id,
        span_id=span_id,
        is_remote=False,
        trace_flags=otel_trace.TraceFlags(otel_trace.TraceFlags.SAMPLED if sampled else 0),
    )
    context = otel_trace.set_span_in_context(otel_trace.NonRecordingSpan(span_context))
    for key, value in bag.items():
        context = otel_baggage.set_baggage(key, value, context=context)
    return context


def expected_flags(pair: str, sampled: bool) -> int:
    """What we read from OpenTelemetry's headers for a sampled or unsampled span."""
    if not sampled:
        return 0
    return SAMPLED_FLAG | DEBUG_FLAG if pair == "jaeger" else SAMPLED_FLAG


Outcome = list[tuple[str, bool]]  # (case, agreed)


def ours_first(pair: str, sampling: Sampling, bits: int, outcome: Outcome) -> None:
    propagation, propagator_factory, carries_baggage = PAIRS[pair]
    propagator = propagator_factory()
    tracer = our_tracer(propagation, bits)
    root = tracer.start_span("root")
    if sampling == "debug":
        root.set_tag("sampling.priority", 1)
    elif not sampling:
        root.set_tag("sampling.priority", 0)
    for key, value in BAGGAGE.items():
        root.set_baggage_item(key, value)
    headers: dict[str, str] = {}
    tracer.inject(root.context, Format.HTTP_HEADERS, headers)

    extracted = propagator.extract(over_http(headers))
    seen = otel_trace.get_current_span(extracted).get_span_context()
    bag = dict(otel_baggage.get_all(extracted))
    agreed = (
        seen.is_valid
        and seen.trace_id == root.context.trace_id
        and seen.span_id == root.context.span_id
        and seen.trace_flags.sampled == our_flags_seen_by_otel(sampling)
        and bag == (BAGGAGE if carries_baggage else {})
    )
    outcome.append((f"ours->otel {pair} {bits}-bit sampling={sampling}", agreed))
    if not seen.is_valid:
        return

    # OpenTelemetry continues the trace with a child and hands it back
    child_id = random.getrandbits(64) or 1
    back: dict[str, str] = {}
    propagator.inject(
        back, context=otel_context(seen.trace_id, child_id, seen.trace_flags.sampled, bag)
    )
    context = tracer.extract(Format.HTTP_HEADERS, back)
    agreed = (
        context is not None
        and context.trace_id == root.context.trace_id
        and context.span_id == child_id
        and context.flags == expected_flags(pair, seen.trace_flags.sampled)
        and dict(context.baggage) == (BAGGAGE if carries_baggage else {})
    )
    outcome.append((f"otel->ours {pair} {bits}-bit sampling={sampling} (return)", agreed))


def otel_first(pair: str, sampled: bool, outcome: Outcome) -> None:
    propagation, propagator_factory, carries_baggage = PAIRS[pair]
    propagator = propagator_factory()
    trace_id = random.getrandbits(128) | (1 << 127)  # a full 128-bit id, as OpenTelemetry's SDK
    span_id = random.getrandbits(64) or 1
    headers: dict[str, str] = {}
    propagator.inject(headers, context=otel_context(trace_id, span_id, sampled, BAGGAGE))

    tracer = our_tracer(propagation)
    context = tracer.extract(Format.HTTP_HEADERS, headers)
    agreed = (
        context is not None
        and context.trace_id == trace_id
        and context.span_id == span_id
        and context.flags == expected_flags(pair, sampled)
        and dict(context.baggage) == (BAGGAGE if carries_baggage else {})
    )
    outcome.append((f"otel->ours {pair} sampled={sampled}", agreed))
    if context is None:
        return

    child = tracer.start_span("child", child_of=context)
    back: dict[str, str] = {}
    tracer.inject(child.context, Format.HTTP_HEADERS, back)
    extracted = propagator.extract(over_http(back))
    seen = otel_trace.get_current_span(extracted).get_span_context()
    agreed = (
        seen.is_valid
        and seen.trace_id == trace_id
        and seen.span_id == child.context.span_id
        and seen.trace_flags.sampled == sampled
        and dict(otel_baggage.get_all(extracted)) == (BAGGAGE if carries_baggage else {})
    )
    outcome.append((f"ours->otel {pair} sampled={sampled} (return)", agreed))


def test_round_trips_with_opentelemetry_propagators(figure: Callable[[int, str], None]) -> None:
    outcome: Outcome = []
    for pair in PAIRS:
        for bits in (64, 128):
            for sampling in (True, False, "debug"):
                ours_first(pair, sampling, bits, outcome)
        for sampled in (True, False):
            otel_first(pair, sampled, outcome)
    agreed = sum(ok for _, ok in outcome)
    figure(
        16,
        "OpenTelemetry propagators (Jaeger, B3 multi and single, W3C tracecontext + baggage, and "
        "our [jaeger, w3c, baggage] against their default; "
        "started on either side; sampled, unsampled, debug; 64/128-bit): "
        f"{agreed} of {len(outcome)} crossings agree on ids, sampling and baggage "
        f"({100 * agreed / len(outcome):.0f}%)",
    )
    assert [case for case, ok in outcome if not ok] == []


@pytest.mark.parametrize("sampled", [True, False])
def test_opentelemetry_jaeger_header_flags_as_we_read_them(sampled: bool) -> None:
    headers: dict[str, str] = {}
    JaegerPropagator().inject(headers, context=otel_context(5, 6, sampled, {}))
    assert headers["uber-trace-id"].endswith(":03" if sampled else ":00")
    context = our_tracer("jaeger").extract(Format.HTTP_HEADERS, headers)
    assert context is not None and context.is_sampled == sampled and context.is_debug == sampled


def test_w3c_baggage_from_opentelemetry_alone_starts_a_trace_that_keeps_it() -> None:
    headers: dict[str, str] = {}
    W3CBaggagePropagator().inject(headers, context=otel_context(5, 6, True, BAGGAGE))
    tracer = our_tracer("baggage")
    span = tracer.start_span("op", child_of=tracer.extract(Format.HTTP_HEADERS, headers))
    assert span.context.trace_id and {k: span.get_baggage_item(k) for k in BAGGAGE} == BAGGAGE
