"""A loopback jaeger-agent stand-in for the benchmarks: receives every datagram, decodes every one.

Run with the project's own Python (it decodes with the Thrift structs generated from ``idl/``):

    python benchmarks/sink.py            # prints "PORT <n>", then answers commands on stdin

Commands, one per line, each answered with one JSON line on stdout:

    stats <quiet_s> <timeout_s>   wait until no datagram has arrived for quiet_s (at most
                                  timeout_s), decode everything received so far, report totals
    reset                         forget everything received so far
    quit

It runs in its own process so that neither receiving nor decoding competes with the application
for its GIL, and it only *receives* while traffic flows: one thread does nothing but ``recv`` into
a list with a CLOCK_MONOTONIC timestamp (comparable across processes on Linux), and decoding
happens when ``stats`` is asked, after the sender has gone quiet. The socket asks for a 64 MB
receive buffer (``SO_RCVBUFFORCE`` as root, else ``SO_RCVBUF`` capped by ``rmem_max``), and the
kernel's UDP ``RcvbufErrors`` counter is reported so a run can show that the sink kept up.

Decoding uses thrift's ``TCompactProtocolAccelerated`` (the C extension) when it is present and
the pure ``TCompactProtocol`` otherwise (``--pure`` forces it); either way every datagram is read
as a complete ``Agent.emitBatch`` oneway message, and one that fails is counted in ``errors``.
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import sys
import threading
import time
import types
from typing import Any

from thrift.protocol import TCompactProtocol
from thrift.Thrift import TMessageType
from thrift.transport import TTransport


def _load_agent_structs() -> Any:
    """Import the generated ``Agent`` module without running ``jaeger_client/__init__.py``.

    The sink must decode whatever the state of the package around the generated code (and for
    upstream runs too), so ``jaeger_client`` is stood in by an empty package whose path is ours.
    """
    if "jaeger_client" not in sys.modules:
        package = types.ModuleType("jaeger_client")
        package.__path__ = [
            os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "jaeger_client")
        ]
        sys.modules["jaeger_client"] = package
    from jaeger_client.thrift_gen.agent import Agent

    return Agent


Agent = _load_agent_structs()

SO_RCVBUFFORCE = getattr(socket, "SO_RCVBUFFORCE", 33)
WANTED_RCVBUF = 64 * 1024 * 1024


def udp_rcvbuf_errors() -> int:
    """The kernel's system-wide UDP RcvbufErrors counter (-1 if unreadable)."""
    try:
        with open("/proc/net/snmp") as f:
            lines = [line.split() for line in f if line.startswith("Udp:")]
        header, values = lines[0], lines[1]
        return int(values[header.index("RcvbufErrors")])
    except (OSError, IndexError, ValueError):
        return -1


def open_socket(port: int) -> socket.socket:
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    try:
        sock.setsockopt(socket.SOL_SOCKET, SO_RCVBUFFORCE, WANTED_RCVBUF)
    except OSError:  # not root / no CAP_NET_ADMIN: the plain option, capped by rmem_max
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, WANTED_RCVBUF)
    sock.bind(("127.0.0.1", port))
    return sock


class Sink:
    """A receiver thread appends (time, datagram); the main thread decodes when asked."""

    def __init__(self, sock: socket.socket, pure: bool) -> None:
        self.sock = sock
        self.packets: list[tuple[float, bytes]] = []
        self.decoded_upto = 0
        self.protocol_class: Any = TCompactProtocol.TCompactProtocol
        if not pure:
            try:
                from thrift.protocol import fastbinary  # noqa: F401  # only probing for it

                self.protocol_class = TCompactProtocol.TCompactProtocolAccelerated
            except ImportError:
                pass
        self.reset()
        threading.Thread(target=self._receive, name="sink-recv", daemon=True).start()

    def reset(self) -> None:
        self.packets = []
        self.decoded_upto = 0
        self.datagrams = 0
        self.spans = 0
        self.bytes = 0
        self.errors = 0
        self.services: dict[str, int] = {}
        self.max_datagram = 0
        self.rcvbuf_errors_at_reset = udp_rcvbuf_errors()

    def _receive(self) -> None:
        recv = self.sock.recv
        now = time.monotonic
        while True:
            data = recv(65536)
            # list.append is atomic under the GIL; reset() swaps the list, which is fine here
            self.packets.append((now(), data))

    def _decode(self, data: bytes) -> None:
        transport = TTransport.TMemoryBuffer(data)
        protocol = self.protocol_class(transport)
        name, mtype, _ = protocol.readMessageBegin()
        if name != "emitBatch" or mtype != TMessageType.ONEWAY:
            raise ValueError(f"unexpected message {name!r} type {mtype}")
        args = Agent.emitBatch_args()
        args.read(protocol)
        protocol.readMessageEnd()
        batch = args.batch
        spans = len(batch.spans or ())
        self.spans += spans
        service = batch.process.serviceName if batch.process else ""
        self.services[service] = self.services.get(service, 0) + spans

    def stats(self, quiet: float, timeout: float) -> dict[str, Any]:
        start = time.monotonic()
        deadline = start + timeout
        while True:
            now = time.monotonic()
            last = self.packets[-1][0] if self.packets else start
            if now - max(last, start) >= quiet or now >= deadline:
                break
            time.sleep(min(0.01, quiet))
        packets = self.packets
        for _, data in packets[self.decoded_upto :]:
            self.datagrams += 1
            self.bytes += len(data)
            self.max_datagram = max(self.max_datagram, len(data))
            try:
                self._decode(data)
            except Exception:  # any malformed datagram is counted, never fatal to the sink
                self.errors += 1
        self.decoded_upto = len(packets)
        errors_now = udp_rcvbuf_errors()
        return {
            "datagrams": self.datagrams,
            "spans": self.spans,
            "bytes": self.bytes,
            "errors": self.errors,
            "max_datagram": self.max_datagram,
            "first": packets[0][0] if packets else None,
            "last": packets[-1][0] if packets else None,
            "services": self.services,
            "rcvbuf": self.sock.getsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF),
            "kernel_rcvbuf_errors": (
                errors_now - self.rcvbuf_errors_at_reset
                if errors_now >= 0 and self.rcvbuf_errors_at_reset >= 0
                else None
            ),
            "decoder": self.protocol_class.__name__,
            "timed_out": time.monotonic() >= deadline,
        }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--port", type=int, default=0)
    parser.add_argument("--pure", action="store_true", help="decode with pure-Python thrift")
    args = parser.parse_args()
    sink = Sink(open_socket(args.port), args.pure)
    print(f"PORT {sink.sock.getsockname()[1]}", flush=True)
    for line in sys.stdin:
        words = line.split()
        if not words:
            continue
        if words[0] == "stats":
            result = sink.stats(float(words[1]), float(words[2]))
        elif words[0] == "reset":
            sink.reset()
            result = {"reset": True}
        elif words[0] == "quit":
            break
        else:
            result = {"error": f"unknown command {words[0]!r}"}
        print(json.dumps(result), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
