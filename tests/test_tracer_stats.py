"""``Tracer.stats()``: a health snapshot from real parts. A UDP agent on 127.0.0.1, a closed port
for an agent that is down, a loopback HTTP collector and sampling endpoint."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from _http_agent import AgentHTTP, agent_http, json_reply
from conftest import receive_batches, wait_until

from jaeger_client import ConstSampler, RemoteControlledSampler, Tracer
from jaeger_client.reporter import InMemoryReporter, Reporter, ReporterStats
from jaeger_client.senders import HTTPSender, UDPSender
from jaeger_client.tracer import NoopTracer, TracerStats


@pytest.fixture
def http() -> Iterator[AgentHTTP]:
    with agent_http() as server:
        yield server


def udp_tracer(port: int, sampler: Any = None) -> Tracer:
    reporter = Reporter(None, sender=UDPSender("127.0.0.1", port), flush_interval=0.05)
    return Tracer("health", reporter, sampler or ConstSampler(True))


def closed_udp_port() -> int:
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.bind(("127.0.0.1", 0))
    port: int = sock.getsockname()[1]
    sock.close()
    return port


def test_a_healthy_tracer_reports_what_it_sent_and_no_error(agent_udp: socket.socket) -> None:
    tracer = udp_tracer(agent_udp.getsockname()[1])
    try:
        assert tracer.stats() == TracerStats(
            ReporterStats(0, 0, 0, 0, 0), None, None, None, "ConstSampler(True)", None, None, None
        )
        before = time.time()
        for i in range(5):
            tracer.start_span(f"op-{i}").finish()
        assert tracer.flush(5)
        assert sum(len(b.spans) for b in receive_batches(agent_udp, 5)) == 5
        stats = tracer.stats()
        assert stats.reporter == ReporterStats(5, 0, 0, 0, 0)
        assert stats.last_sent_at is not None and before <= stats.last_sent_at <= time.time()
        assert stats.last_send_error is None and stats.last_send_error_at is None
    finally:
        tracer.close().result(5)


def test_an_agent_that_is_down_shows_as_the_last_send_error() -> None:
    port = closed_udp_port()
    tracer = udp_tracer(port)
    try:

        def refused() -> Any:  # loopback answers the first datagram with ICMP "unreachable"
            tracer.start_span("op").finish()
            tracer.flush(1)
            return tracer.stats().last_send_error

        error = wait_until(refused, timeout=10)
        assert error is not None and f"cannot send to 127.0.0.1:{port}" in error
        assert "refused" in error.lower()
        stats = tracer.stats()
        assert stats.reporter.failed >= 1 and stats.last_send_error_at is not None
    finally:
        tracer.close().result(5)


@pytest.fixture
def overloaded_collector() -> Iterator[str]:
    """A loopback collector that answers every POST with 503."""

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_POST(self) -> None:
            self.rfile.read(int(self.headers["Content-Length"]))
            self.send_response(503)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, args=(0.02,), daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/api/traces"
    server.shutdown()
    server.server_close()
    thread.join(5)


def test_a_failing_collector_shows_its_status(overloaded_collector: str) -> None:
    reporter = Reporter(None, sender=HTTPSender(overloaded_collector))
    tracer = Tracer("health", reporter, ConstSampler(True))
    try:
        tracer.start_span("op").finish()
        assert tracer.flush(5) is False
        stats = tracer.stats()
        assert stats.reporter.failed == 1 and stats.last_sent_at is None
        assert stats.last_send_error == f"POST {overloaded_collector}: HTTP 503 Service Unavailable"
    finally:
        tracer.close().result(5)


def test_the_remote_sampler_shows_its_last_strategy_and_last_failure(http: AgentHTTP) -> None:
    sampler = RemoteControlledSampler(
        service_name="health",
        sampling_endpoint=http.url("/sampling"),
        poll_in_background=False,
    )
    tracer = Tracer("health", InMemoryReporter(), sampler)
    try:
        assert tracer.stats().sampler_updated_at is None
        http.serve_json(
            "/sampling",
            {"strategyType": "PROBABILISTIC", "probabilisticSampling": {"samplingRate": 0.5}},
        )
        assert sampler.poll_once() is True
        stats = tracer.stats()
        assert stats.sampler_updated_at is not None and stats.sampler_error is None
        url = http.url("/sampling")
        assert stats.sampler == f"RemoteControlledSampler(health, {url}, ProbabilisticSampler(0.5))"
        http.serve("/sampling", json_reply({}, status=500))
        assert sampler.poll_once() is False
        stats = tracer.stats()
        assert stats.sampler_error is not None and http.url("/sampling") in stats.sampler_error
        assert (
            stats.sampler_error_at is not None
            and stats.sampler_error_at >= stats.sampler_updated_at
        )
        assert "ProbabilisticSampler(0.5)" in stats.sampler  # the last good strategy still decides
    finally:
        tracer.close().result(5)


def test_a_reporter_without_stats_or_with_failing_ones_still_answers(
    caplog: pytest.LogCaptureFixture,
) -> None:
    class Bare:
        def report_span(self, span: Any) -> None:
            pass

    class Broken(Bare):
        def stats(self) -> Any:
            raise RuntimeError("broken stats")

    assert Tracer("health", Bare(), ConstSampler(True)).stats().reporter is None
    with caplog.at_level("ERROR", logger="jaeger_tracing"):
        assert Tracer("health", Broken(), ConstSampler(True)).stats().reporter is None
    assert "broken stats" in caplog.text


def test_a_disabled_tracer_answers_too() -> None:
    assert NoopTracer().stats() == TracerStats(None, None, None, None, "disabled", None, None, None)
