"""RemoteControlledSampler against a real loopback HTTP server, one poll step at a time."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import textwrap
import threading
import time
from collections.abc import Iterator
from typing import Any
from unittest import mock

import pytest
from _http_agent import (
    HANG,
    JSON,
    AgentHTTP,
    CountingMetricsFactory,
    Reply,
    agent_http,
    has_ended,
    json_reply,
    live_threads,
    new_threads,
    silent_listener,
)
from conftest import wait_until

from jaeger_client.local_agent_net import LocalAgentSender
from jaeger_client.rate_limiter import RateLimiter
from jaeger_client.reporter import InMemoryReporter
from jaeger_client.sampler import (
    DEFAULT_MAX_OPERATIONS,
    DEFAULT_SAMPLING_PROBABILITY,
    AdaptiveSampler,
    ConstSampler,
    ProbabilisticSampler,
    RateLimitingSampler,
    RemoteControlledSampler,
)
from jaeger_client.span import Span
from jaeger_client.tracer import Tracer

POLLER = "jaeger-sampler-poller"
HALF = 1 << 63

ERR_KEYS = ("jaeger:sampler_queries.result_err", "jaeger:sampler_updates.result_err")


@pytest.fixture
def agent() -> Iterator[AgentHTTP]:
    with agent_http() as server:
        yield server


class FakeClock:
    def __init__(self, now: float = 1000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeClock]:
    fake = FakeClock()
    monkeypatch.setattr(RateLimiter, "timestamp", staticmethod(fake))
    yield fake


def make_sampler(
    agent: AgentHTTP, path: str = "/sampling", **kwargs: Any
) -> RemoteControlledSampler:
    kwargs.setdefault("poll_in_background", False)
    kwargs.setdefault("metrics_factory", CountingMetricsFactory())
    kwargs.setdefault("error_reporter", mock.MagicMock())
    return RemoteControlledSampler(service_name="svc", sampling_endpoint=agent.url(path), **kwargs)


def counts(sampler: RemoteControlledSampler) -> Any:
    return sampler.metrics_factory.counts  # type: ignore[attr-defined]


def probabilistic(rate: Any, kind: Any = "PROBABILISTIC") -> dict[str, Any]:
    return {"strategyType": kind, "probabilisticSampling": {"samplingRate": rate}}


def rate_limiting(limit: Any, kind: Any = "RATE_LIMITING") -> dict[str, Any]:
    return {"strategyType": kind, "rateLimitingSampling": {"maxTracesPerSecond": limit}}


def per_operation(default: float, lower_bound: float, **ops: float) -> dict[str, Any]:
    return {
        "strategyType": "PROBABILISTIC",
        "operationSampling": {
            "defaultSamplingProbability": default,
            "defaultLowerBoundTracesPerSecond": lower_bound,
            "perOperationStrategies": [
                {"operation": op, "probabilisticSampling": {"samplingRate": rate}}
                for op, rate in ops.items()
            ],
        },
    }


# ---- each strategy shape is applied -----------------------------------------------------------


def test_served_probability_zero_makes_new_roots_unsampled(agent: AgentHTTP) -> None:
    agent.serve_json("/sampling", probabilistic(0.0))
    sampler = make_sampler(agent, init_sampler=ConstSampler(True))
    tracer = Tracer("svc", InMemoryReporter(), sampler)
    assert tracer.start_span("before").is_sampled()
    assert sampler.poll_once() is True
    assert not any(tracer.start_span("after").is_sampled() for _ in range(200))
    assert agent.requests_to("/sampling")[0].query == {"service": ["svc"]}
    assert counts(sampler)["jaeger:sampler_queries.result_ok"] == 1
    assert counts(sampler)["jaeger:sampler_updates.result_ok"] == 1


def test_served_probability_one_samples_and_tags_roots(agent: AgentHTTP) -> None:
    agent.serve_json("/sampling", probabilistic(1))
    sampler = make_sampler(agent, init_sampler=ConstSampler(False))
    tracer = Tracer("svc", InMemoryReporter(), sampler)
    sampler.poll_once()
    span = tracer.start_span("op")
    assert span.is_sampled()
    tags = {key: value for key, _, value in span._tags}
    assert tags["sampler.type"] == "probabilistic"
    assert tags["sampler.param"] == 1.0 and type(tags["sampler.param"]) is float


def test_same_strategy_again_changes_nothing(agent: AgentHTTP) -> None:
    agent.serve_json("/sampling", probabilistic(0.5))
    sampler = make_sampler(agent)
    assert sampler.poll_once() is True
    installed = sampler.sampler
    assert sampler.poll_once() is False
    assert sampler.sampler is installed
    assert counts(sampler)["jaeger:sampler_queries.result_ok"] == 2
    assert counts(sampler)["jaeger:sampler_updates.result_ok"] == 1


def test_legacy_route_with_integer_enums(agent: AgentHTTP) -> None:
    sampler = make_sampler(agent, path="/")
    agent.serve_json("/", probabilistic(0.25, kind=0))
    assert sampler.poll_once()
    assert str(sampler.sampler) == "ProbabilisticSampler(0.25)"
    agent.serve_json("/", rate_limiting(7, kind=1))
    assert sampler.poll_once()
    assert str(sampler.sampler) == "RateLimitingSampler(7.0)"


def test_collector_api_sampling_route_and_missing_strategy_type(agent: AgentHTTP) -> None:
    agent.serve_json("/api/sampling", {"probabilisticSampling": {"samplingRate": 0.125}})
    sampler = make_sampler(agent, path="/api/sampling")
    assert sampler.poll_once()
    assert str(sampler.sampler) == "ProbabilisticSampler(0.125)"
    assert [r.path for r in agent.requests] == ["/api/sampling"]


def test_operation_sampling_wins_when_both_are_served(agent: AgentHTTP) -> None:
    body = per_operation(0.1, 0.5, op=0.9)
    body["probabilisticSampling"] = {"samplingRate": 0.3}
    agent.serve_json("/sampling", body)
    sampler = make_sampler(agent)
    assert sampler.poll_once()
    assert isinstance(sampler.sampler, AdaptiveSampler)
    assert str(sampler.sampler) == f"AdaptiveSampler(0.100000, 0.500000, {DEFAULT_MAX_OPERATIONS})"


def test_empty_operation_sampling_falls_through_to_probabilistic(agent: AgentHTTP) -> None:
    agent.serve_json(
        "/sampling", {"operationSampling": {}, "probabilisticSampling": {"samplingRate": 0.2}}
    )
    sampler = make_sampler(agent)
    assert sampler.poll_once()
    assert str(sampler.sampler) == "ProbabilisticSampler(0.2)"


def test_served_rate_limit_samples_at_its_rate(agent: AgentHTTP, clock: FakeClock) -> None:
    agent.serve_json("/sampling", rate_limiting(4))
    sampler = make_sampler(agent)
    assert sampler.poll_once()
    assert isinstance(sampler.sampler, RateLimitingSampler)
    sampler.sampler.rate_limiter.balance = 0.0
    sampled = 0
    for _ in range(1280):  # 128 roots per second for 10 s, binary-exact clock steps
        clock.now += 1 / 128
        decision, tags = sampler.is_sampled(HALF, "op")
        sampled += decision
    assert sampled == 40
    assert tags == {"sampler.type": "ratelimiting", "sampler.param": 4.0}


def test_rate_limit_change_updates_in_place(agent: AgentHTTP, clock: FakeClock) -> None:
    agent.serve_json("/sampling", rate_limiting(10))
    sampler = make_sampler(agent)
    sampler.poll_once()
    installed = sampler.sampler
    assert isinstance(installed, RateLimitingSampler)
    installed.rate_limiter.balance = 5.0
    agent.serve_json("/sampling", rate_limiting(20))
    assert sampler.poll_once() is True
    assert sampler.sampler is installed, "credit carries over"
    assert installed.rate_limiter.balance == pytest.approx(10.0)
    assert str(installed) == "RateLimitingSampler(20.0)"


def test_per_operation_rates_and_lower_bounds_are_honoured(
    agent: AgentHTTP, clock: FakeClock
) -> None:
    agent.serve_json("/sampling", per_operation(0.0, 0.5, always=1.0, never=0.0))
    sampler = make_sampler(agent)
    assert sampler.poll_once()
    adaptive = sampler.sampler
    assert isinstance(adaptive, AdaptiveSampler)
    for op in ("never", "unlisted"):
        sampler.is_sampled(HALF, op)  # registers the operation
        adaptive.samplers[op].lower_bound_sampler.rate_limiter.balance = 0.0
    always = never = unlisted = 0
    for _ in range(160):  # 8 roots per operation per second for 20 s
        clock.now += 1 / 8
        always += sampler.is_sampled(HALF, "always")[0]
        never += sampler.is_sampled(HALF, "never")[0]
        unlisted += sampler.is_sampled(HALF, "unlisted")[0]
    assert always == 160
    assert never == 10, "probability 0, lower bound 0.5/s over 20 s"
    assert unlisted == 10, "an unlisted operation gets the default probability and lower bound"
    assert sampler.is_sampled(HALF, "always")[1] == {
        "sampler.type": "probabilistic",
        "sampler.param": 1.0,
    }


def test_per_operation_update_prunes_unlisted_operations_and_keeps_listed_samplers(
    agent: AgentHTTP,
) -> None:
    agent.serve_json("/sampling", per_operation(0.1, 1.0, a=0.5, b=0.5))
    sampler = make_sampler(agent, max_operations=3)
    sampler.poll_once()
    adaptive = sampler.sampler
    assert isinstance(adaptive, AdaptiveSampler)
    kept = adaptive.samplers["a"]
    agent.serve_json("/sampling", per_operation(0.1, 1.0, a=0.7, c=0.5, d=0.5, e=0.5))
    assert sampler.poll_once() is True
    assert sampler.sampler is adaptive
    assert list(adaptive.samplers) == ["a", "c", "d"], "b pruned, capped at max_operations=3"
    assert adaptive.samplers["a"] is kept and kept.rate == 0.7
    assert sampler.poll_once() is False, "same strategies: no update counted"
    assert counts(sampler)["jaeger:sampler_updates.result_ok"] == 2


def test_switches_between_strategy_kinds(agent: AgentHTTP) -> None:
    sampler = make_sampler(agent)
    for body, expected in [
        (per_operation(0.001, 2, op=0.002), AdaptiveSampler),
        (probabilistic(0.004), ProbabilisticSampler),
        (rate_limiting(3), RateLimitingSampler),
        (per_operation(0.4, 0.5), AdaptiveSampler),
        (probabilistic(0.004), ProbabilisticSampler),
    ]:
        agent.serve_json("/sampling", body)
        assert sampler.poll_once() is True
        assert type(sampler.sampler) is expected


def test_service_name_is_url_encoded(agent: AgentHTTP) -> None:
    agent.serve_json("/sampling", probabilistic(0.5))
    sampler = RemoteControlledSampler(
        service_name="my svc/ü&x=1",
        sampling_endpoint=agent.url("/sampling?extra=1"),
        poll_in_background=False,
    )
    assert sampler.poll_once()
    assert agent.requests[0].query == {"extra": ["1"], "service": ["my svc/ü&x=1"]}


# ---- garbage leaves the sampler unchanged and is counted -----------------------------------------


def _json(obj: Any) -> Reply:
    return json_reply(obj)


def _raw(body: bytes, **kwargs: Any) -> Reply:
    return Reply(body=body, **kwargs)


GARBAGE: list[tuple[str, Reply]] = [
    ("json list", _json([])),
    ("json string", _json("PROBABILISTIC")),
    ("json number", _json(0.5)),
    ("json null", _json(None)),
    ("empty object", _json({})),
    ("rate 5", _json(probabilistic(5))),
    ("rate -1", _json(probabilistic(-1))),
    ("rate NaN literal", _raw(b'{"probabilisticSampling": {"samplingRate": NaN}}')),
    ("rate Infinity literal", _raw(b'{"probabilisticSampling": {"samplingRate": Infinity}}')),
    ("rate 1e999", _raw(b'{"probabilisticSampling": {"samplingRate": 1e999}}')),
    ("rate huge int", _raw(b'{"probabilisticSampling": {"samplingRate": 1' + b"0" * 400 + b"}}")),
    ("rate string", _json(probabilistic("0.5"))),
    ("rate bool", _json(probabilistic(True))),
    ("rate null", _json(probabilistic(None))),
    ("rate object", _json(probabilistic({"v": 0.5}))),
    ("probabilisticSampling not an object", _json({"probabilisticSampling": 0.5})),
    ("probabilisticSampling empty", _json({"probabilisticSampling": {}})),
    ("rate limit 1e9", _json(rate_limiting(1e9))),
    ("rate limit over i16", _json(rate_limiting(32768))),
    ("rate limit -10", _json(rate_limiting(-10))),
    ("rate limit string", _json(rate_limiting("10"))),
    ("rate limit bool", _json(rate_limiting(True))),
    ("adaptive default probability 7", _json(per_operation(7, 1))),
    ("adaptive operation probability 9", _json(per_operation(0.5, 1, op=9))),
    (
        "adaptive lower bound NaN",
        _raw(b'{"operationSampling": {"defaultLowerBoundTracesPerSecond": NaN}}'),
    ),
    ("adaptive lower bound -1", _json(per_operation(0.5, -1))),
    (
        "perOperationStrategies garbage",
        _json({"operationSampling": {"perOperationStrategies": "garbage"}}),
    ),
    (
        "operation name null",
        _json({"operationSampling": {"perOperationStrategies": [{"operation": None}]}}),
    ),
    ("operationSampling a list", _json({"operationSampling": [1, 2]})),
    ("unknown strategy type", _json({"strategyType": "FOO"})),
    (
        "unknown strategy code",
        _json({"strategyType": 7, "probabilisticSampling": {"samplingRate": 0.5}}),
    ),
    (
        "strategy type bool",
        _json({"strategyType": True, "probabilisticSampling": {"samplingRate": 0.5}}),
    ),
    (
        "strategy type a list",
        _json({"strategyType": [], "probabilisticSampling": {"samplingRate": 0.5}}),
    ),
    ("strategy type an object", _json({"strategyType": {"a": 1}})),
    (
        "truncated json",
        _raw(b'{"strategyType": "PROBABILISTIC", "probabilisticSampling": {"samplingR'),
    ),
    ("empty body", _raw(b"")),
    ("invalid utf-8", _raw(b'{"strategyType": "\xff\xfe"}')),
    ("deeply nested", _raw(b"[" * 100_000 + b"]" * 100_000)),
    ("10 MB body", _raw(b'{"pad": "' + b"x" * (10 * 1024 * 1024) + b'"}')),
    (
        "10 MB body without length",
        _raw(b"[" + b"0," * (5 * 1024 * 1024) + b"0]", send_length=False),
    ),
    # a Content-Length claiming 20 MB is rejected before the body is read
    (
        "huge Content-Length",
        Reply(body=b"{}", headers=(("Content-Length", str(20 << 20)),), send_length=False),
    ),
    ("HTTP 500", Reply(500, json.dumps(probabilistic(0.5)).encode())),
    ("HTTP 404", Reply(404, b"no such service", "text/plain")),
    ("HTTP 204", Reply(204, b"")),
    ("redirect loop", Reply(302, b"", "text/html", headers=(("Location", "/sampling"),))),
    (
        "wrong content type",
        Reply(body=json.dumps(probabilistic(0.5)).encode(), content_type="text/html"),
    ),
    (
        "octet-stream",
        Reply(
            body=json.dumps(probabilistic(0.5)).encode(), content_type="application/octet-stream"
        ),
    ),
]


def run_garbage_suite() -> list[str]:
    """Poll every garbage reply once; return what went wrong (empty: all rejected and counted)."""
    problems: list[str] = []
    with agent_http() as agent:
        for name, reply in GARBAGE:
            agent.serve("/sampling", reply)
            init = ProbabilisticSampler(0.25)
            errors = mock.MagicMock()
            sampler = make_sampler(agent, init_sampler=init, error_reporter=errors)
            try:
                changed = sampler.poll_once()
            except BaseException as e:  # the point of the suite: nothing may escape
                problems.append(f"{name}: raised {e!r}")
                continue
            failures = sum(counts(sampler)[key] for key in ERR_KEYS)
            if changed or sampler.sampler is not init:
                problems.append(f"{name}: sampler changed to {sampler.sampler}")
            if failures != 1 or errors.error.call_count != 1:
                problems.append(
                    f"{name}: {failures} failures counted, {errors.error.call_count} reported"
                )
            if not agent.requests_to("/sampling"):
                problems.append(f"{name}: no request reached the server")
            agent.requests.clear()
    return problems


def test_garbage_payloads_leave_sampler_unchanged_and_are_counted() -> None:
    assert len(GARBAGE) >= 30
    assert run_garbage_suite() == []


@pytest.mark.slow
def test_garbage_payloads_are_rejected_under_python_O() -> None:
    """Upstream installed rate 5, -1 and NaN samplers under -O (its validation was assert)."""
    tests_dir = os.path.dirname(os.path.abspath(__file__))
    script = textwrap.dedent(
        f"""
        import sys
        sys.path.insert(0, {tests_dir!r})
        assert False, "asserts must be stripped"
        from test_remote_sampler import GARBAGE, run_garbage_suite
        problems = run_garbage_suite()
        print("optimize", sys.flags.optimize, "payloads", len(GARBAGE), "problems", len(problems))
        for p in problems:
            print(p)
        """
    )
    result = subprocess.run(
        [sys.executable, "-O", "-c", script],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    assert result.stdout.splitlines()[0] == f"optimize 1 payloads {len(GARBAGE)} problems 0", (
        result.stdout
    )


def test_update_sampler_with_decoded_responses_like_upstream() -> None:
    """Upstream's ``_update_sampler(dict)`` seam: invalid keeps the sampler, one error each."""
    prob, other_prob = ProbabilisticSampler(0.002), ProbabilisticSampler(0.003)
    rl, other_rl = RateLimitingSampler(10), RateLimitingSampler(20)
    cases = [
        (probabilistic(0.003), prob, other_prob, 0, False),
        (probabilistic(400), prob, prob, 1, True),
        (probabilistic(0.002), prob, prob, 0, True),
        (rate_limiting(10), prob, rl, 0, False),
        (rate_limiting(10), RateLimitingSampler(10), None, 0, True),
        (rate_limiting(-10), rl, rl, 1, True),
        ({}, rl, rl, 1, True),
        ({"strategyType": "INVALID_TYPE"}, rl, rl, 1, True),
    ]
    for response, init, expected, errors, same in cases:
        reporter = mock.MagicMock()
        sampler = RemoteControlledSampler(
            channel=mock.MagicMock(),
            service_name="x",
            error_reporter=reporter,
            init_sampler=init,
            poll_in_background=False,
        )
        sampler._update_sampler(response)
        assert reporter.error.call_count == errors, response
        if same:
            assert sampler.sampler is init, response
        else:
            assert sampler.sampler == expected, response
    sampler = RemoteControlledSampler(None, "x", init_sampler=rl, poll_in_background=False)
    sampler._update_sampler(rate_limiting(20))
    assert sampler.sampler == other_rl


