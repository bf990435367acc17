"""Senders: what the reporter's worker thread hands finished spans to (UDP agent, HTTP collector).

The seam follows jaeger-client-go's ``transport.go``: the Reporter batches and counts, a Sender
encodes and sends. A Sender is called only from the reporter's single worker thread.
"""

from __future__ import annotations

import base64
import errno
import http.client
import ipaddress
import logging
import math
import re
import socket
import time
import urllib.parse
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any, Callable, NamedTuple, Optional, Protocol

from . import _encode, constants
from .thrift import _process_tag_tuples
from .utils import RateLimitedLogger

if TYPE_CHECKING:
    from .span import Span

__all__ = ["HTTPSender", "SendResult", "Sender", "UDPSender"]

logger = logging.getLogger(constants.LOGGER_NAME)

_LOG_INTERVAL = 60.0  # seconds between two log lines of the same kind from one sender
_UDP_SEND_TIMEOUT = 1.0  # a full socket buffer delays the worker at most this long per datagram
_HTTP_MAX_RESPONSE_BYTES = 64 * 1024  # read (and discard) at most this much of a reply


class SendResult(NamedTuple):
    """What became of the spans handed to one ``Sender.send`` call (the three add up to them)."""

    sent: int
    too_large: int  # dropped alone: larger than a packet/body even by itself
    failed: int  # encoding or transport errors (socket refused, HTTP 5xx, ...)


class Sender(Protocol):
    def set_process(self, service_name: str, tags: Mapping[str, Any], max_length: int) -> None:
        """The process (service name and tags) sent with every batch; called before any send."""

    def send(self, spans: Sequence[Span], queue_dropped: int) -> SendResult:
        """Encode ``spans`` and send them in as many datagrams or requests as needed.

        ``queue_dropped`` is the reporter's running count of full-queue drops, sent in
        ``Batch.stats``. Never raises: every failure is reported in the result.
        """
        ...

    def close(self) -> None:
        """Release the socket or connection; further sends may reopen it."""

    def reset_after_fork(self) -> None:
        """In a forked child: forget the parent's socket and state without any I/O."""


# ---- shared: encode each span, pack by bytes ----------------------------------------------------


class _Packer:
    """Encodes spans one by one and cuts them into payloads of at most ``budget`` span bytes.

    Counts, per ``send``, the spans that failed to encode and those too large for any payload.
    """

    def __init__(self, owner: str, warn: RateLimitedLogger) -> None:
        self._owner = owner
        self._warn = warn
        self.too_large_total = 0
        self.failed_total = 0

    def pack(
        self, spans: Sequence[Span], encode: Callable[[Span], bytes], budget: int
    ) -> tuple[list[list[bytes]], int, int]:
        """Return ``(payloads, too_large, failed)``; each payload is a list of span encodings."""
        payloads: list[list[bytes]] = []
        current: list[bytes] = []
        size = 0
        too_large = failed = 0
        for span in spans:
            try:
                data = encode(span)
            except Exception as exc:  # user-controlled fields; a bad span must not cost its batch
                failed += 1
                self._warn.log(
                    "encode",
                    logging.ERROR,
                    "%s: dropped a span that could not be encoded (%r): %s",
                    self._owner,
                    span,
                    exc,
                )
                continue
            n = len(data)
            if n > budget:
                too_large += 1
                self._warn.log(
                    "too-large",
                    logging.WARNING,
                    "%s: dropped span %r: %d bytes encoded, more than the %d that fit in one %s",
                    self._owner,
                    span,
                    n,
                    budget,
                    "datagram" if self._owner == "UDPSender" else "request body",
                )
                continue
            if size + n > budget:
                payloads.append(current)
                current, size = [], 0
            current.append(data)
            size += n
        if current:
            payloads.append(current)
        self.too_large_total += too_large
        self.failed_total += failed
        return payloads, too_large, failed


def _check_int(name: str, value: Any, low: int, high: int) -> int:
    if type(value) is not int or not low <= value <= high:
        raise ValueError(f"{name} must be an integer within [{low}, {high}], got {value!r}")
    return value


