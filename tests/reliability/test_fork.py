"""Figure 9: ``os.fork()`` after the tracer is in use (gunicorn ``--preload``, uWSGI,
``multiprocessing``), as RELIABILITY 2.9 describes: children report on their own, never resend
the parent's queue, draw their own ids, and a fork while the reporter is busy never deadlocks.
"""

from __future__ import annotations

import json
import os
import select
import signal
import threading
import time
from typing import Any, Callable

import pytest
from conftest import FORK_WARNING, fork_child

from jaeger_client import ConstSampler, Tracer
from jaeger_client.local_agent_net import LocalAgentSender
from jaeger_client.reporter import Reporter

from ._support import UdpAgent, n, scaled

pytestmark = pytest.mark.skipif(not hasattr(os, "fork"), reason="needs os.fork")

DEADLINE = 10.0
CHILDREN = 4
CHILD_SPANS = 100
IDS_PER_PROCESS = 2_000  # five processes: 10,000 ids
FORKS = scaled(100, 1_000)


def udp_tracer(agent: UdpAgent, **kwargs: Any) -> Tracer:
    channel = LocalAgentSender(host=agent.host, reporting_port=agent.port)
    return Tracer("reliability", Reporter(channel, **kwargs), ConstSampler(True))


def wait_child(pid: int, fd: int, timeout: float) -> tuple[Any, str]:
    """The child's result (its ``{"error": ...}`` if it raised) and how it ended: ``ok``,
    ``failed`` or ``hung`` (then killed).

    The pipe reaches end-of-file when the child exits (or crashes); a child that does neither
    within ``timeout`` is deadlocked.
    """
    chunks = []
    deadline = time.monotonic() + timeout
    try:
        while True:
            remaining = deadline - time.monotonic()
            readable, _, _ = select.select([fd], [], [], max(0.0, remaining))
            if not readable:
                os.kill(pid, signal.SIGKILL)
                os.waitpid(pid, 0)
                return None, "hung"
            chunk = os.read(fd, 65536)
            if not chunk:
                break
            chunks.append(chunk)
    finally:
        os.close(fd)
    _, status = os.waitpid(pid, 0)
    code = os.waitstatus_to_exitcode(status)
    message = json.loads(b"".join(chunks) or b"{}")
    return message.get("result", message or None), "ok" if code == 0 else "failed"


def ids_of(tracer: Tracer, count: int) -> list[int]:
    ids = []
    for _ in range(count // 2):
        root = tracer.start_span("ids")  # never finished: never reported
        # a root span's id is its trace id's low 64 bits: a child's span id is the second draw
        child = tracer.start_span("child", child_of=root)
        ids += [root.context.trace_id, child.context.span_id]
    return ids


@pytest.mark.filterwarnings(FORK_WARNING)
def test_forked_children_report_their_own_spans_with_their_own_ids(
    figure: Callable[[int, str], None],
) -> None:
    with UdpAgent() as agent:
        tracer = udp_tracer(agent, flush_interval=60)
        for i in range(50):
            tracer.start_span(f"parent-{i}").finish()  # queued in the parent at fork time
        assert tracer.reporter.stats().queued == 50

        def child(k: int) -> Callable[[], Any]:
            def body() -> Any:
                for i in range(CHILD_SPANS):
                    tracer.start_span(f"child{k}-{i}").finish()
                tracer.close().result(DEADLINE)
                return {"stats": list(tracer.reporter.stats()), "ids": ids_of(tracer, 2_000)}

            return body

        children = [fork_child(child(k)) for k in range(CHILDREN)]
        results = [wait_child(pid, fd, DEADLINE) for pid, fd in children]
        parent_ids = ids_of(tracer, IDS_PER_PROCESS)
        assert tracer.flush(DEADLINE)
        expected = 50 + CHILDREN * CHILD_SPANS
        names = [s.operationName for s in agent.wait_for_spans(expected, DEADLINE)]
        agent.quiet_for(0.2)  # anything sent twice would arrive by now
        names = [s.operationName for s in agent.spans()]
        tracer.close().result(DEADLINE)
    outcomes = [how for _, how in results]
    child_names = [x for x in names if x.startswith("child")]
    parent_names = [x for x in names if x.startswith("parent")]
    ids = parent_ids + [i for result, _ in results if result for i in result.get("ids", [])]
    figure(
        9,
        f"{CHILDREN} forked children x {CHILD_SPANS} spans each: {len(set(child_names))} of "
        f"{CHILDREN * CHILD_SPANS} delivered, {len(parent_names) - len(set(parent_names))} "
        f"parent spans duplicated by children ({len(set(parent_names))} of 50 parent spans "
        f"delivered once), {len(ids) - len(set(ids))} id collisions in {n(len(ids))} ids across "
        f"parent and children; children ended {outcomes}",
    )
    assert outcomes == ["ok"] * CHILDREN, results
    assert sorted(child_names) == sorted(
        f"child{k}-{i}" for k in range(CHILDREN) for i in range(CHILD_SPANS)
    )
    assert sorted(parent_names) == sorted(f"parent-{i}" for i in range(50))
    assert len(ids) == IDS_PER_PROCESS * (CHILDREN + 1)
    assert len(set(ids)) == len(ids)


@pytest.mark.filterwarnings(FORK_WARNING)
@pytest.mark.timeout(scaled(60, 600))
def test_forking_while_the_reporter_is_busy_never_deadlocks(
    figure: Callable[[int, str], None],
) -> None:
    with UdpAgent() as agent:
        tracer = udp_tracer(agent, flush_interval=0.001, batch_size=10)
        stop = threading.Event()
        busy = 0

        def keep_busy() -> None:  # the worker is always sending when we fork
            nonlocal busy
            while not stop.is_set():
                for _ in range(20):
                    tracer.start_span("busy").finish()
                busy += 20
                tracer.flush(1.0)

        busy_thread = threading.Thread(target=keep_busy, name="reliability-busy", daemon=True)
        busy_thread.start()

        def child(k: int) -> Callable[[], Any]:
            def body() -> Any:
                tracer.start_span(f"forked-{k}").finish()
                return tracer.flush(5.0)

            return body

        outcomes: dict[str, int] = {"ok": 0, "failed": 0, "hung": 0}
        not_flushed = 0
        start = time.monotonic()
        try:
            for k in range(FORKS):
                result, how = wait_child(*fork_child(child(k)), timeout=DEADLINE)
                outcomes[how] += 1
                not_flushed += how == "ok" and result is not True
        finally:
            stop.set()
            busy_thread.join(DEADLINE)
        elapsed = time.monotonic() - start
        tracer.close().result(DEADLINE)
        forked = {
            s.operationName
            for s in agent.wait_for_spans(busy + FORKS, DEADLINE)
            if s.operationName.startswith("forked")
        }
    figure(
        9,
        f"{n(FORKS)} forks while the reporter was busy ({n(busy)} spans sent meanwhile): "
        f"{outcomes['hung']} deadlocks (children killed after {DEADLINE:.0f} s), "
        f"{outcomes['failed']} failed, {not_flushed} could not flush; {len(forked)} of "
        f"{n(FORKS)} children's spans delivered; {elapsed:.1f} s",
    )
    assert outcomes == {"ok": FORKS, "failed": 0, "hung": 0}
    assert not_flushed == 0
    assert len(forked) == FORKS
