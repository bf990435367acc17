"""The Sender protocol, its result, and what the UDP and HTTP senders share: packing by bytes."""

from __future__ import annotations

import logging
import math
from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any, Callable, NamedTuple, Optional, Protocol

from .. import constants
from ..utils import RateLimitedLogger

if TYPE_CHECKING:
    from ..span import Span

__all__ = ["SendResult", "Sender"]

logger = logging.getLogger(constants.LOGGER_NAME)

LOG_INTERVAL = 60.0  # seconds between two log lines of the same kind from one sender


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

    # Optional: ``last_error``, the last failure the sender met (a str), which the Reporter
    # passes on to health checks (``Tracer.stats()``); our senders have it.


# ---- shared: encode each span, pack by bytes ----------------------------------------------------


class Packer:
    """Encodes spans one by one and cuts them into payloads of at most ``budget`` span bytes.

    Counts, per ``send``, the spans that failed to encode and those too large for any payload.
    """

    def __init__(
        self, owner: str, warn: RateLimitedLogger, note: Optional[Callable[[str], None]] = None
    ) -> None:
        self._owner = owner
        self._warn = warn
        self._note = note  # the sender's last_error, for health checks
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
                if self._note is not None:
                    self._note(f"could not encode a span: {exc}")
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


def check_int(name: str, value: Any, low: int, high: int) -> int:
    if type(value) is not int or not low <= value <= high:
        raise ValueError(f"{name} must be an integer within [{low}, {high}], got {value!r}")
    return value


def check_seconds(name: str, value: Any) -> float:
    if (
        isinstance(value, bool)
        or not isinstance(value, (int, float))
        or not math.isfinite(value)
        or value <= 0
    ):
        raise ValueError(f"{name} must be a positive finite number of seconds, got {value!r}")
    return float(value)
