"""gunicorn ``--preload`` with 2 workers: the tracer (and its reporter thread) is made in the master
before the fork; each worker's spans must still be delivered, with ids no other worker drew.

gunicorn listens on a loopback socket this test binds and hands over (``--bind fd://N``).
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from jaeger_client import testing
from jaeger_client.testing import InProcessAgent

pytest.importorskip("gunicorn")

jaeger_agent = testing.jaeger_agent
FRAMEWORKS = Path(__file__).resolve().parent / "frameworks"
START_DEADLINE = 30.0
INBOUND_TRACE = 0xFEED_0000_0000_0001
INBOUND_SPAN = 0x77
_OPENER = urllib.request.build_opener(urllib.request.ProxyHandler({}))


def gunicorn_command() -> list[str]:
    script = Path(sys.executable).with_name("gunicorn")
    if script.exists():
        return [str(script)]
    found = shutil.which("gunicorn")  # pragma: no cover
    return [found] if found else [sys.executable, "-m", "gunicorn"]  # pragma: no cover


@pytest.fixture
def gunicorn(jaeger_agent: InProcessAgent) -> Iterator[tuple[subprocess.Popen[str], int]]:
    """gunicorn --preload -w 2 on a free loopback port; stopped with SIGTERM afterwards."""
    listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listener.bind(("127.0.0.1", 0))
    listener.listen(64)
    port = listener.getsockname()[1]
    env = {
        **os.environ,
        "JAEGER_AGENT_HOST": "127.0.0.1",
        "JAEGER_AGENT_PORT": str(jaeger_agent.reporting_port),
        "JAEGER_SAMPLER_TYPE": "const",
        "JAEGER_SAMPLER_PARAM": "1",
        "JAEGER_REPORTER_FLUSH_INTERVAL": "20ms",
        "PYTHONWARNINGS": "ignore::DeprecationWarning",  # 3.12+: fork() with threads, by design
    }
    command = [
        *gunicorn_command(),
        "--preload",
        "--workers=2",
        f"--bind=fd://{listener.fileno()}",
        f"--chdir={FRAMEWORKS}",
        "--graceful-timeout=10",
        "--log-level=warning",
        "gunicorn_app:app",
    ]
    process = subprocess.Popen(
        command,
        env=env,
        pass_fds=[listener.fileno()],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    listener.close()  # gunicorn has its own copy
    try:
        yield process, port
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(20)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(10)
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
    gunicorn: tuple[subprocess.Popen[str], int], jaeger_agent: InProcessAgent
) -> None:
    process, port = gunicorn
    replies: list[dict[str, Any]] = []
    deadline = time.monotonic() + START_DEADLINE
    # until both workers answered a few times (the kernel picks which worker accepts)
    while time.monotonic() < deadline:
        try:
            replies.append(call(port))
        except OSError:
            assert process.poll() is None, process.stderr.read() if process.stderr else ""
            time.sleep(0.05)  # gunicorn still starting: its workers are not accepting yet
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

    process.send_signal(signal.SIGTERM)
    assert process.wait(20) == 0