# ---- timeouts, body cap, close -------------------------------------------------------------------


def test_server_that_never_answers_is_abandoned_within_the_timeout() -> None:
    with silent_listener() as port:
        errors = mock.MagicMock()
        sampler = RemoteControlledSampler(
            service_name="svc",
            sampling_endpoint=f"http://127.0.0.1:{port}/sampling",
            http_timeout=0.3,
            poll_in_background=False,
            metrics_factory=CountingMetricsFactory(),
            error_reporter=errors,
        )
        start = time.monotonic()
        assert sampler.poll_once() is False
        elapsed = time.monotonic() - start
    assert 0.25 <= elapsed < 1.0, elapsed
    assert counts(sampler)["jaeger:sampler_queries.result_err"] == 1
    assert "timed out" in str(errors.error.call_args)


def test_slow_drip_body_is_cut_at_the_deadline() -> None:
    """A server sending a byte now and then cannot hold the poller past the request timeout."""
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(1)
        stop = threading.Event()

        def drip() -> None:
            conn, _ = listener.accept()
            with conn:
                conn.recv(65536)
                conn.sendall(b"HTTP/1.0 200 OK\r\nContent-Type: application/json\r\n\r\n[")
                while not stop.wait(0.05):
                    try:
                        conn.sendall(b"0,")
                    except OSError:
                        return

        thread = threading.Thread(target=drip, daemon=True)
        thread.start()
        sampler = RemoteControlledSampler(
            service_name="svc",
            sampling_endpoint=f"http://127.0.0.1:{listener.getsockname()[1]}/sampling",
            http_timeout=0.4,
            poll_in_background=False,
            error_reporter=mock.MagicMock(),
        )
        start = time.monotonic()
        assert sampler.poll_once() is False
        elapsed = time.monotonic() - start
        stop.set()
        thread.join(5)
    assert 0.35 <= elapsed < 1.0, elapsed


