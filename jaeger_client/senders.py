"""Senders: what the reporter's worker thread hands finished spans to (UDP agent, HTTP collector).

The seam follows jaeger-client-go's ``transport.go``: the Reporter batches and counts, a Sender
encodes and sends. A Sender is called only from the reporter's single worker thread.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any, NamedTuple, Protocol

if TYPE_CHECKING:
    from .span import Span

__all__ = ["SendResult", "Sender"]


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
