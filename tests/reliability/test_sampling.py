"""Figure 8: a sampling server that answers garbage or never answers (RELIABILITY 2.8).

Every garbage reply of the unit suite's catalogue (``tests/test_remote_sampler.py``) is served
over real HTTP to a tracer's remote sampler, polled one step at a time; the tracer keeps sampling
with the strategy it had, which the spans that reach the agent show. The same run happens in a
``python -O`` child, where upstream installed invalid strategies (its checks were asserts).
"""

from __future__ import annotations

import json
import logging
import time
from typing import Any, Callable

from _http_agent import HANG, CountingMetricsFactory, agent_http, json_reply, silent_listener

from jaeger_client import Tracer, constants
from jaeger_client.local_agent_net import LocalAgentSender
from jaeger_client.reporter import Reporter
from jaeger_client.sampler import ProbabilisticSampler, RemoteControlledSampler
from jaeger_client.utils import ErrorReporter

from ._support import UdpAgent, run_python

DEADLINE = 10.0
ERR_KEYS = ("jaeger:sampler_queries.result_err", "jaeger:sampler_updates.result_err")
SPANS_PER_POLL = 20


def run_garbage_polls() -> dict[str, Any]:
    """Serve each garbage reply, poll once, start spans; return what happened (no asserts: this
    also runs under ``python -O``)."""
    from test_remote_sampler import GARBAGE

    quiet = logging.getLogger("reliability.sampling")
    quiet.addHandler(logging.NullHandler())
    quiet.propagate = False
    metrics = CountingMetricsFactory()
    initial = ProbabilisticSampler(0.5)
    result: dict[str, Any] = {
        "payloads": len(GARBAGE),
        "escaped": [],
        "changed": [],
        "wrong_decisions": 0,
        "spans": 0,
    }
    with agent_http() as http, UdpAgent() as agent:
        sampler = RemoteControlledSampler(
            service_name="svc",
            sampling_endpoint=http.url("/sampling"),
            init_sampler=initial,
            poll_in_background=False,
            metrics_factory=metrics,
            error_reporter=ErrorReporter(None, logger=quiet),
        )
        channel = LocalAgentSender(host=agent.host, reporting_port=agent.port)
        tracer = Tracer("svc", Reporter(channel, flush_interval=0.05), sampler)
        expected_sampled = 0
        for name, reply in GARBAGE:
            http.serve("/sampling", reply)
            try:
                changed = sampler.poll_once()
            except BaseException as e:  # the point of the run: nothing may escape
                result["escaped"].append(f"{name}: {e!r}")
                continue
            if changed or sampler.sampler is not initial:
                result["changed"].append(f"{name}: {sampler.sampler}")
            for _ in range(SPANS_PER_POLL):
                span = tracer.start_span("garbage")
                decision, _ = initial.is_sampled(span.trace_id, "garbage")
                result["wrong_decisions"] += span.is_sampled() != decision
                expected_sampled += decision
                span.finish()
                result["spans"] += 1
        result["failures_counted"] = sum(metrics.counts[key] for key in ERR_KEYS)
        result["requests"] = len(http.requests_to("/sampling"))
        # a good strategy is still taken afterwards
        http.serve("/sampling", json_reply({"probabilisticSampling": {"samplingRate": 1.0}}))
        result["recovered"] = sampler.poll_once() and sampler.sampler == ProbabilisticSampler(1.0)
        for _ in range(SPANS_PER_POLL):
            tracer.start_span("after").finish()
        tracer.close().result(DEADLINE)
        received = agent.wait_for_spans(expected_sampled + SPANS_PER_POLL, DEADLINE)
    params = {}
    for span in received:
        tags = {t.key: t for t in span.tags or ()}
        param = tags[constants.SAMPLER_PARAM_TAG_KEY].vDouble
        params[span.operationName] = params.get(span.operationName, set()) | {param}
    result["expected_sampled"] = expected_sampled
    result["received"] = {k: len([s for s in received if s.operationName == k]) for k in params}
    result["params"] = {k: sorted(v) for k, v in params.items()}
    return result


def summary(result: dict[str, Any]) -> str:
    return (
        f"{result['payloads']} garbage payloads: {len(result['escaped'])} exceptions, sampler "
        f"changed {len(result['changed'])} times, {result['wrong_decisions']} of "
        f"{result['spans']} decisions off the initial strategy, failure metric "
        f"{result['failures_counted']} for {result['payloads']} bad polls"
    )


