"""Interpreter exit with spans queued, in real subprocesses, on 3.11 and on 3.12/3.13.

Each child builds a Reporter whose sender writes span names to stdout, reports, and exits
without ``close()``: the atexit flush must deliver every span, within ``exit_flush_timeout``,
and must never start a thread (3.12 raises ``RuntimeError`` at shutdown).

Other interpreters than the one running the tests lack our dependencies: the session installs
``opentracing`` and ``thrift`` for them once into a cache directory with ``pip --target``
(reused by later sessions), and skips that interpreter if it cannot.
"""

from __future__ import annotations

import glob
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import textwrap
import threading
import time
from pathlib import Path
from typing import Any, Callable, Optional

import pytest
from conftest import decode_emit_batch

import jaeger_client

REPO_ROOT = str(Path(jaeger_client.__file__).resolve().parent.parent)
VERSIONS = ("3.11", "3.12", "3.13")
RUNS = 20
SPANS = 20

pytestmark = pytest.mark.slow

try:
    from jaeger_client.senders import UDPSender  # noqa: F401
except ImportError:
    HAS_UDP_SENDER = False
else:
    HAS_UDP_SENDER = True


def _find_interpreter(version: str) -> Optional[str]:
    if sys.version_info[:2] == tuple(int(p) for p in version.split(".")):
        return sys.executable
    pyenv_root = os.environ.get("PYENV_ROOT", os.path.expanduser("~/.pyenv"))
    candidates = [shutil.which(f"python{version}")]
    candidates += sorted(glob.glob(f"{pyenv_root}/versions/{version}.*/bin/python{version}"))
    for exe in candidates:
        if exe is None:
            continue
        try:  # pyenv shims exist for every name but fail for versions not selected
            probe = subprocess.run([exe, "-c", "pass"], capture_output=True, timeout=30)
        except (OSError, subprocess.TimeoutExpired):
            continue
        if probe.returncode == 0:
            return exe
    return None


def _can_import_deps(exe: str, path: str) -> bool:
    env = {**os.environ, "PYTHONPATH": path}
    probe = subprocess.run(
        [exe, "-c", "import opentracing, thrift"], env=env, capture_output=True, timeout=60
    )
    return probe.returncode == 0


def _dependencies_for(exe: str, version: str) -> Optional[str]:
    """A directory with opentracing and thrift for ``exe``, installed once and cached."""
    cache = Path(tempfile.gettempdir()) / "jaeger_client-test-deps" / f"py{version}"
    if cache.is_dir() and _can_import_deps(exe, str(cache)):
        return str(cache)
    cache.parent.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(dir=cache.parent, prefix=f"py{version}-"))
    pip = [exe, "-m", "pip", "install", "-q", "--disable-pip-version-check"]
    install = subprocess.run(
        [*pip, "--target", str(staging), "opentracing>=2.1,<3", "thrift>=0.13"],
        capture_output=True,
        timeout=600,
    )
    if install.returncode != 0:
        shutil.rmtree(staging, ignore_errors=True)
        return None
    shutil.rmtree(cache, ignore_errors=True)
    staging.rename(cache)
    return str(cache)


@pytest.fixture(scope="session")
def interpreters() -> dict[str, tuple[str, str]]:
    """{version: (executable, PYTHONPATH)} for every interpreter that can run our code."""
    found: dict[str, tuple[str, str]] = {}
    for version in VERSIONS:
        exe = _find_interpreter(version)
        if exe is None:
            continue
        if exe == sys.executable:
            found[version] = (exe, REPO_ROOT)
            continue
        deps = _dependencies_for(exe, version)
        if deps is not None:
            found[version] = (exe, os.pathsep.join([REPO_ROOT, deps]))
    return found


def test_at_least_one_interpreter_after_3_11_is_tested(
    interpreters: dict[str, tuple[str, str]],
) -> None:
    """3.12 changed what an atexit hook may do; the exit tests must run on it or on 3.13."""
    assert "3.11" in interpreters
    assert {"3.12", "3.13"} & set(interpreters), "no python3.12/3.13 with dependencies"


def python(interpreters: dict[str, tuple[str, str]], version: str) -> tuple[str, dict[str, str]]:
    if version not in interpreters:
        pytest.skip(f"python{version} is not available with our dependencies")
    exe, path = interpreters[version]
    return exe, {**os.environ, "PYTHONPATH": path, "PYTHONWARNINGS": "error"}


