"""UDPSender and HTTPSender over real loopback sockets, decoded by independent Thrift readers.

Datagrams are decoded twice: by thrift's pure ``TCompactProtocol`` with the generated classes
(conftest ``decode_emit_batch``) and by thriftpy2, which parses ``idl/agent.thrift`` itself.
"""

from __future__ import annotations

import base64
import logging
import os
import random
import shutil
import socket
import ssl
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Callable, Optional

import opentracing
import pytest
import thriftpy2
from conftest import dead_udp_port, decode_emit_batch, wait_until
from test_encode import random_spans
from thrift.protocol import TBinaryProtocol
from thrift.transport import TTransport
from thriftpy2.protocol import TBinaryProtocolFactory, TCompactProtocolFactory
from thriftpy2.transport import TMemoryBuffer

from jaeger_client import _encode, constants
from jaeger_client import thrift as jthrift
from jaeger_client.reporter import InMemoryReporter
from jaeger_client.sampler import ConstSampler
from jaeger_client.senders import HTTPSender, SendResult, UDPSender
from jaeger_client.span import Span
from jaeger_client.span_context import SpanContext
from jaeger_client.thrift_gen.jaeger import ttypes
from jaeger_client.TUDPTransport import TUDPTransport

IDL = os.path.join(os.path.dirname(__file__), os.pardir, "idl", "agent.thrift")
agent_thrift = thriftpy2.load(IDL, module_name="agent_thrift")
I64_MAX = (1 << 63) - 1
U64_MAX = (1 << 64) - 1


# ---- helpers -------------------------------------------------------------------------------------


def make_tracer(**kwargs: Any) -> tuple[Any, InMemoryReporter]:
    from jaeger_client.tracer import Tracer

    reporter = InMemoryReporter()
    tracer = Tracer("svc", reporter, ConstSampler(True), tags={"region": "eu-1"}, **kwargs)
    return tracer, reporter


def finished_spans(n: int, **kwargs: Any) -> tuple[Any, list[Span]]:
    tracer, reporter = make_tracer(**kwargs)
    for i in range(n):
        tracer.start_span(f"op-{i}", tags={"i": i}).finish()
    return tracer, reporter.get_spans()


def udp_sender(port: int, tracer: Any, host: str = "127.0.0.1", **kwargs: Any) -> UDPSender:
    sender = UDPSender(host, port, **kwargs)
    sender.set_process(tracer.service_name, tracer.tags, tracer.max_tag_value_length)
    return sender


@pytest.fixture
def closing() -> Iterator[Callable[[Any], Any]]:
    """Register senders (or anything with close()) to close at teardown: no ResourceWarning."""
    opened: list[Any] = []

    def register(obj: Any) -> Any:
        opened.append(obj)
        return obj

    yield register
    for obj in opened:
        obj.close()


def receive_packets(sock: socket.socket, expected_spans: int, timeout: float = 5.0) -> list[bytes]:
    """Datagrams until ``expected_spans`` spans arrived (or the timeout); each decodes cleanly."""
    packets: list[bytes] = []
    seen = 0
    deadline = time.monotonic() + timeout
    while seen < expected_spans:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            break
        sock.settimeout(remaining)
        try:
            packet = sock.recv(65535)
        except socket.timeout:
            break
        packets.append(packet)
        seen += len(decode_emit_batch(packet).spans)
    return packets


def assert_nothing_more(sock: socket.socket, wait: float = 0.05) -> None:
    sock.settimeout(wait)
    with pytest.raises(socket.timeout):
        sock.recv(65535)


def thriftpy2_emit_batch(packet: bytes) -> tuple[str, int, int, Any]:
    """Decode a datagram with thriftpy2 (an implementation independent of thrift's)."""
    protocol = TCompactProtocolFactory().get_protocol(TMemoryBuffer(packet))
    name, message_type, seqid = protocol.read_message_begin()
    args = agent_thrift.Agent.emitBatch_args()
    protocol.read_struct(args)
    protocol.read_message_end()
    return name, message_type, seqid, args.batch


def thriftpy2_batch(body: bytes) -> Any:
    protocol = TBinaryProtocolFactory().get_protocol(TMemoryBuffer(body))
    batch = agent_thrift.jaeger.Batch()
    protocol.read_struct(batch)
    return batch


def thrift_batch(body: bytes) -> Any:
    batch = ttypes.Batch()
    batch.read(TBinaryProtocol.TBinaryProtocol(TTransport.TMemoryBuffer(body)))
    return batch


def rich_spans() -> tuple[Any, list[Span]]:
    """Two spans covering every field: 128-bit ids past 2**63, references, all tag types, logs."""
    tracer, reporter = make_tracer(generate_128bit_trace_id=True)
    trace_id = (0xFEDCBA9876543210 << 64) | U64_MAX
    parent = SpanContext(trace_id=trace_id, span_id=I64_MAX + 2, parent_id=None, flags=3)
    other = SpanContext(trace_id=0x1234, span_id=U64_MAX, parent_id=None, flags=1)
    span = tracer.start_span(
        "GET /ünïcode",
        child_of=parent,
        references=[opentracing.follows_from(other), opentracing.child_of(parent)],
        start_time=1700000000.123456,
        tags={
            "s": "text €",
            "b": True,
            "l": -(1 << 63),
            "d": -2.5,
            "bin": b"\x00\xff\x80",
            "big": 1 << 64,
        },
    )
    span.log_kv({"event": "retry", "attempt": 2}, timestamp=1700000000.5)
    span.log_kv({}, timestamp=1700000000.75)
    span.finish(finish_time=1700000001.623456)
    root = tracer.start_span("root", start_time=1700000002.0)
    root.finish(finish_time=1700000002.5)
    return tracer, reporter.get_spans()


