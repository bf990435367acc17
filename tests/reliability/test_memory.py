"""Figure 12: memory stays bounded over a million spans with the agent down (RELIABILITY §3.4):
the queue holds at most ``queue_capacity`` spans, each span at most its caps of tags and logs.
"""

from __future__ import annotations

import gc
import os
import time
import tracemalloc
from typing import Any, Callable

import pytest

from jaeger_client import ConstSampler, Tracer
from jaeger_client.local_agent_net import LocalAgentSender
from jaeger_client.reporter import InMemoryReporter, Reporter

from ._support import dead_udp_port, n, scaled

SPANS = scaled(100_000, 1_000_000)
QUEUE = 10_000  # the default queue_capacity
CAP = 128  # tags and logs per span for this tracer
CAP_SPAN_EVERY = 5_000  # one span in 5,000 tries twice the caps
SAMPLE_EVERY = 10_000
PAGE = os.sysconf("SC_PAGE_SIZE")


def rss() -> int:
    """Resident set size of this process, in bytes (Linux)."""
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[1]) * PAGE


def make_tracer(reporter: Any) -> Tracer:
    return Tracer(
        "reliability",
        reporter,
        ConstSampler(True),
        max_tags_per_span=CAP,
        max_logs_per_span=CAP,
        max_fields_per_log=8,
    )


def report(tracer: Tracer, i: int) -> Any:
    span = tracer.start_span("memory")
    span.set_tag("i", i)
    span.set_tag("path", "/checkout/cart")
    span.log_kv({"event": "step", "i": i})
    if i % CAP_SPAN_EVERY == 0:  # tries to overrun every cap
        for k in range(2 * CAP):
            span.set_tag(f"tag{k}", "v" * 100)
            span.log_kv({f"f{j}": j for j in range(2 * 8)})
    span.finish()
    return span


def span_bytes(i: int) -> int:
    """Python heap bytes held by one finished span shaped like span ``i`` of this test."""
    tracer = make_tracer(InMemoryReporter())
    report(tracer, i)  # warm caches
    gc.collect()
    tracemalloc.start()
    try:
        before = tracemalloc.get_traced_memory()[0]
        for _ in range(20):
            report(tracer, i)
        after = tracemalloc.get_traced_memory()[0]
    finally:
        tracemalloc.stop()
    return (after - before) // 20


@pytest.mark.timeout(scaled(120, 1200))
def test_a_million_spans_with_the_agent_down_keep_memory_bounded(
    figure: Callable[[int, str], None],
) -> None:
    mb = 1024 * 1024
    per_span = span_bytes(0)  # the largest shape: a span that tries to overrun the caps
    typical = span_bytes(1)
    bound = QUEUE * per_span + 10 * mb
    # after the first half the queue may still fill up, with typical spans; nothing else may grow
    late_bound = QUEUE * typical + 10 * mb
    channel = LocalAgentSender(host="127.0.0.1", reporting_port=dead_udp_port())
    tracer = make_tracer(Reporter(channel, queue_capacity=QUEUE, flush_interval=0.05))
    over_caps = []
    for i in range(SAMPLE_EVERY):  # warm up: the queue, the worker, the allocator's arenas
        report(tracer, i)
    gc.collect()
    baseline = rss()
    peak = baseline
    at_half = baseline
    start = time.monotonic()
    for i in range(SAMPLE_EVERY, SPANS):
        span = report(tracer, i)
        if i % CAP_SPAN_EVERY == 0 and (len(span.tags) > CAP or len(span.logs) > CAP):
            over_caps.append(i)
        if i % SAMPLE_EVERY == 0:
            peak = max(peak, rss())
            if i == SPANS // 2:
                at_half = peak
    elapsed = time.monotonic() - start
    tracer.close().result(30)
    peak = max(peak, rss())
    stats = tracer.reporter.stats()
    dropped = tracer.dropped.as_dict()
    growth = peak - baseline
    late_growth = peak - at_half
    figure(
        12,
        f"{n(SPANS)} spans with the agent down ({elapsed:.0f} s): RSS growth "
        f"{growth / mb:.1f} MB < queue_size {n(QUEUE)} x max_span_bytes {n(per_span)} + 10 MB "
        f"= {bound / mb:.0f} MB; {late_growth / mb:.1f} MB of it in the second half (bound: a "
        f"queue of typical {n(typical)}-byte spans + 10 MB = {late_bound / mb:.0f} MB); "
        f"{len(over_caps)} spans over the per-span caps ({CAP} tags, {CAP} logs; "
        f"{n(dropped['tags'])} tags and {n(dropped['logs'])} logs dropped and counted); "
        f"{n(stats.failed)} failed + {n(stats.dropped)} dropped of {n(stats.reported)}",
    )
    assert growth < bound
    assert late_growth < late_bound  # no leak: flat once warm
    assert over_caps == []
    assert dropped["tags"] > 0 and dropped["logs"] > 0
    assert stats.reported == SPANS and stats.sent == 0 and stats.queued == 0
