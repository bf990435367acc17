"""Traffic to the local agent: the channel upstream passes around, and the control plane's HTTP.

``LocalAgentSender`` says where the agent is. ``HTTPFetcher`` performs the GET requests of the
remote sampler, throttler and baggage restriction manager with stdlib ``http.client`` (so
instrumentation of ``urllib``/``requests`` never traces the tracer), with connect and total
timeouts, a body cap, no redirects and no proxies. ``Poller`` is the one named daemon thread
each of those objects owns. What to fetch, how to parse it and what to count stays with them.
"""

from __future__ import annotations

import http.client
import json
import logging
import os
import random
import socket
import threading
import time
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, Callable, Optional
from urllib.parse import urlencode, urlsplit

from . import __version__, _compat_names, constants
from ._fork import after_fork_in_child, check_pid, is_uwsgi_master

__all__ = [
    "FetchError",
    "HTTPFetcher",
    "LocalAgentHTTP",
    "LocalAgentSender",
    "Poller",
    "agent_url",
    "channel_url",
    "check_seconds",
    "decode_json",
]

logger = logging.getLogger(constants.LOGGER_NAME)

_JSON_MEDIA_TYPES = frozenset({"application/json", "text/json", "text/plain"})
_USER_AGENT = f"jaeger_client-python/{__version__}"
# Poll jitter from our own generator: pollers run on their own threads, and drawing from the
# random module's would move an application's seeded sequence (a test with a fixed seed,
# Hypothesis) whenever a poll happens to finish.
_uniform = random.Random().uniform


def agent_url(host: str, port: int, path: str) -> str:
    """``http://host:port/path``, bracketing an IPv6 literal host."""
    if ":" in host and not host.startswith("["):
        host = f"[{host}]"
    return f"http://{host}:{port}{path}"


def channel_url(channel: Any, port_attribute: str, default_port: int, path: str) -> str:
    """The agent URL for ``path`` on ``channel``'s host and port (defaults where it has none)."""
    host = getattr(channel, "host", None)
    port = getattr(channel, port_attribute, None)
    return agent_url(
        host if isinstance(host, str) and host else constants.DEFAULT_REPORTING_HOST,
        port if isinstance(port, int) and not isinstance(port, bool) else default_port,
        path,
    )


class LocalAgentSender:
    """Where the agent is: reporting (UDP) and sampling/throttling (HTTP) host and ports.

    :param io_loop: accepted for compatibility with upstream and ignored (no Tornado is used)
    :param throttling_port: the ``/credits`` port; defaults to ``sampling_port``
    """

    def __init__(
        self,
        host: str = constants.DEFAULT_REPORTING_HOST,
        sampling_port: int = constants.DEFAULT_SAMPLING_PORT,
        reporting_port: int = constants.DEFAULT_REPORTING_PORT,
        io_loop: Any = None,
        throttling_port: Optional[int] = None,
    ) -> None:
        self.host = host
        self.sampling_port = sampling_port
        self.reporting_port = reporting_port
        self.throttling_port = throttling_port or sampling_port
        self.io_loop = io_loop

    @property
    def sampling_endpoint(self) -> str:
        """``http://{host}:{sampling_port}/sampling``, the remote sampler's default endpoint."""
        return agent_url(self.host, self.sampling_port, constants.SAMPLING_PATH)

    @property
    def credits_endpoint(self) -> str:
        """``http://{host}:{throttling_port}/credits``, the throttler's endpoint."""
        return agent_url(self.host, self.throttling_port, constants.CREDITS_PATH)

    @property
    def baggage_restrictions_endpoint(self) -> str:
        """``http://{host}:{sampling_port}/baggageRestrictions``."""
        return agent_url(self.host, self.sampling_port, constants.BAGGAGE_RESTRICTIONS_PATH)

    def request_sampling_strategy(
        self, service_name: str, timeout: float = constants.DEFAULT_HTTP_TIMEOUT
    ) -> bytes:
        """The raw ``/sampling`` response body (upstream returned a Tornado future instead).

        Blocks up to ``timeout`` seconds; raises :class:`FetchError`.
        """
        return _request_sampling_strategy(self.sampling_endpoint, service_name, timeout)

    def request_throttling_credits(
        self,
        service_name: str,
        client_id: int,
        operations: Sequence[str],
        timeout: float = constants.DEFAULT_HTTP_TIMEOUT,
    ) -> bytes:
        """The raw ``/credits`` response body; blocks up to ``timeout``, raises FetchError."""
        return _request_credits(self.credits_endpoint, service_name, client_id, operations, timeout)


