"""Decode what clients send, with thrift's own pure-Python protocols and the generated structs.

Never our encoder: the dev agent exists to check it. Wire facts: shared/reference/WIRE.md
(UDP 6831 compact ``emitBatch``, 6832 binary, HTTP ``POST /api/traces`` = a bare binary ``Batch``).
"""

from __future__ import annotations

from typing import Any

from thrift.protocol import TBinaryProtocol, TCompactProtocol
from thrift.Thrift import TMessageType
from thrift.transport import TTransport

from ..thrift_gen.agent import Agent as _AgentService
from ..thrift_gen.jaeger import ttypes

__all__ = ["MAX_DATAGRAM_BYTES", "MalformedInputError", "decode_batch_body", "decode_datagram"]

# jaeger-agent and the OTel Collector's jaeger receiver drop larger datagrams (WIRE.md).
MAX_DATAGRAM_BYTES = 65000

_MESSAGE_TYPES = {1: "CALL", 2: "REPLY", 3: "EXCEPTION", 4: "ONEWAY"}
_VALUE_FIELDS = {
    ttypes.TagType.STRING: ("vStr", str),
    ttypes.TagType.DOUBLE: ("vDouble", float),
    ttypes.TagType.BOOL: ("vBool", bool),
    ttypes.TagType.LONG: ("vLong", int),
    ttypes.TagType.BINARY: ("vBinary", bytes),
}


class MalformedInputError(ValueError):
    """Bytes that are not a valid message; the text says why."""


def _protocol(name: str, data: bytes) -> tuple[Any, Any]:
    transport = TTransport.TMemoryBuffer(data)
    if name == "compact":
        return transport, TCompactProtocol.TCompactProtocol(transport)
    return transport, TBinaryProtocol.TBinaryProtocol(transport)


def _read(reader: Any, data: bytes) -> None:
    try:
        reader()
    except MalformedInputError:
        raise
    except Exception as e:  # untrusted bytes: thrift's pure protocols raise many exception types
        raise MalformedInputError(f"undecodable Thrift ({type(e).__name__}: {e})") from e


def _check_consumed(transport: Any, data: bytes) -> None:
    trailing = len(transport.read(len(data)))
    if trailing:
        raise MalformedInputError(f"{trailing} trailing bytes after the message")


def decode_datagram(data: bytes, protocol: str = "compact") -> Any:
    """Decode one UDP datagram as ``Agent.emitBatch``; return the ``jaeger.ttypes.Batch``.

    :param protocol: ``"compact"`` (port 6831) or ``"binary"`` (port 6832)
    :raises MalformedInputError: oversized, undecodable, not ``emitBatch``/ONEWAY, trailing bytes,
        or a required field or tag value missing
    """
    if len(data) > MAX_DATAGRAM_BYTES:
        raise MalformedInputError(
            f"datagram of {len(data)} bytes exceeds the {MAX_DATAGRAM_BYTES}-byte limit "
            "(a real jaeger-agent drops it)"
        )
    transport, proto = _protocol(protocol, data)
    header: list[Any] = []
    _read(lambda: header.extend(proto.readMessageBegin()), data)
    name, mtype, _seqid = header
    if name != "emitBatch":
        raise MalformedInputError(f"unsupported method {name!r} (only emitBatch is served)")
    if mtype != TMessageType.ONEWAY:
        kind = _MESSAGE_TYPES.get(mtype, str(mtype))
        raise MalformedInputError(f"message type {kind}, expected ONEWAY")
    args = _AgentService.emitBatch_args()
    _read(lambda: (args.read(proto), proto.readMessageEnd()), data)
    _check_consumed(transport, data)
    if args.batch is None:
        raise MalformedInputError("emitBatch without its batch argument (field 1)")
    validate_batch(args.batch)
    return args.batch


def decode_batch_body(data: bytes) -> Any:
    """Decode an HTTP collector body: one bare ``Batch`` in the Thrift binary protocol."""
    transport, proto = _protocol("binary", data)
    batch = ttypes.Batch()
    _read(lambda: batch.read(proto), data)
    _check_consumed(transport, data)
    validate_batch(batch)
    return batch


def _validate(struct: Any, where: str) -> None:
    try:
        struct.validate()
    except Exception as e:  # TProtocolException from generated code: a required field is unset
        raise MalformedInputError(f"{where}: {getattr(e, 'message', e)}") from e


def _validate_tags(tags: Any, where: str) -> None:
    for tag in tags or ():
        _validate(tag, f"{where} tag")
        expected = _VALUE_FIELDS.get(tag.vType)
        if expected is None:
            raise MalformedInputError(f"{where} tag {tag.key!r}: unknown vType {tag.vType}")
        value_field, value_type = expected
        if not isinstance(getattr(tag, value_field), value_type):
            vtype = ttypes.TagType._VALUES_TO_NAMES[tag.vType]
            raise MalformedInputError(
                f"{where} tag {tag.key!r}: vType {vtype} but {value_field} unset"
            )


def validate_batch(batch: Any) -> None:
    """Check every required field and that each tag carries the value its ``vType`` names.

    The generated ``validate()`` checks one struct's own required fields only, so walk the tree.
    """
    _validate(batch, "batch")
    _validate(batch.process, "process")
    _validate_tags(batch.process.tags, "process")
    for index, span in enumerate(batch.spans):
        where = f"span #{index}"
        _validate(span, where)
        where = f"span #{index} ({span.operationName!r})"
        _validate_tags(span.tags, where)
        for ref in span.references or ():
            _validate(ref, f"{where} reference")
        for log in span.logs or ():
            _validate(log, f"{where} log")
            _validate_tags(log.fields, f"{where} log")