def test_close_returns_promptly_while_a_poll_hangs(agent: AgentHTTP) -> None:
    agent.serve("/sampling", HANG)
    before = live_threads(POLLER)
    sampler = make_sampler(agent, poll_in_background=True)  # default 10 s request timeout
    sampler.is_sampled(1, "op")
    assert agent.hanging.wait(5), "the first poll starts at once"
    (poller,) = new_threads(POLLER, before)
    start = time.monotonic()
    sampler.close()
    elapsed = time.monotonic() - start
    assert elapsed < 1.0, elapsed
    assert has_ended(poller), "poller thread ended"
    assert counts(sampler)["jaeger:sampler_queries.result_err"] <= 1


def test_tracer_close_closes_the_sampler(agent: AgentHTTP) -> None:
    agent.serve("/sampling", HANG)
    before = live_threads(POLLER)
    sampler = make_sampler(agent, poll_in_background=True)
    tracer = Tracer("svc", InMemoryReporter(), sampler)
    tracer.start_span("root").finish()
    assert agent.hanging.wait(5)
    (poller,) = new_threads(POLLER, before)
    start = time.monotonic()
    tracer.close()
    assert time.monotonic() - start < 1.0
    assert not sampler.running
    assert has_ended(poller)


def test_close_is_idempotent_and_stops_all_polling(agent: AgentHTTP) -> None:
    agent.serve_json("/sampling", probabilistic(0.5))
    sampler = make_sampler(agent, poll_in_background=True)
    sampler.close()
    sampler.close()
    assert sampler.poll_once() is False
    assert sampler.is_sampled(1)[0] is True, "the last delegate keeps deciding"
    assert sampler.is_sampled(HALF)[1] == {
        "sampler.type": "probabilistic",
        "sampler.param": DEFAULT_SAMPLING_PROBABILITY,
    }
    assert not live_threads(POLLER)
    assert agent.requests == []


