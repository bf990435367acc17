"""``Tracer.stats()``: a health snapshot from real parts. A UDP agent on 127.0.0.1, a closed port
for an agent that is down, a loopback HTTP collector and sampling endpoint."""

from __future__ import annotations

import socket
import time
from collections.abc import Iterator
from typing import Any

import pytest
from _http_agent import AgentHTTP, agent_http, json_reply
from conftest import dead_udp_port, receive_batches, run_in_child, wait_until
from test_senders import Collector

from jaeger_client import Config, ConstSampler, RemoteControlledSampler, Tracer
from jaeger_client.reporter import InMemoryReporter, Reporter, ReporterStats
from jaeger_client.senders import HTTPSender, SendResult, UDPSender
from jaeger_client.tracer import NoopTracer, TracerStats


@pytest.fixture
def http() -> Iterator[AgentHTTP]:
    with agent_http() as server:
        yield server


def polled_tracer(url: str) -> tuple[Tracer, RemoteControlledSampler]:
    """A tracer whose remote sampler polls ``url`` only when the test calls ``poll_once``."""
    sampler = RemoteControlledSampler(
        service_name="health", sampling_endpoint=url, poll_in_background=False
    )
    return Tracer("health", InMemoryReporter(), sampler), sampler


def udp_tracer(port: int, sampler: Any = None) -> Tracer:
    reporter = Reporter(None, sender=UDPSender("127.0.0.1", port), flush_interval=0.05)
    return Tracer("health", reporter, sampler or ConstSampler(True))


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
    port = dead_udp_port()
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


def test_a_failing_collector_shows_its_status() -> None:
    collector = Collector()
    collector.status = 503
    reporter = Reporter(None, sender=HTTPSender(collector.url))
    tracer = Tracer("health", reporter, ConstSampler(True))
    try:
        tracer.start_span("op").finish()
        assert tracer.flush(5) is False
        stats = tracer.stats()
        assert stats.reporter is not None and stats.reporter.failed == 1
        assert stats.last_sent_at is None
        assert stats.last_send_error == f"POST {collector.url}: HTTP 503 Service Unavailable"
    finally:
        tracer.close().result(5)
        collector.close()


def test_the_remote_sampler_shows_its_last_strategy_and_last_failure(http: AgentHTTP) -> None:
    tracer, sampler = polled_tracer(http.url("/sampling"))
    try:
        assert tracer.stats().last_strategy_at is None
        http.serve_json(
            "/sampling",
            {"strategyType": "PROBABILISTIC", "probabilisticSampling": {"samplingRate": 0.5}},
        )
        assert sampler.poll_once() is True
        stats = tracer.stats()
        assert stats.last_strategy_at is not None and stats.last_sampler_error is None
        url = http.url("/sampling")
        assert stats.sampler == f"RemoteControlledSampler(health, {url}, ProbabilisticSampler(0.5))"
        http.serve("/sampling", json_reply({}, status=500))
        assert sampler.poll_once() is False
        stats = tracer.stats()
        assert (
            stats.last_sampler_error is not None
            and http.url("/sampling") in stats.last_sampler_error
        )
        assert (
            stats.last_sampler_error_at is not None
            and stats.last_sampler_error_at >= stats.last_strategy_at
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


class ScriptedSender:
    """A sender whose sends follow a script: "ok", "refused" (noted, as ours do) or "raise"."""

    def __init__(self, script: list[str]) -> None:
        self.script = script
        self.last_error: Any = None

    def set_process(self, *args: Any) -> None:
        pass

    def send(self, spans: Any, queue_dropped: int) -> SendResult:
        step = self.script.pop(0)
        if step == "raise":
            raise RuntimeError("encoder bug")
        if step == "refused":
            self.last_error = "cannot send to agent:6831: [Errno 111] Connection refused"
            return SendResult(0, 0, len(spans))
        return SendResult(len(spans), 0, 0)

    def close(self) -> None:
        pass


def test_a_later_failure_never_borrows_an_earlier_reason() -> None:
    sender = ScriptedSender(["refused", "ok", "raise"])
    tracer = Tracer("health", Reporter(None, sender=sender), ConstSampler(True))
    try:
        reasons = []
        for _ in range(3):
            tracer.start_span("op").finish()
            tracer.flush(5)
            reasons.append(tracer.stats().last_send_error)
        assert reasons[0] == reasons[1] == sender.last_error  # a success does not clear it
        assert reasons[2] == "the sender raised RuntimeError('encoder bug')"
    finally:
        tracer.close().result(5)


def test_a_span_too_large_for_any_datagram_shows_as_the_last_error(
    agent_udp: socket.socket,
) -> None:
    sender = UDPSender("127.0.0.1", agent_udp.getsockname()[1], max_packet_size=1000)
    tracer = Tracer("health", Reporter(None, sender=sender), ConstSampler(True))
    try:
        tracer.start_span("big", tags={"blob": "x" * 5000}).finish()
        assert tracer.flush(5) is False
        stats = tracer.stats()
        assert stats.reporter is not None and stats.reporter.too_large == 1
        assert stats.last_send_error == "1 spans larger than one packet were dropped"
    finally:
        tracer.close().result(5)


def test_a_config_with_span_logging_still_reports_health() -> None:
    port = dead_udp_port()
    config = Config(
        {
            "sampler": {"type": "const", "param": 1},
            "logging": True,
            "local_agent": {"reporting_host": "127.0.0.1", "reporting_port": port},
        },
        service_name="health",
        environ={},
    )
    tracer = config.new_tracer()
    try:

        def refused() -> Any:
            tracer.start_span("op").finish()
            tracer.flush(1)
            return tracer.stats().last_send_error

        error = wait_until(refused, timeout=10)
        assert error is not None and "refused" in error.lower()
        assert tracer.stats().reporter is not None
    finally:
        tracer.close().result(5)


def test_the_sampler_counts_a_bad_strategy_and_every_good_poll(http: AgentHTTP) -> None:
    tracer, sampler = polled_tracer(http.url("/sampling"))
    try:
        http.serve_json("/sampling", {"strategyType": "NO-SUCH-STRATEGY"})
        assert sampler.poll_once() is False
        stats = tracer.stats()
        assert stats.last_sampler_error is not None
        assert stats.last_sampler_error.startswith("Fail to update sampler")
        strategy = {"strategyType": "PROBABILISTIC", "probabilisticSampling": {"samplingRate": 1}}
        http.serve_json("/sampling", strategy)
        assert sampler.poll_once() is True
        assert tracer.stats().last_strategy_at is not None
        sampler.last_strategy_at = None
        assert sampler.poll_once() is False  # the same strategy: nothing changed, still received
        assert tracer.stats().last_strategy_at is not None
    finally:
        tracer.close().result(5)


def test_a_forked_child_does_not_report_the_parents_failed_poll(http: AgentHTTP) -> None:
    tracer, sampler = polled_tracer(http.url("/missing"))
    try:
        assert sampler.poll_once() is False
        assert tracer.stats().last_sampler_error is not None
        assert run_in_child(lambda: tracer.stats().last_sampler_error) is None
    finally:
        tracer.close().result(5)


def test_a_sampler_that_cannot_describe_itself_does_not_break_stats() -> None:
    class Mute(ConstSampler):
        def __str__(self) -> str:
            raise RuntimeError("no str")

    assert Tracer("health", InMemoryReporter(), Mute(True)).stats().sampler == "Mute"
