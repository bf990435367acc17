"""Span cost on the application thread: start, 3 tags, a log, finish (µs per span).

``kind=null``: a discarding reporter (OTel: BatchSpanProcessor + discarding exporter).
``kind=udp``: the real remote reporter sending to a loopback sink (OTel: n/a).
``sampled=false``: a const-false sampler (OTel: ALWAYS_OFF).

A process's figure is its fastest round with the discarding reporter (``_common.fastest``), the
median round with the UDP reporter, whose thread shares the process.
"""

from __future__ import annotations

from typing import Any

import _common


def body(impl: _common.Impl, p: dict[str, Any]) -> dict[str, Any]:
    sink = _common.SinkClient() if p["kind"] == "udp" else None
    try:
        tracer = impl.tracer(p["kind"], sampled=p["sampled"], port=sink.port if sink else 0)
        # with the UDP reporter a slow round may be the reporter's work: the median keeps it
        metrics = _common.timed_cell(
            lambda: _common.one_span(tracer),
            p,
            "us_per_span",
            fastest_round=p["kind"] == "null",
        )
        impl.close(tracer)
        if sink:
            metrics["delivered"] = sink.stats(quiet=0.3)["spans"]
        return metrics
    finally:
        if sink:
            sink.close()


if __name__ == "__main__":
    _common.run("span_cost", body, {"kind": "null", "sampled": True, "n": 10000, "rounds": 5})