PRELUDE = textwrap.dedent(
    """
    import os, sys, threading, time
    from jaeger_client.reporter import Reporter
    from jaeger_client.senders import SendResult

    class StdoutSender:
        '''Writes one line per span to stdout (unbuffered), as an agent would receive them.'''
        def __init__(self, block=False):
            self.block = block
        def set_process(self, service_name, tags, max_length):
            pass
        def send(self, spans, queue_dropped):
            if self.block:
                threading.Event().wait()
            os.write(1, "".join(f"{s}\\n" for s in spans).encode())
            return SendResult(len(spans), 0, 0)
        def close(self):
            pass
        def reset_after_fork(self):
            pass

    def make_reporter(**kwargs):
        reporter = Reporter(None, sender=StdoutSender(kwargs.pop("block", False)), **kwargs)
        reporter.set_process("exit-test", {}, 1024)
        return reporter
    """
)


def run_children(exe: str, env: dict[str, str], script: str, runs: int) -> list[Any]:
    """Run ``script`` ``runs`` times, as many at once as there are cores; return (code, out, err).

    More at once would measure the machine's overload rather than the exit flush: each child
    must import, report and flush within its ``exit_flush_timeout``.
    """
    argv = [exe, "-c", PRELUDE + textwrap.dedent(script)]
    parallel = max(1, os.cpu_count() or 1)
    results = []
    running: list[subprocess.Popen[bytes]] = []
    pending = runs
    while pending or running:
        while pending and len(running) < parallel:
            running.append(
                subprocess.Popen(argv, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
            )
            pending -= 1
        proc = running.pop(0)
        out, err = proc.communicate(timeout=60)
        results.append((proc.returncode, out.decode(), err.decode()))
    return results


@pytest.mark.parametrize("version", VERSIONS)
def test_exit_without_close_delivers_every_span(
    interpreters: dict[str, tuple[str, str]], version: str
) -> None:
    """At our own seam; the UDP test below repeats it 20 times end to end when it can run."""
    exe, env = python(interpreters, version)
    script = f"""
    reporter = make_reporter(flush_interval=60)  # only the exit flush can send these
    for i in range({SPANS}):
        reporter.report_span(f"span-{{i}}")
    """
    expected = [f"span-{i}" for i in range(SPANS)]
    for code, out, err in run_children(exe, env, script, 5 if HAS_UDP_SENDER else RUNS):
        assert (code, err) == (0, "")
        assert out.splitlines() == expected


@pytest.mark.parametrize("version", VERSIONS)
def test_spans_first_reported_during_exit_are_sent_without_starting_a_thread(
    interpreters: dict[str, tuple[str, str]], version: str
) -> None:
    """No worker runs yet; an atexit hook reports. The exit flush sends them inline."""
    exe, env = python(interpreters, version)
    script = f"""
    import atexit

    def check_threads():  # registered first, so it runs after the reporter's exit flush
        names = [t.name for t in threading.enumerate()]
        os.write(1, f"threads {{names}}\\n".encode())

    atexit.register(check_threads)
    reporter = make_reporter(flush_interval=60)

    def report_late():  # registered after the reporter, so it runs before its exit flush
        for i in range({SPANS}):
            reporter.report_span(f"late-{{i}}")

    atexit.register(report_late)
    """
    for code, out, err in run_children(exe, env, script, 3):
        assert (code, err) == (0, "")
        lines = out.splitlines()
        assert lines[:-1] == [f"late-{i}" for i in range(SPANS)]
        assert lines[-1] == "threads ['MainThread']"


@pytest.mark.parametrize("version", VERSIONS)
def test_close_without_waiting_then_exit_delivers_every_span(
    interpreters: dict[str, tuple[str, str]], version: str
) -> None:
    exe, env = python(interpreters, version)
    script = f"""
    reporter = make_reporter(flush_interval=60)
    for i in range({SPANS}):
        reporter.report_span(f"span-{{i}}")
    reporter.close()  # not awaited: the exit hook waits for it
    """
    for code, out, err in run_children(exe, env, script, 3):
        assert (code, err) == (0, "")
        assert out.splitlines() == [f"span-{i}" for i in range(SPANS)]


@pytest.mark.parametrize("version", VERSIONS)
def test_exit_flush_gives_up_after_exit_flush_timeout_when_the_sender_blocks(
    interpreters: dict[str, tuple[str, str]], version: str
) -> None:
    exe, env = python(interpreters, version)
    script = """
    reporter = make_reporter(block=True, batch_size=1, exit_flush_timeout=0.5)
    reporter.report_span("stuck")
    reporter.report_span("queued")
    os.write(1, f"{time.monotonic()}\\n".encode())
    """
    ((code, out, err),) = run_children(exe, env, script, 1)
    exited = time.monotonic()  # CLOCK_MONOTONIC is system-wide on Linux: comparable
    assert (code, err) == (0, "")
    waited = exited - float(out.splitlines()[-1])
    assert 0.5 <= waited < 0.5 + 4.0  # waited for the sender, but only as long as allowed


# ---- end to end over real UDP ------------------------------------------------------------------


@pytest.mark.skipif(
    not HAS_UDP_SENDER, reason="jaeger_client.senders.UDPSender is not in the tree yet"
)
@pytest.mark.parametrize("version", VERSIONS)
def test_exit_without_close_delivers_every_span_over_udp(
    interpreters: dict[str, tuple[str, str]], version: str, agent_udp: socket.socket
) -> None:
    exe, env = python(interpreters, version)
    port = agent_udp.getsockname()[1]
    received: list[Any] = []
    stop = threading.Event()

    def receive() -> None:
        agent_udp.settimeout(0.1)
        while not stop.is_set():
            try:
                packet, _ = agent_udp.recvfrom(65535)
            except socket.timeout:
                continue
            received.append(packet)

    receiver = threading.Thread(target=receive)
    receiver.start()
    script = f"""
    from jaeger_client.local_agent_net import LocalAgentSender
    from jaeger_client.sampler import ConstSampler
    from jaeger_client.tracer import Tracer

    channel = LocalAgentSender(host="127.0.0.1", reporting_port={port})
    tracer = Tracer("exit-udp", Reporter(channel, flush_interval=60), ConstSampler(True))
    for i in range({SPANS}):
        tracer.start_span(f"run-{{os.getpid()}}-{{i}}").finish()
    """
    try:
        results = run_children(exe, env, script, RUNS)
        deadline = time.monotonic() + 5.0
        while sum(len(decode_emit_batch(p).spans) for p in received) < RUNS * SPANS:
            if time.monotonic() > deadline:
                break
            time.sleep(0.01)
    finally:
        stop.set()
        receiver.join()
    assert all((code, err) == (0, "") for code, _, err in results), results
    names = [s.operationName for p in received for s in decode_emit_batch(p).spans]
    assert len(names) == len(set(names)) == RUNS * SPANS


WARNINGS_SCENARIO = textwrap.dedent(
    """
    import asyncio, socket
    from opentracing.propagation import Format
    from opentracing.scope_managers.contextvars import ContextVarsScopeManager
    from jaeger_client import Config

    agent = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    agent.bind(("127.0.0.1", 0))
    tracer = Config(
        {"sampler": {"type": "const", "param": 1}, "propagation": ["jaeger", "b3", "w3c"],
         "local_agent": {"reporting_host": "127.0.0.1",
                         "reporting_port": agent.getsockname()[1]}},
        service_name="warnings", scope_manager=ContextVarsScopeManager(), validate=True,
    ).new_tracer()

    async def child(n):
        with tracer.start_active_span(f"child-{n}") as scope:
            await asyncio.sleep(0)
            return scope.span.context.parent_id

    async def main():
        with tracer.start_active_span("root") as scope:
            scope.span.set_tag("n", 1)
            scope.span.log_kv({"event": "x", "bytes": b"\\x00", "error.object": ValueError()})
            scope.span.set_baggage_item("k", "v")
            carrier = {}
            tracer.inject(scope.span.context, Format.HTTP_HEADERS, carrier)
            assert tracer.extract(Format.HTTP_HEADERS, carrier).baggage == {"k": "v"}
            parents = await asyncio.gather(*(child(n) for n in range(3)))
            assert set(parents) == {scope.span.context.span_id}, parents
        await tracer.close()

    asyncio.run(main())
    agent.settimeout(5)
    spans = agent.recv(65535)
    agent.close()
    print("ok")
    """
)


@pytest.mark.parametrize("version", ["3.12", "3.13"])
def test_no_warning_at_all_in_dev_mode_with_warnings_as_errors(
    interpreters: dict[str, tuple[str, str]], version: str, figure: Callable[[int, str], None]
) -> None:
    """Figure 13: a tracer with every codec, an asyncio app (contextvars scope manager, gathered
    tasks, ``await tracer.close()``) and a delivered batch under ``-X dev`` (ResourceWarning and
    asyncio debug on) with every warning an error: nothing is printed but ``ok``."""
    exe, env = python(interpreters, version)
    result = subprocess.run(
        [exe, "-X", "dev", "-c", WARNINGS_SCENARIO],
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    figure(
        13,
        f"python{version} -X dev -W error: tracer, every codec, asyncio app, close(): "
        f"exit {result.returncode}, {len(result.stderr.splitlines())} lines on stderr",
    )
    assert (result.returncode, result.stdout.strip(), result.stderr) == (0, "ok", "")