def _check_seconds(name: str, value: Any) -> float:
    if (
        isinstance(value, bool)
        or not isinstance(value, (int, float))
        or not math.isfinite(value)
        or value <= 0
    ):
        raise ValueError(f"{name} must be a positive finite number of seconds, got {value!r}")
    return float(value)


# ---- UDP: jaeger-agent's compact port ------------------------------------------------------------


class UDPSender:
    """Sends spans to jaeger-agent as Thrift compact ``Agent.emitBatch`` datagrams (port 6831).

    Thread model: the constructor only validates (no socket, no DNS), so it may run on any
    thread. ``set_process``, ``send`` and ``close`` run on the reporter's worker thread, which
    alone owns the socket; ``reset_after_fork`` runs in a forked child before its worker starts.

    The socket is created on the first ``send``: the host is resolved there (IPv4 preferred when
    a name has both, as Go's client does), re-resolved every ``resolve_interval`` seconds and after
    a send error, and the socket is *connected*, so an agent that is down shows up as
    ``ECONNREFUSED`` (counted ``failed``) instead of silent loss. A failed datagram is retried at
    most once, after re-resolving, unless the agent refused it at an unchanged address.

    Spans are packed into datagrams by encoded size, as ``transport_udp.go`` does; no datagram
    exceeds ``max_packet_size`` (jaeger-agent drops datagrams over 65,000 bytes), and a span too
    large for a datagram on its own is dropped and counted ``too_large``. Every datagram carries
    an increasing ``Batch.seqNo`` and ``ClientStats`` with the running loss counters.

    :param max_packet_size: largest datagram, in bytes; at most 65,507 over IPv4 and 65,527 over
        IPv6 (the OS limits). A hostname that resolves to IPv4 caps a larger value at 65,507.
    :param resolve_interval: seconds between two resolutions of ``host``
    """

    def __init__(
        self,
        host: str,
        port: int,
        *,
        max_packet_size: int = constants.UDP_MAX_PACKET_SIZE,
        resolve_interval: float = 30.0,
    ) -> None:
        if not isinstance(host, str) or not host.strip():
            raise ValueError(f"host must be a non-empty string, got {host!r}")
        _check_int("port", port, 1, 65535)
        limit = constants.UDP_MAX_PAYLOAD_IPV6
        try:
            if ipaddress.ip_address(host.strip("[]")).version == 4:
                limit = constants.UDP_MAX_PAYLOAD_IPV4
        except ValueError:  # a hostname: its family is known after resolution
            pass
        _check_int("max_packet_size", max_packet_size, 1, limit)
        self.host = host.strip("[]")  # accept "[::1]" as written in URLs
        self.port = port
        self.max_packet_size = max_packet_size
        self.resolve_interval = _check_seconds("resolve_interval", resolve_interval)
        self._warn = RateLimitedLogger(logger, _LOG_INTERVAL)
        self._encoder = _encode.CompactEncoder()
        self._process: Optional[bytes] = None
        self._init_process_state()

    def _init_process_state(self) -> None:
        self._packer = _Packer("UDPSender", self._warn)
        self._seq_no = 0
        self._sock: Optional[socket.socket] = None
        self._address: Optional[tuple[Any, ...]] = None
        self._family = 0
        self._packet_limit = self.max_packet_size
        self._next_resolve = 0.0  # monotonic deadline; 0 resolves on the next send

    @property
    def too_large_count(self) -> int:
        """Spans dropped so far because they did not fit in a datagram alone."""
        return self._packer.too_large_total

    @property
    def failed_count(self) -> int:
        """Spans lost so far to encoding or socket errors."""
        return self._packer.failed_total

    def set_process(self, service_name: str, tags: Mapping[str, Any], max_length: int) -> None:
        self._process = self._encoder.encode_process(
            service_name, _process_tag_tuples(tags, max_length)
        )

    def send(self, spans: Sequence[Span], queue_dropped: int) -> SendResult:
        if not spans:
            return SendResult(0, 0, 0)
        process = self._process
        if process is None:
            self._warn.log("no-process", logging.ERROR, "UDPSender: set_process() was not called")
            return self._fail_all(len(spans))
        self._maybe_resolve()
        if self._sock is None:  # unresolvable or no socket: logged in _resolve
            return self._fail_all(len(spans))
        budget = self._packet_limit - _encode.EMIT_BATCH_OVERHEAD - len(process)
        payloads, too_large, failed = self._packer.pack(spans, self._encoder.encode_span, budget)
        sent = 0
        for payload in payloads:
            self._seq_no += 1
            packet = _encode.emit_batch_message(
                process,
                payload,
                self._seq_no,
                self._seq_no,
                (queue_dropped, self._packer.too_large_total, self._packer.failed_total),
            )
            if len(packet) > self._packet_limit:  # cannot happen while the budget holds; never send
                self._warn.log(
                    "oversize",
                    logging.ERROR,
                    "UDPSender: refusing a %d-byte datagram (limit %d)",
                    len(packet),
                    self._packet_limit,
                )
                ok = False
            else:
                ok = self._write(packet)
            if ok:
                sent += len(payload)
            else:
                failed += len(payload)
                self._packer.failed_total += len(payload)
        return SendResult(sent, too_large, failed)

    def _fail_all(self, n: int) -> SendResult:
        self._packer.failed_total += n
        return SendResult(0, 0, n)

    # ---- socket --------------------------------------------------------------------------------

    def _maybe_resolve(self) -> bool:
        """Resolve (and connect) when due; return whether the address changed."""
        if self._sock is not None and time.monotonic() < self._next_resolve:
            return False
        return self._resolve()

    def _resolve(self) -> bool:
        self._next_resolve = time.monotonic() + self.resolve_interval
        try:
            infos = socket.getaddrinfo(self.host, self.port, 0, socket.SOCK_DGRAM)
        except (OSError, UnicodeError) as exc:  # gaierror is an OSError; an odd name a UnicodeError
            self._warn.log(
                "resolve",
                logging.WARNING,
                "UDPSender: cannot resolve %s:%d (%s); %s",
                self.host,
                self.port,
                exc,
                "keeping the previous address" if self._sock else "spans are counted as failed",
            )
            return False
        infos = [i for i in infos if i[0] in (socket.AF_INET, socket.AF_INET6)]
        if not infos:
            return False
        family, type_, proto, _, address = next(
            (i for i in infos if i[0] == socket.AF_INET), infos[0]
        )
        if self._sock is not None and address == self._address:
            return False
        try:
            sock = socket.socket(family, type_, proto)
        except OSError as exc:
            self._warn.log("socket", logging.ERROR, "UDPSender: cannot create a socket: %s", exc)
            return False
        try:
            sock.settimeout(_UDP_SEND_TIMEOUT)
            sock.connect(address)
        except OSError as exc:
            sock.close()
            self._warn.log(
                "connect", logging.ERROR, "UDPSender: cannot connect to %s: %s", address, exc
            )
            return False
        self._close_socket()
        self._sock, self._address, self._family = sock, address, family
        limit = (
            constants.UDP_MAX_PAYLOAD_IPV4
            if family == socket.AF_INET
            else constants.UDP_MAX_PAYLOAD_IPV6
        )
        if self.max_packet_size > limit:
            self._warn.log(
                "packet-limit",
                logging.WARNING,
                "UDPSender: max_packet_size %d exceeds the IPv4 limit; using %d for %s",
                self.max_packet_size,
                limit,
                address,
            )
        self._packet_limit = min(self.max_packet_size, limit)
        return True

    def _write(self, packet: bytes) -> bool:
        sock = self._sock
        if sock is None:  # a previous datagram's retry failed to reconnect
            return False
        try:
            sock.send(packet)
            return True
        except OSError as exc:
            error = exc
        # Re-resolve and retry once (Go's reconnecting_udp_conn.go). A refusal at an address that
        # did not change means the agent is down: resending there would only hide the loss.
        is_changed = self._resolve()
        retry = is_changed or error.errno not in (errno.ECONNREFUSED, errno.EMSGSIZE)
        if retry and self._sock is not None:
            try:
                self._sock.send(packet)
                return True
            except OSError as exc:
                error = exc
        self._warn.log(
            "send",
            logging.WARNING,
            "UDPSender: failed to send a %d-byte datagram to %s:%d: %s%s",
            len(packet),
            self.host,
            self.port,
            error,
            " (lower max_packet_size)" if error.errno == errno.EMSGSIZE else "",
        )
        return False

    def _close_socket(self) -> None:
        sock, self._sock, self._address = self._sock, None, None
        if sock is not None:
            sock.close()

    def close(self) -> None:
        self._close_socket()
        self._next_resolve = 0.0

    def reset_after_fork(self) -> None:
        # Closing the child's copy of the descriptor sends nothing; the parent's socket lives on.
        self._close_socket()
        self._init_process_state()


