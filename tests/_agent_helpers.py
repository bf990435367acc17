"""Helpers for the dev agent's tests: Thrift payloads built with thrift's own protocol classes
(never our encoder), loopback UDP/HTTP clients, and a line reader with a deadline."""

from __future__ import annotations

import gzip
import os
import select
import socket
import time
import urllib.error
import urllib.request
from typing import Any, Optional

from thrift.protocol import TBinaryProtocol, TCompactProtocol
from thrift.Thrift import TMessageType
from thrift.transport import TTransport

from jaeger_client.thrift_gen.agent import Agent as AgentService
from jaeger_client.thrift_gen.jaeger import ttypes as jt

NOW_US = 1_700_000_000_000_000  # a fixed start time keeps expected output stable


def tag(key: str, value: Any) -> Any:
    """A ``jaeger.Tag`` of the type Python's value implies."""
    if isinstance(value, bool):
        return jt.Tag(key, jt.TagType.BOOL, vBool=value)
    if isinstance(value, int):
        return jt.Tag(key, jt.TagType.LONG, vLong=value)
    if isinstance(value, float):
        return jt.Tag(key, jt.TagType.DOUBLE, vDouble=value)
    if isinstance(value, bytes):
        return jt.Tag(key, jt.TagType.BINARY, vBinary=value)
    return jt.Tag(key, jt.TagType.STRING, vStr=value)


def span(
    operation: str,
    span_id: int,
    parent_id: int = 0,
    *,
    trace_low: int = 0x1234,
    trace_high: int = 0,
    start: int = 0,
    duration: int = 1000,
    flags: int = 1,
    tags: Optional[dict[str, Any]] = None,
    logs: Optional[list[tuple[int, dict[str, Any]]]] = None,
    references: Optional[list[Any]] = None,
) -> Any:
    """A ``jaeger.Span``; ``start`` and log times are microseconds after ``NOW_US``."""
    return jt.Span(
        traceIdLow=trace_low,
        traceIdHigh=trace_high,
        spanId=span_id,
        parentSpanId=parent_id,
        operationName=operation,
        references=references,
        flags=flags,
        startTime=NOW_US + start,
        duration=duration,
        tags=[tag(k, v) for k, v in (tags or {}).items()] or None,
        logs=[jt.Log(NOW_US + t, [tag(k, v) for k, v in f.items()]) for t, f in logs or ()] or None,
    )


def batch(
    spans: list[Any],
    service: str = "svc",
    process_tags: Optional[dict[str, Any]] = None,
    **fields: Any,
) -> Any:
    process = jt.Process(service, [tag(k, v) for k, v in (process_tags or {}).items()] or None)
    return jt.Batch(process=process, spans=spans, **fields)


def _protocol(name: str, transport: Any) -> Any:
    if name == "compact":
        return TCompactProtocol.TCompactProtocol(transport)
    return TBinaryProtocol.TBinaryProtocol(transport)


def emit_batch(
    the_batch: Any,
    protocol: str = "compact",
    *,
    name: str = "emitBatch",
    mtype: int = TMessageType.ONEWAY,
) -> bytes:
    """An ``Agent.emitBatch`` message, as a client puts it in one UDP datagram."""
    buffer = TTransport.TMemoryBuffer()
    proto = _protocol(protocol, buffer)
    proto.writeMessageBegin(name, mtype, 7)
    AgentService.emitBatch_args(batch=the_batch).write(proto)
    proto.writeMessageEnd()
    return bytes(buffer.getvalue())


def batch_body(the_batch: Any) -> bytes:
    """A bare ``Batch`` in the binary protocol, as an HTTP collector sender posts it."""
    buffer = TTransport.TMemoryBuffer()
    the_batch.write(TBinaryProtocol.TBinaryProtocol(buffer))
    return bytes(buffer.getvalue())


def send_udp(port: int, payload: bytes, host: str = "127.0.0.1") -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
        sock.sendto(payload, (host, port))


def http(
    port: int,
    path: str,
    *,
    body: Optional[bytes] = None,
    headers: Optional[dict[str, str]] = None,
    gzip_body: bool = False,
) -> tuple[int, bytes, dict[str, str]]:
    """GET (or POST when ``body`` is given) on 127.0.0.1; return status, body and headers."""
    headers = dict(headers or {})
    if body is not None:
        headers.setdefault("Content-Type", "application/x-thrift")
        if gzip_body:
            body = gzip.compress(body)
            headers["Content-Encoding"] = "gzip"
    request = urllib.request.Request(f"http://127.0.0.1:{port}{path}", data=body, headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=5) as response:
            return response.status, response.read(), dict(response.headers)
    except urllib.error.HTTPError as e:
        with e:
            return e.code, e.read(), dict(e.headers)


class LineReader:
    """Reads lines from a subprocess pipe with a deadline (no blocking ``readline``)."""

    def __init__(self, pipe: Any) -> None:
        self._fd = pipe.fileno()
        self._buffer = b""
        self._eof = False

    def readline(self, timeout: float = 5.0) -> str:
        deadline = time.monotonic() + timeout
        while b"\n" not in self._buffer and not self._eof:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise TimeoutError(f"no full line within {timeout} s; have {self._buffer!r}")
            readable, _, _ = select.select([self._fd], [], [], remaining)
            if readable:
                chunk = os.read(self._fd, 65536)
                self._eof = not chunk
                self._buffer += chunk
        line, sep, self._buffer = self._buffer.partition(b"\n")
        return (line + sep).decode("utf-8")

    def read_rest(self, timeout: float = 5.0) -> str:
        """Everything until EOF (the process exited and closed the pipe)."""
        deadline = time.monotonic() + timeout
        while not self._eof:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise TimeoutError(f"no EOF within {timeout} s; have {self._buffer!r}")
            readable, _, _ = select.select([self._fd], [], [], remaining)
            if readable:
                chunk = os.read(self._fd, 65536)
                self._eof = not chunk
                self._buffer += chunk
        rest, self._buffer = self._buffer, b""
        return rest.decode("utf-8")
