"""Small helpers kept at upstream's import path: ErrorReporter, local_ip, get_boolean."""

from __future__ import annotations

import logging
import socket
import struct
import threading
import time
from typing import Any, Optional

from .constants import LOGGER_NAME

__all__ = ["ErrorReporter", "RateLimitedLogger", "get_boolean", "local_ip"]

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
    """Reports errors from background work: counts them and logs at a limited rate.

    Upstream's version suppressed every message during the first ``log_interval_minutes`` after
    construction; this one logs the first error at once, then one per interval.

    :param metrics: a :class:`jaeger_client.metrics.Metrics` (or anything with ``count``); may be None
    :param logger: where to log; None means errors are only counted (upstream behaviour)
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
        if self._limited is None:
            return
        msg = " ".join("%s" for _ in args)
        self._limited.log("error", logging.ERROR, msg, *args)


def get_boolean(string: Any, default: bool) -> bool:
    """Upstream's lenient boolean: 'true'/'1' -> True, 'false'/'0'/'none' -> False, else default."""
    text = str(string).lower()
    if text in ("false", "0", "none"):
        return False
    if text in ("true", "1"):
        return True
    return default


_SIOCGIFADDR = 0x8915


def _interface_ip(ifname: str) -> Optional[str]:
    try:
        import fcntl  # POSIX only; Windows falls back to 127.0.0.1
    except ImportError:
        return None
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    try:
        packed = fcntl.ioctl(sock.fileno(), _SIOCGIFADDR, struct.pack("256s", ifname.encode()[:15]))
        return socket.inet_ntoa(packed[20:24])
    except OSError:
        return None
    finally:
        sock.close()


def local_ip() -> str:
    """A non-loopback IPv4 address of this host, found without DNS or network traffic.

    Reads interface addresses with an ioctl (Linux); falls back to ``127.0.0.1``. Never calls
    ``gethostbyname``, which can block start-up for seconds on a broken resolver.
    """
    try:
        names = [name for _, name in socket.if_nameindex()]
    except OSError:
        names = []
    for name in sorted(names, key=lambda n: (n == "lo", n)):
        ip = _interface_ip(name)
        if ip and not ip.startswith("127."):
            return ip
    return "127.0.0.1"