# ---- the poller thread ---------------------------------------------------------------------------


def test_constructor_starts_no_thread_first_decision_starts_poller_which_fetches_at_once(
    agent: AgentHTTP,
) -> None:
    agent.serve_json("/sampling", probabilistic(0.75))
    before = live_threads(POLLER)
    sampler = make_sampler(agent, poll_in_background=True)
    assert not new_threads(POLLER, before), "no thread before first use (pre-fork safe)"
    try:
        sampler.is_sampled(1, "op")
        assert wait_until(lambda: str(sampler.sampler) == "ProbabilisticSampler(0.75)", timeout=5)
        mine = [t for t in new_threads(POLLER, before) if t.daemon]
        assert mine, "a named daemon thread"
        sampler.is_sampled(2, "op")
        assert len(new_threads(POLLER, before)) == 1, "one thread per sampler"
    finally:
        sampler.close()


def test_poller_repeats_every_interval(agent: AgentHTTP) -> None:
    agent.serve_json("/sampling", probabilistic(0.5))
    sampler = make_sampler(agent, poll_in_background=True, sampling_refresh_interval=0.05)
    try:
        sampler.is_sampled(1)
        assert wait_until(lambda: len(agent.requests_to("/sampling")) >= 3, timeout=5)
    finally:
        sampler.close()


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs os.fork")
@pytest.mark.filterwarnings("ignore:This process .* is multi-threaded:DeprecationWarning")
def test_forked_child_starts_its_own_poller(agent: AgentHTTP) -> None:
    agent.serve_json("/sampling", probabilistic(0.25))
    sampler = make_sampler(agent, poll_in_background=True)
    try:
        sampler.is_sampled(1)
        assert wait_until(lambda: str(sampler.sampler) == "ProbabilisticSampler(0.25)", timeout=5)
        agent.serve_json("/sampling", probabilistic(0.75))
        pid = os.fork()
        if pid == 0:  # pragma: no cover - child
            code = 1
            try:
                sampler.is_sampled(1)
                deadline = time.monotonic() + 5
                while time.monotonic() < deadline:
                    if str(sampler.sampler) == "ProbabilisticSampler(0.75)":
                        code = 0
                        break
                    time.sleep(0.01)
            finally:
                os._exit(code)
        deadline = time.monotonic() + 10
        status = None
        while time.monotonic() < deadline:
            done, raw = os.waitpid(pid, os.WNOHANG)
            if done:
                status = os.waitstatus_to_exitcode(raw)
                break
            time.sleep(0.01)
        if status is None:
            os.kill(pid, 9)
            os.waitpid(pid, 0)
        assert status == 0, "the child polled on its own thread and applied the new strategy"
        assert str(sampler.sampler) == "ProbabilisticSampler(0.25)", (
            "the parent waits for its interval"
        )
    finally:
        sampler.close()


