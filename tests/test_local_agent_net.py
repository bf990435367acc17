"""local_agent_net: agent URLs, the HTTP fetcher (timeouts, cap, abort) and the poller thread."""

from __future__ import annotations

import random
import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest
from _http_agent import HANG, AgentHTTP, Reply, agent_http, has_ended, live_threads
from conftest import wait_until

from jaeger_client.local_agent_net import (
    FetchError,
    HTTPFetcher,
    LocalAgentHTTP,
    LocalAgentSender,
    Poller,
    agent_url,
    channel_url,
    check_seconds,
    decode_json,
)


@pytest.fixture
def agent() -> Iterator[AgentHTTP]:
    with agent_http() as server:
        yield server


def test_agent_url_brackets_ipv6_hosts() -> None:
    assert agent_url("agent", 5778, "/sampling") == "http://agent:5778/sampling"
    assert agent_url("::1", 5778, "/") == "http://[::1]:5778/"
    assert agent_url("[::1]", 5778, "/") == "http://[::1]:5778/"


def test_channel_url_falls_back_to_defaults_for_foreign_channels() -> None:
    class Partial:
        host = "h"

    assert channel_url(None, "sampling_port", 5778, "/x") == "http://localhost:5778/x"
    assert channel_url(Partial(), "sampling_port", 5778, "/x") == "http://h:5778/x"
    assert channel_url(object(), "sampling_port", 1, "/x") == "http://localhost:1/x"


def test_local_agent_sender_endpoints_and_raw_requests(agent: AgentHTTP) -> None:
    channel = LocalAgentSender(host="127.0.0.1", sampling_port=agent.port, reporting_port=6831)
    assert channel.throttling_port == agent.port
    assert channel.sampling_endpoint == agent.url("/sampling")
    assert channel.credits_endpoint == agent.url("/credits")
    assert channel.baggage_restrictions_endpoint == agent.url("/baggageRestrictions")
    agent.serve("/sampling", Reply(body=b'{"a": 1}'))
    agent.serve("/credits", Reply(body=b"{}"))
    assert channel.request_sampling_strategy("svc", timeout=2) == b'{"a": 1}'
    assert channel.request_throttling_credits("svc", 9, ["x", "y"], timeout=2) == b"{}"
    assert agent.requests[1].query == {"service": ["svc"], "uuid": ["9"], "operations": ["x", "y"]}


def test_upstreams_local_agent_http_requests_one_host_and_port(agent: AgentHTTP) -> None:
    http = LocalAgentHTTP("127.0.0.1", str(agent.port))  # type: ignore[arg-type]  # upstream: int()
    assert (http.agent_http_host, http.agent_http_port) == ("127.0.0.1", agent.port)
    agent.serve("/sampling", Reply(body=b'{"strategyType": 0}'))
    agent.serve("/credits", Reply(body=b"{}"))
    assert http.request_sampling_strategy("svc") == b'{"strategyType": 0}'
    assert http.request_throttling_credits("svc", 7, ["a", "b"], timeout=2) == b"{}"
    assert [r.path for r in agent.requests] == ["/sampling", "/credits"]
    assert agent.requests[0].query == {"service": ["svc"]}
    assert agent.requests[1].query == {"service": ["svc"], "uuid": ["7"], "operations": ["a", "b"]}
    agent.serve("/sampling", Reply(status=500))
    with pytest.raises(FetchError):
        http.request_sampling_strategy("svc", timeout=2)


@pytest.mark.parametrize(
    "url", ["localhost:5778/sampling", "ftp://h/x", "http:///nohost", "http://h:99999/"]
)
def test_fetch_rejects_unusable_urls(url: str) -> None:
    with pytest.raises(FetchError):
        HTTPFetcher().fetch(url)


def test_fetch_refused_connection_is_a_fetch_error() -> None:
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    with pytest.raises(FetchError, match=r"GET http://127\.0\.0\.1"):
        HTTPFetcher(timeout=1).fetch(f"http://127.0.0.1:{port}/sampling")


def test_abort_unblocks_a_hanging_fetch_and_fails_later_ones(agent: AgentHTTP) -> None:
    agent.serve("/sampling", HANG)
    fetcher = HTTPFetcher(timeout=10)
    outcome: list[Any] = []

    def fetch() -> None:
        try:
            outcome.append(fetcher.fetch(agent.url("/sampling")))
        except FetchError as e:
            outcome.append(e)

    thread = threading.Thread(target=fetch)
    thread.start()
    assert agent.hanging.wait(5)
    fetcher.abort()
    assert has_ended(thread), "still fetching: only the 10 s timeout would end it"
    assert isinstance(outcome[0], FetchError) and "aborted" in str(outcome[0])
    with pytest.raises(FetchError, match="closed"):
        fetcher.fetch(agent.url("/sampling"))


