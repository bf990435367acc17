"""Pre-fork servers: the tracer (and its reporter thread) is made in the master before the fork;
each worker's spans must still be delivered, with ids no other worker drew.

* gunicorn ``--preload`` with 2 workers: ``os.fork()``, so the fork hooks run in each worker.
  gunicorn listens on a loopback socket this test binds and hands over (``--bind fd://N``).
* uWSGI (the ``pyuwsgi`` wheel) with 2 processes and its defaults: the app is loaded in the master
  and the workers come from a plain ``fork(2)``, which runs no Python fork hooks (unless
  ``--py-call-uwsgi-fork-hooks``); the tracer notices at the worker's first span. uWSGI binds
  127.0.0.1:0 and the test reads the port from its log.
"""

from __future__ import annotations

import json
import os
import queue
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any, Optional

import pytest

from jaeger_client import testing
from jaeger_client.testing import InProcessAgent

jaeger_agent = testing.jaeger_agent
FRAMEWORKS = Path(__file__).resolve().parent / "frameworks"
START_DEADLINE = 30.0
INBOUND_TRACE = 0xFEED_0000_0000_0001
INBOUND_SPAN = 0x77
_OPENER = urllib.request.build_opener(urllib.request.ProxyHandler({}))


def console_script(name: str) -> list[str]:
    script = Path(sys.executable).with_name(name)
    if script.exists():
        return [str(script)]
    found = shutil.which(name)  # pragma: no cover
    return [found] if found else [sys.executable, "-m", name]  # pragma: no cover


def tracer_env(agent: InProcessAgent) -> dict[str, str]:
    return {
        **os.environ,
        "JAEGER_AGENT_HOST": "127.0.0.1",
        "JAEGER_AGENT_PORT": str(agent.reporting_port),
        "JAEGER_SAMPLER_TYPE": "const",
        "JAEGER_SAMPLER_PARAM": "1",
        "JAEGER_REPORTER_FLUSH_INTERVAL": "20ms",
        "PYTHONWARNINGS": "ignore::DeprecationWarning",  # 3.12+: fork() with threads, by design
    }


def stop(process: subprocess.Popen[str]) -> None:
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(10)


def start_gunicorn(agent: InProcessAgent) -> tuple[subprocess.Popen[str], int]:
    """gunicorn --preload -w 2 on a loopback socket bound here and handed over."""
    pytest.importorskip("gunicorn")
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listener.bind(("127.0.0.1", 0))
    listener.listen(64)
    port = listener.getsockname()[1]
    command = [
        *console_script("gunicorn"),
        "--preload",
        "--workers=2",
        f"--bind=fd://{listener.fileno()}",
        f"--chdir={FRAMEWORKS}",
        "--graceful-timeout=10",
        "--log-level=warning",
        "prefork_app:app",
    ]
    process = subprocess.Popen(
        command,
        env=tracer_env(agent),
        pass_fds=[listener.fileno()],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    listener.close()  # gunicorn has its own copy
    return process, port


_BOUND = re.compile(r"bound to TCP address 127\.0\.0\.1:(\d+)")


class UwsgiLog:
    """Reads uWSGI's log (stderr) on a thread until every process holding it has exited."""

    def __init__(self, process: subprocess.Popen[str]) -> None:
        self.lines: queue.Queue[str] = queue.Queue()
        self.stream = process.stderr
        self.thread = threading.Thread(target=self._read, daemon=True)
        self.thread.start()

    def _read(self) -> None:
        assert self.stream is not None
        for line in self.stream:
            self.lines.put(line)

    def port(self, deadline: float) -> Optional[int]:
        """The port uWSGI logs having bound (before it forks the workers), or None in time."""
        while True:
            try:
                line = self.lines.get(timeout=max(0.0, deadline - time.monotonic()))
            except queue.Empty:
                return None
            found = _BOUND.search(line)
            if found:
                return int(found.group(1))


def start_uwsgi(agent: InProcessAgent) -> tuple[subprocess.Popen[str], int]:
    """uWSGI with its defaults (app loaded in the master, no Python fork hooks), 2 processes,
    on 127.0.0.1:0, in a process group of its own (stopped as a whole); the port is read from
    its log."""
    pytest.importorskip("pyuwsgi")
    command = [
        *console_script("uwsgi"),
        "--master",
        "--processes=2",
        "--http-socket=127.0.0.1:0",
        f"--chdir={FRAMEWORKS}",
        "--module=prefork_app:app",
        "--die-on-term",
        "--disable-logging",
    ]
    threads_file = tempfile.NamedTemporaryFile(suffix=".json", delete=False)  # noqa: SIM115
    threads_file.close()
    _THREADS[agent.reporting_port] = threads_file.name
    process = subprocess.Popen(
        command,
        env={
            **tracer_env(agent),
            "PYTHONPATH": str(FRAMEWORKS),
            "PREFORK_THREADS_FILE": threads_file.name,
            "PREFORK_SAMPLING_ENDPOINT": f"http://127.0.0.1:{agent.sampling_port}/sampling",
        },
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )
    log = _LOGS[process.pid] = UwsgiLog(process)
    port = log.port(time.monotonic() + START_DEADLINE)
    if port is None:
        stop_group(process)
        pytest.fail("uWSGI did not log its socket in time")
    return process, port


_LOGS: dict[int, UwsgiLog] = {}  # uWSGI log readers, by master pid
_THREADS: dict[int, str] = {}  # the app's thread names in uWSGI's master, by the agent's port


def stop_group(process: subprocess.Popen[str]) -> list[int]:
    """SIGTERM uWSGI's master (``--die-on-term``: it stops its workers and exits), SIGKILL what
    is left of its process group after 20 s; return the pids that had to be killed."""
    try:
        process.send_signal(signal.SIGTERM)
    except ProcessLookupError:
        return []
    try:
        process.wait(20)
    except subprocess.TimeoutExpired:
        pass
    deadline = time.monotonic() + 20
    left = _group_members(process.pid)
    while left and time.monotonic() < deadline:
        time.sleep(0.05)  # the workers exit after the master
        left = _group_members(process.pid)
    if left or process.poll() is None:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(10)
    return left


def _group_members(pgid: int) -> list[int]:
    members = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat") as stat:
                    fields = stat.read().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[2]) == pgid and fields[0] != "Z":  # pgrp; zombies are gone already
                members.append(int(entry))
    return members