# ---- late binding (set_operation_name on a root span) -------------------------------------------


def late_binding_tracer(agent: AgentHTTP) -> tuple[Tracer, RemoteControlledSampler]:
    agent.serve_json("/sampling", per_operation(0.0, 0.0, specific=1.0, generic=0.0))
    sampler = make_sampler(agent)
    sampler.poll_once()
    return Tracer("svc", InMemoryReporter(), sampler), sampler


def test_renaming_unsampled_root_redecides_with_the_new_operation(agent: AgentHTTP) -> None:
    tracer, _ = late_binding_tracer(agent)
    span = tracer.start_span("generic")
    assert not span.is_sampled()
    span.set_operation_name("specific")
    assert span.is_sampled()
    tags = {key: value for key, _, value in span._tags}
    assert tags["sampler.type"] == "probabilistic" and tags["sampler.param"] == 1.0


def test_renaming_a_sampled_root_or_a_child_changes_nothing(agent: AgentHTTP) -> None:
    tracer, _ = late_binding_tracer(agent)
    root = tracer.start_span("specific")
    assert root.is_sampled()
    root.set_operation_name("generic")
    assert root.is_sampled(), "a yes is final"
    unsampled_root = tracer.start_span("generic")
    child = tracer.start_span("generic", child_of=unsampled_root)  # copies the "no"
    child.set_operation_name("specific")
    assert not child.is_sampled(), "only root spans are re-decided"