class LocalAgentHTTP:
    """Upstream's HTTP client for one agent host and port (``/sampling`` and ``/credits``).

    As with :class:`LocalAgentSender`, a request blocks up to ``timeout`` seconds and returns the
    response body, or raises :class:`FetchError` (upstream returned a Tornado future).
    """

    DEFAULT_TIMEOUT = constants.DEFAULT_HTTP_TIMEOUT

    def __init__(self, host: str, port: int) -> None:
        self.agent_http_host = host
        self.agent_http_port = int(port)

    def request_sampling_strategy(
        self, service_name: str, timeout: float = DEFAULT_TIMEOUT
    ) -> bytes:
        url = agent_url(self.agent_http_host, self.agent_http_port, constants.SAMPLING_PATH)
        return _request_sampling_strategy(url, service_name, timeout)

    def request_throttling_credits(
        self,
        service_name: str,
        client_id: int,
        operations: Sequence[str],
        timeout: float = DEFAULT_TIMEOUT,
    ) -> bytes:
        url = agent_url(self.agent_http_host, self.agent_http_port, constants.CREDITS_PATH)
        return _request_credits(url, service_name, client_id, operations, timeout)


def _request_sampling_strategy(url: str, service_name: str, timeout: float) -> bytes:
    return HTTPFetcher(timeout=timeout).fetch(url, [("service", service_name)])


def _request_credits(
    url: str, service_name: str, client_id: int, operations: Sequence[str], timeout: float
) -> bytes:
    params = [("service", service_name), ("uuid", str(client_id))]
    params.extend(("operations", op) for op in operations)
    return HTTPFetcher(timeout=timeout).fetch(url, params)


class FetchError(Exception):
    """A GET failed: connection, timeout, HTTP status, body size, content type or an abort."""


def check_seconds(name: str, value: Any) -> float:
    """``value`` as float seconds, or ``ValueError`` naming ``name`` unless finite and > 0."""
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0 < value < 1e6:
        raise ValueError(f"{name} must be a number of seconds > 0 and under 1e6, got {value!r}")
    return float(value)


