"""The dev agent's sockets: UDP compact/binary ``emitBatch`` and the HTTP control/collector port."""

from __future__ import annotations

import json
import logging
import selectors
import socket
import socketserver
import threading
import time
import zlib
from collections.abc import Sequence
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Callable, Optional, Union
from urllib.parse import parse_qs, urlsplit

from ..constants import LOGGER_NAME
from ._decode import MalformedInputError, decode_batch_body, decode_datagram
from ._model import ReceivedBatch, batch_from_thrift
from ._strategies import Strategies

__all__ = [
    "Agent",
    "HTTPRequestRecord",
    "MalformedInput",
]

logger = logging.getLogger(LOGGER_NAME)

DEFAULT_HOST = "127.0.0.1"
DEFAULT_COMPACT_PORT = 6831
DEFAULT_BINARY_PORT = 6832
DEFAULT_HTTP_PORT = 5778
_MAX_BODY_BYTES = 64 * 1024 * 1024
_RECEIVE_BUFFER_BYTES = 4 * 1024 * 1024
_DRAIN_SECONDS = 1.0


@dataclass(frozen=True)
class MalformedInput:
    """Input the agent could not accept: where it came from, how big, and why."""

    transport: str  # "compact", "binary" or "http"
    source: str
    size: int
    error: str


@dataclass(frozen=True)
class HTTPRequestRecord:
    """One HTTP request the agent answered (recorded just before the answer is sent)."""

    method: str
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]
    status: int


BatchListener = Callable[[ReceivedBatch], None]
MalformedListener = Callable[[MalformedInput], None]
RequestListener = Callable[[HTTPRequestRecord], None]


def _family(host: str) -> socket.AddressFamily:
    return socket.AF_INET6 if ":" in host else socket.AF_INET


class _UDPServer(socketserver.UDPServer):
    max_packet_size = 65536  # socketserver's default of 8192 would cut datagrams short

    def __init__(self, host: str, port: int, handler: Callable[[bytes, str], None]) -> None:
        self.address_family = _family(host)
        self.on_datagram = handler
        super().__init__((host, port), _UDPHandler)
        try:
            self.socket.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, _RECEIVE_BUFFER_BYTES)
        except OSError:  # a smaller buffer only risks drops under bursts
            pass


class _UDPHandler(socketserver.BaseRequestHandler):
    server: _UDPServer

    def handle(self) -> None:
        data = self.request[0]
        host, port = self.client_address[:2]
        self.server.on_datagram(data, f"{host}:{port}")


class _HTTPServer(ThreadingHTTPServer):
    daemon_threads = True  # a stuck client must not hold close() up

    def __init__(self, host: str, port: int, agent: Agent) -> None:
        self.address_family = _family(host)
        self.agent = agent
        super().__init__((host, port), _HTTPHandler)

    def server_bind(self) -> None:
        # HTTPServer.server_bind would call socket.getfqdn(), a reverse DNS lookup that can hang
        socketserver.TCPServer.server_bind(self)
        host, port = self.server_address[:2]
        self.server_name, self.server_port = str(host), int(port)


class _HTTPHandler(BaseHTTPRequestHandler):
    server: _HTTPServer
    server_version = "jaeger-client-dev-agent"
    timeout = 10  # seconds a connection may sit idle before its thread gives up

    def log_message(self, format: str, *args: Any) -> None:  # stdlib's parameter name
        logger.debug("dev agent http: " + format, *args)

    def do_GET(self) -> None:
        self.server.agent._serve_get(self)

    def do_POST(self) -> None:
        self.server.agent._serve_post(self)

    def reply(self, status: int, body: Union[bytes, str, Any], content_type: str = "") -> None:
        if isinstance(body, str):
            payload, content_type = (
                body.encode("utf-8"),
                content_type or "text/plain; charset=utf-8",
            )
        elif isinstance(body, bytes):
            payload, content_type = body, content_type or "application/octet-stream"
        else:
            payload, content_type = json.dumps(body).encode("utf-8"), "application/json"
        self.send_response(status)
        if payload or status != 202:
            self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        self.wfile.write(payload)