@pytest.fixture(params=["gunicorn", "uwsgi"])
def server(
    request: pytest.FixtureRequest, jaeger_agent: InProcessAgent
) -> Iterator[tuple[subprocess.Popen[str], int]]:
    start = start_gunicorn if request.param == "gunicorn" else start_uwsgi
    process, port = start(jaeger_agent)
    try:
        yield process, port
    finally:
        if request.param == "uwsgi":
            left = stop_group(process)
            log = _LOGS.pop(process.pid)
            log.thread.join(10)  # EOF: every process of the group has exited
            assert process.stderr is not None
            process.stderr.close()
            assert left == [], f"uWSGI processes {left} did not exit on SIGTERM (hung?)"
        else:
            stop(process)
            if process.stderr is not None:
                process.stderr.close()


def call(port: int) -> dict[str, Any]:
    request = urllib.request.Request(
        f"http://127.0.0.1:{port}/",
        headers={"uber-trace-id": f"{INBOUND_TRACE:x}:{INBOUND_SPAN:x}:0:1", "Connection": "close"},
    )
    with _OPENER.open(request, timeout=10) as reply:
        result: dict[str, Any] = json.loads(reply.read())
        return result


def test_preloaded_tracer_delivers_each_workers_spans_with_distinct_ids(
    server: tuple[subprocess.Popen[str], int], jaeger_agent: InProcessAgent
) -> None:
    process, port = server
    replies: list[dict[str, Any]] = []
    deadline = time.monotonic() + START_DEADLINE
    # until both workers answered a few times (the kernel picks which worker accepts)
    while time.monotonic() < deadline:
        try:
            replies.append(call(port))
        except OSError:
            assert process.poll() is None, "the server exited"
            time.sleep(0.05)  # still starting: its workers are not accepting yet
            continue
        pids = {r["pid"] for r in replies}
        if len(pids) == 2 and min(sum(r["pid"] == p for r in replies) for p in pids) >= 3:
            break
    pids = {r["pid"] for r in replies}
    assert len(pids) == 2, f"only workers {pids} answered in {START_DEADLINE}s"

    # every request: a server span (child of the inbound one) and a work span, from its worker
    spans = jaeger_agent.wait_for_spans(1 + 2 * len(replies), timeout=10)
    requests = [s for s in spans if s.operation_name == "request"]
    assert len(requests) == len(replies)
    assert {s.tags["pid"] for s in requests} == pids
    assert all((s.trace_id, s.parent_id) == (INBOUND_TRACE, INBOUND_SPAN) for s in requests)
    assert sorted(r["span_id"] for r in replies) == sorted(s.span_id for s in requests)
    # forked workers reseed: no span id is drawn twice across the master and both workers
    span_ids = [s.span_id for s in spans]
    assert len(span_ids) == len(set(span_ids))
    (preload,) = [s for s in spans if s.operation_name == "preload"]
    assert preload.tags["pid"] == process.pid

    if isinstance(process.args, list) and "--die-on-term" in process.args:
        # uWSGI's master ran no thread of ours when it forked (they would hang workers)
        with open(_THREADS.pop(jaeger_agent.reporting_port)) as names:
            assert not [name for name in json.load(names) if name.startswith("jaeger-")]
        return  # the fixture stops the process group and checks every process exited
    process.send_signal(signal.SIGTERM)
    assert process.wait(20) == 0
