"""Small helpers kept at upstream's import path: ErrorReporter, local_ip, get_boolean."""

from __future__ import annotations

import ipaddress
import logging
import re
import socket
import struct
import threading
import time
from typing import Any, Optional, Union

from ._fork import after_fork_in_child
from .constants import LOGGER_NAME

__all__ = [
    "ErrorReporter",
    "RateLimitedLogger",
    "get_boolean",
    "get_local_ip_by_interfaces",
    "get_local_ip_by_socket",
    "interface_ip",
    "is_host",
    "local_ip",
]

_logger = logging.getLogger(LOGGER_NAME)


class RateLimitedLogger:
    """Logs the first message for a key at once, then at most one per ``interval`` seconds per key.

    Messages suppressed in between are counted and reported with the next one that gets through.
    Safe to call from any thread.
    """

    def __init__(self, logger: Optional[logging.Logger] = None, interval: float = 60.0) -> None:
        self.logger = logger or _logger
        self.interval = interval
        self._lock = threading.Lock()
        self._next: dict[str, float] = {}
        self._suppressed: dict[str, int] = {}
        after_fork_in_child(self._after_fork_in_child)

    def _after_fork_in_child(self) -> None:
        # a thread of the parent may have held the lock at fork time; it does not exist here
        self._lock = threading.Lock()

    def log(self, key: str, level: int, msg: str, *args: Any, exc_info: Any = None) -> bool:
        now = time.monotonic()
        with self._lock:
            if now < self._next.get(key, 0.0):
                self._suppressed[key] = self._suppressed.get(key, 0) + 1
                return False
            self._next[key] = now + self.interval
            suppressed = self._suppressed.pop(key, 0)
        if suppressed:
            msg = f"{msg} ({suppressed} similar messages suppressed)"
        self.logger.log(level, msg, *args, exc_info=exc_info)
        return True

    def reset(self) -> None:
        with self._lock:
            self._next.clear()
            self._suppressed.clear()


class ErrorReporter:
    """Reports errors from background work: logs them at a limited rate.

    Upstream's version suppressed every message during the first ``log_interval_minutes`` after
    construction; this one logs the first error at once, then at most one per interval (the
    message then says how many were suppressed).

    :param metrics: accepted for upstream compatibility and unused, as upstream
    :param logger: where to log; None means errors are not logged (upstream behaviour)
    :param log_interval_minutes: minimum time between two logged errors
    """

    def __init__(
        self,
        metrics: Any,
        logger: Optional[logging.Logger] = None,
        log_interval_minutes: float = 15,
    ) -> None:
        self.metrics = metrics
        self.logger = logger
        self.log_interval_minutes = log_interval_minutes
        self._limited = RateLimitedLogger(logger, log_interval_minutes * 60.0) if logger else None

    def error(self, *args: Any) -> None:
        """Log ``args``: a ``%``-format and its arguments (as upstream), or parts to join."""
        if self._limited is None or not args:
            return
        self._limited.log("error", logging.ERROR, "%s", _LazyMessage(args))


class _LazyMessage:
    """``args`` rendered only if the record is emitted; never raises from ``str()``."""

    __slots__ = ("args",)

    def __init__(self, args: tuple[Any, ...]) -> None:
        self.args = args

    def __str__(self) -> str:
        first, rest = self.args[0], self.args[1:]
        if rest and isinstance(first, str) and "%" in first:
            try:
                return first % rest
            except (TypeError, ValueError, KeyError):  # not a format after all: join the parts
                pass
        return " ".join(_safe(a) for a in self.args)


def _safe(value: Any) -> str:
    try:
        return str(value)
    except Exception:  # an exception object whose __str__ raises must not break logging
        return f"<unprintable {type(value).__name__}>"


def get_boolean(string: Any, default: bool) -> bool:
    """Upstream's lenient boolean: 'true'/'1' -> True, 'false'/'0'/'none' -> False, else default."""
    text = str(string).lower()
    if text in ("false", "0", "none"):
        return False
    if text in ("true", "1"):
        return True
    return default


_SIOCGIFADDR = 0x8915  # Linux; elsewhere the ioctl fails with OSError and we fall back


def interface_ip(interface: Union[str, bytes]) -> Optional[str]:
    """The IPv4 address of network interface ``interface`` (e.g. ``"eth0"``), or None.

    One ``ioctl`` on a throwaway UDP socket: no DNS, no packets, never blocks.
    """
    try:
        import fcntl  # POSIX only
    except ImportError:
        return None
    name = interface.encode() if isinstance(interface, str) else bytes(interface)
    try:
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
            packed = fcntl.ioctl(sock.fileno(), _SIOCGIFADDR, struct.pack("256s", name[:15]))
        return socket.inet_ntoa(packed[20:24])
    except (OSError, ValueError, struct.error):
        return None


def get_local_ip_by_interfaces() -> Optional[str]:
    """The first non-loopback IPv4 address found on this host's interfaces, in index order."""
    try:
        names = [name for _, name in socket.if_nameindex()]
    except (OSError, AttributeError):  # AttributeError: no if_nameindex on this platform
        return None
    fallback = None
    for name in names:
        ip = interface_ip(name)
        if ip is None or ip.startswith("127."):
            continue
        if not ip.startswith("169.254."):
            return ip
        fallback = fallback or ip  # link-local only if nothing better exists
    return fallback


def get_local_ip_by_socket() -> Optional[str]:
    """The source address the kernel would use for an outside destination, or None.

    ``connect`` on a UDP socket only picks a route: no DNS, no packet is sent, it does not block.
    """
    try:
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
            sock.connect(("10.255.255.255", 1))
            ip = sock.getsockname()[0]
    except OSError:
        return None
    if not isinstance(ip, str) or ip.startswith(("127.", "0.")):
        return None
    return ip


def local_ip() -> str:
    """A non-loopback IPv4 address of this host, found without DNS or network traffic.

    The source address of the default route, else the first non-loopback interface address,
    else ``127.0.0.1``. Upstream first asked DNS (``gethostbyname(gethostname())``), which can
    block start-up for seconds on a broken resolver; this never calls the resolver and never raises.
    """
    for find in (get_local_ip_by_socket, get_local_ip_by_interfaces):
        try:
            ip = find()
        except Exception:  # a platform oddity must not stop the tracer from starting
            ip = None
        if ip:
            return ip
    return "127.0.0.1"


# a DNS label: letters, digits, '-' inside, '_' as in container names (RFC 1123, leniently)
_HOST_LABEL = re.compile(r"(?!-)[A-Za-z0-9_-]{1,63}(?<!-)")


def is_host(value: str) -> bool:
    """Whether ``value`` can name a host: an IPv4 or IPv6 address (``[::1]`` too, and a zone as in
    ``fe80::1%eth0``), or a host name of dot-separated labels (non-ASCII names as IDNA), at most
    253 characters. Not ``http://agent``, ``agent:6831``, ``agent/x`` or names with spaces."""
    host = value[1:-1] if value.startswith("[") and value.endswith("]") else value
    try:
        ipaddress.ip_address(host.split("%", 1)[0] if ":" in host else host)
        return True
    except ValueError:
        pass
    try:
        name = host.encode("idna").decode("ascii")
    except UnicodeError:
        return False
    name = name[:-1] if name.endswith(".") else name  # a fully qualified name's root dot
    labels = name.split(".")
    # a name whose last label is all digits would be an IPv4 address, and is not a valid one
    return (
        0 < len(name) <= 253
        and all(_HOST_LABEL.fullmatch(label) for label in labels)
        and not labels[-1].isdigit()
    )
