"""Real forks (``os.fork()``, and libc's ``fork(2)`` as uWSGI uses it): a forked child draws its own
ids and reports under its own ``client-uuid`` process tag."""

from __future__ import annotations

import os
import socket
import threading
import time
import types
from typing import Any

import pytest
from conftest import FORK_WARNING, decode_emit_batch, receive_batches, run_in_child

from jaeger_client import _fork
from jaeger_client.local_agent_net import HTTPFetcher, LocalAgentSender, Poller
from jaeger_client.reporter import Reporter
from jaeger_client.sampler import ConstSampler
from jaeger_client.tracer import Tracer

pytestmark = pytest.mark.skipif(not hasattr(os, "fork"), reason="needs os.fork")

DEADLINE = 5.0


def udp_tracer(port: int, name: str = "svc", *, sent_one: bool = False, **kwargs: Any) -> Tracer:
    """A tracer whose Reporter sends to ``port`` on loopback; with ``sent_one`` its worker runs
    (a span sent and flushed), as in a master that reported before forking."""
    reporter = Reporter(LocalAgentSender("127.0.0.1", 5778, port), **kwargs)
    tracer = Tracer(name, reporter, ConstSampler(True))
    if sent_one:
        tracer.start_span("parent").finish()
        assert tracer.flush(DEADLINE)
    return tracer


def client_uuid_of(packet: bytes) -> tuple[list[str], int]:
    batch = decode_emit_batch(packet)
    tags = {tag.key: tag.vLong for tag in batch.process.tags}
    return [s.operationName for s in batch.spans], tags["client-uuid"]


@pytest.mark.filterwarnings(FORK_WARNING)
def test_forked_child_reports_with_its_own_client_uuid(agent_udp: socket.socket) -> None:
    channel = LocalAgentSender(host="127.0.0.1", reporting_port=agent_udp.getsockname()[1])
    tracer = Tracer("fork-uuid", Reporter(channel, flush_interval=60), ConstSampler(True))
    parent_id = tracer.client_id
    tracer.start_span("parent-before").finish()
    assert tracer.flush(DEADLINE)  # the worker has sent once: the sender holds the process
    assert client_uuid_of(agent_udp.recvfrom(65535)[0]) == (["parent-before"], parent_id)

    def child() -> Any:
        tracer.start_span("child").finish()
        tracer.close().result(DEADLINE)
        return [tracer.client_id, tracer.tags["client-uuid"]]

    child_id, child_tag = run_in_child(child)
    assert child_id == child_tag and child_id not in (parent_id, 0)
    assert client_uuid_of(agent_udp.recvfrom(65535)[0]) == (["child"], child_id)
    tracer.start_span("parent-after").finish()
    assert tracer.flush(DEADLINE)
    assert client_uuid_of(agent_udp.recvfrom(65535)[0]) == (["parent-after"], parent_id)
    assert tracer.client_id == parent_id
    tracer.close().result(DEADLINE)


class ProcessReporter:
    """Records what set_process received (no thread: the fork needs no warning filter)."""

    def __init__(self) -> None:
        self.processes: list[dict[str, Any]] = []

    def set_process(self, service_name: str, tags: Any, max_length: int) -> None:
        self.processes.append(dict(tags))

    def report_span(self, span: Any) -> None:
        pass

    def close(self) -> None:
        return None


def test_a_client_uuid_given_by_the_caller_is_kept_in_a_forked_child() -> None:
    reporter = ProcessReporter()
    tracer = Tracer("svc", reporter, ConstSampler(True), tags={"client-uuid": 12345})

    def child() -> Any:
        return [tracer.tags["client-uuid"], len(reporter.processes)]

    assert run_in_child(child) == [12345, 1]  # not handed to the reporter again either
    assert tracer.tags["client-uuid"] == 12345


def test_a_reporter_whose_set_process_fails_in_the_child_does_not_break_fork() -> None:
    class Failing(ProcessReporter):
        def set_process(self, service_name: str, tags: Any, max_length: int) -> None:
            if self.processes:
                raise RuntimeError("boom")
            super().set_process(service_name, tags, max_length)

    tracer = Tracer("svc", Failing(), ConstSampler(True))
    parent_id = tracer.client_id

    def child() -> Any:
        return tracer.client_id

    assert run_in_child(child) != parent_id


def test_a_forked_child_offers_its_client_uuid_to_the_throttler() -> None:
    class Throttler:
        def __init__(self) -> None:
            self.ids: list[int] = []

        def set_client_id(self, client_id: int) -> None:
            self.ids.append(client_id)

        def is_allowed(self, operation: str) -> bool:
            return True

    throttler = Throttler()
    tracer = Tracer("svc", ProcessReporter(), ConstSampler(True), throttler=throttler)
    assert throttler.ids == [tracer.client_id]

    def child() -> Any:
        return [throttler.ids, tracer.client_id]

    ids, child_id = run_in_child(child)
    assert ids == [tracer.client_id, child_id] and child_id != tracer.client_id


