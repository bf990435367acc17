"""A Jaeger agent for development: ``jaeger-agent`` or ``python -m jaeger_client.agent``.

It receives spans the way jaeger-agent does (UDP 6831 compact and 6832 binary Thrift ``emitBatch``)
and the way a collector does (``POST /api/traces``, binary Thrift ``Batch``), decodes them with
thrift's own protocol classes, and prints each trace as a tree (or JSON lines). On HTTP 5778 it
serves ``/sampling``, the legacy ``/``, ``/baggageRestrictions`` and ``/credits`` from one JSON
strategies file (see :class:`Strategies`). Standard library only; binds 127.0.0.1 by default.

For tests, :mod:`jaeger_client.testing` runs the same agent in-process on free ports.
"""

from __future__ import annotations

from ._cli import main
from ._decode import MAX_DATAGRAM_BYTES, MalformedInputError, decode_batch_body, decode_datagram
from ._model import (
    ReceivedBatch,
    ReceivedLog,
    ReceivedReference,
    ReceivedSpan,
    Trace,
    group_traces,
)
from ._render import TracePrinter, format_trace, span_to_json
from ._server import (
    DEFAULT_BINARY_PORT,
    DEFAULT_COMPACT_PORT,
    DEFAULT_HOST,
    DEFAULT_HTTP_PORT,
    Agent,
    HTTPRequestRecord,
    MalformedInput,
)
from ._strategies import Strategies, StrategyError

__all__ = [
    "DEFAULT_BINARY_PORT",
    "DEFAULT_COMPACT_PORT",
    "DEFAULT_HOST",
    "DEFAULT_HTTP_PORT",
    "MAX_DATAGRAM_BYTES",
    "Agent",
    "HTTPRequestRecord",
    "MalformedInput",
    "MalformedInputError",
    "ReceivedBatch",
    "ReceivedLog",
    "ReceivedReference",
    "ReceivedSpan",
    "Strategies",
    "StrategyError",
    "Trace",
    "TracePrinter",
    "decode_batch_body",
    "decode_datagram",
    "format_trace",
    "group_traces",
    "main",
    "span_to_json",
]