def test_body_cap_is_exact(agent: AgentHTTP) -> None:
    fetcher = HTTPFetcher(max_body_bytes=10)
    agent.serve("/x", Reply(body=b"0123456789"))
    assert fetcher.fetch(agent.url("/x")) == b"0123456789"
    agent.serve("/x", Reply(body=b"0123456789A", send_length=False))
    with pytest.raises(FetchError, match="cap"):
        fetcher.fetch(agent.url("/x"))


@pytest.mark.parametrize("bad", [0, -1, float("nan"), float("inf"), "1", None, True])
def test_timeouts_are_validated(bad: Any) -> None:
    with pytest.raises(ValueError, match="connect_timeout"):
        HTTPFetcher(connect_timeout=bad)
    with pytest.raises(ValueError, match="interval"):
        check_seconds("interval", bad)


def test_decode_json_is_strict_but_tolerates_a_bom() -> None:
    assert decode_json(b'\xef\xbb\xbf{"a": [1, 2.5]}') == {"a": [1, 2.5]}
    for body in (b"NaN", b"[Infinity]", b"[-Infinity]", b"\xff", b"[" * 50000, b""):
        with pytest.raises(ValueError):
            decode_json(body)


def test_a_thread_that_cannot_start_is_logged_not_raised_and_tried_again(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """'can't start new thread' (process limits, or interpreter shutdown) must not reach the
    span that asked for a decision; the next decision after an interval tries again."""
    real_start = threading.Thread.start
    refusals = [1]

    def refuse_once(thread: threading.Thread) -> None:
        if thread.name == "test-no-thread" and refusals:
            refusals.pop()
            raise RuntimeError("can't start new thread")
        real_start(thread)

    monkeypatch.setattr(threading.Thread, "start", refuse_once)
    polls: list[float] = []
    poller = Poller("test-no-thread", lambda: polls.append(time.monotonic()), 0.05, HTTPFetcher())
    try:
        with caplog.at_level("WARNING", logger="jaeger_tracing"):
            poller.start()
        assert not live_threads("test-no-thread") and poller.needs_start
        assert "could not start its thread" in caplog.text
        poller.start()  # within the interval: not tried again
        assert caplog.text.count("could not start its thread") == 1 and refusals == []

        def started() -> bool:  # what owners do before each decision
            if poller.needs_start:
                poller.start()
            return bool(polls)

        assert wait_until(started, timeout=5), "started on a later decision, and polled"
        assert not poller.needs_start
    finally:
        poller.close()


def test_poller_runs_at_once_then_every_interval_and_survives_a_failing_poll() -> None:
    calls: list[float] = []

    def poll() -> None:
        calls.append(time.monotonic())
        if len(calls) == 2:
            raise RuntimeError("a bug in one poll step")

    poller = Poller("test-poller", poll, 0.05, HTTPFetcher())
    assert calls == [] and not live_threads("test-poller"), "nothing before start()"
    poller.start()
    try:
        assert wait_until(lambda: len(calls) >= 4, timeout=5), "kept polling after the exception"
        (thread,) = live_threads("test-poller")
        assert thread.daemon
    finally:
        poller.close()  # joins for only 0.25 s: a loaded machine may not run the thread by then
    assert has_ended(thread), "close() ends the thread"
    assert 0.04 <= calls[3] - calls[2] < 1.0, "interval with at most 10 % jitter"


def test_poll_jitter_leaves_the_random_module_alone() -> None:
    """Polls end on the poller's thread at any moment: drawing their jitter from the random
    module would move an application's seeded sequence (Hypothesis fails a test for that)."""
    calls: list[float] = []
    state = random.getstate()
    poller = Poller(
        "test-jitter-poller", lambda: calls.append(time.monotonic()), 0.01, HTTPFetcher()
    )
    poller.start()
    try:
        assert wait_until(lambda: len(calls) >= 3, timeout=5), "jitter drawn after two polls"
    finally:
        poller.close()
    assert random.getstate() == state


def test_disabled_or_closed_poller_never_starts() -> None:
    disabled = Poller("test-disabled", lambda: None, 1, HTTPFetcher(), enabled=False)
    assert not disabled.needs_start
    disabled.start()
    assert not live_threads("test-disabled")
    closed = Poller("test-closed", lambda: None, 1, HTTPFetcher())
    closed.close()
    closed.close()
    closed.start()
    assert not live_threads("test-closed") and closed.is_closed