# ---- HTTP: the collector's /api/traces -----------------------------------------------------------


class HTTPSender:
    """POSTs spans to a Jaeger collector (``http://host:14268/api/traces``) as Thrift binary.

    Each request body is one bare ``Batch`` struct (``Content-Type: application/x-thrift``),
    cut by encoded size so that no body exceeds ``max_body_size``; a span larger than that on
    its own is dropped and counted ``too_large``. Any 2xx reply counts the spans sent; other
    statuses and connection errors count them failed. Uses the standard library's
    ``http.client`` only, with one kept-alive connection, so instrumentation that patches
    ``requests``/``urllib3`` never traces the tracer.

    Thread model: the constructor only validates; ``send``/``close`` run on the reporter's
    worker thread, which alone owns the connection.

    :param endpoint: ``http(s)://host[:port]/path[?query]``
    :param user: with ``password``: HTTP Basic auth (wins over ``auth_token``, as in Java)
    :param auth_token: ``Authorization: Bearer <auth_token>``
    :param headers: extra request headers
    :param timeout: seconds for each connect, send and receive on the connection
    :param max_body_size: largest request body, in bytes
    """

    def __init__(
        self,
        endpoint: str,
        *,
        user: Optional[str] = None,
        password: Optional[str] = None,
        auth_token: Optional[str] = None,
        headers: Optional[Mapping[str, str]] = None,
        timeout: float = 5.0,
        max_body_size: int = 1_000_000,
    ) -> None:
        if not isinstance(endpoint, str):
            raise ValueError(f"endpoint must be an http(s) URL string, got {endpoint!r}")
        try:
            url = urllib.parse.urlsplit(endpoint.strip())
            port = url.port
        except ValueError as exc:
            raise ValueError(f"endpoint is not a valid URL: {endpoint!r} ({exc})") from None
        if url.scheme not in ("http", "https"):
            raise ValueError(f"endpoint scheme must be http or https, got {endpoint!r}")
        if not url.hostname:
            raise ValueError(f"endpoint must name a host, got {endpoint!r}")
        if url.username is not None or url.password is not None:
            raise ValueError("endpoint must not carry credentials; use user= and password=")
        if (user is None) != (password is None):
            raise ValueError("user and password must be given together")
        for name, value in (("user", user), ("password", password)):
            if value is not None and (not isinstance(value, str) or _has_control(value)):
                raise ValueError(f"{name} must be a string without control characters")
        if user is not None and ":" in user:
            raise ValueError("user must not contain ':' (HTTP Basic auth)")
        if auth_token is not None and not _is_header_value(auth_token):
            raise ValueError("auth_token must be a Latin-1 string without control characters")
        extra: dict[str, str] = {}
        for key, value in (headers or {}).items():
            if not (isinstance(key, str) and _HEADER_NAME.fullmatch(key)):
                raise ValueError(f"headers: {key!r} is not a valid header name")
            if not _is_header_value(value):
                raise ValueError(
                    f"headers: the value of {key!r} must be a Latin-1 string without control "
                    f"characters, got {value!r}"
                )
            extra[key] = value
        self.endpoint = endpoint.strip()
        self.timeout = _check_seconds("timeout", timeout)
        self.max_body_size = _check_int("max_body_size", max_body_size, 1, 1 << 31)
        self._is_https = url.scheme == "https"
        self._host = url.hostname
        self._port = port
        self._path = (url.path or "/") + (f"?{url.query}" if url.query else "")
        request_headers = {"Content-Type": "application/x-thrift"}
        request_headers.update(extra)
        if user is not None and password is not None:
            token = base64.b64encode(f"{user}:{password}".encode()).decode("ascii")
            request_headers["Authorization"] = f"Basic {token}"
        elif auth_token is not None:
            request_headers["Authorization"] = f"Bearer {auth_token}"
        self._headers = request_headers
        self._warn = RateLimitedLogger(logger, _LOG_INTERVAL)
        self._encoder = _encode.BinaryEncoder()
        self._process: Optional[bytes] = None
        self._init_process_state()

    def _init_process_state(self) -> None:
        self._packer = _Packer("HTTPSender", self._warn)
        self._seq_no = 0
        self._conn: Optional[http.client.HTTPConnection] = None

    @property
    def too_large_count(self) -> int:
        return self._packer.too_large_total

    @property
    def failed_count(self) -> int:
        return self._packer.failed_total

    def set_process(self, service_name: str, tags: Mapping[str, Any], max_length: int) -> None:
        self._process = self._encoder.encode_process(
            service_name, _process_tag_tuples(tags, max_length)
        )

    def send(self, spans: Sequence[Span], queue_dropped: int) -> SendResult:
        if not spans:
            return SendResult(0, 0, 0)
        process = self._process
        if process is None:
            self._warn.log("no-process", logging.ERROR, "HTTPSender: set_process() was not called")
            self._packer.failed_total += len(spans)
            return SendResult(0, 0, len(spans))
        budget = self.max_body_size - _encode.BINARY_BATCH_OVERHEAD - len(process)
        payloads, too_large, failed = self._packer.pack(spans, self._encoder.encode_span, budget)
        sent = 0
        for payload in payloads:
            self._seq_no += 1
            body = _encode.binary_batch_body(
                process,
                payload,
                self._seq_no,
                (queue_dropped, self._packer.too_large_total, self._packer.failed_total),
            )
            if self._post(body):
                sent += len(payload)
            else:
                failed += len(payload)
                self._packer.failed_total += len(payload)
        return SendResult(sent, too_large, failed)

    def _connection(self) -> http.client.HTTPConnection:
        conn = self._conn
        if conn is None:
            if self._is_https:
                conn = http.client.HTTPSConnection(self._host, self._port, timeout=self.timeout)
            else:
                conn = http.client.HTTPConnection(self._host, self._port, timeout=self.timeout)
            self._conn = conn
        return conn

    def _post(self, body: bytes) -> bool:
        for attempt in (1, 2):
            conn = self._connection()
            is_reused = conn.sock is not None
            try:
                conn.request("POST", self._path, body=body, headers=self._headers)
                response = conn.getresponse()
                status = response.status
                response.read(_HTTP_MAX_RESPONSE_BYTES)
                if not response.isclosed():  # a longer reply than we care to read
                    self._drop_connection()
            except (http.client.RemoteDisconnected, ConnectionResetError, BrokenPipeError) as exc:
                self._drop_connection()
                # A kept-alive connection the server closed while idle: the request never
                # reached it, so one retry on a new connection is safe.
                if attempt == 1 and is_reused:
                    continue
                return self._post_failed(str(exc))
            except (OSError, http.client.HTTPException, ValueError) as exc:
                self._drop_connection()
                return self._post_failed(str(exc))
            if 200 <= status < 300:
                return True
            return self._post_failed(f"HTTP {status} {response.reason}")
        return False  # unreachable: the second attempt always returns

    def _post_failed(self, reason: str) -> bool:
        self._warn.log(
            "post", logging.WARNING, "HTTPSender: POST %s failed: %s", self.endpoint, reason
        )
        return False

    def _drop_connection(self) -> None:
        conn, self._conn = self._conn, None
        if conn is not None:
            conn.close()

    def close(self) -> None:
        self._drop_connection()

    def reset_after_fork(self) -> None:
        # close() only releases the child's descriptor; the parent's connection is untouched.
        self._drop_connection()
        self._init_process_state()


_HEADER_NAME = re.compile(r"[!#$%&'*+\-.^_`|~0-9A-Za-z]+")  # an RFC 9110 token


def _has_control(value: str) -> bool:
    return any(ord(c) < 0x20 or ord(c) == 0x7F for c in value)


def _is_header_value(value: Any) -> bool:
    if not isinstance(value, str) or _has_control(value.replace("\t", " ")):
        return False
    try:
        value.encode("latin-1")  # what http.client sends header values as
    except UnicodeEncodeError:
        return False
    return True
