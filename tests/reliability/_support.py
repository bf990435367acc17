"""Helpers shared by the reliability tests: the scale knob, a loopback UDP agent, percentiles.

Importable without pytest running (the ``python -O`` children import it), so nothing here may
rely on ``assert``: ``-O`` strips it.
"""

from __future__ import annotations

import math
import os
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Optional, TypeVar

from thrift.protocol import TCompactProtocol
from thrift.Thrift import TMessageType
from thrift.transport import TTransport

from jaeger_client.thrift_gen.agent import Agent as AgentService

_T = TypeVar("_T")

_SCALES = ("ci", "full")
SCALE = os.environ.get("JAEGER_RELIABILITY_SCALE", "ci").strip().lower() or "ci"
if SCALE not in _SCALES:
    raise ValueError(f"JAEGER_RELIABILITY_SCALE must be one of {', '.join(_SCALES)}, got {SCALE!r}")

TESTS_DIR = str(Path(__file__).resolve().parent.parent)
REPO_ROOT = str(Path(TESTS_DIR).parent)


def scaled(ci: _T, full: _T) -> _T:
    """``ci`` at the CI scale, ``full`` at the full scale."""
    return full if SCALE == "full" else ci


def percentile(samples: Sequence[float], fraction: float) -> float:
    """Nearest-rank percentile (``fraction`` 0.99 for p99) of ``samples``."""
    ordered = sorted(samples)
    if not ordered:
        return float("nan")
    rank = min(len(ordered) - 1, max(0, math.ceil(fraction * len(ordered)) - 1))
    return ordered[rank]


def n(value: float) -> str:
    """A count with thousands separators, as the figures print them."""
    return f"{value:,.0f}"


# ---- decoding what a client sent, with thrift's own protocol classes ---------------------------


def decode_emit_batch(packet: bytes, *, accelerated: bool = True) -> Any:
    """Decode one ``Agent.emitBatch`` datagram with thrift's decoder (never our encoder's code).

    ``accelerated`` uses thrift's C extension when it is built (tens of thousands of spans);
    otherwise, or with ``accelerated=False``, thrift's pure-Python ``TCompactProtocol``.
    """
    transport = TTransport.TMemoryBuffer(packet)
    protocol: Any = TCompactProtocol.TCompactProtocol(transport)
    if accelerated:
        try:
            from thrift.protocol import fastbinary  # noqa: F401
        except ImportError:
            pass
        else:
            protocol = TCompactProtocol.TCompactProtocolAccelerated(transport)
    name, mtype, _ = protocol.readMessageBegin()
    if name != "emitBatch" or mtype != TMessageType.ONEWAY:
        raise ValueError(f"not an emitBatch message: {name!r} type {mtype}")
    args = AgentService.emitBatch_args()
    args.read(protocol)
    protocol.readMessageEnd()
    if not accelerated and transport._buffer.tell() != len(packet):
        raise ValueError("trailing bytes after the emitBatch message")
    return args.batch


def compact_size(struct: Any) -> int:
    """Bytes of a Thrift struct in the compact protocol, by thrift's pure-Python encoder."""
    transport = TTransport.TMemoryBuffer()
    struct.write(TCompactProtocol.TCompactProtocol(transport))
    return len(transport.getvalue())


# ---- a loopback UDP agent that can go down and come back on the same port ----------------------