@pytest.mark.skipif(not hasattr(Span, "has_children"), reason="tracer does not track children yet")
def test_renaming_a_root_after_its_decision_was_handed_on_changes_nothing(agent: AgentHTTP) -> None:
    tracer, _ = late_binding_tracer(agent)
    root = tracer.start_span("generic")
    tracer.start_span("child", child_of=root)
    root.set_operation_name("specific")
    assert not root.is_sampled(), "the child already carries the decision"
    injected = tracer.start_span("generic")
    tracer.inject(injected.context, "text_map", {})
    injected.set_operation_name("specific")
    assert not injected.is_sampled(), "a downstream service already has the decision"


def test_non_per_operation_delegates_ignore_renames(agent: AgentHTTP) -> None:
    agent.serve_json("/sampling", rate_limiting(0))
    sampler = make_sampler(agent)
    sampler.poll_once()
    tracer = Tracer("svc", InMemoryReporter(), sampler)
    span = tracer.start_span("a")
    span.set_operation_name("b")
    assert not span.is_sampled()


# ---- construction -------------------------------------------------------------------------------


def test_default_endpoint_comes_from_the_channel_or_localhost() -> None:
    channel = LocalAgentSender(host="10.1.2.3", sampling_port=15778, reporting_port=6831)
    assert (
        RemoteControlledSampler(channel, "svc").sampling_endpoint
        == "http://10.1.2.3:15778/sampling"
    )
    v6 = LocalAgentSender(host="::1", sampling_port=5778, reporting_port=6831)
    assert RemoteControlledSampler(v6, "svc").sampling_endpoint == "http://[::1]:5778/sampling"
    assert (
        RemoteControlledSampler(service_name="svc").sampling_endpoint
        == "http://localhost:5778/sampling"
    )
    explicit = RemoteControlledSampler(
        channel, "svc", sampling_endpoint="http://collector:14268/api/sampling"
    )
    assert explicit.sampling_endpoint == "http://collector:14268/api/sampling"