def test_a_forked_childs_remote_throttler_asks_for_credits_with_the_childs_uuid() -> None:
    from jaeger_client.throttler import RemoteThrottler

    throttler = RemoteThrottler(
        credits_endpoint="http://127.0.0.1:9/credits", service_name="svc", poll_in_background=False
    )
    tracer = Tracer("svc", ProcessReporter(), ConstSampler(True), throttler=throttler)
    try:
        assert throttler.client_id == tracer.client_id

        def child() -> Any:
            return [throttler.client_id, tracer.client_id]

        throttler_id, child_id = run_in_child(child)
        assert throttler_id == child_id != tracer.client_id
        assert throttler.client_id == tracer.client_id  # the parent's are left alone
    finally:
        tracer.close().result(DEADLINE)


@pytest.mark.filterwarnings(FORK_WARNING)
@pytest.mark.parametrize("reporter_running", [False, True])
def test_a_child_forked_without_fork_hooks_resets_at_its_first_span(
    agent_udp: socket.socket, reporter_running: bool
) -> None:
    """uWSGI's workers: fork(2) runs no Python hooks. The child's first span (a millisecond or
    more after the parent's last) still draws from a reseeded generator, and its spans go out
    through its own queue and worker, not the parent's copied state."""
    tracer = udp_tracer(agent_udp.getsockname()[1], sent_one=reporter_running, batch_size=1)
    time.sleep(2 * _fork.GATE_INTERVAL)  # a worker's first request comes later than that

    def child() -> Any:
        span = tracer.start_span("child")
        span.finish()
        delivered = tracer.flush(DEADLINE)
        return [span.context.trace_id, _fork._hooked_pid == os.getpid(), delivered]

    try:
        child_trace_id, hooks_ran, delivered = run_in_child(child, raw=True)
        parent_next = tracer.start_span("next").context.trace_id  # the child's draw, unseeded
        assert hooks_ran and delivered
        assert child_trace_id != parent_next
        batches = receive_batches(agent_udp, 2 if reporter_running else 1)
        names = sorted(span.operationName for batch in batches for span in batch.spans)
        assert names == (["child", "parent"] if reporter_running else ["child"])
    finally:
        tracer.close().result(DEADLINE)


def uwsgi_module(version: bytes, **options: Any) -> Any:
    """What uWSGI installs as ``sys.modules["uwsgi"]``: its version, and ``opt`` with the command
    line's options (True for a bare flag, bytes for a value)."""
    return types.SimpleNamespace(version=version, opt=dict(options))


