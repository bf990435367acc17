"""UDPSender: spans to jaeger-agent as Thrift compact ``Agent.emitBatch`` datagrams."""

from __future__ import annotations

import errno
import ipaddress
import logging
import math
import os
import socket
import sys
import time
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any, Callable, Optional

from .. import _encode, constants
from ..thrift import _process_tag_tuples
from ..utils import RateLimitedLogger, is_host
from ._base import LOG_INTERVAL, Packer, SendResult, check_int, check_seconds, logger

if TYPE_CHECKING:
    from ..span import Span

__all__ = ["UDPSender"]

_SEND_TIMEOUT = 1.0  # a full socket buffer delays the worker at most this long per datagram

# libc send(2), called through ctypes.PyDLL: unlike socket.send it keeps the GIL. socket.send
# releases it around the syscall, and a CPU-bound application thread then takes it and keeps it
# for a whole switch interval (5 ms): one datagram per 5 ms, and a burst overflows the queue.
# MSG_DONTWAIT makes the call unable to block; whatever it cannot do (a full buffer: EAGAIN or
# ENOBUFS) is left to socket.send. Errors from the syscall itself are raised as socket.send
# would raise them, so the retry and refusal logic of _write is the same on both paths.
_LibcSend = Callable[[int, bytes, int, int], int]
_FALLBACK_ERRNOS = frozenset(
    {errno.EAGAIN, errno.EWOULDBLOCK, errno.ENOBUFS, errno.EINTR, errno.ENOMEM}
)
_LIBC_SEND_FLAGS = getattr(socket, "MSG_DONTWAIT", 0) | getattr(socket, "MSG_NOSIGNAL", 0)
_libc_send: Optional[_LibcSend] = None
_is_libc_send_loaded = False


def _load_libc_send() -> Optional[_LibcSend]:
    """libc ``send`` with the GIL held, or None (not Linux/macOS, no ctypes, no libc)."""
    global _libc_send, _is_libc_send_loaded
    if _is_libc_send_loaded:
        return _libc_send
    _is_libc_send_loaded = True
    if not sys.platform.startswith(("linux", "darwin")) or not hasattr(socket, "MSG_DONTWAIT"):
        return None
    try:
        import ctypes

        function = ctypes.PyDLL(None, use_errno=True).send  # PyDLL: the call keeps the GIL
        function.argtypes = (ctypes.c_int, ctypes.c_char_p, ctypes.c_size_t, ctypes.c_int)
        function.restype = ctypes.c_ssize_t
        get_errno = ctypes.get_errno
    except (ImportError, OSError, AttributeError):  # no ctypes, no libc, or no send in it
        return None

    def send(fd: int, data: bytes, size: int, flags: int) -> int:
        """Bytes sent, or ``-errno``."""
        sent = int(function(fd, data, size, flags))
        return sent if sent >= 0 else -get_errno()

    _libc_send = send
    return send


