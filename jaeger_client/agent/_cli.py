"""``jaeger-agent`` / ``python -m jaeger_client.agent``: run the dev agent in a terminal."""

from __future__ import annotations

import argparse
import json
import os
import signal
import sys
import threading
import time
from collections.abc import Sequence
from typing import Any, Callable, Optional, TextIO

from .. import __version__
from ._model import ReceivedBatch, Trace
from ._render import DEFAULT_MAX_VALUE_LENGTH, TracePrinter, format_trace, span_to_json, write_line
from ._server import (
    DEFAULT_BINARY_PORT,
    DEFAULT_COMPACT_PORT,
    DEFAULT_HOST,
    DEFAULT_HTTP_PORT,
    Agent,
    MalformedInput,
)
from ._strategies import Strategies, StrategyError

__all__ = ["main"]

_SHOWN_MALFORMED = 20  # then only counted, so a flood of garbage cannot bury the traces


def _port(text: str) -> int:
    try:
        port = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a port number: {text!r}") from None
    if not 0 <= port <= 65535:
        raise argparse.ArgumentTypeError(
            f"port must be in [0, 65535] (0 = any free port), got {port}"
        )
    return port


def _non_negative(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number: {text!r}") from None
    if not value >= 0:
        raise argparse.ArgumentTypeError(f"must be >= 0, got {text}")
    return value


def _count(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not an integer: {text!r}") from None
    if value < 0:
        raise argparse.ArgumentTypeError(f"must be >= 0, got {value}")
    return value


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="jaeger-agent",
        description=(
            "A Jaeger agent for development: receives spans on UDP (compact and binary Thrift) "
            "and HTTP (POST /api/traces), prints each trace as a tree, and serves sampling "
            "strategies, baggage restrictions and debug credits. The first line of output is "
            'JSON naming the ports: {"event": "listening", "compact_port": ..., ...}.'
        ),
    )
    parser.add_argument(
        "--host", default=DEFAULT_HOST, help="address to bind (default %(default)s)"
    )
    parser.add_argument(
        "--compact-port",
        type=_port,
        default=DEFAULT_COMPACT_PORT,
        metavar="PORT",
        help="UDP port for compact Thrift emitBatch (default %(default)s; 0 = free)",
    )
    parser.add_argument(
        "--binary-port",
        type=_port,
        default=DEFAULT_BINARY_PORT,
        metavar="PORT",
        help="UDP port for binary Thrift emitBatch (default %(default)s; 0 = free)",
    )
    parser.add_argument(
        "--http-port",
        type=_port,
        default=DEFAULT_HTTP_PORT,
        metavar="PORT",
        help="HTTP port for /sampling, /baggageRestrictions, /credits and "
        "POST /api/traces (default %(default)s; 0 = free)",
    )
    parser.add_argument(
        "--strategies",
        metavar="FILE",
        help="JSON file with sampling strategies, baggage restrictions and credits "
        "(jaeger's strategies-file format, extended; default: sample everything)",
    )
    parser.add_argument(
        "--json",
        action="store_true",
        help="print one JSON object per span as it arrives instead of trace trees",
    )
    parser.add_argument(
        "--quiet-interval",
        type=_non_negative,
        default=1.5,
        metavar="SECONDS",
        help="print a trace once no span of it arrived for this long (default %(default)s)",
    )
    parser.add_argument(
        "--max-value-length",
        type=_count,
        default=DEFAULT_MAX_VALUE_LENGTH,
        metavar="N",
        help="cut tag values longer than N in trees (0 = never; default %(default)s)",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    return parser


class _MalformedReporter:
    """Tells stderr about the first few malformed inputs; the rest are counted for the summary."""

    def __init__(self, stream: TextIO, lock: threading.Lock) -> None:
        self._stream, self._lock = stream, lock
        self._seen = 0
        self._count_lock = threading.Lock()

    def __call__(self, record: MalformedInput) -> None:
        with self._count_lock:
            self._seen += 1
            seen = self._seen
        if seen <= _SHOWN_MALFORMED:
            kind = "HTTP body" if record.transport == "http" else f"{record.transport} datagram"
            text = (
                f"malformed {kind} #{seen} from {record.source} ({record.size} bytes): "
                f"{record.error}\n"
            )
            if seen == _SHOWN_MALFORMED:
                text += "(further malformed input is counted, not shown)\n"
            write_line(self._stream, text, self._lock)


def main(argv: Optional[Sequence[str]] = None) -> int:
    """Run until SIGINT or SIGTERM, print what is pending and a summary; return the exit code."""
    args = _parser().parse_args(argv)
    out, err = sys.stdout, sys.stderr
    out_lock, err_lock = threading.Lock(), threading.Lock()
    try:
        strategies = Strategies.from_file(args.strategies) if args.strategies else Strategies()
    except StrategyError as e:
        print(f"jaeger-agent: {e}", file=err)
        return 2

    def emit_trace(trace: Trace, note: str) -> None:
        write_line(
            out,
            format_trace(trace, max_value_length=args.max_value_length, note=note) + "\n",
            out_lock,
        )

    def print_json(batch: ReceivedBatch) -> None:
        lines = "".join(json.dumps(span_to_json(span)) + "\n" for span in batch.spans)
        write_line(out, lines, out_lock)

    printer: Optional[TracePrinter] = None
    on_batch: Callable[[ReceivedBatch], None] = print_json
    if not args.json:
        printer = TracePrinter(emit_trace, args.quiet_interval)
        on_batch = _adder(printer)

    try:
        agent = Agent(
            args.host,
            args.compact_port,
            args.binary_port,
            args.http_port,
            strategies=strategies,
            on_batch=[on_batch],
            on_malformed=[_MalformedReporter(err, err_lock)],
        )
    except OSError as e:
        if printer is not None:
            printer.close()
        print(
            f"jaeger-agent: cannot listen on {args.host}: {e} (is another agent running? "
            "pass --compact-port 0 --binary-port 0 --http-port 0 for free ports)",
            file=err,
        )
        return 1
    signals = _StopSignals()
    try:
        signals.install()
        listening = {
            "event": "listening",
            "host": args.host,
            "compact_port": agent.compact_port,
            "binary_port": agent.binary_port,
            "http_port": agent.http_port,
            "pid": os.getpid(),
        }
        write_line(out, json.dumps(listening) + "\n", out_lock)
        write_line(
            err,
            f"jaeger dev agent on {args.host}: UDP compact {agent.compact_port}, UDP binary "
            f"{agent.binary_port}, HTTP {agent.http_port} (/sampling /baggageRestrictions "
            "/credits, POST /api/traces). Ctrl-C to stop.\n",
            err_lock,
        )
        # A signal handler raises _Stop out of the sleep. Never an untimed wait: a signal the
        # kernel delivers to another thread only flags the main thread, which runs the handler
        # at its next bytecode, and a lock wait without a timeout never gets there.
        while True:
            time.sleep(0.2)
    except (_Stop, KeyboardInterrupt):
        pass
    finally:
        signals.restore()
        agent.close()
        if printer is not None:
            printer.close()
    counts = agent.stats()
    write_line(
        err,
        f"jaeger dev agent stopped: {counts['spans']} spans in {counts['batches']} batches, "
        f"{counts['malformed']} malformed, {counts['http_requests']} HTTP requests\n",
        err_lock,
    )
    return 0


def _adder(printer: TracePrinter) -> Callable[[ReceivedBatch], None]:
    return lambda batch: printer.add(batch.spans)


class _Stop(BaseException):  # like KeyboardInterrupt: no "except Exception" swallows it
    """Raised in the main thread by the SIGINT/SIGTERM handler."""


class _StopSignals:
    """SIGINT and SIGTERM raise :class:`_Stop` in the main thread, once; ``restore()`` undoes it.

    The handler takes no lock: setting a ``threading.Event`` from it could deadlock, since the
    main thread may hold that Event's lock (inside ``wait()``) when the handler runs.
    """

    def __init__(self) -> None:
        self._previous: dict[int, Any] = {}
        if threading.current_thread() is threading.main_thread():
            self._previous = {sig: signal.getsignal(sig) for sig in (signal.SIGINT, signal.SIGTERM)}
        self._fired = False

    def install(self) -> None:
        for sig in self._previous:
            signal.signal(sig, self._handle)

    def _handle(self, signum: int, frame: Any) -> None:
        if not self._fired:  # a second signal must not interrupt the shutdown
            self._fired = True
            raise _Stop

    def restore(self) -> None:
        for sig, old in self._previous.items():
            if old is not None:  # None: a handler installed from C, which Python cannot restore
                signal.signal(sig, old)
