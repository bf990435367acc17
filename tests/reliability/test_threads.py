"""Figure 11: 16 threads mutate one span while they also finish it (RELIABILITY 2.5).

Every ``set_tag``/``log_kv`` is either stored, dropped by a cap, or ignored after ``finish()``,
and each outcome is counted: stored (as delivered to the agent) + counted = attempted, exactly.
The span is reported once, however many threads finish it.
"""

from __future__ import annotations

import sys
import threading
from typing import Any, Callable

from jaeger_client import ConstSampler, Tracer
from jaeger_client.local_agent_net import LocalAgentSender
from jaeger_client.reporter import Reporter

from ._support import UdpAgent, n, scaled

DEADLINE = 10.0
THREADS = 16
OPS = scaled(1_000, 10_000)  # per thread, per span
SPANS = scaled(2, 4)
SAMPLER_TAGS = 2  # sampler.type and sampler.param, stored before any user tag
CAP = 256  # tags and logs per span: reached long before the first finish()


def mutate(
    span: Any,
    thread: int,
    start: threading.Barrier,
    halfway: threading.Barrier,
    errors: list[BaseException],
) -> None:
    """Half the mutations (over the caps, all 16 threads); then the even threads finish the span
    while the odd ones go on mutating it, and finish it last."""
    try:
        start.wait(DEADLINE)
        for i in range(OPS):
            if i == OPS // 2:
                halfway.wait(DEADLINE)
                if thread % 2 == 0:
                    span.finish()
            if i % 2:
                span.set_tag(f"t{thread}-{i}", i)
            else:
                span.log_kv({"thread": thread, "i": i})
        if thread % 2:
            span.finish()
    except BaseException as e:  # counted: the figure reports them
        errors.append(e)


def run_rounds(tracer: Tracer, span_ids: list[int], errors: list[BaseException]) -> None:
    for _ in range(SPANS):
        span = tracer.start_span("shared")
        span_ids.append(span.span_id)
        start, halfway = threading.Barrier(THREADS), threading.Barrier(THREADS)
        threads = [
            threading.Thread(target=mutate, args=(span, k, start, halfway, errors))
            for k in range(THREADS)
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(DEADLINE)


def test_sixteen_threads_mutating_one_span_while_finishing_it_lose_nothing_uncounted(
    figure: Callable[[int, str], None],
) -> None:
    with UdpAgent() as agent:
        channel = LocalAgentSender(host=agent.host, reporting_port=agent.port)
        tracer = Tracer(
            "reliability",
            Reporter(channel, flush_interval=0.05),
            ConstSampler(True),
            max_tags_per_span=CAP,
            max_logs_per_span=CAP,
        )
        errors: list[BaseException] = []
        span_ids = []
        interval = sys.getswitchinterval()
        sys.setswitchinterval(1e-5)  # switch threads every few bytecodes: real interleaving
        try:
            run_rounds(tracer, span_ids, errors)
        finally:
            sys.setswitchinterval(interval)
        tracer.flush(DEADLINE)
        delivered = agent.wait_for_spans(SPANS, DEADLINE)
        agent.quiet_for(0.2)  # a span reported twice would arrive by now
        delivered = agent.spans()
        tracer.close().result(DEADLINE)
    dropped = tracer.dropped.as_dict()
    attempted = SPANS * THREADS * OPS
    stored_tags = sum(len(s.tags or ()) - SAMPLER_TAGS for s in delivered)
    stored_logs = sum(len(s.logs or ()) for s in delivered)
    counted = dropped["tags"] + dropped["logs"] + dropped["after_finish"]
    times_reported = sorted(
        sum(s.spanId == i - (1 << 64) * (i >> 63) for s in delivered) for i in span_ids
    )
    figure(
        11,
        f"{THREADS} threads x {n(OPS)} set_tag/log_kv on one span (caps {CAP} tags, {CAP} "
        f"logs); halfway 8 threads finish() it while 8 go on mutating, then finish() it too "
        f"({SPANS} spans): {len(errors)} "
        f"exceptions; {n(attempted)} mutations "
        f"= {n(stored_tags)} tags + {n(stored_logs)} logs delivered + {n(dropped['tags'])} tags "
        f"and {n(dropped['logs'])} logs over the caps + {n(dropped['after_finish'])} after "
        f"finish ({attempted - stored_tags - stored_logs - counted} unaccounted); each span "
        f"reported {times_reported} times, {n(dropped['finish_twice'])} repeated finish() "
        "counted",
    )
    assert errors == []
    assert stored_tags + stored_logs + counted == attempted
    assert times_reported == [1] * SPANS
    assert dropped["finish_twice"] == SPANS * (THREADS - 1)
    assert all(len(s.tags) <= CAP and len(s.logs) <= CAP for s in delivered)
    assert dropped["after_finish"] > 0 and dropped["tags"] + dropped["logs"] > 0
