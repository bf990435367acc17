"""jaeger_client.testing: the in-process agent and its pytest fixture."""

from __future__ import annotations

import importlib
import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from _agent_helpers import batch, batch_body, emit_batch, http, send_udp, span

from jaeger_client import testing
from jaeger_client.agent import Strategies, StrategyError
from jaeger_client.testing import InProcessAgent

# the fixture, taken into this module the way a user's conftest.py would
jaeger_agent = testing.jaeger_agent


def test_spans_from_every_transport_are_recorded_and_grouped_into_traces() -> None:
    with InProcessAgent() as agent:
        send_udp(agent.reporting_port, emit_batch(batch([span("root", 1)], "web")))
        send_udp(agent.binary_port, emit_batch(batch([span("child", 2, 1)], "web"), "binary"))
        body = batch_body(batch([span("other-trace", 9, trace_low=77)], "db"))
        assert http(agent.sampling_port, "/api/traces", body=body)[0] == 202

        spans = agent.wait_for_spans(3)
    assert sorted(s.transport for s in spans) == ["binary", "compact", "http"]
    assert len(agent.batches) == 3
    by_size = sorted(agent.traces, key=lambda t: len(t.spans))
    assert [len(t.spans) for t in by_size] == [1, 2]
    two = by_size[1]
    assert [s.operation_name for s in two.children(two.find("root"))] == ["child"]


def test_wait_for_spans_times_out_naming_what_arrived() -> None:
    with InProcessAgent() as agent:
        send_udp(agent.reporting_port, emit_batch(batch([span("only-one", 1)])))
        agent.wait_for_spans(1)
        send_udp(agent.reporting_port, b"junk")
        with pytest.raises(
            TimeoutError, match=r"expected 2 spans within 0.05 s, got 1: \['only-one'\]"
        ):
            agent.wait_for_spans(2, timeout=0.05)


def test_wait_for_trace_returns_the_first_trace_big_enough() -> None:
    with InProcessAgent() as agent:
        send_udp(agent.reporting_port, emit_batch(batch([span("a", 1, trace_low=5)])))
        send_udp(agent.reporting_port, emit_batch(batch([span("b", 1), span("c", 2, 1)])))
        trace = agent.wait_for_trace(2)
        assert [s.operation_name for s in trace.spans] == ["b", "c"]
        with pytest.raises(TimeoutError, match="trace sizes"):
            agent.wait_for_trace(3, timeout=0.01)


def test_malformed_input_is_recorded_with_its_reason() -> None:
    with InProcessAgent() as agent:
        send_udp(agent.reporting_port, b"\x82\x21\x00\x05hello")
        send_udp(agent.reporting_port, emit_batch(batch([span("after", 1)])))
        agent.wait_for_spans(1)
        (bad,) = agent.malformed
    assert bad.transport == "compact"
    assert bad.size == 9


def test_config_points_a_tracer_at_the_agent() -> None:
    with InProcessAgent() as agent:
        config = agent.config()
        assert config == {
            "sampler": {"type": "const", "param": 1},
            "local_agent": {
                "reporting_host": "127.0.0.1",
                "reporting_port": agent.reporting_port,
                "sampling_port": agent.sampling_port,
            },
            "reporter_flush_interval": 0.01,
            "sampling_refresh_interval": 60.0,
        }
        full = agent.config(
            sampler={"type": "remote"},
            transport="http",
            throttler=True,
            baggage_restrictions=True,
            refresh_interval=0.5,
            extra={"reporter_batch_size": 5, "sampling_refresh_interval": 2},
        )
    assert full["sampler"] == {"type": "remote"}
    assert full["collector_endpoint"] == f"http://127.0.0.1:{agent.sampling_port}/api/traces"
    assert full["throttler"] == {"port": agent.throttling_port, "refresh_interval": 0.5}
    assert full["baggage_restrictions"] == {"refresh_interval": 0.5}
    assert (full["reporter_batch_size"], full["sampling_refresh_interval"]) == (5, 2)


def test_config_rejects_an_unknown_transport() -> None:
    with (
        InProcessAgent() as agent,
        pytest.raises(ValueError, match="transport must be 'udp' or 'http'"),
    ):
        agent.config(transport="tcp")


def test_endpoints_name_the_http_port() -> None:
    with InProcessAgent() as agent:
        assert agent.sampling_endpoint == f"http://127.0.0.1:{agent.sampling_port}/sampling"
        assert agent.collector_endpoint.endswith(f":{agent.sampling_port}/api/traces")


def test_set_strategy_restrictions_and_credits_are_served_at_once() -> None:
    with InProcessAgent() as agent:
        agent.set_strategy({"type": "probabilistic", "param": 0.25}, service="svc")
        agent.set_strategy({"type": "ratelimiting", "param": 3})
        agent.set_baggage_restrictions({"user": 8}, service="svc")
        agent.set_credits({"balance": 0.5}, service="svc")
        port = agent.sampling_port
        svc = json.loads(http(port, "/sampling?service=svc")[1])
        other = json.loads(http(port, "/sampling?service=other")[1])
        restrictions = json.loads(http(port, "/baggageRestrictions?service=svc")[1])
        credits = json.loads(http(port, "/credits?service=svc&uuid=1&operations=op")[1])
        requests = agent.wait_for_requests("/sampling", count=2)
    assert svc["probabilisticSampling"] == {"samplingRate": 0.25}
    assert other["rateLimitingSampling"] == {"maxTracesPerSecond": 3}
    assert restrictions == [{"baggageKey": "user", "maxValueLength": 8}]
    assert credits == {"balances": [{"operation": "op", "balance": 0.5}]}
    assert [r.query["service"] for r in requests] == [["svc"], ["other"]]