def assert_rich_batch(batch: Any, tracer: Any, spans: list[Span]) -> None:
    """Every field of ``rich_spans`` as a decoded Batch (generated classes or thriftpy2)."""
    assert batch.process.serviceName == "svc"
    process_tags = {t.key: t for t in batch.process.tags}
    assert process_tags["region"].vStr == "eu-1"
    assert process_tags["jaeger.version"].vStr == tracer.tags["jaeger.version"]
    assert process_tags["client-uuid"].vType == ttypes.TagType.LONG
    assert process_tags["client-uuid"].vLong == tracer.tags["client-uuid"]
    child, root = batch.spans
    assert child.traceIdLow == -1
    assert child.traceIdHigh == 0xFEDCBA9876543210 - (1 << 64)
    assert child.spanId == jthrift.id_to_int(spans[0].span_id)
    assert child.parentSpanId == I64_MAX + 2 - (1 << 64)
    assert child.operationName == "GET /ünïcode"
    assert child.flags == 3
    assert child.startTime == int(1700000000.123456 * 1000000)
    assert child.duration == int((1700000001.623456 - 1700000000.123456) * 1000000)
    refs = [(r.refType, r.traceIdLow, r.traceIdHigh, r.spanId) for r in child.references]
    assert refs == [
        (1, 0x1234, 0, -1),
        (0, -1, 0xFEDCBA9876543210 - (1 << 64), I64_MAX + 2 - (1 << 64)),
    ]
    tags = {t.key: t for t in child.tags}
    assert (tags["s"].vType, tags["s"].vStr) == (0, "text €")
    assert (tags["b"].vType, tags["b"].vBool) == (2, True)
    assert (tags["l"].vType, tags["l"].vLong) == (3, -(1 << 63))
    assert (tags["d"].vType, tags["d"].vDouble) == (1, -2.5)
    assert (tags["bin"].vType, tags["bin"].vBinary) == (4, b"\x00\xff\x80")
    assert (tags["big"].vType, tags["big"].vStr) == (0, str(1 << 64))
    assert [log.timestamp for log in child.logs] == [1700000000500000, 1700000000750000]
    assert [(f.key, f.vType) for f in child.logs[0].fields] == [("event", 0), ("attempt", 3)]
    assert child.logs[1].fields == []
    assert root.parentSpanId == 0
    assert root.traceIdHigh != 0 or root.traceIdLow != 0
    assert root.references is None
    assert root.flags == 1
    assert root.duration == 500000
    assert {t.key for t in root.tags} == {"sampler.type", "sampler.param"}
    assert root.logs == []


# ---- UDPSender: what arrives -----------------------------------------------------------------


def test_every_span_field_round_trips_over_udp(agent_udp: socket.socket, closing: Any) -> None:
    tracer, spans = rich_spans()
    sender = closing(udp_sender(agent_udp.getsockname()[1], tracer))
    assert sender.send(spans, queue_dropped=4) == SendResult(2, 0, 0)
    (packet,) = receive_packets(agent_udp, 2)
    assert_rich_batch(decode_emit_batch(packet), tracer, spans)
    name, message_type, seqid, batch = thriftpy2_emit_batch(packet)
    assert (name, message_type, seqid) == ("emitBatch", 4, 1)  # ONEWAY
    assert_rich_batch(batch, tracer, spans)
    assert batch.seqNo == 1
    stats = batch.stats
    assert (stats.fullQueueDroppedSpans, stats.tooLargeDroppedSpans, stats.failedToEmitSpans) == (
        4,
        0,
        0,
    )


def test_seq_no_increments_per_datagram_and_stats_carry_queue_drops(
    agent_udp: socket.socket, closing: Any
) -> None:
    tracer, spans = finished_spans(3)
    sender = closing(udp_sender(agent_udp.getsockname()[1], tracer))
    for i, span in enumerate(spans):
        assert sender.send([span], queue_dropped=i * 5) == SendResult(1, 0, 0)
    batches = [decode_emit_batch(p) for p in receive_packets(agent_udp, 3)]
    assert [b.seqNo for b in batches] == [1, 2, 3]
    assert [b.stats.fullQueueDroppedSpans for b in batches] == [0, 5, 10]
    assert [b.spans[0].operationName for b in batches] == ["op-0", "op-1", "op-2"]


def _fields(value: Any) -> Any:
    """A decoded Thrift value as plain data, whichever library decoded it (thrift's generated
    classes and thriftpy2's both keep fields as attributes named as in the IDL)."""
    if isinstance(value, list):
        return [_fields(item) for item in value]
    if hasattr(value, "thrift_spec"):
        return {k: _fields(v) for k, v in sorted(vars(value).items()) if not k.startswith("_")}
    if isinstance(value, float) and value != value:
        return "NaN"  # equal to itself, as the encoded bytes are
    return value


