"""Resident memory over ``n`` spans with the agent down (nothing listens on the UDP port).

``rss_growth_kb``: RSS after ``close()`` (and a GC) minus RSS after the tracer was built and
warmed up with ``warmup`` spans. ``rss_during_kb``: the same, measured before ``close()``.
RSS moves by a megabyte or two between runs with the reporter's queue: the deepest backlog
a run happens to reach leaves its pymalloc arenas resident. ``blocks_growth``: the interpreter's
allocated blocks (``sys.getallocatedblocks``) after ``close()`` minus before, the count a leak
raises and the queue's high-water mark does not.
"""

from __future__ import annotations

import resource
import sys
import time
from typing import Any

import _common


def body(impl: _common.Impl, p: dict[str, Any]) -> dict[str, Any]:
    port = _common.free_udp_port()
    tracer = impl.tracer("udp", port=port, substitute=True)
    one_span = _common.one_span
    for _ in range(p["warmup"]):
        one_span(tracer)
    # the warm-up's backlog sent (ours: flush; the others get a moment), so that "before"
    # holds no queued spans, as "after" (past close) holds none
    flush = getattr(tracer, "flush", None)
    if callable(flush):
        flush(10.0)
    else:
        time.sleep(0.5)
    _common.settle()
    before = _common.rss_bytes()
    blocks_before = sys.getallocatedblocks()
    for _ in range(p["n"]):
        one_span(tracer)
    _common.settle()
    during = _common.rss_bytes()
    closed = impl.close(tracer, timeout=30)
    _common.settle()
    after = _common.rss_bytes()
    blocks_after = sys.getallocatedblocks()
    return {
        "blocks_growth": blocks_after - blocks_before,
        "rss_growth_kb": (after - before) / 1024,
        "rss_during_kb": (during - before) / 1024,
        "rss_before_mb": before / 2**20,
        "maxrss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024,
        "close_completed": closed,
        "spans": p["n"],
    }


if __name__ == "__main__":
    _common.run("rss", body, {"n": 1000000, "warmup": 20000})
