"""Resident memory over ``n`` spans with the agent down (nothing listens on the UDP port).

``rss_growth_kb``: RSS after ``close()`` (and a GC) minus RSS after the tracer was built and
warmed up with ``warmup`` spans. ``rss_during_kb``: the same, measured before ``close()``.
"""

from __future__ import annotations

import resource
from typing import Any

import _common


def body(impl: _common.Impl, p: dict[str, Any]) -> dict[str, Any]:
    port = _common.free_udp_port()
    tracer = impl.tracer("udp", port=port, substitute=True)
    one_span = _common.one_span
    for _ in range(p["warmup"]):
        one_span(tracer)
    _common.settle()
    before = _common.rss_bytes()
    for _ in range(p["n"]):
        one_span(tracer)
    _common.settle()
    during = _common.rss_bytes()
    closed = impl.close(tracer, timeout=30)
    _common.settle()
    after = _common.rss_bytes()
    return {
        "rss_growth_kb": (after - before) / 1024,
        "rss_during_kb": (during - before) / 1024,
        "rss_before_mb": before / 2**20,
        "maxrss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        "close_completed": closed,
        "spans": p["n"],
    }


if __name__ == "__main__":
    _common.run("rss", body, {"n": 1000000, "warmup": 20000})