def test_every_datagram_decodes_with_thrift_and_thriftpy2_equal_to_the_source_spans(
    agent_udp: socket.socket, closing: Any, figure: Callable[[int, str], None]
) -> None:
    """Figure 16: 300 random spans (64- and 128-bit ids, references, every tag type, logs) in
    datagrams of at most 9,216 bytes, each decoded by thrift's generated code and by thriftpy2
    (which parses our IDL itself), field by field equal to what thrift.make_span makes of the
    source span."""
    spans = random_spans(random.Random(16), 300)
    tracer, _ = make_tracer()
    sender = closing(udp_sender(agent_udp.getsockname()[1], tracer, max_packet_size=9216))
    result = sender.send(spans, queue_dropped=0)
    packets = receive_packets(agent_udp, result.sent)
    made = [jthrift.make_span(s) for s in spans]
    expected = {(m.traceIdLow, m.traceIdHigh, m.spanId): _fields(m) for m in made}
    agree = decoded = 0
    for packet in packets:
        by_thrift = decode_emit_batch(packet).spans
        by_thriftpy2 = thriftpy2_emit_batch(packet)[3].spans
        for ours, theirs in zip(by_thrift, by_thriftpy2):
            decoded += 1
            source = expected.get((ours.traceIdLow, ours.traceIdHigh, ours.spanId))
            agree += _fields(ours) == _fields(theirs) == source
    figure(
        16,
        f"{len(packets)} datagrams ({result.sent} of 300 random spans sent, {result.too_large} "
        f"too large for 9,216 bytes): {decoded} spans decoded by both thrift and thriftpy2, "
        f"{agree} field by field equal to the source span ({agree / max(decoded, 1):.0%})",
    )
    assert result.failed == 0 and result.sent + result.too_large == 300
    assert decoded == result.sent and agree == decoded


@pytest.mark.parametrize("max_packet_size", [700, 1500, 9216, 65000])
def test_no_datagram_exceeds_max_packet_size(
    agent_udp: socket.socket, closing: Any, max_packet_size: int
) -> None:
    """Random spans (big tags, many logs): every datagram fits, every span is accounted for."""
    spans = random_spans(random.Random(max_packet_size), 150)
    tracer, _ = make_tracer()
    sender = closing(
        udp_sender(agent_udp.getsockname()[1], tracer, max_packet_size=max_packet_size)
    )
    result = sender.send(spans, queue_dropped=0)
    assert result.sent + result.too_large + result.failed == len(spans)
    assert result.failed == 0
    assert result.sent > 0
    packets = receive_packets(agent_udp, result.sent)
    assert all(len(p) <= max_packet_size for p in packets)
    received = [s.spanId for p in packets for s in decode_emit_batch(p).spans]
    assert sorted(received) == sorted(
        jthrift.id_to_int(s.span_id)
        for s in spans
        if len(sender._encoder.encode_span(s)) <= max_packet_size - 72 - len(sender._process or b"")
    )
    assert len(received) == result.sent
    assert_nothing_more(agent_udp)


def test_oversize_span_is_dropped_alone_and_counted(
    agent_udp: socket.socket, closing: Any, caplog: pytest.LogCaptureFixture
) -> None:
    tracer, reporter = make_tracer(max_tag_value_length=100_000)
    for i in range(10):
        span = tracer.start_span(f"op-{i}")
        if i == 4:
            span.set_tag("huge", "x" * 70_000)
        span.finish()
    sender = closing(udp_sender(agent_udp.getsockname()[1], tracer))
    with caplog.at_level(logging.WARNING, logger="jaeger_tracing"):
        assert sender.send(reporter.get_spans(), queue_dropped=0) == SendResult(9, 1, 0)
        assert sender.send([reporter.get_spans()[4]], queue_dropped=0) == SendResult(0, 1, 0)
    assert sender.too_large_count == 2
    packets = receive_packets(agent_udp, 9)
    names = [s.operationName for p in packets for s in decode_emit_batch(p).spans]
    assert names == [f"op-{i}" for i in range(10) if i != 4]
    assert all(decode_emit_batch(p).stats.tooLargeDroppedSpans == 1 for p in packets)
    too_large_logs = [r for r in caplog.records if "dropped span" in r.getMessage()]
    assert len(too_large_logs) == 1  # rate-limited: the second drop is not logged again


def test_span_that_fails_to_encode_is_dropped_alone(agent_udp: socket.socket, closing: Any) -> None:
    tracer, spans = finished_spans(5)
    spans[2].start_time = 1e300  # past i64 microseconds
    sender = closing(udp_sender(agent_udp.getsockname()[1], tracer))
    assert sender.send(spans, queue_dropped=0) == SendResult(4, 0, 1)
    (packet,) = receive_packets(agent_udp, 4)
    batch = decode_emit_batch(packet)
    assert [s.operationName for s in batch.spans] == ["op-0", "op-1", "op-3", "op-4"]
    assert batch.stats.failedToEmitSpans == 1
    assert sender.last_error is not None and sender.last_error.startswith("could not encode")


@pytest.mark.parametrize("accelerated", [False, True])
def test_pure_and_accelerated_paths_send_identical_datagrams(
    agent_udp: socket.socket,
    closing: Any,
    monkeypatch: pytest.MonkeyPatch,
    accelerated: bool,
) -> None:
    if accelerated and not _encode.HAS_FASTBINARY:
        pytest.skip("thrift built without its C extension")
    tracer, spans = rich_spans()
    port = agent_udp.getsockname()[1]
    monkeypatch.setattr(_encode, "ACCELERATED", accelerated)
    sender = closing(udp_sender(port, tracer))
    assert sender._encoder.is_accelerated is accelerated
    sender.send(spans, queue_dropped=0)
    monkeypatch.setattr(_encode, "ACCELERATED", False)
    reference = closing(udp_sender(port, tracer))
    reference.send(spans, queue_dropped=0)
    first, second = receive_packets(agent_udp, 4)
    assert first == second