def test_upstream_defaults() -> None:
    sampler = RemoteControlledSampler(
        channel=mock.MagicMock(), service_name="x", max_operations=None
    )
    assert sampler.max_operations == DEFAULT_MAX_OPERATIONS
    assert sampler.sampling_refresh_interval == 60
    assert str(sampler.sampler) == f"ProbabilisticSampler({DEFAULT_SAMPLING_PROBABILITY})"
    assert sampler.running
    sampler.close()
    assert not sampler.running


@pytest.mark.parametrize(
    ("kwargs", "error", "match"),
    [
        ({"service_name": None}, ValueError, "service_name"),
        ({"service_name": ""}, ValueError, "service_name"),
        ({"sampling_refresh_interval": 0}, ValueError, "sampling_refresh_interval"),
        ({"sampling_refresh_interval": -5}, ValueError, "sampling_refresh_interval"),
        ({"sampling_refresh_interval": float("nan")}, ValueError, "sampling_refresh_interval"),
        ({"sampling_refresh_interval": "60"}, ValueError, "sampling_refresh_interval"),
        ({"max_operations": 0}, ValueError, "max_operations"),
        ({"max_operations": 1.5}, ValueError, "max_operations"),
        ({"http_timeout": 0}, ValueError, "http_timeout"),
        ({"sampling_endpoint": "localhost:5778"}, ValueError, "sampling_endpoint"),
        ({"sampling_endpoint": "ftp://host/sampling"}, ValueError, "sampling_endpoint"),
        ({"sampling_endpoint": "http://[::1/sampling"}, ValueError, "sampling_endpoint"),
        ({"sampling_endpoint": 5778}, ValueError, "sampling_endpoint"),
        ({"init_sampler": object()}, TypeError, "init_sampler"),
    ],
)
def test_invalid_constructor_arguments_raise(
    kwargs: dict[str, Any], error: type, match: str
) -> None:
    kwargs = {"service_name": "svc", **kwargs}
    with pytest.raises(error, match=match):
        RemoteControlledSampler(**kwargs)


def test_str_names_service_endpoint_and_delegate() -> None:
    sampler = RemoteControlledSampler(service_name="svc", init_sampler=ConstSampler(True))
    assert (
        str(sampler)
        == "RemoteControlledSampler(svc, http://localhost:5778/sampling, ConstSampler(True))"
    )


def test_content_type_variants_that_are_json(agent: AgentHTTP) -> None:
    sampler = make_sampler(agent)
    body = json.dumps(probabilistic(0.5)).encode()
    for i, content_type in enumerate([JSON, "application/json; charset=utf-8", "text/plain", None]):
        agent.serve(
            "/sampling",
            Reply(body=json.dumps(probabilistic(0.5 - i / 10)).encode(), content_type=content_type),
        )
        assert sampler.poll_once() is True, content_type
    agent.serve("/sampling", Reply(body=b"\xef\xbb\xbf" + body))
    assert sampler.poll_once() is True, "a UTF-8 BOM is tolerated"