@pytest.mark.parametrize(
    ("module", "warns"),
    [
        (uwsgi_module(b"2.0.26", master=True, processes=b"2"), True),
        (uwsgi_module(b"2.0.21", **{"enable-threads": True}), False),
        (uwsgi_module(b"2.0.26", **{"enable-threads": b"true"}), False),
        (uwsgi_module(b"2.0.26", **{"enable-threads": b"false"}), True),
        (uwsgi_module(b"2.0.26", threads=b"0"), False),  # any --threads enables them
        (uwsgi_module(b"2.0.26", gevent=b"100"), False),
        (uwsgi_module(b"2.0.28", master=True), False),  # threads run by default from 2.0.28
        (uwsgi_module(b"2.0.30.post1"), False),
        (None, False),  # not under uWSGI
    ],
)
def test_uwsgi_without_threads_is_warned_about(
    module: Any, warns: bool, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level("WARNING", logger="jaeger_tracing"):
        assert _fork.warn_if_threads_starve(module if module is not None else object()) is warns
    assert ("--enable-threads" in caplog.text) is warns


def _raises() -> int:
    raise RuntimeError("not in a uWSGI process")


@pytest.mark.parametrize(
    ("ids", "is_master"),
    [
        ({"worker_id": 0, "mule_id": 0}, True),  # the master (or the app loading there)
        ({"worker_id": 2, "mule_id": 0}, False),
        ({"worker_id": 0, "mule_id": 1}, False),  # a mule
        ({"worker_id": 0}, True),  # a uWSGI without mules
    ],
)
def test_uwsgi_master_is_told_from_workers_and_mules(ids: dict[str, int], is_master: bool) -> None:
    module = types.SimpleNamespace(**{name: (lambda v=v: v) for name, v in ids.items()})
    assert _fork.is_uwsgi_master(module) is is_master


def test_a_uwsgi_module_that_fails_or_a_spooler_is_not_the_master() -> None:
    spooler = types.SimpleNamespace(
        worker_id=lambda: 0, mule_id=lambda: 0, i_am_the_spooler=lambda: 1
    )
    assert _fork.is_uwsgi_master(spooler) is False
    assert _fork.is_uwsgi_master(types.SimpleNamespace(worker_id=_raises)) is False
    assert _fork.is_uwsgi_master(object()) is False


@pytest.mark.filterwarnings(FORK_WARNING)
def test_without_fork_hooks_two_threads_first_spans_both_wait_for_the_reset() -> None:
    """A worker with several threads (uWSGI --threads): whichever starts a span first runs the
    hooks; the others wait for them instead of drawing from the parent's generator."""

    class SlowHook:  # registered first, so the tracer's reseed runs 0.2 s into the reset
        def reset(self) -> None:
            time.sleep(0.2)

    slow = SlowHook()
    _fork.after_fork_in_child(slow.reset)
    tracer = udp_tracer(9, batch_size=1)
    time.sleep(2 * _fork.GATE_INTERVAL)

    def child() -> Any:
        start = threading.Barrier(4)
        ids: list[int] = []

        def first_span() -> None:
            start.wait(5)
            ids.append(tracer.start_span("first").context.trace_id)

        # daemon threads, waited for by their results: joining a thread started in a child that
        # ran no fork hooks fails on 3.13 ("Failed joining thread"), whatever the tracer does
        for _ in range(4):
            threading.Thread(target=first_span, daemon=True).start()
        deadline = time.monotonic() + 10
        while len(ids) < 4 and time.monotonic() < deadline:
            time.sleep(0.01)
        return ids

    try:
        child_ids = run_in_child(child, raw=True)
        parent_next = [tracer.start_span("next").context.trace_id for _ in range(4)]
        assert len(child_ids) == 4
        assert not set(child_ids) & set(parent_next)  # all four drawn after the reseed
    finally:
        tracer.close().result(DEADLINE)


@pytest.mark.filterwarnings(FORK_WARNING)
def test_a_tracer_made_in_a_child_without_fork_hooks_is_not_reset_by_them(
    agent_udp: socket.socket,
) -> None:
    """jaeger_client imported in uWSGI's master, the tracer built in the worker (a postfork
    hook): the late reset must leave the worker's own tracer, queue and pollers alone."""
    port = agent_udp.getsockname()[1]
    parent = udp_tracer(port, "parent")
    time.sleep(2 * _fork.GATE_INTERVAL)

    def child() -> Any:
        tracer = udp_tracer(port, "child")
        client_id = tracer.client_id
        tracer.start_span("made-in-the-child").finish()  # this start runs the late hooks
        delivered = tracer.flush(DEADLINE)
        tracer.close().result(DEADLINE)
        return [delivered, tracer.client_id == client_id]

    try:
        assert run_in_child(child, raw=True) == [True, True]
        batches = receive_batches(agent_udp, 1)
        assert [s.operationName for b in batches for s in b.spans] == ["made-in-the-child"]
    finally:
        parent.close().result(DEADLINE)


@pytest.mark.filterwarnings(FORK_WARNING)
@pytest.mark.parametrize("reporter_running", [False, True])
def test_a_span_started_before_a_fork_without_hooks_and_finished_after_is_sent_or_counted(
    agent_udp: socket.socket, reporter_running: bool
) -> None:
    """No span starts in the child, so only the reporter can notice the fork. Without a worker
    inherited, the span goes out from the child; with one, the copied queue cannot be told from
    the parent's and is dropped, counted (never lost silently)."""
    tracer = udp_tracer(agent_udp.getsockname()[1], sent_one=reporter_running)
    open_span = tracer.start_span("crosses-the-fork")

    def child() -> Any:
        open_span.finish()
        delivered = tracer.flush(DEADLINE)
        stats = tracer.reporter.stats()  # type: ignore[attr-defined]
        return [delivered, stats.sent, stats.dropped]

    try:
        delivered, sent, dropped = run_in_child(child, raw=True)
        names = [s.operationName for b in receive_batches(agent_udp, 2, 1.0) for s in b.spans]
        if reporter_running:
            assert (sent, dropped) == (0, 1) and names == ["parent"]
        else:
            assert (delivered, sent, dropped) == (True, 1, 0) and names == ["crosses-the-fork"]
    finally:
        tracer.close().result(DEADLINE)


@pytest.mark.filterwarnings(FORK_WARNING)
def test_a_poller_started_first_in_a_child_without_fork_hooks_runs_them() -> None:
    """A remote sampler asked before any span starts: its poller notices the fork, runs every
    owner's hook (check_pid) and starts its own thread in the child."""
    polls: list[int] = []
    poller = Poller("jaeger-test-poller", lambda: polls.append(os.getpid()), 60.0, HTTPFetcher())
    poller.start()  # the parent's thread

    def child() -> Any:
        poller.start()
        deadline = time.monotonic() + 5
        while os.getpid() not in polls and time.monotonic() < deadline:
            time.sleep(0.01)  # the child's first poll runs at once
        return [_fork._hooked_pid == os.getpid(), os.getpid() in polls]

    try:
        assert run_in_child(child, raw=True) == [True, True]
    finally:
        poller.close()