def check(result: dict[str, Any]) -> list[str]:
    problems = list(result["escaped"]) + list(result["changed"])
    if result["wrong_decisions"]:
        problems.append(f"{result['wrong_decisions']} decisions off the initial strategy")
    if result["failures_counted"] != result["payloads"]:
        problems.append(f"failure metric {result['failures_counted']}")
    if result["requests"] != result["payloads"]:
        problems.append(f"{result['requests']} requests for {result['payloads']} polls")
    if not result["recovered"]:
        problems.append("a good strategy after the garbage was not applied")
    if result["params"] != {"garbage": [0.5], "after": [1.0]}:
        problems.append(f"sampler tags on delivered spans: {result['params']}")
    if result["received"].get("garbage") != result["expected_sampled"]:
        problems.append(f"{result['received']} delivered of {result['expected_sampled']}")
    return problems


CHILD = """
import json, sys
from reliability.test_sampling import run_garbage_polls
result = run_garbage_polls()
result["optimize"] = sys.flags.optimize
print(json.dumps(result))
"""


def test_garbage_from_the_sampling_server_changes_nothing_with_and_without_python_O(
    figure: Callable[[int, str], None],
) -> None:
    plain = run_garbage_polls()
    child = run_python(CHILD, optimize=True)
    assert child.returncode == 0, child.stderr[-3000:]
    optimized = json.loads(child.stdout.splitlines()[-1])
    figure(
        8,
        f"{summary(plain)}; under python -O: {summary(optimized)}; a good strategy afterwards "
        f"applied: {plain['recovered']} / {optimized['recovered']}",
    )
    assert plain["payloads"] >= 30
    assert optimized["optimize"] == 1
    assert check(plain) == []
    assert check(optimized) == []


def test_a_sampling_server_that_never_answers_costs_neither_polls_nor_close(
    figure: Callable[[int, str], None],
) -> None:
    timeout = 0.5
    with silent_listener() as port:  # accepts the connection, never answers
        metrics = CountingMetricsFactory()
        sampler = RemoteControlledSampler(
            service_name="svc",
            sampling_endpoint=f"http://127.0.0.1:{port}/sampling",
            http_timeout=timeout,
            poll_in_background=False,
            metrics_factory=metrics,
            error_reporter=ErrorReporter(None, logger=logging.getLogger("reliability.hang")),
        )
        start = time.monotonic()
        changed = sampler.poll_once()
        abandoned_in = time.monotonic() - start
    with agent_http() as http:
        http.serve("/sampling", HANG)  # reads the request, then never answers
        background = RemoteControlledSampler(
            service_name="svc",
            sampling_endpoint=http.url("/sampling"),  # the default 10 s request timeout
            init_sampler=ProbabilisticSampler(1.0),
        )
        tracer = Tracer("svc", Reporter(None, sender=_NullSender()), background)
        tracer.start_span("first").finish()  # starts the poller, whose first poll hangs
        assert http.hanging.wait(DEADLINE)
        sampled = sum(tracer.start_span("meanwhile").is_sampled() for _ in range(100))
        start = time.monotonic()
        tracer.close().result(DEADLINE)
        closed_in = time.monotonic() - start
    figure(
        8,
        f"hanging server (accepts, never answers): poll abandoned after {abandoned_in:.2f} s "
        f"(timeout {timeout} s), failure counted {metrics.counts[ERR_KEYS[0]]}; with a poll "
        f"hanging, {sampled} of 100 spans sampled by the current strategy and tracer.close() "
        f"returned in {closed_in * 1e3:.0f} ms (target < 1 s)",
    )
    assert changed is False
    assert timeout <= abandoned_in < timeout + 0.5
    assert metrics.counts[ERR_KEYS[0]] == 1
    assert sampled == 100
    assert closed_in < 1.0


class _NullSender:
    """A Sender that accepts every span (where they go does not matter here)."""

    def set_process(self, service_name: str, tags: Any, max_length: int) -> None:
        pass

    def send(self, spans: Any, queue_dropped: int) -> Any:
        from jaeger_client.senders import SendResult

        return SendResult(len(spans), 0, 0)

    def close(self) -> None:
        pass

    def reset_after_fork(self) -> None:
        pass