class HTTPFetcher:
    """GET with ``http.client``: a connect timeout, a deadline for the whole request, a body cap.

    Redirects are not followed, proxies are not consulted, and only 200 with a JSON-ish (or no)
    ``Content-Type`` counts as success; everything else raises :class:`FetchError`.

    Thread model: ``fetch`` runs on the owner's poller thread (or a test's thread). ``abort`` may
    be called from any thread: it shuts down the socket of any fetch in progress, so a hung server
    releases the poller at once, and makes later fetches fail immediately.

    :param connect_timeout: seconds to wait for the TCP (and TLS) connection
    :param timeout: seconds for the whole request, connection included
    :param max_body_bytes: a longer body is an error (read stops one byte past the cap)
    """

    def __init__(
        self,
        *,
        connect_timeout: float = constants.DEFAULT_HTTP_CONNECT_TIMEOUT,
        timeout: float = constants.DEFAULT_HTTP_TIMEOUT,
        max_body_bytes: int = constants.MAX_HTTP_BODY_BYTES,
    ) -> None:
        self.connect_timeout = check_seconds("connect_timeout", connect_timeout)
        self.timeout = check_seconds("timeout", timeout)
        if (
            isinstance(max_body_bytes, bool)
            or not isinstance(max_body_bytes, int)
            or max_body_bytes < 1
        ):
            raise ValueError(f"max_body_bytes must be a positive integer, got {max_body_bytes!r}")
        self.max_body_bytes = max_body_bytes
        self._lock = threading.Lock()
        self._active: set[socket.socket] = set()
        self._aborted = False

    def fetch(self, url: str, params: Sequence[tuple[str, str]] = ()) -> bytes:
        """GET ``url`` with ``params`` appended to its query; return the body."""
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise FetchError(f"not an http(s) URL: {url!r}")
        try:
            port = parts.port
        except ValueError as e:
            raise FetchError(f"bad port in {url!r}") from e
        query = "&".join(q for q in (parts.query, urlencode(list(params))) if q)
        target = (parts.path or "/") + (f"?{query}" if query else "")
        deadline = time.monotonic() + self.timeout
        conn_class = (
            http.client.HTTPSConnection if parts.scheme == "https" else http.client.HTTPConnection
        )
        conn = conn_class(parts.hostname, port, timeout=min(self.connect_timeout, self.timeout))
        sock: Optional[socket.socket] = None
        try:
            if self._aborted:
                raise FetchError("fetcher closed")
            conn.connect()
            sock = conn.sock
            with self._lock:
                if self._aborted:
                    raise FetchError("fetcher closed")
                self._active.add(sock)
            sock.settimeout(_remaining(deadline))
            conn.request(
                "GET",
                target,
                headers={
                    "Accept": "application/json",
                    "User-Agent": _USER_AGENT,
                    "Connection": "close",
                },
            )
            response = conn.getresponse()
            return self._read_body(response, sock, deadline)
        except FetchError:
            raise
        except (OSError, http.client.HTTPException, ValueError) as e:
            if self._aborted:
                raise FetchError("aborted by close()") from e
            raise FetchError(f"GET {parts.scheme}://{parts.netloc}{parts.path}: {e!r}") from e
        finally:
            if sock is not None:
                with self._lock:
                    self._active.discard(sock)
            conn.close()

    def _read_body(
        self, response: http.client.HTTPResponse, sock: socket.socket, deadline: float
    ) -> bytes:
        if response.status != 200:
            raise FetchError(f"HTTP {response.status} {response.reason}")
        content_type = response.getheader("Content-Type")
        if content_type is not None:
            media_type = content_type.split(";", 1)[0].strip().lower()
            if media_type not in _JSON_MEDIA_TYPES and not media_type.endswith("+json"):
                raise FetchError(f"unexpected Content-Type {content_type!r}")
        cap = self.max_body_bytes
        length = response.getheader("Content-Length")
        if length is not None and length.strip().isdigit() and int(length) > cap:
            raise FetchError(f"body of {length} bytes exceeds the {cap}-byte cap")
        body = bytearray()
        # On 3.13 read1() closes the response (and its socket) once Content-Length bytes are in;
        # settimeout() on the closed socket would then fail with EBADF.
        while not response.isclosed():
            sock.settimeout(_remaining(deadline))
            chunk = response.read1(65536)
            if not chunk:
                break
            body += chunk
            if len(body) > cap:
                raise FetchError(f"body exceeds the {cap}-byte cap")
        if self._aborted:
            raise FetchError("aborted by close()")
        return bytes(body)

    def abort(self) -> None:
        """Fail any fetch in progress and every later one (``close()`` of the owner)."""
        with self._lock:
            self._aborted = True
            active = list(self._active)
        for sock in active:
            try:
                sock.shutdown(socket.SHUT_RDWR)
            except OSError:  # already closed or never connected
                pass

    def reset_after_fork(self) -> None:
        """In a forked child: forget the parent's sockets and lock (no I/O)."""
        self._lock = threading.Lock()
        self._active = set()


def _remaining(deadline: float) -> float:
    remaining = deadline - time.monotonic()
    if remaining <= 0:
        raise FetchError("timed out")
    return remaining


def _reject_constant(name: str) -> Any:
    raise ValueError(f"{name} is not valid JSON")


def decode_json(body: bytes) -> Any:
    """Strict JSON from a fetched body: UTF-8 (BOM tolerated), no NaN/Infinity; ValueError."""
    try:
        return json.loads(body.decode("utf-8-sig"), parse_constant=_reject_constant)
    except RecursionError as e:  # absurdly nested input
        raise ValueError("JSON nested too deeply") from e


