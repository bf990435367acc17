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
        rounds = _common.per_op_us(
            lambda: _common.one_span(tracer), p["n"], p["rounds"], p.get("seconds", 0.0)
        )
        impl.close(tracer)
        # with the UDP reporter a slow round may be the reporter's work: the median keeps it
        figure = _common.fastest(rounds) if p["kind"] == "null" else _common.median(rounds)
        metrics: dict[str, Any] = {
            "us_per_span": figure,
            "median_round": _common.median(rounds),
            "rounds": rounds,
        }
        if sink:
            metrics["delivered"] = sink.stats(quiet=0.3)["spans"]
        return metrics
    finally:
        if sink:
            sink.close()


if __name__ == "__main__":
    _common.run("span_cost", body, {"kind": "null", "sampled": True, "n": 10000, "rounds": 5})