def test_refused_port_is_counted_failed_without_raising(closing: Any) -> None:
    """A connected socket sees the agent's ICMP port-unreachable as ECONNREFUSED."""
    tracer, spans = finished_spans(1)
    sender = closing(udp_sender(dead_udp_port(), tracer))
    results = []
    deadline = time.monotonic() + 5.0
    while sender.failed_count == 0 and time.monotonic() < deadline:
        results.append(sender.send(spans, queue_dropped=0))
    assert sender.failed_count > 0
    assert SendResult(0, 0, 1) in results
    assert all(r.sent + r.failed == 1 for r in results)


@pytest.fixture(params=["libc", "socket"])
def send_path(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    """Both ways a datagram leaves: libc send keeping the GIL, and the kill switch's socket.send."""
    monkeypatch.setattr(constants, "UDP_SEND_KEEPS_GIL", request.param == "libc")
    return str(request.param)


def test_refusal_is_charged_to_its_own_datagram_on_both_send_paths(
    closing: Any, send_path: str
) -> None:
    tracer, spans = finished_spans(1)
    sender = closing(udp_sender(dead_udp_port(), tracer))
    results = [sender.send(spans, queue_dropped=0) for _ in range(20)]
    assert results == [SendResult(0, 0, 1)] * 20  # loopback: every refusal seen at once


def test_both_send_paths_deliver_every_datagram(
    agent_udp: socket.socket, closing: Any, send_path: str
) -> None:
    tracer, spans = finished_spans(50)
    sender = closing(udp_sender(agent_udp.getsockname()[1], tracer, max_packet_size=1500))
    assert sender.send(spans, queue_dropped=0) == SendResult(50, 0, 0)
    packets = receive_packets(agent_udp, 50)
    assert [b.seqNo for b in map(decode_emit_batch, packets)] == list(range(1, len(packets) + 1))


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="libc is loaded on Linux")
def test_libc_send_is_available_on_linux() -> None:
    from jaeger_client.senders import _udp

    assert _udp._load_libc_send() is not None


def ipv6_loopback_available() -> bool:
    if not socket.has_ipv6:
        return False
    try:
        with socket.socket(socket.AF_INET6, socket.SOCK_DGRAM) as sock:
            sock.bind(("::1", 0))
    except OSError:
        return False
    return True


@pytest.mark.skipif(not ipv6_loopback_available(), reason="no IPv6 loopback (::1) on this machine")
@pytest.mark.parametrize("host", ["::1", "[::1]"])
def test_ipv6_loopback_agent_receives(closing: Any, host: str) -> None:
    agent = closing(socket.socket(socket.AF_INET6, socket.SOCK_DGRAM))
    agent.bind(("::1", 0))
    tracer, spans = finished_spans(2)
    # 65,527 is accepted for an IPv6 literal (the IPv6 payload limit)
    sender = closing(udp_sender(agent.getsockname()[1], tracer, host=host, max_packet_size=65527))
    assert sender.send(spans, queue_dropped=0) == SendResult(2, 0, 0)
    (packet,) = receive_packets(agent, 2)
    assert [s.operationName for s in thriftpy2_emit_batch(packet)[3].spans] == ["op-0", "op-1"]


# ---- UDPSender: resolution and the socket --------------------------------------------------------


