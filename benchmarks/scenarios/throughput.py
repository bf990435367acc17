"""End to end through real UDP to the loopback sink, which decodes every datagram.

``mode=burst``: ``n`` spans as fast as the application thread can make them, then ``close()``.
``mode=paced``: spans at ``rate`` per second for ``duration`` seconds (as many as the
implementation manages), then ``close()``.

Reported: the app thread's rate, % delivered (spans decoded by the sink / spans finished), CPU of
the whole app process (all threads, ``time.process_time``) per 1,000 spans made and per span
delivered, time from the first span to the last datagram, and whether ``close()`` completed.
Where spans went missing: ``queue_dropped`` (ours only: spans the reporter dropped because its
queue was full, by its own count) and ``sink_kernel_drops`` (datagrams the sink's socket buffer
overflowed), with the 1-minute load average at the end of the run.
OTel has no UDP exporter: it runs with a counting exporter, so its delivery cells are n/a.
"""

from __future__ import annotations

import os
import time
from typing import Any, Optional

import _common


def burst(tracer: Any, p: dict[str, Any]) -> tuple[int, float]:
    one_span = _common.one_span
    for _ in range(p["n"]):
        one_span(tracer)
    return p["n"], 0.0


def paced(tracer: Any, p: dict[str, Any]) -> tuple[int, float]:
    one_span = _common.one_span
    rate = float(p["rate"])
    monotonic = time.monotonic
    start = monotonic()
    end = start + p["duration"]
    emitted = 0
    slept = 0.0
    while True:
        now = monotonic()
        if now >= end:
            break
        due = int((now - start) * rate) + 1
        if emitted < due:
            for _ in range(min(due - emitted, 50)):
                one_span(tracer)
            emitted += min(due - emitted, 50)
        else:
            time.sleep(0.0002)
            slept += monotonic() - now
    return emitted, slept


def _queue_dropped(tracer: Any) -> Optional[int]:
    """Spans the reporter itself dropped (queue full or closed), if it counts them (ours)."""
    stats = getattr(getattr(tracer, "reporter", None), "stats", None)
    if stats is None:
        return None
    return int(stats().dropped)


def body(impl: _common.Impl, p: dict[str, Any]) -> dict[str, Any]:
    with _common.SinkClient() as sink:
        tracer = impl.tracer("udp", port=sink.port, substitute=True, extra=p.get("config"))
        cpu0 = time.process_time()
        t0 = time.monotonic()
        made, slept = (burst if p["mode"] == "burst" else paced)(tracer, p)
        t1 = time.monotonic()
        closed = impl.close(tracer, timeout=p["close_timeout"])
        t2 = time.monotonic()
        queue_dropped = _queue_dropped(tracer)
        st = sink.stats(quiet=p["quiet"], timeout=60)
        cpu = time.process_time() - cpu0
    app_s = t1 - t0
    metrics: dict[str, Any] = {
        "spans": made,
        "app_rate": made / app_s,
        "app_s": app_s,
        "close_s": t2 - t1,
        "close_completed": closed,
        "cpu_ms_per_1k": cpu * 1e3 / (made / 1000),
        "cpu_s": cpu,
        "sleep_s": slept,
    }
    exported = impl.exported()
    if exported is not None:  # OTel: nothing crossed UDP; say what the exporter saw instead
        metrics["exported_pct"] = 100.0 * exported / made
        metrics["cpu_us_per_exported"] = cpu * 1e6 / max(exported, 1)
        return metrics
    delivered = st["spans"]
    metrics.update(
        delivered=delivered,
        delivered_pct=100.0 * delivered / made,
        cpu_us_per_delivered=cpu * 1e6 / max(delivered, 1),
        last_datagram_s=(st["last"] - t0) if st["last"] else None,
        datagrams=st["datagrams"],
        decode_errors=st["errors"],
        max_datagram=st["max_datagram"],
        sink_kernel_drops=st["kernel_rcvbuf_errors"],
        queue_dropped=queue_dropped,
        load_avg_1m=os.getloadavg()[0],
        sink_rcvbuf=st["rcvbuf"],
    )
    return metrics


if __name__ == "__main__":
    _common.run(
        "throughput",
        body,
        {
            "mode": "burst",
            "n": 200000,
            "rate": 20000,
            "duration": 3.0,
            "close_timeout": 30.0,
            "quiet": 0.5,
            "config": None,
        },
    )
