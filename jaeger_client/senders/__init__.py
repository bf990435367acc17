"""Senders: what the reporter's worker thread hands finished spans to (UDP agent, HTTP collector).

The seam follows jaeger-client-go's ``transport.go``: the Reporter batches and counts, a Sender
encodes and sends. A Sender is called only from the reporter's single worker thread.

A package since it outgrew one module: ``_base`` (the protocol, packing by bytes), ``_udp``
(jaeger-agent) and ``_http`` (the collector); every name imports from here.
"""

from __future__ import annotations

from ._base import Sender, SendResult
from ._http import HTTPSender
from ._udp import UDPSender

__all__ = ["HTTPSender", "SendResult", "Sender", "UDPSender"]