class FakeResolver:
    """Stands in for ``socket.getaddrinfo``: answers ``port`` on 127.0.0.1 and records calls."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.calls: list[tuple[str, str]] = []  # (host, thread name)
        self.error: Optional[OSError] = None

    def __call__(self, host: str, port: Any, *args: Any, **kwargs: Any) -> list[Any]:
        self.calls.append((host, threading.current_thread().name))
        if self.error is not None:
            raise self.error
        return [
            (socket.AF_INET, socket.SOCK_DGRAM, socket.IPPROTO_UDP, "", ("127.0.0.1", self.port))
        ]


@pytest.fixture
def resolver(monkeypatch: pytest.MonkeyPatch) -> FakeResolver:
    fake = FakeResolver(0)
    monkeypatch.setattr(socket, "getaddrinfo", fake)
    return fake


def test_construction_does_no_io_and_send_resolves_on_the_calling_thread(
    agent_udp: socket.socket, closing: Any, resolver: FakeResolver
) -> None:
    resolver.port = agent_udp.getsockname()[1]
    tracer, spans = finished_spans(1)
    sender = closing(udp_sender(9, tracer, host="agent.example"))
    assert resolver.calls == []
    results: list[SendResult] = []
    worker = threading.Thread(
        target=lambda: results.append(sender.send(spans, 0)), name="jaeger-reporter-test"
    )
    worker.start()
    worker.join(5.0)
    assert results == [SendResult(1, 0, 0)]
    assert resolver.calls == [("agent.example", "jaeger-reporter-test")]
    assert len(receive_packets(agent_udp, 1)) == 1
    sender.send(spans, 0)
    assert len(resolver.calls) == 1  # cached until resolve_interval passes


def test_localhost_resolves_to_the_ipv4_agent(agent_udp: socket.socket, closing: Any) -> None:
    tracer, spans = finished_spans(1)
    sender = closing(udp_sender(agent_udp.getsockname()[1], tracer, host="localhost"))
    assert sender.send(spans, 0) == SendResult(1, 0, 0)
    assert len(receive_packets(agent_udp, 1)) == 1


def test_re_resolves_after_the_interval_and_follows_a_moved_agent(
    agent_udp: socket.socket, closing: Any, resolver: FakeResolver
) -> None:
    second = closing(socket.socket(socket.AF_INET, socket.SOCK_DGRAM))
    second.bind(("127.0.0.1", 0))
    resolver.port = agent_udp.getsockname()[1]
    tracer, spans = finished_spans(2)
    sender = closing(udp_sender(1, tracer, host="agent.example", resolve_interval=0.05))
    assert sender.send(spans[:1], 0) == SendResult(1, 0, 0)
    assert len(receive_packets(agent_udp, 1)) == 1
    resolver.port = second.getsockname()[1]
    moved_at = time.monotonic()
    assert wait_until(lambda: time.monotonic() - moved_at > 0.06, timeout=1.0)
    assert sender.send(spans[1:], 0) == SendResult(1, 0, 0)
    (packet,) = receive_packets(second, 1)
    assert decode_emit_batch(packet).spans[0].operationName == "op-1"
    assert len(resolver.calls) == 2


def test_without_a_resolve_interval_the_address_is_kept_until_a_send_fails(
    agent_udp: socket.socket, closing: Any, resolver: FakeResolver
) -> None:
    """Go's JAEGER_REPORTER_ATTEMPT_RECONNECTING_DISABLED: resolve once; a failed send still
    re-resolves (and retries once there)."""
    resolver.port = agent_udp.getsockname()[1]
    tracer, spans = finished_spans(3)
    sender = closing(udp_sender(1, tracer, host="agent.example", resolve_interval=None))
    assert sender.resolve_interval is None
    assert sender.send(spans[:1], 0) == SendResult(1, 0, 0)
    sent_at = time.monotonic()
    assert wait_until(lambda: time.monotonic() - sent_at > 0.06, timeout=1.0)
    assert sender.send(spans[1:2], 0) == SendResult(1, 0, 0)
    assert len(resolver.calls) == 1  # no periodic resolution
    agent_udp.close()  # the agent goes away: the next send is refused, then re-resolves
    assert sender.send(spans[2:], 0) == SendResult(0, 0, 1)
    assert len(resolver.calls) == 2


def test_send_error_re_resolves_and_retries_once_at_the_new_address(
    agent_udp: socket.socket, closing: Any, resolver: FakeResolver
) -> None:
    resolver.port = dead_udp_port()
    tracer, spans = finished_spans(1)
    sender = closing(udp_sender(1, tracer, host="agent.example", resolve_interval=3600))
    # refused (seen at once on loopback): re-resolved once, same address, so not retried
    assert sender.send(spans, 0) == SendResult(0, 0, 1)
    assert len(resolver.calls) == 2
    resolver.port = agent_udp.getsockname()[1]  # the agent moves
    assert sender.send(spans, 0) == SendResult(1, 0, 0)  # refused, re-resolved, retried there
    assert len(resolver.calls) == 3  # the error triggered exactly one re-resolution
    assert len(receive_packets(agent_udp, 1)) == 1
    assert sender.failed_count == 1


def test_unresolvable_host_counts_failed_and_logs_once(
    closing: Any, resolver: FakeResolver, caplog: pytest.LogCaptureFixture
) -> None:
    resolver.error = socket.gaierror(socket.EAI_NONAME, "Name or service not known")
    tracer, spans = finished_spans(3)
    sender = closing(udp_sender(6831, tracer, host="no-such-agent.invalid"))
    with caplog.at_level(logging.WARNING, logger="jaeger_tracing"):
        assert sender.send(spans, 0) == SendResult(0, 0, 3)
        assert sender.send(spans, 0) == SendResult(0, 0, 3)
    assert sender.failed_count == 6
    assert sender.last_error == f"cannot resolve no-such-agent.invalid:6831: {resolver.error}"
    assert len(resolver.calls) == 2  # no socket: every send tries again
    assert len([r for r in caplog.records if "cannot resolve" in r.getMessage()]) == 1


def test_hostname_resolving_to_ipv4_caps_max_packet_size(
    agent_udp: socket.socket, closing: Any, resolver: FakeResolver, caplog: pytest.LogCaptureFixture
) -> None:
    """65,527 is valid for a name (it may be IPv6); once it resolves to IPv4, 65,507 holds."""
    resolver.port = agent_udp.getsockname()[1]
    tracer, _reporter = make_tracer(max_tag_value_length=100_000)
    sender = closing(udp_sender(1, tracer, host="agent.example", max_packet_size=65527))
    process = len(sender._process or b"")
    budget_v6 = 65527 - _encode.EMIT_BATCH_OVERHEAD - process
    budget_v4 = 65507 - _encode.EMIT_BATCH_OVERHEAD - process

    def span_of_size(size: int) -> Span:
        # the tag length giving exactly ``size`` encoded bytes: every span has new random ids,
        # whose varints differ in length, so step by the difference (a few tries) on new spans
        length = size
        for _ in range(100):
            span = tracer.start_span("big")
            span.set_tag("pad", "x" * length)
            span.finish(finish_time=span.start_time)
            encoded = len(sender._encoder.encode_span(span))
            if encoded == size:
                return span
            length += size - encoded
        raise AssertionError(f"no span of {size} encoded bytes in 100 tries")

    fits_v6_only = span_of_size(budget_v6 - 5)
    assert budget_v4 < len(sender._encoder.encode_span(fits_v6_only)) <= budget_v6
    fits_v4 = span_of_size(budget_v4)
    with caplog.at_level(logging.WARNING, logger="jaeger_tracing"):
        assert sender.send([fits_v6_only, fits_v4], 0) == SendResult(1, 1, 0)
    (packet,) = receive_packets(agent_udp, 1)
    assert len(packet) <= 65507
    assert any("exceeds the IPv4 limit" in r.getMessage() for r in caplog.records)


def test_close_is_idempotent_and_a_later_send_reopens(
    agent_udp: socket.socket, closing: Any
) -> None:
    tracer, spans = finished_spans(2)
    sender = closing(udp_sender(agent_udp.getsockname()[1], tracer))
    sender.send(spans[:1], 0)
    sender.close()
    sender.close()
    assert sender.send(spans[1:], 0) == SendResult(1, 0, 0)
    batches = [decode_emit_batch(p) for p in receive_packets(agent_udp, 2)]
    assert [b.seqNo for b in batches] == [1, 2]


def test_reset_after_fork_forgets_socket_and_counters_without_io(
    agent_udp: socket.socket, closing: Any, resolver: FakeResolver
) -> None:
    resolver.port = agent_udp.getsockname()[1]
    tracer, spans = finished_spans(2)
    spans[1].start_time = 1e300  # fails to encode: failed_count 1
    sender = closing(udp_sender(1, tracer, host="agent.example"))
    assert sender.send(spans, 0) == SendResult(1, 0, 1)
    assert len(resolver.calls) == 1
    sender.reset_after_fork()
    assert len(resolver.calls) == 1
    assert sender.failed_count == 0 and sender.too_large_count == 0
    assert sender.send(spans[:1], 0) == SendResult(1, 0, 0)
    assert len(resolver.calls) == 2  # the child resolves for itself
    batches = [decode_emit_batch(p) for p in receive_packets(agent_udp, 2)]
    assert [(b.seqNo, b.stats.failedToEmitSpans) for b in batches] == [(1, 1), (1, 0)]


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs os.fork")
@pytest.mark.filterwarnings("ignore:.*fork.*:DeprecationWarning")  # 3.12+: forking with threads
def test_forked_child_sends_on_its_own_socket(agent_udp: socket.socket, closing: Any) -> None:
    tracer, spans = finished_spans(2)
    sender = closing(udp_sender(agent_udp.getsockname()[1], tracer))
    assert sender.send(spans[:1], 0) == SendResult(1, 0, 0)
    pid = os.fork()
    if pid == 0:  # the child: never return into pytest
        code = 1
        try:
            sender.reset_after_fork()
            code = 0 if sender.send(spans[1:], 0) == SendResult(1, 0, 0) else 2
            sender.close()
        finally:
            os._exit(code)
    _, status = os.waitpid(pid, 0)
    assert os.waitstatus_to_exitcode(status) == 0
    names = sorted(
        s.operationName for p in receive_packets(agent_udp, 2) for s in decode_emit_batch(p).spans
    )
    assert names == ["op-0", "op-1"]
    assert sender.send(spans[:1], 0) == SendResult(1, 0, 0)  # the parent's socket still works
    assert len(receive_packets(agent_udp, 1)) == 1


def test_send_without_spans_or_process(closing: Any) -> None:
    sender = closing(UDPSender("127.0.0.1", dead_udp_port()))
    assert sender.send([], 0) == SendResult(0, 0, 0)
    _, spans = finished_spans(2)
    assert sender.send(spans, 0) == SendResult(0, 0, 2)  # set_process() never called


@pytest.mark.parametrize(
    ("kwargs", "name"),
    [
        ({"host": "", "port": 6831}, "host"),
        ({"host": "   ", "port": 6831}, "host"),
        ({"host": None, "port": 6831}, "host"),
        ({"host": "bad host!", "port": 6831}, "host"),
        ({"host": "udp://agent", "port": 6831}, "host"),
        ({"host": "agent:6831", "port": 6831}, "host"),
        ({"host": "::::", "port": 6831}, "host"),
        ({"host": "localhost", "port": 0}, "port"),
        ({"host": "localhost", "port": 65536}, "port"),
        ({"host": "localhost", "port": "6831"}, "port"),
        ({"host": "localhost", "port": True}, "port"),
        ({"host": "localhost", "port": 6831, "max_packet_size": 0}, "max_packet_size"),
        ({"host": "localhost", "port": 6831, "max_packet_size": 65528}, "max_packet_size"),
        ({"host": "127.0.0.1", "port": 6831, "max_packet_size": 65508}, "max_packet_size"),
        ({"host": "localhost", "port": 6831, "max_packet_size": 1500.0}, "max_packet_size"),
        ({"host": "localhost", "port": 6831, "resolve_interval": 0}, "resolve_interval"),
        ({"host": "localhost", "port": 6831, "resolve_interval": float("nan")}, "resolve_interval"),
    ],
)
def test_udp_sender_rejects_bad_arguments_naming_them(kwargs: dict[str, Any], name: str) -> None:
    with pytest.raises(ValueError, match=name):
        UDPSender(**kwargs)


@pytest.mark.parametrize(
    "host",
    [
        "localhost",
        "jaeger-agent",
        "agent.obs.svc.cluster.local.",
        "my_agent",
        "münchen.de",
        "10.0.0.1",
        "::1",
        "[::1]",
        "fe80::1%eth0",
    ],
)
def test_udp_sender_accepts_host_names_and_addresses(host: str) -> None:
    UDPSender(host, 6831).close()


def test_udp_sender_accepts_the_protocol_limits() -> None:
    UDPSender("127.0.0.1", 65535, max_packet_size=65507)
    UDPSender("::1", 1, max_packet_size=65527)
    UDPSender("agent", 6831, max_packet_size=65527, resolve_interval=0.001)


def test_tudptransport_writes_datagrams(agent_udp: socket.socket) -> None:
    transport = TUDPTransport("127.0.0.1", agent_udp.getsockname()[1], blocking=True)
    assert transport.isOpen()
    assert transport.write(b"hello") == 5
    assert agent_udp.recv(100) == b"hello"
    transport.close()
    transport.close()
    assert not transport.isOpen()
    with pytest.raises(OSError):
        transport.write(b"x")


# ---- HTTPSender --------------------------------------------------------------------------------


class Collector:
    """A loopback stand-in for the collector's ``/api/traces`` (HTTP/1.1, keep-alive)."""

    def __init__(self, tls: Optional[ssl.SSLContext] = None) -> None:
        self.requests: list[tuple[str, dict[str, str], bytes]] = []
        self.client_ports: list[int] = []
        self.status = 202
        self.drop_connection_silently = False
        self.hold = threading.Event()  # set: answer at once; clear: hang until set
        self.hold.set()
        collector = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            timeout = 5

            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers["Content-Length"]))
                collector.requests.append((self.path, dict(self.headers), body))
                collector.client_ports.append(self.client_address[1])
                collector.hold.wait(5.0)
                self.send_response(collector.status)
                self.send_header("Content-Length", "0")
                self.end_headers()
                if collector.drop_connection_silently:  # as an idle timeout would, unannounced
                    self.close_connection = True

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        if tls is not None:
            self.server.socket = tls.wrap_socket(self.server.socket, server_side=True)
        self.thread = threading.Thread(
            target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        self.thread.start()
        scheme = "https" if tls is not None else "http"
        self.url = f"{scheme}://127.0.0.1:{self.server.server_address[1]}/api/traces"

    def close(self) -> None:
        self.hold.set()
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(5.0)

    def batches(self) -> list[Any]:
        return [thrift_batch(body) for _, _, body in self.requests]


@pytest.fixture
def collector() -> Iterator[Collector]:
    server = Collector()
    yield server
    server.close()


def http_sender(url: str, tracer: Any, **kwargs: Any) -> HTTPSender:
    sender = HTTPSender(url, **kwargs)
    sender.set_process(tracer.service_name, tracer.tags, tracer.max_tag_value_length)
    return sender


def test_http_sender_posts_a_binary_batch_with_basic_auth(
    collector: Collector, closing: Any
) -> None:
    tracer, spans = rich_spans()
    sender = closing(
        http_sender(
            collector.url + "?format=jaeger.thrift",
            tracer,
            user="ann",
            password="s3cr:t",
            auth_token="ignored-when-basic-is-set",
            headers={"X-Tenant": "blue"},
        )
    )
    assert sender.send(spans, queue_dropped=3) == SendResult(2, 0, 0)
    ((path, headers, body),) = collector.requests
    assert path == "/api/traces?format=jaeger.thrift"
    assert headers["Content-Type"] == "application/x-thrift"
    assert headers["Authorization"] == "Basic " + base64.b64encode(b"ann:s3cr:t").decode()
    assert headers["X-Tenant"] == "blue"
    for batch in (thrift_batch(body), thriftpy2_batch(body)):
        assert_rich_batch(batch, tracer, spans)
        assert batch.seqNo == 1
        assert batch.stats.fullQueueDroppedSpans == 3


def test_http_sender_uses_bearer_token(collector: Collector, closing: Any) -> None:
    tracer, spans = finished_spans(1)
    sender = closing(http_sender(collector.url, tracer, auth_token="t0k3n"))
    assert sender.send(spans, 0) == SendResult(1, 0, 0)
    assert collector.requests[0][1]["Authorization"] == "Bearer t0k3n"


@pytest.mark.parametrize(
    ("status", "ok"),
    [(200, True), (202, True), (204, True), (500, False), (401, False), (302, False)],
)
def test_http_status_decides_sent_or_failed(
    collector: Collector, closing: Any, status: int, ok: bool
) -> None:
    collector.status = status
    tracer, spans = finished_spans(3)
    sender = closing(http_sender(collector.url, tracer))
    expected = SendResult(3, 0, 0) if ok else SendResult(0, 0, 3)
    assert sender.send(spans, 0) == expected
    assert sender.send(spans, 0) == expected  # the connection stays usable after an error
    assert sender.failed_count == (0 if ok else 6)
    assert len(collector.requests) == 2
    assert len(set(collector.client_ports)) == 1  # kept alive


def test_http_body_is_split_under_the_cap(collector: Collector, closing: Any) -> None:
    tracer, spans = finished_spans(40)
    sender = closing(http_sender(collector.url, tracer, max_body_size=1500))
    assert sender.send(spans, 0) == SendResult(40, 0, 0)
    assert len(collector.requests) > 1
    assert all(len(body) <= 1500 for _, _, body in collector.requests)
    batches = collector.batches()
    assert [b.seqNo for b in batches] == list(range(1, len(batches) + 1))
    names = [s.operationName for b in batches for s in b.spans]
    assert names == [f"op-{i}" for i in range(40)]


def test_http_span_larger_than_the_cap_is_too_large(collector: Collector, closing: Any) -> None:
    tracer, _reporter = make_tracer(max_tag_value_length=10_000)
    small = tracer.start_span("small")
    small.finish()
    big = tracer.start_span("big", tags={"pad": "x" * 5000})
    big.finish()
    sender = closing(http_sender(collector.url, tracer, max_body_size=2000))
    assert sender.send([big, small], 0) == SendResult(1, 1, 0)
    (batch,) = collector.batches()
    assert [s.operationName for s in batch.spans] == ["small"]
    assert batch.stats.tooLargeDroppedSpans == 1


def test_http_refused_connection_is_counted_failed(closing: Any) -> None:
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    sock.close()
    tracer, spans = finished_spans(2)
    sender = closing(http_sender(f"http://127.0.0.1:{port}/api/traces", tracer, timeout=2.0))
    assert sender.send(spans, 0) == SendResult(0, 0, 2)


def test_http_connection_closed_by_the_server_is_retried_once(
    collector: Collector, closing: Any
) -> None:
    collector.drop_connection_silently = True
    tracer, spans = finished_spans(2)
    sender = closing(http_sender(collector.url, tracer))
    assert sender.send(spans[:1], 0) == SendResult(1, 0, 0)
    assert sender.send(spans[1:], 0) == SendResult(1, 0, 0)
    assert [b.spans[0].operationName for b in collector.batches()] == ["op-0", "op-1"]
    assert len(set(collector.client_ports)) == 2  # the second request went on a new connection


def test_http_unanswered_request_times_out_as_failed(collector: Collector, closing: Any) -> None:
    collector.hold.clear()
    tracer, spans = finished_spans(1)
    sender = closing(http_sender(collector.url, tracer, timeout=0.2))
    started = time.monotonic()
    assert sender.send(spans, 0) == SendResult(0, 0, 1)
    assert time.monotonic() - started < 2.0
    collector.hold.set()


def test_http_reset_after_fork_drops_the_connection(collector: Collector, closing: Any) -> None:
    tracer, spans = finished_spans(1)
    sender = closing(http_sender(collector.url, tracer))
    sender.send(spans, 0)
    sender.reset_after_fork()
    assert sender.send(spans, 0) == SendResult(1, 0, 0)
    assert [b.seqNo for b in collector.batches()] == [1, 1]


@pytest.mark.parametrize(
    ("endpoint", "kwargs", "match"),
    [
        ("ftp://host/api/traces", {}, "scheme"),
        ("127.0.0.1:14268/api/traces", {}, "scheme"),
        ("http:///api/traces", {}, "host"),
        ("http://host:99999/api/traces", {}, "endpoint"),
        ("http://u:p@host/api/traces", {}, "credentials"),
        (None, {}, "endpoint"),
        ("http://host/api", {"user": "u"}, "together"),
        ("http://host/api", {"user": "a:b", "password": "p"}, "user"),
        ("http://host/api", {"auth_token": "a\r\nX-Evil: 1"}, "auth_token"),
        ("http://host/api", {"headers": {"X-A\r\n": "v"}}, "header name"),
        ("http://host/api", {"headers": {"X-A": "v\nX-B: w"}}, "X-A"),
        ("http://host/api", {"headers": {"X-A": "€"}}, "X-A"),
        ("http://host/api", {"timeout": 0}, "timeout"),
        ("http://host/api", {"timeout": float("inf")}, "timeout"),
        ("http://host/api", {"max_body_size": 0}, "max_body_size"),
        ("https://host/api", {"ssl_context": "/etc/ssl/ca.pem"}, "ssl_context"),
        ("http://host/api", {"ssl_context": ssl.create_default_context()}, "https"),
    ],
)
def test_http_sender_rejects_bad_arguments(
    endpoint: Any, kwargs: dict[str, Any], match: str
) -> None:
    with pytest.raises(ValueError, match=match):
        HTTPSender(endpoint, **kwargs)


@pytest.fixture(scope="module")
def self_signed(tmp_path_factory: pytest.TempPathFactory) -> tuple[str, str]:
    """A certificate for 127.0.0.1 and its key, made by the openssl command line tool."""
    openssl = shutil.which("openssl")
    if openssl is None:
        pytest.skip("needs the openssl command (Debian: apt-get install openssl)")
    folder = tmp_path_factory.mktemp("tls")
    cert, key = str(folder / "cert.pem"), str(folder / "key.pem")
    subprocess.run(
        [openssl, "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", key, "-out", cert,
         "-days", "2", "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1"],
        check=True,
        capture_output=True,
        timeout=60,
    )  # fmt: skip
    return cert, key


@pytest.fixture
def tls_collector(self_signed: tuple[str, str]) -> Iterator[Collector]:
    cert, key = self_signed
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    server = Collector(tls=context)
    yield server
    server.close()


def test_https_sender_verifies_the_collector_with_the_given_context(
    tls_collector: Collector, self_signed: tuple[str, str], closing: Any
) -> None:
    tracer, spans = finished_spans(2)
    trusted = ssl.create_default_context(cafile=self_signed[0])
    sender = closing(http_sender(tls_collector.url, tracer, ssl_context=trusted))
    assert sender.send(spans, 0) == SendResult(2, 0, 0)
    assert [len(batch.spans) for batch in tls_collector.batches()] == [2]


def test_https_sender_refuses_an_untrusted_collector_and_counts_the_spans_failed(
    tls_collector: Collector, closing: Any, caplog: pytest.LogCaptureFixture
) -> None:
    tracer, spans = finished_spans(2)
    sender = closing(http_sender(tls_collector.url, tracer))  # the system's trust store
    with caplog.at_level(logging.WARNING, logger="jaeger_tracing"):
        assert sender.send(spans, 0) == SendResult(0, 0, 2)
    assert tls_collector.requests == []
    assert "CERTIFICATE_VERIFY_FAILED" in caplog.text


def test_http_sender_accepts_https_and_ipv6_endpoints() -> None:
    HTTPSender("https://collector.example:14268/api/traces")
    HTTPSender("http://[::1]:14268/api/traces", headers={"X-Scope-OrgID": "tenant-1"})
