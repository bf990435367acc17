"""HTTPSender: spans to a Jaeger collector's ``/api/traces`` as Thrift binary ``Batch`` bodies."""

from __future__ import annotations

import base64
import http.client
import logging
import re
import urllib.parse
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any, Optional

from .. import _encode, constants
from ..thrift import _process_tag_tuples
from ..utils import RateLimitedLogger
from ._base import LOG_INTERVAL, Packer, SendResult, check_int, check_seconds, logger

if TYPE_CHECKING:
    import ssl

    from ..span import Span

__all__ = ["HTTPSender"]

_MAX_RESPONSE_BYTES = 64 * 1024  # read (and discard) at most this much of a reply


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
    :param ssl_context: for ``https``: how to verify the collector (a private CA, a client
        certificate); by default the system's trust store, which ``SSL_CERT_FILE`` and
        ``SSL_CERT_DIR`` can point elsewhere
    """

    logs_too_large = True  # the Reporter leaves oversize drops to our own log line

    def __init__(
        self,
        endpoint: str,
        *,
        user: Optional[str] = None,
        password: Optional[str] = None,
        auth_token: Optional[str] = None,
        headers: Optional[Mapping[str, str]] = None,
        timeout: float = constants.DEFAULT_HTTP_SENDER_TIMEOUT,
        max_body_size: int = constants.DEFAULT_HTTP_MAX_BODY_SIZE,
        ssl_context: Optional[ssl.SSLContext] = None,
    ) -> None:
        if ssl_context is not None:
            import ssl  # here: Python may be built without it, and the UDP path imports us

            if not isinstance(ssl_context, ssl.SSLContext):
                raise ValueError(f"ssl_context must be an ssl.SSLContext, got {ssl_context!r}")
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
        self.timeout = check_seconds("timeout", timeout)
        self.max_body_size = check_int("max_body_size", max_body_size, 1, 1 << 31)
        self._is_https = url.scheme == "https"
        if ssl_context is not None and not self._is_https:
            raise ValueError(f"ssl_context is for https endpoints, got {endpoint!r}")
        self._ssl_context = ssl_context
        self._host = url.hostname
        self._port = port
        self._path = (url.path or "/") + (f"?{url.query}" if url.query else "")
        request_headers = {"Content-Type": constants.COLLECTOR_CONTENT_TYPE}
        request_headers.update(extra)
        if user is not None and password is not None:
            token = base64.b64encode(f"{user}:{password}".encode()).decode("ascii")
            request_headers["Authorization"] = f"Basic {token}"
        elif auth_token is not None:
            request_headers["Authorization"] = f"Bearer {auth_token}"
        self._headers = request_headers
        self._warn = RateLimitedLogger(logger, LOG_INTERVAL)
        self._encoder = _encode.BinaryEncoder()
        self._process: Optional[bytes] = None
        self._init_process_state()

    def _init_process_state(self) -> None:
        self.last_error: Optional[str] = None  # the last failure (see Sender), for health checks
        self._packer = Packer("HTTPSender", self._warn, self._note_error)
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
                conn = http.client.HTTPSConnection(
                    self._host, self._port, timeout=self.timeout, context=self._ssl_context
                )
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
                response.read(_MAX_RESPONSE_BYTES)
                if not response.isclosed():  # a longer reply than we care to read
                    self._drop_connection()
            except (http.client.RemoteDisconnected, ConnectionResetError, BrokenPipeError) as exc:
                self._drop_connection()
                # Typically a kept-alive connection the server closed while idle, before it read
                # the request: one retry on a new connection (as urllib3 does), never more.
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

    def _note_error(self, text: str) -> None:
        self.last_error = text

    def _post_failed(self, reason: str) -> bool:
        self._note_error(f"POST {self.endpoint}: {reason}")
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
