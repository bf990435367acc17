"""inject + extract of a sampled span's context through HTTP_HEADERS (a dict carrier), with baggage.

OTel's shim writes its global propagator's headers (W3C traceparent by default).
A process's figure is its fastest round (``_common.fastest``).
"""

from __future__ import annotations

from typing import Any, Callable

import _common
from opentracing import Format


def setup(impl: _common.Impl) -> tuple[Any, Any, Callable[[], None]]:
    """A tracer, a sampled span with one baggage item, and one inject + extract of its context
    (also counted by instructions.py)."""
    tracer = impl.tracer("null")
    span = tracer.start_span("client")
    span.set_baggage_item("tenant", "acme")
    context = span.context

    def round_trip() -> None:
        carrier: dict[str, str] = {}
        tracer.inject(context, Format.HTTP_HEADERS, carrier)
        tracer.extract(Format.HTTP_HEADERS, carrier)

    return tracer, span, round_trip


def body(impl: _common.Impl, p: dict[str, Any]) -> dict[str, Any]:
    tracer, span, round_trip = setup(impl)
    context = span.context
    carrier: dict[str, str] = {}
    tracer.inject(context, Format.HTTP_HEADERS, carrier)
    extracted = tracer.extract(Format.HTTP_HEADERS, carrier)
    if extracted is None:
        raise RuntimeError(f"extract returned None for {carrier!r}")
    metrics = _common.timed_cell(round_trip, p, "us_per_pair")
    span.finish()
    impl.close(tracer)
    return {**metrics, "headers": sorted(carrier)}


if __name__ == "__main__":
    _common.run("propagation", body, {"n": 10000, "rounds": 5})