class Agent:
    """A Jaeger agent for development: receives spans, serves sampling, baggage and credits.

    Listens on UDP ``compact_port`` (Thrift compact ``emitBatch``), UDP ``binary_port`` (binary)
    and TCP ``http_port``: ``GET /sampling``, legacy ``GET /``, ``GET /baggageRestrictions``,
    ``GET /credits`` (also under ``/api/`` like the collector) and ``POST /api/traces`` (a binary
    ``Batch``, as an HTTP collector sender posts it). Port 0 picks a free port; the chosen ones
    are the ``*_port`` attributes once the constructor returns.

    Thread model: the constructor binds every socket and starts one daemon thread per UDP port
    (``jaeger-agent-compact``, ``jaeger-agent-binary``) and one for HTTP (``jaeger-agent-http``,
    which starts a thread per connection). Listeners are called on those threads and must be
    quick and thread-safe. ``close()`` (any thread, idempotent) wakes and joins them; datagrams
    already queued on the UDP ports are still handled first.

    :param on_batch: called with every decoded batch
    :param on_malformed: called with every datagram or body that could not be decoded
    :param on_request: called after every HTTP request is answered
    :param collector_auth: if set, ``POST /api/traces`` requires this exact ``Authorization``
    """

    def __init__(
        self,
        host: str = DEFAULT_HOST,
        compact_port: int = DEFAULT_COMPACT_PORT,
        binary_port: int = DEFAULT_BINARY_PORT,
        http_port: int = DEFAULT_HTTP_PORT,
        *,
        strategies: Optional[Strategies] = None,
        on_batch: Sequence[BatchListener] = (),
        on_malformed: Sequence[MalformedListener] = (),
        on_request: Sequence[RequestListener] = (),
        collector_auth: Optional[str] = None,
    ) -> None:
        for name, port in (
            ("compact_port", compact_port),
            ("binary_port", binary_port),
            ("http_port", http_port),
        ):
            if isinstance(port, bool) or not isinstance(port, int) or not 0 <= port <= 65535:
                raise ValueError(f"{name} must be an integer in [0, 65535], got {port!r}")
        self.host = host
        self.strategies = strategies if strategies is not None else Strategies()
        self.collector_auth = collector_auth
        self._on_batch = list(on_batch)
        self._on_malformed = list(on_malformed)
        self._on_request = list(on_request)
        self._lock = threading.Lock()
        self._counts = {"batches": 0, "spans": 0, "malformed": 0, "http_requests": 0}
        self._overrides: dict[str, tuple[int, bytes, str]] = {}
        self._closed = False
        servers: list[Union[_UDPServer, _HTTPServer]] = []
        try:
            servers.append(_UDPServer(host, compact_port, self._datagram_handler("compact")))
            servers.append(_UDPServer(host, binary_port, self._datagram_handler("binary")))
            servers.append(_HTTPServer(host, http_port, self))
        except OSError:
            for server in servers:
                server.server_close()
            raise
        self._servers = servers
        self.compact_port, self.binary_port, self.http_port = (
            int(s.socket.getsockname()[1]) for s in servers
        )
        # close() writes here to wake every server thread at once (no polling, no shutdown lag)
        self._wake_reader, self._wake_writer = socket.socketpair()
        self._threads = [
            threading.Thread(
                target=self._serve, args=(server,), name=f"jaeger-agent-{name}", daemon=True
            )
            for server, name in zip(servers, ("compact", "binary", "http"))
        ]
        for thread in self._threads:
            thread.start()

    # ---- lifecycle ------------------------------------------------------------------------------

    def close(self) -> None:
        """Stop listening and join the server threads. Safe to call twice."""
        with self._lock:
            if self._closed:
                return
            self._closed = True
        self._wake_writer.send(b"x")
        for thread in self._threads:
            if thread is not threading.current_thread():  # close() from inside a listener
                thread.join()
        for server in self._servers:
            server.server_close()
        self._wake_reader.close()
        self._wake_writer.close()

    def _serve(self, server: Union[_UDPServer, _HTTPServer]) -> None:
        """A server thread: handle each request as its socket turns readable, until woken."""
        server.socket.setblocking(False)  # a readiness race then fails the accept/recv, not hangs
        with selectors.DefaultSelector() as selector:
            selector.register(server.socket, selectors.EVENT_READ)
            selector.register(self._wake_reader, selectors.EVENT_READ)
            while True:
                ready = selector.select()
                if any(key.fileobj is self._wake_reader for key, _ in ready):
                    break
                server.handle_request()
        if isinstance(server, _UDPServer):
            # datagrams already queued were sent before close(): take them (a client may send
            # and then stop the agent at once, as a demo or a test does)
            deadline = time.monotonic() + _DRAIN_SECONDS  # a sender that never stops
            with selectors.DefaultSelector() as selector:
                selector.register(server.socket, selectors.EVENT_READ)
                while selector.select(timeout=0) and time.monotonic() < deadline:
                    server.handle_request()

    def __enter__(self) -> Agent:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def stats(self) -> dict[str, int]:
        """Counters so far: ``batches``, ``spans``, ``malformed``, ``http_requests``."""
        with self._lock:
            return dict(self._counts)

    def set_response(self, path: str, body: Union[bytes, str, Any], status: int = 200) -> None:
        """Answer every ``GET path`` with ``status`` and ``body`` instead (fault injection).

        ``body`` is sent as is if bytes or str, else as JSON. ``clear_responses()`` undoes it.
        """
        if isinstance(body, (bytes, str)):
            payload = body.encode("utf-8") if isinstance(body, str) else body
            content_type = "text/plain; charset=utf-8"
        else:
            payload, content_type = json.dumps(body).encode("utf-8"), "application/json"
        with self._lock:
            self._overrides[path] = (status, payload, content_type)

    def clear_responses(self) -> None:
        with self._lock:
            self._overrides.clear()

    # ---- receiving spans ------------------------------------------------------------------------

    def _count(self, key: str, n: int = 1) -> None:
        with self._lock:
            self._counts[key] += n

    def _datagram_handler(self, protocol: str) -> Callable[[bytes, str], None]:
        def handle(data: bytes, source: str) -> None:
            try:
                batch = decode_datagram(data, protocol)
            except MalformedInputError as e:
                self._malformed(MalformedInput(protocol, source, len(data), str(e)))
                return
            self._accept(batch_from_thrift(batch, protocol, source))

        return handle

    def _malformed(self, record: MalformedInput) -> None:
        self._count("malformed")
        self._notify(self._on_malformed, record)

    def _accept(self, batch: ReceivedBatch) -> None:
        with self._lock:
            self._counts["batches"] += 1
            self._counts["spans"] += len(batch.spans)
        self._notify(self._on_batch, batch)

    @staticmethod
    def _notify(listeners: Sequence[Callable[[Any], None]], item: Any) -> None:
        for listener in listeners:
            try:
                listener(item)
            except Exception:  # a failing listener must not stop the server thread
                logger.exception("dev agent listener %r failed", listener)

    # ---- HTTP -----------------------------------------------------------------------------------

    def _finish(self, handler: _HTTPHandler, status: int, body: Union[bytes, str, Any]) -> None:
        self._record(handler, status)  # first: once the client has its answer, it is counted
        handler.reply(status, body)

    def _record(self, handler: _HTTPHandler, status: int) -> None:
        parts = urlsplit(handler.path)
        self._count("http_requests")
        record = HTTPRequestRecord(
            method=handler.command,
            path=parts.path,
            query=parse_qs(parts.query, keep_blank_values=True),
            headers={key.lower(): value for key, value in handler.headers.items()},
            status=status,
        )
        self._notify(self._on_request, record)

    def _serve_get(self, handler: _HTTPHandler) -> None:
        parts = urlsplit(handler.path)
        path = parts.path
        with self._lock:
            override = self._overrides.get(path)
        if override is not None:
            status, payload, content_type = override
            self._record(handler, status)
            handler.reply(status, payload, content_type)
            return
        route = path[len("/api") :] if path.startswith("/api/") else path
        query = parse_qs(parts.query, keep_blank_values=True)
        if route not in ("/", "/sampling", "/baggageRestrictions", "/credits"):
            self._finish(handler, 404, f"no route {path!r}\n")
            return
        services = query.get("service", [])
        if len(services) != 1:  # jaeger-agent's rule and message
            self._finish(handler, 400, "'service' parameter must be provided once\n")
            return
        service = services[0]
        if route == "/sampling":
            self._finish(handler, 200, self.strategies.sampling(service))
        elif route == "/":
            self._finish(handler, 200, self.strategies.sampling(service, legacy=True))
        elif route == "/baggageRestrictions":
            restrictions = self.strategies.baggage_restrictions(service)
            if restrictions is None:
                self._finish(handler, 404, f"no baggage restrictions configured for {service!r}\n")
            else:
                self._finish(handler, 200, restrictions)
        else:
            self._finish(
                handler, 200, self.strategies.credits(service, query.get("operations", []))
            )

    def _serve_post(self, handler: _HTTPHandler) -> None:
        parts = urlsplit(handler.path)
        if parts.path != "/api/traces":
            self._finish(handler, 404, f"no route {parts.path!r}\n")
            return
        error = self._check_collector_request(handler, parse_qs(parts.query))
        if error is not None:
            self._finish(handler, error[0], error[1])
            return
        body = self._read_body(handler)
        if isinstance(body, tuple):
            self._finish(handler, body[0], body[1])
            return
        source = f"{handler.client_address[0]}:{handler.client_address[1]}"
        try:
            batch = decode_batch_body(body)
        except MalformedInputError as e:
            self._malformed(MalformedInput("http", source, len(body), str(e)))
            self._finish(handler, 400, f"cannot decode the body as a binary Thrift Batch: {e}\n")
            return
        self._accept(batch_from_thrift(batch, "http", source))
        self._finish(handler, 202, b"")

    def _check_collector_request(
        self, handler: _HTTPHandler, query: dict[str, list[str]]
    ) -> Optional[tuple[int, str]]:
        if (
            self.collector_auth is not None
            and handler.headers.get("Authorization") != self.collector_auth
        ):
            return 401, "missing or wrong Authorization header\n"
        formats = query.get("format", ["jaeger.thrift"])
        if formats != ["jaeger.thrift"]:
            return 400, f"unsupported format {formats}; only jaeger.thrift\n"
        content_type = (handler.headers.get("Content-Type") or "").split(";")[0].strip().lower()
        if content_type not in ("application/x-thrift", "application/vnd.apache.thrift.binary"):
            return 400, f"unsupported Content-Type {content_type!r}; send application/x-thrift\n"
        return None

    @staticmethod
    def _read_body(handler: _HTTPHandler) -> Union[bytes, tuple[int, str]]:
        length_header = handler.headers.get("Content-Length")
        if length_header is None:
            return 411, "Content-Length is required\n"
        try:
            length = int(length_header)
        except ValueError:
            return 400, f"bad Content-Length {length_header!r}\n"
        if not 0 <= length <= _MAX_BODY_BYTES:
            return 413, f"body of {length} bytes; the limit is {_MAX_BODY_BYTES}\n"
        body = handler.rfile.read(length)
        encoding = (handler.headers.get("Content-Encoding") or "identity").strip().lower()
        if encoding == "gzip":
            inflater = zlib.decompressobj(wbits=16 + zlib.MAX_WBITS)
            try:
                body = inflater.decompress(body, _MAX_BODY_BYTES)
            except zlib.error as e:
                return 400, f"bad gzip body: {e}\n"
            if inflater.unconsumed_tail:
                return 413, f"gzip body inflates beyond {_MAX_BODY_BYTES} bytes\n"
        elif encoding != "identity":
            return 415, f"unsupported Content-Encoding {encoding!r}\n"
        return body