def dead_udp_port(host: str = "127.0.0.1") -> int:
    """A UDP port nothing listens on: the kernel answers datagrams with port-unreachable."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_DGRAM) as probe:
        probe.bind((host, 0))
        return int(probe.getsockname()[1])


class UdpAgent:
    """A jaeger-agent stand-in on ``host``: one thread only receives; decoding is on demand.

    ``down()`` closes the socket (senders then get ECONNREFUSED), ``up()`` binds the same port
    again. Every datagram is kept with its arrival time (``time.monotonic()``).
    """

    def __init__(self, host: str = "127.0.0.1", port: int = 0) -> None:
        self.host = host
        self._family = socket.AF_INET6 if ":" in host else socket.AF_INET
        self._cond = threading.Condition()
        self._packets: list[tuple[float, bytes]] = []
        self._decoded: list[list[Any]] = []
        self._batches: list[Any] = []
        self._sock: Optional[socket.socket] = None
        self._thread: Optional[threading.Thread] = None
        self._stop = threading.Event()
        self.port = port
        self.up()

    # -- lifecycle

    def up(self) -> None:
        if self._sock is not None:
            return
        sock = socket.socket(self._family, socket.SOCK_DGRAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:  # root may exceed rmem_max: a burst must not overflow the receiver
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUFFORCE, 32 << 20)
        except (OSError, AttributeError):
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 32 << 20)
        sock.bind((self.host, self.port))
        sock.settimeout(0.05)  # how soon down() is noticed by the receiving thread
        self.port = sock.getsockname()[1]
        self._sock = sock
        self._stop = threading.Event()
        self._thread = threading.Thread(
            target=self._receive, args=(sock, self._stop), name="reliability-agent", daemon=True
        )
        self._thread.start()

    def down(self) -> None:
        """Stop listening: from now on datagrams to the port are refused by the kernel.

        Datagrams already queued on the socket are kept (closing would discard them); one
        arriving while the socket closes would be lost, so flush the client first.
        """
        sock, thread = self._sock, self._thread
        if sock is None or thread is None:
            return
        self._stop.set()
        thread.join(5)
        sock.setblocking(False)
        while True:
            try:
                packet = sock.recv(65535)
            except OSError:  # BlockingIOError: nothing left
                break
            with self._cond:
                self._packets.append((time.monotonic(), packet))
                self._cond.notify_all()
        sock.close()
        self._sock = self._thread = None

    close = down

    def __enter__(self) -> UdpAgent:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.down()

    def _receive(self, sock: socket.socket, stop: threading.Event) -> None:
        while not stop.is_set():
            try:
                packet = sock.recv(65535)
            except socket.timeout:
                continue
            except OSError:
                return
            with self._cond:
                self._packets.append((time.monotonic(), packet))
                self._cond.notify_all()

    # -- what arrived

    @property
    def packets(self) -> list[bytes]:
        with self._cond:
            return [p for _, p in self._packets]

    def arrivals(self) -> list[tuple[float, int]]:
        """``(arrival time, span count)`` per datagram, in arrival order."""
        self._decode_new()
        with self._cond:
            times = [t for t, _ in self._packets[: len(self._decoded)]]
            return list(zip(times, (len(s) for s in self._decoded)))

    def _decode_new(self) -> None:
        with self._cond:
            new = self._packets[len(self._decoded) :]
        for _, packet in new:
            batch = decode_emit_batch(packet)
            self._batches.append(batch)
            self._decoded.append(list(batch.spans or ()))

    @property
    def batches(self) -> list[Any]:
        self._decode_new()
        return list(self._batches)

    def spans(self) -> list[Any]:
        self._decode_new()
        return [span for spans in self._decoded for span in spans]

    def span_count(self) -> int:
        return len(self.spans())

    def wait_for_spans(self, count: int, timeout: float = 10.0) -> list[Any]:
        """Wait until ``count`` spans arrived or ``timeout`` passed; return all so far."""
        deadline = time.monotonic() + timeout
        while True:
            spans = self.spans()
            remaining = deadline - time.monotonic()
            if len(spans) >= count or remaining <= 0:
                return spans
            with self._cond:
                if len(self._packets) == len(self._decoded):
                    self._cond.wait(min(remaining, 0.1))

    def quiet_for(self, seconds: float, timeout: float = 10.0) -> bool:
        """Wait until no datagram arrived for ``seconds``; False if that took over ``timeout``."""
        deadline = time.monotonic() + timeout
        with self._cond:
            while time.monotonic() < deadline:
                last = self._packets[-1][0] if self._packets else 0.0
                idle = time.monotonic() - last
                if idle >= seconds:
                    return True
                self._cond.wait(seconds - idle)
        return False


# ---- child interpreters --------------------------------------------------------------------------


def run_python(
    code: str,
    *,
    optimize: bool = False,
    timeout: float = 120.0,
    env: Optional[dict[str, str]] = None,
) -> subprocess.CompletedProcess[str]:
    """Run ``code`` in a fresh interpreter that can import the tests' helpers."""
    path = os.pathsep.join([TESTS_DIR, REPO_ROOT])
    child_env = {**os.environ, "PYTHONPATH": path, **(env or {})}
    args = [sys.executable, *(["-O"] if optimize else []), "-c", code]
    return subprocess.run(
        args, capture_output=True, text=True, timeout=timeout, env=child_env, check=False
    )