def test_invalid_strategy_raises_at_the_call() -> None:
    with InProcessAgent() as agent, pytest.raises(StrategyError, match="must be"):
        agent.set_strategy({"type": "probabilistic", "param": 3})


def test_set_response_injects_faults_until_cleared() -> None:
    with InProcessAgent() as agent:
        agent.set_response("/sampling", b"{not json", status=200)
        assert http(agent.sampling_port, "/sampling?service=s")[1] == b"{not json"
        agent.set_response("/credits", "down", status=503)
        assert http(agent.sampling_port, "/credits?service=s")[0] == 503
        agent.clear_responses()
        assert http(agent.sampling_port, "/credits?service=s")[0] == 200


def test_strategies_document_or_object_is_accepted() -> None:
    document = {"default_strategy": {"type": "ratelimiting", "param": 1}}
    with InProcessAgent(strategies=document) as agent:
        assert json.loads(http(agent.sampling_port, "/sampling?service=x")[1])["strategyType"] == (
            "RATE_LIMITING"
        )
    strategies = Strategies()
    with InProcessAgent(strategies=strategies) as agent:
        assert agent.strategies is strategies


def test_collector_auth_is_required_when_given() -> None:
    body = batch_body(batch([span("a", 1)]))
    with InProcessAgent(collector_auth="Basic dTpw") as agent:
        assert http(agent.sampling_port, "/api/traces", body=body)[0] == 401
        headers = {"Authorization": "Basic dTpw"}
        assert http(agent.sampling_port, "/api/traces", body=body, headers=headers)[0] == 202
        assert agent.wait_for_requests("/api/traces", 2)[1].headers["authorization"] == "Basic dTpw"


def test_clear_forgets_everything_recorded() -> None:
    with InProcessAgent() as agent:
        send_udp(agent.reporting_port, emit_batch(batch([span("a", 1)])))
        agent.wait_for_spans(1)
        http(agent.sampling_port, "/sampling?service=s")
        agent.clear()
        assert (agent.spans, agent.batches, agent.traces, agent.requests, agent.malformed) == (
            [],
            [],
            [],
            [],
            [],
        )


def test_recordings_stay_readable_after_close_and_close_is_idempotent() -> None:
    agent = InProcessAgent()
    send_udp(agent.reporting_port, emit_batch(batch([span("a", 1)])))
    agent.wait_for_spans(1)
    agent.close()
    agent.close()
    assert [s.operation_name for s in agent.spans] == ["a"]


def test_pytest_fixture_gives_a_running_agent(jaeger_agent: InProcessAgent) -> None:
    send_udp(jaeger_agent.reporting_port, emit_batch(batch([span("via-fixture", 1)])))
    assert jaeger_agent.wait_for_spans(1)[0].operation_name == "via-fixture"


def test_fixture_object_is_built_once() -> None:
    assert testing.jaeger_agent is jaeger_agent
    assert "jaeger_agent" in dir(testing)
    with pytest.raises(AttributeError, match="no attribute 'nope'"):
        testing.nope  # noqa: B018  # the attribute access is the test


def run_python(code: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", code], cwd=cwd, capture_output=True, text=True, timeout=60
    )


def test_importing_testing_does_not_import_pytest(tmp_path: Path) -> None:
    code = textwrap.dedent(
        """
        import sys
        sys.modules["pytest"] = None  # as if pytest were not installed
        import jaeger_client.testing as t
        with t.InProcessAgent() as agent:
            assert agent.reporting_port
        try:
            t.jaeger_agent
        except ImportError as e:
            print(e)
        """
    )
    result = run_python(code, tmp_path)
    assert result.returncode == 0, result.stderr
    assert "is a pytest fixture; install pytest" in result.stdout


@pytest.mark.parametrize(
    "conftest",
    [
        "from jaeger_client.testing import jaeger_agent  # noqa: F401\n",
        'pytest_plugins = ["jaeger_client.testing"]\n',
    ],
    ids=["import", "pytest_plugins"],
)
@pytest.mark.slow
def test_fixture_works_from_a_users_conftest(tmp_path: Path, conftest: str) -> None:
    (tmp_path / "conftest.py").write_text(conftest)
    (tmp_path / "test_user.py").write_text(
        textwrap.dedent(
            """
            import socket

            def test_agent_is_running(jaeger_agent):
                with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
                    sock.sendto(b"junk", ("127.0.0.1", jaeger_agent.reporting_port))
                assert jaeger_agent.config()["local_agent"]["reporting_port"] > 0
            """
        )
    )
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "-q",
            "-p",
            "no:cacheprovider",
            "-W",
            "error",
            str(tmp_path),
        ],
        cwd=tmp_path,
        env={**os.environ, "PYTEST_DISABLE_PLUGIN_AUTOLOAD": "1"},  # a bare pytest starts faster
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "1 passed" in result.stdout


@pytest.mark.slow
@pytest.mark.skipif(
    not hasattr(importlib.import_module("jaeger_client.senders"), "UDPSender"),
    reason="examples/demo.py reports through senders.UDPSender, not merged yet",
)
def test_demo_runs_end_to_end_and_prints_the_trace_tree() -> None:
    demo = Path(__file__).resolve().parent.parent / "examples" / "demo.py"
    result = subprocess.run(
        [sys.executable, "-W", "error", str(demo)], capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stdout + result.stderr
    out = result.stdout
    assert "8 spans, 2 services" in out
    assert "the agent received 8 spans" in out and ", 0 malformed" in out
    assert "`- inventory: reserve" in out  # the downstream span sits under the client span
    assert "error=true" in out
