"""Shared fixtures: loopback agent sockets, Thrift decoding with thrift's own protocol classes."""

from __future__ import annotations

import dataclasses
import json
import os
import socket
import threading
import time
from collections.abc import Iterator
from typing import Any, Callable

import pytest
from thrift.protocol import TCompactProtocol
from thrift.Thrift import TMessageType
from thrift.transport import TTransport

from jaeger_client.thrift_gen.agent import Agent

# the parent's reporter worker is a thread: on 3.12+ forking then warns
FORK_WARNING = "ignore:This process .* is multi-threaded, use of fork:DeprecationWarning"


# ---- FIGURE lines (RELIABILITY.md §4) -----------------------------------------------------------
# A test that measures one of the reference's figures records one ``FIGURE <n>: ...`` line through
# the ``figure`` fixture; they are printed together, in figure order, in pytest's terminal summary
# (also with ``-q``), with the outcome of any test that did not pass.

_FIGURES = pytest.StashKey[list["Figure"]]()
_OUTCOMES = pytest.StashKey[dict[str, str]]()


@dataclasses.dataclass(frozen=True)
class Figure:
    number: int
    text: str
    nodeid: str


def _figures(config: pytest.Config) -> list[Figure]:
    return config.stash.setdefault(_FIGURES, [])


@pytest.fixture
def figure(request: pytest.FixtureRequest) -> Iterator[Callable[[int, str], None]]:
    """Record this test's ``FIGURE <number>: <text>`` line; each test records exactly one.

    Record the numbers before asserting on them, so a failing run still shows what it measured.
    """
    recorded: list[Figure] = []

    def record(number: int, text: str) -> None:
        item = Figure(number, text, request.node.nodeid)
        recorded.append(item)
        _figures(request.config).append(item)

    yield record
    outcome = request.config.stash.setdefault(_OUTCOMES, {}).get(request.node.nodeid)
    if outcome == "passed" and len(recorded) != 1:
        pytest.fail(f"a test with the figure fixture records exactly one line, got {len(recorded)}")


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[Any]) -> Any:
    report = yield
    if report.when == "call":
        item.config.stash.setdefault(_OUTCOMES, {})[item.nodeid] = report.outcome
    return report


def pytest_terminal_summary(terminalreporter: Any, exitstatus: int, config: pytest.Config) -> None:
    figures = _figures(config)
    if not figures:
        return
    outcomes = config.stash.setdefault(_OUTCOMES, {})
    scale = os.environ.get("JAEGER_RELIABILITY_SCALE", "ci").strip().lower() or "ci"
    terminalreporter.section(f"reliability figures (JAEGER_RELIABILITY_SCALE={scale})")
    for item in sorted(figures, key=lambda f: f.number):  # stable: recording order within one
        line = f"FIGURE {item.number}: {item.text}"
        outcome = outcomes.get(item.nodeid, "not run")
        if outcome != "passed":
            line += f"  [{outcome.upper()}: {item.nodeid}]"
        terminalreporter.write_line(line)


_OWN_THREADS = ("jaeger-",)  # the reporter's worker, pollers, the dev agent's threads


@pytest.fixture(autouse=True)
def no_thread_outlives_its_test() -> Iterator[None]:
    """A test closes what it starts: a tracer's reporter, a sampler's or throttler's poller, an
    agent. One left running would keep working (and counting) through the tests after it."""
    before = set(threading.enumerate())
    yield
    deadline = time.monotonic() + 5.0
    while True:
        alive = [
            t.name
            for t in threading.enumerate()
            if t not in before and t.name.startswith(_OWN_THREADS) and t.is_alive()
        ]
        if not alive or time.monotonic() >= deadline:
            break
        time.sleep(0.01)
    assert not alive, f"threads still running after the test: {sorted(alive)}"


def raw_fork() -> int:
    """``fork(2)`` from libc, as uWSGI forks its workers: no Python fork hooks run in the child.
    Through ``PyDLL``, which keeps the GIL for the call (the child must not find it released)."""
    import ctypes

    pid: int = ctypes.PyDLL(None).fork()
    if pid < 0:
        raise OSError(ctypes.get_errno(), "fork failed")
    return pid


def fork_child(body: Callable[[], Any], raw: bool = False) -> tuple[int, int]:
    """Fork (with ``raw``: without fork hooks); the child runs ``body`` and writes
    ``{"result": ...}`` (or ``{"error": ...}``) as JSON to a pipe, then exits; return the child's
    pid and the pipe's read end."""
    read_fd, write_fd = os.pipe()
    pid = raw_fork() if raw else os.fork()
    if pid == 0:  # the child: never return into pytest
        code = 0
        try:
            os.close(read_fd)
            data = json.dumps({"result": body()}).encode()
        except BaseException as exc:
            data = json.dumps({"error": repr(exc)}).encode()
            code = 1
        try:
            while data:
                data = data[os.write(write_fd, data) :]
        finally:
            os._exit(code)
    os.close(write_fd)
    return pid, read_fd


def run_in_child(body: Callable[[], Any], raw: bool = False) -> Any:
    """Fork; run ``body`` in the child; return what it returned (through a pipe, as JSON)."""
    pid, read_fd = fork_child(body, raw)
    with os.fdopen(read_fd, "rb") as pipe:
        raw = pipe.read()  # to EOF: the child's end closes when it exits
    _, status = os.waitpid(pid, 0)
    message = json.loads(raw or b"{}")
    assert "error" not in message, message.get("error")
    assert os.waitstatus_to_exitcode(status) == 0
    return message["result"]


def wait_until(predicate: Callable[[], Any], timeout: float = 5.0, interval: float = 0.005) -> Any:
    """Poll ``predicate`` until it is truthy or ``timeout`` passes; return its last value."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() >= deadline:
            return value
        time.sleep(interval)


def decode_emit_batch(packet: bytes) -> Any:
    """Decode one UDP datagram as an ``Agent.emitBatch`` compact message; return the Batch.

    Uses thrift's pure-Python ``TCompactProtocol`` (not the accelerated encoder the client uses).
    """
    transport = TTransport.TMemoryBuffer(packet)
    protocol = TCompactProtocol.TCompactProtocol(transport)
    name, mtype, _seqid = protocol.readMessageBegin()
    assert name == "emitBatch", name
    assert mtype == TMessageType.ONEWAY, mtype
    args = Agent.emitBatch_args()
    args.read(protocol)
    protocol.readMessageEnd()
    assert transport._buffer.tell() == len(packet), "trailing bytes after the message"
    return args.batch


def dead_udp_port() -> int:
    """A loopback UDP port nothing listens on (bound, then released): sends there are refused."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.bind(("127.0.0.1", 0))
    port: int = sock.getsockname()[1]
    sock.close()
    return port


@pytest.fixture
def agent_udp() -> Iterator[socket.socket]:
    """A UDP socket on 127.0.0.1:<free port> standing in for the agent's compact port."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4 * 1024 * 1024)
    sock.bind(("127.0.0.1", 0))
    sock.settimeout(5.0)
    yield sock
    sock.close()


def receive_batches(sock: socket.socket, expected_spans: int, timeout: float = 5.0) -> list[Any]:
    """Receive datagrams until ``expected_spans`` spans have arrived or ``timeout`` passes."""
    batches: list[Any] = []
    seen = 0
    deadline = time.monotonic() + timeout
    while seen < expected_spans:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            break
        sock.settimeout(remaining)
        try:
            packet, _ = sock.recvfrom(65535)
        except socket.timeout:
            break
        batch = decode_emit_batch(packet)
        batches.append(batch)
        seen += len(batch.spans)
    return batches
