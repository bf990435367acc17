"""Green threads: every span from many greenlets reaches the agent, under gevent's ``patch_all``
(upstream sent none) and under eventlet's ``monkey_patch`` (upstream #191).

The child process patches first and then imports jaeger_client (tests/frameworks/green_child.py):
the reporter's thread, queue, lock and socket all become the library's green ones.
"""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Callable

import pytest

from jaeger_client import testing
from jaeger_client.testing import InProcessAgent

jaeger_agent = testing.jaeger_agent
CHILD = Path(__file__).resolve().parent / "frameworks" / "green_child.py"


@pytest.mark.parametrize("library", ["gevent", "eventlet"])
def test_every_span_from_green_threads_is_delivered(
    jaeger_agent: InProcessAgent, library: str, figure: Callable[[int, str], None]
) -> None:
    # find_spec, not import: eventlet's import alone makes every later os.fork() in this
    # process warn (DeprecationWarning), which fails the fork tests
    if importlib.util.find_spec(library) is None:
        pytest.skip(f"{library} is not installed")
    greenlets, per_greenlet = 20, 10
    env = {
        **os.environ,
        "JAEGER_AGENT_HOST": "127.0.0.1",
        "JAEGER_AGENT_PORT": str(jaeger_agent.reporting_port),
        "JAEGER_SAMPLER_TYPE": "const",
        "JAEGER_SAMPLER_PARAM": "1",
        "JAEGER_REPORTER_FLUSH_INTERVAL": "20ms",
        "PYTHONWARNINGS": "ignore::DeprecationWarning",  # eventlet warns that it is deprecated
    }
    result = subprocess.run(
        [sys.executable, str(CHILD), library, str(greenlets), str(per_greenlet)],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stderr, result.stderr
    report = json.loads(result.stdout.strip().splitlines()[-1])
    assert report["threading_patched"] is True
    sent = {tuple(item) for item in report["spans"]}
    assert len(sent) == greenlets * per_greenlet

    received = jaeger_agent.wait_for_spans(greenlets * per_greenlet)
    got = {(s.trace_id, s.span_id, s.parent_id, s.operation_name) for s in received}
    patching = "gevent patch_all()" if library == "gevent" else "eventlet monkey_patch()"
    figure(
        13,
        f"{patching}: {len(got & sent)} of {len(sent)} spans from {greenlets} green threads "
        f"delivered ({len(got & sent) / len(sent):.0%}), "
        f"{len({s.trace_id for s in received})} traces",
    )
    assert got == sent
    assert all(s.service_name == "green-app" for s in received)
    assert len({s.trace_id for s in received}) == greenlets  # one trace per greenlet