class Poller:
    """Calls ``poll`` on one named daemon thread: at once, then every ``interval`` s (± jitter).

    Thread model: ``start`` is called by the owner, typically from an application thread on first
    use, so no thread exists before the tracer is used (a pre-fork master stays thread-free);
    ``needs_start`` is the cheap check for that. The thread is the only caller of ``poll`` except
    tests, which call the owner's poll step directly. ``close`` (any thread) wakes the sleep, aborts
    the fetch in progress through ``fetcher`` and joins briefly. In a forked child the poller
    starts afresh on the next ``start``, unless it was closed.

    :param poll: one poll step; must not raise (an escape is logged, and polling goes on)
    :param interval: seconds between polls, > 0
    :param fetcher: aborted by ``close``; reset in a forked child
    :param enabled: False never starts a thread (the owner's poll step is then called by hand)
    """

    def __init__(
        self,
        name: str,
        poll: Callable[[], Any],
        interval: float,
        fetcher: HTTPFetcher,
        *,
        jitter: float = constants.POLL_INTERVAL_JITTER,
        enabled: bool = True,
    ) -> None:
        self.name = name
        self.interval = check_seconds("interval", interval)
        self.jitter = jitter
        self.fetcher = fetcher
        self._poll = poll
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread: Optional[threading.Thread] = None
        self._retry_at = 0.0  # time.monotonic() before which start() does not try again
        self._pid = os.getpid()
        self.is_enabled = enabled
        self.is_closed = False
        self.needs_start = enabled
        after_fork_in_child(self._after_fork_in_child)

    def start(self) -> None:
        """Start the thread if this process has none yet and the poller is not closed."""
        if self._pid != os.getpid():  # forked without fork hooks, and no span started since
            check_pid(time.time())  # runs every owner's hook, this poller's included
        with self._lock:
            if self.is_closed or not self.is_enabled:
                self.needs_start = False
                return
            if is_uwsgi_master():  # each worker starts its own (see _fork.is_uwsgi_master)
                return
            if self._thread is None:
                now = time.monotonic()
                if now < self._retry_at:
                    return
                thread = threading.Thread(target=self._run, name=self.name, daemon=True)
                try:
                    thread.start()
                except RuntimeError as e:  # "can't start new thread" (limits), or at shutdown
                    # never into the caller (a span starting): the current state keeps deciding,
                    # and a later caller tries again once an interval has passed
                    self._retry_at = now + self.interval
                    logger.warning(
                        "%s: could not start its thread (%s); trying again in %g s",
                        self.name,
                        e,
                        self.interval,
                    )
                    return
                self._thread = thread
            self.needs_start = False

    def _run(self) -> None:
        stop = self._stop
        delay = 0.0
        while not stop.wait(delay):
            try:
                self._poll()
            except Exception:  # top of the thread's loop: one bad poll must not end polling
                logger.exception("%s: poll failed", self.name)
            delay = self.interval * (1.0 + _uniform(-self.jitter, self.jitter))

    def close(self, timeout: float = 0.25) -> None:
        """Stop polling, abort a fetch in progress, wait up to ``timeout`` s for the thread."""
        with self._lock:
            self.is_closed = True
            self.needs_start = False
            thread = self._thread
        self._stop.set()
        self.fetcher.abort()
        if thread is not None and thread is not threading.current_thread():
            thread.join(timeout)

    def _reinit_state(self) -> None:
        self._pid = os.getpid()
        self._thread = None
        self._retry_at = 0.0  # time.monotonic() before which start() does not try again
        self._stop = threading.Event()
        self.fetcher.reset_after_fork()
        self.needs_start = self.is_enabled and not self.is_closed

    def _after_fork_in_child(self) -> None:
        self._lock = threading.Lock()
        self._reinit_state()


if TYPE_CHECKING:  # upstream's names held here by import (see _compat_names)
    from thrift.transport.TTransport import TBufferedTransport as TBufferedTransport

    from .TUDPTransport import TUDPTransport as TUDPTransport
else:
    __getattr__ = _compat_names.module_getattr(
        __name__,
        {
            "jaeger_client.TUDPTransport": ("TUDPTransport",),
            "thrift.transport.TTransport": ("TBufferedTransport",),
        },
    )
