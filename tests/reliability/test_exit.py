"""Figure 10 (exit): a process that reports spans and exits without ``close()`` still delivers
them all (the atexit flush, RELIABILITY 2.10), run after run; and an exit whose sender is stuck
on a socket takes no longer than ``exit_flush_timeout``.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import textwrap
import time
from typing import Callable

from ._support import REPO_ROOT, TESTS_DIR, UdpAgent, scaled

RUNS = scaled(5, 20)
SPANS = 50
DEADLINE = 60.0

EXIT_WITHOUT_CLOSE = """
from jaeger_client.local_agent_net import LocalAgentSender
from jaeger_client.reporter import Reporter
from jaeger_client.sampler import ConstSampler
from jaeger_client.tracer import Tracer

channel = LocalAgentSender(host="127.0.0.1", reporting_port={port})
tracer = Tracer("exit", Reporter(channel, flush_interval=60), ConstSampler(True))
for i in range({spans}):
    tracer.start_span("run{run}-%d" % i).finish()
"""

EXIT_BLOCKED = """
import socket, sys, time
from jaeger_client.reporter import Reporter
from jaeger_client.sampler import ConstSampler
from jaeger_client.senders import HTTPSender
from jaeger_client.tracer import Tracer

sender = HTTPSender("http://127.0.0.1:{port}/api/traces", timeout=30.0)
reporter = Reporter(None, sender=sender, exit_flush_timeout={timeout})
tracer = Tracer("exit", reporter, ConstSampler(True))
tracer.start_span("first").finish()
tracer.flush(0.2)  # the worker is now inside a send that will not return for 30 s
tracer.start_span("stuck").finish()
print(time.monotonic(), flush=True)
"""


def spawn(code: str) -> subprocess.Popen[str]:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([TESTS_DIR, REPO_ROOT])}
    return subprocess.Popen(
        [sys.executable, "-c", textwrap.dedent(code)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )


def test_exit_without_close_delivers_every_span_run_after_run(
    figure: Callable[[int, str], None],
) -> None:
    with UdpAgent() as agent:
        # as many at once as there are cores: more would measure the machine's overload (each
        # child must import, report and flush within exit_flush_timeout), not the exit flush
        parallel = max(1, os.cpu_count() or 1)
        running: list[subprocess.Popen[str]] = []
        outputs, codes = [], []
        for run in range(RUNS):
            running.append(spawn(EXIT_WITHOUT_CLOSE.format(port=agent.port, spans=SPANS, run=run)))
            if len(running) == parallel or run == RUNS - 1:
                for child in running:
                    outputs.append(child.communicate(timeout=DEADLINE))
                    codes.append(child.returncode)
                running = []
        names = [s.operationName for s in agent.wait_for_spans(RUNS * SPANS, 5.0)]
    per_run = [sum(name.startswith(f"run{run}-") for name in names) for run in range(RUNS)]
    complete = sum(count == SPANS for count in per_run)
    figure(
        10,
        f"process exit without close() delivered 100 % of {SPANS} spans in {complete} runs of "
        f"{RUNS} (Python {sys.version_info.major}.{sys.version_info.minor}; per run: "
        f"{sorted(set(per_run))}); {len(names) - len(set(names))} duplicates",
    )
    assert codes == [0] * RUNS, outputs
    assert all(err == "" for _, err in outputs), outputs
    assert complete == RUNS
    assert len(names) == len(set(names))


def test_exit_with_a_blocked_socket_waits_only_exit_flush_timeout(
    figure: Callable[[int, str], None],
) -> None:
    timeout = 0.5
    with socket.socket() as listener:  # accepts connections, never reads or answers
        listener.bind(("127.0.0.1", 0))
        listener.listen(8)
        child = spawn(EXIT_BLOCKED.format(port=listener.getsockname()[1], timeout=timeout))
        out, err = child.communicate(timeout=DEADLINE)
        exited = time.monotonic()
    waited = exited - float(out.splitlines()[-1])
    figure(
        10,
        f"exit with the sender blocked on a socket: the process ended {waited:.2f} s after its "
        f"last line (exit_flush_timeout {timeout} s; the send itself would block 30 s)",
    )
    assert child.returncode == 0, err
    assert timeout <= waited < timeout + 0.5
