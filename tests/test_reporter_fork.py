"""Real ``os.fork()``: the child gets its own queue, sender state and worker; ids differ.

On 3.12+ forking a process that has threads warns (the parent's worker is such a thread), so the
tests that fork after a span was reported carry a targeted ``filterwarnings`` mark.
"""

from __future__ import annotations

import gc
import os
import socket
import sys
import threading
from typing import Any

import pytest
from _reporter_fakes import FakeSender, make_reporter, reporter_threads
from conftest import FORK_WARNING, decode_emit_batch, run_in_child

from jaeger_client.local_agent_net import LocalAgentSender
from jaeger_client.reporter import Reporter
from jaeger_client.sampler import ConstSampler
from jaeger_client.tracer import Tracer

pytestmark = pytest.mark.skipif(not hasattr(os, "fork"), reason="needs os.fork")

DEADLINE = 5.0


@pytest.mark.filterwarnings(FORK_WARNING)
def test_child_sends_only_its_own_spans_with_its_own_worker() -> None:
    sender = FakeSender()
    reporter = make_reporter(sender, flush_interval=60)
    for i in range(5):
        reporter.report_span(f"parent-{i}")  # queued: no full batch, a long flush interval
    parent_workers = reporter_threads()

    def child() -> Any:
        for i in range(10):
            reporter.report_span(f"child-{i}")
        reporter.close().result(DEADLINE)
        # the future completes just before the worker returns: join it rather than race it
        workers = reporter_threads()
        for worker in workers:
            worker.join(DEADLINE)
        return {
            "spans": sender.spans,
            "resets": sender.resets,
            "stats": list(reporter.stats()),
            "workers": len(workers),
            "alive": sum(worker.is_alive() for worker in workers),
        }

    result = run_in_child(child)
    assert result["spans"] == [f"child-{i}" for i in range(10)]  # not the parent's queued five
    assert result["resets"] == 1
    assert result["stats"] == [10, 0, 0, 0, 0]
    assert result["workers"] <= 1  # the child's own worker, if it was still returning
    assert result["alive"] == 0  # closed: the child's own worker has exited
    assert reporter.flush(DEADLINE)
    assert sender.spans == [f"parent-{i}" for i in range(5)]  # sent once, by the parent
    assert reporter_threads() == parent_workers
    reporter.close().result(DEADLINE)


@pytest.mark.filterwarnings(FORK_WARNING)
def test_child_trace_and_span_ids_differ_from_the_parents() -> None:
    sender = FakeSender()
    tracer = Tracer("fork", make_reporter(sender), ConstSampler(True))
    tracer.start_span("before-fork").finish()

    def ids() -> list[list[int]]:
        spans = [tracer.start_span("op") for _ in range(50)]
        return [[s.trace_id, s.span_id] for s in spans]

    child_ids = run_in_child(ids)
    parent_ids = ids()
    assert not {tuple(x) for x in child_ids} & {tuple(x) for x in parent_ids}
    assert not {x[0] for x in child_ids} & {x[0] for x in parent_ids}
    tracer.close().result(DEADLINE)


def test_fork_before_any_span_starts_no_thread_in_the_parent() -> None:
    """The gunicorn --preload case: the master never reports, so it forks without threads."""
    sender = FakeSender()
    reporter = make_reporter(sender)
    before = reporter_threads()

    def child() -> Any:
        reporter.report_span("from-child")
        return {"flushed": reporter.flush(DEADLINE), "spans": sender.spans}

    assert run_in_child(child) == {"flushed": True, "spans": ["from-child"]}
    assert reporter_threads() == before
    reporter.close().result(DEADLINE)


@pytest.mark.filterwarnings(FORK_WARNING)
def test_reporter_closed_in_the_parent_stays_closed_in_the_child() -> None:
    sender = FakeSender()
    reporter = make_reporter(sender)
    reporter.report_span("p")
    parent_future = reporter.close()
    parent_future.result(DEADLINE)

    def child() -> Any:
        reporter.report_span("c")
        future = reporter.close()
        return {
            "done": future.done(),
            "same": future is parent_future,
            "stats": list(reporter.stats()),
        }

    result = run_in_child(child)
    assert result == {"done": True, "same": False, "stats": [0, 1, 0, 0, 0]}


def test_a_collected_reporter_does_not_break_fork() -> None:
    reporter = make_reporter(FakeSender())
    del reporter
    gc.collect()
    assert run_in_child(lambda: "ok") == "ok"


# ---- end to end over real UDP ------------------------------------------------------------------

try:
    from jaeger_client.senders import UDPSender  # noqa: F401
except ImportError:
    HAS_UDP_SENDER = False
else:
    HAS_UDP_SENDER = True


@pytest.mark.skipif(
    not HAS_UDP_SENDER, reason="jaeger_client.senders.UDPSender is not in the tree yet"
)
@pytest.mark.filterwarnings(FORK_WARNING)
def test_forked_child_reports_over_udp_and_the_parent_receives_distinct_ids(
    agent_udp: socket.socket,
) -> None:
    channel = LocalAgentSender(host="127.0.0.1", reporting_port=agent_udp.getsockname()[1])
    tracer = Tracer("fork-e2e", Reporter(channel, flush_interval=60), ConstSampler(True))
    for i in range(5):
        tracer.start_span(f"parent-{i}").finish()  # queued in the parent at fork time
    assert len(reporter_threads()) >= 1

    def child() -> Any:
        for i in range(10):
            tracer.start_span(f"child-{i}").finish()
        tracer.close().result(DEADLINE)
        return list(tracer.reporter.stats())

    assert run_in_child(child) == [10, 0, 0, 0, 0]
    assert tracer.flush(DEADLINE)
    spans = []
    while len(spans) < 15:
        packet, _ = agent_udp.recvfrom(65535)
        spans.extend(decode_emit_batch(packet).spans)
    names = sorted(s.operationName for s in spans)
    assert names == sorted([f"parent-{i}" for i in range(5)] + [f"child-{i}" for i in range(10)])
    ids = {(s.traceIdLow, s.spanId) for s in spans}
    assert len(ids) == 15
    agent_udp.settimeout(0.2)
    with pytest.raises(socket.timeout):  # nothing was sent twice
        agent_udp.recvfrom(65535)
    tracer.close().result(DEADLINE)


def test_fork_warning_filter_matches_the_real_message() -> None:
    """Keeps FORK_WARNING honest: on 3.12+ it must match what CPython says when forking."""
    if sys.version_info < (3, 12):
        pytest.skip("CPython warns on fork with threads only from 3.12")
    import re
    import warnings

    stop = threading.Event()
    thread = threading.Thread(target=stop.wait)
    thread.start()
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            pid = os.fork()
            if pid == 0:
                os._exit(0)
            os.waitpid(pid, 0)
    finally:
        stop.set()
        thread.join()
    pattern = FORK_WARNING.split(":")[1]
    assert any(re.match(pattern, str(w.message)) for w in caught), [str(w.message) for w in caught]