class UDPSender:
    """Sends spans to jaeger-agent as Thrift compact ``Agent.emitBatch`` datagrams (port 6831).

    Thread model: the constructor only validates (no socket, no DNS), so it may run on any
    thread. ``set_process``, ``send`` and ``close`` run on the reporter's worker thread, which
    alone owns the socket; ``reset_after_fork`` runs in a forked child before its worker starts.

    The socket is created on the first ``send``: the host is resolved there (IPv4 preferred when
    a name has both, as Go's client does), re-resolved every ``resolve_interval`` seconds and after
    a send error, and the socket is *connected*, so an agent that is down shows up as
    ``ECONNREFUSED`` (counted ``failed``) instead of silent loss. A failed datagram is retried at
    most once, after re-resolving, unless resending cannot help (refused at an unchanged address,
    or too long for the OS).

    Spans are packed into datagrams by encoded size, as ``transport_udp.go`` does; no datagram
    exceeds ``max_packet_size`` (jaeger-agent drops datagrams over 65,000 bytes), and a span too
    large for a datagram on its own is dropped and counted ``too_large``. Every datagram carries
    an increasing ``Batch.seqNo`` and ``ClientStats`` with the running loss counters.

    :param max_packet_size: largest datagram, in bytes; at most 65,507 over IPv4 and 65,527 over
        IPv6 (the OS limits). A hostname that resolves to IPv4 caps a larger value at 65,507.
    :param resolve_interval: seconds between two resolutions of ``host``; None: resolve once, and
        again only after a failed send (Go's ``JAEGER_REPORTER_ATTEMPT_RECONNECTING_DISABLED``)
    """

    logs_too_large = True  # the Reporter leaves oversize drops to our own log line

    def __init__(
        self,
        host: str,
        port: int,
        *,
        max_packet_size: int = constants.UDP_MAX_PACKET_SIZE,
        resolve_interval: Optional[float] = constants.DEFAULT_UDP_RESOLVE_INTERVAL,
    ) -> None:
        if not isinstance(host, str) or not is_host(host.strip()):
            raise ValueError(
                f"host must be a host name or an IP address (no scheme, port or path), got {host!r}"
            )
        check_int("port", port, 1, 65535)
        limit = constants.UDP_MAX_PAYLOAD_IPV6
        try:
            if ipaddress.ip_address(host.strip("[]")).version == 4:
                limit = constants.UDP_MAX_PAYLOAD_IPV4
        except ValueError:  # a hostname: its family is known after resolution
            pass
        check_int("max_packet_size", max_packet_size, 1, limit)
        self.host = host.strip("[]")  # accept "[::1]" as written in URLs
        self.port = port
        self.max_packet_size = max_packet_size
        self.resolve_interval = (
            None
            if resolve_interval is None
            else check_seconds("resolve_interval", resolve_interval)
        )
        self._warn = RateLimitedLogger(logger, LOG_INTERVAL)
        self._encoder = _encode.CompactEncoder()
        self._process: Optional[bytes] = None
        if constants.UDP_SEND_KEEPS_GIL:
            _load_libc_send()  # import ctypes here, not on the worker amid a burst
        self._init_process_state()

    def _init_process_state(self) -> None:
        self.last_error: Optional[str] = None  # the last failure (see Sender), for health checks
        self._packer = Packer("UDPSender", self._warn, self._note_error)
        self._seq_no = 0
        self._sock: Optional[socket.socket] = None
        self._address: Optional[tuple[Any, ...]] = None
        self._packet_limit = self.max_packet_size
        self._next_resolve = 0.0  # monotonic deadline; 0 resolves on the next send
        self._libc_send: Optional[_LibcSend] = None

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

    def _note_error(self, text: str) -> None:
        self.last_error = text

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
        interval = self.resolve_interval
        self._next_resolve = math.inf if interval is None else time.monotonic() + interval
        try:
            infos = socket.getaddrinfo(self.host, self.port, 0, socket.SOCK_DGRAM)
        except (OSError, UnicodeError) as exc:  # gaierror is an OSError; an odd name a UnicodeError
            self._note_error(f"cannot resolve {self.host}:{self.port}: {exc}")
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
            self._note_error(f"cannot create a socket: {exc}")
            self._warn.log("socket", logging.ERROR, "UDPSender: cannot create a socket: %s", exc)
            return False
        try:
            sock.settimeout(_SEND_TIMEOUT)
            sock.connect(address)
        except OSError as exc:
            sock.close()
            self._note_error(f"cannot connect to {address}: {exc}")
            self._warn.log(
                "connect", logging.ERROR, "UDPSender: cannot connect to %s: %s", address, exc
            )
            return False
        self._close_socket()
        self._sock, self._address = sock, address
        self._libc_send = _load_libc_send() if constants.UDP_SEND_KEEPS_GIL else None
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
            _send_checked(sock, packet, self._libc_send)
            return True
        except OSError as exc:
            error = exc
        # Re-resolve and retry once (Go's reconnecting_udp_conn.go). A refusal at an address that
        # did not change means the agent is down: resending there would only hide the loss.
        is_changed = self._resolve()
        retry = is_changed or error.errno not in (errno.ECONNREFUSED, errno.EMSGSIZE)
        if retry and self._sock is not None:
            try:
                _send_checked(self._sock, packet, self._libc_send)
                return True
            except OSError as exc:
                error = exc
        self._note_error(f"cannot send to {self.host}:{self.port}: {error}")
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


def _send_checked(sock: socket.socket, packet: bytes, libc_send: Optional[_LibcSend]) -> None:
    """``send``, then raise the refusal the kernel may already hold for this very datagram.

    An ICMP port-unreachable leaves a pending error on a connected UDP socket that the *next*
    ``send`` raises, and that next datagram is then not sent: with the agent down, every other
    datagram vanished while counted as sent, and the first one after the agent came back was
    lost. On loopback (a local agent or sidecar) the ICMP has arrived by the time ``send``
    returns; reading ``SO_ERROR`` now charges the refusal to its own datagram and clears it.

    ``libc_send`` sends without releasing the GIL; a full buffer falls back to ``sock.send``
    (which waits up to the socket's timeout), any other error is raised as ``sock.send`` would.
    """
    result = (
        -errno.EAGAIN
        if libc_send is None
        else libc_send(sock.fileno(), packet, len(packet), _LIBC_SEND_FLAGS)
    )
    if result < 0:
        if -result not in _FALLBACK_ERRNOS:
            raise OSError(-result, os.strerror(-result))
        sock.send(packet)
    code = sock.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR)
    if code:
        raise OSError(code, os.strerror(code))
