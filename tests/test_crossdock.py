"""crossdock/: the Python crossdock server, its driver, and the matrix against the Node server."""

from __future__ import annotations

import inspect
import json
import socket
import subprocess
import sys
import threading
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any, Optional

import pytest

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:  # crossdock/ is not an installed package: import it from the tree
    sys.path.insert(0, str(ROOT))

from crossdock import driver  # noqa: E402
from crossdock.server import server as crossdock_server  # noqa: E402
from crossdock.server.constants import BAGGAGE_KEY, DEFAULT_PORTS  # noqa: E402
from crossdock.server.endtoend import parse_agent_host_port  # noqa: E402
from jaeger_client import testing  # noqa: E402
from jaeger_client.testing import InProcessAgent  # noqa: E402

jaeger_agent = testing.jaeger_agent

_OPENER = urllib.request.build_opener(urllib.request.ProxyHandler({}))


@pytest.fixture
def server() -> Iterator[crossdock_server.CrossdockServer]:
    """The Python crossdock server in this process on two free loopback ports."""
    with crossdock_server.CrossdockServer((0, 0), "127.0.0.1", environ={}) as running:
        yield running


def request(
    port: int,
    path: str,
    body: Any = None,
    *,
    method: Optional[str] = None,
    headers: Optional[dict[str, str]] = None,
    raw: Optional[bytes] = None,
) -> tuple[int, bytes]:
    data = raw if raw is not None else (None if body is None else json.dumps(body).encode())
    req = urllib.request.Request(
        f"http://127.0.0.1:{port}{path}",
        data=data,
        headers={"Content-Type": "application/json", **(headers or {})},
        method=method or ("GET" if data is None else "POST"),
    )
    try:
        with _OPENER.open(req, timeout=10) as reply:
            return reply.status, reply.read()
    except urllib.error.HTTPError as e:
        return e.code, e.read()


def downstream(role: str, port: int, then: Optional[dict[str, Any]] = None) -> dict[str, Any]:
    return {
        "serviceName": "python",
        "serverRole": role,
        "host": "127.0.0.1",
        "port": str(port),
        "transport": "HTTP",
        "downstream": then,
    }


# ---- routes -----------------------------------------------------------------------------------


def test_health_check_answers_get_and_head_on_every_port(server: Any) -> None:
    assert len(server.ports) == 2
    for port in server.ports:
        assert request(port, "/") == (200, b"")
        assert request(port, "/", method="HEAD") == (200, b"")


def test_unknown_routes_are_404(server: Any) -> None:
    assert request(server.ports[0], "/nope")[0] == 404
    assert request(server.ports[0], "/nope", {})[0] == 404


def test_start_trace_starts_a_new_trace_with_baggage_and_sampling_ignoring_inbound() -> None:
    """sampling.priority 0 on a ConstSampler(True) tracer unsamples; the inbound id is ignored."""
    with crossdock_server.CrossdockServer((0,), "127.0.0.1", environ={}) as running:
        inbound = {"uber-trace-id": "abc:def:0:1"}
        for sampled in (True, False):
            status, body = request(
                running.ports[0],
                "/start_trace",
                {"serverRole": "S1", "sampled": sampled, "baggage": "b a+g/é"},
                headers=inbound,
            )
            assert status == 200, body
            response = json.loads(body)
            assert response["span"]["sampled"] is sampled
            assert response["span"]["baggage"] == "b a+g/é"
            assert int(response["span"]["traceId"], 16) != 0xABC
            assert response["notImplementedError"] == ""
            assert "downstream" not in response


def test_join_trace_continues_the_inbound_trace_with_its_baggage(server: Any) -> None:
    headers = {
        "uber-trace-id": "00000000000000000000000000000abc:def:0:0",
        f"uberctx-{BAGGAGE_KEY}": "two%20words+%2B",
    }
    status, body = request(server.ports[1], "/join_trace", {"serverRole": "S2"}, headers=headers)
    assert status == 200, body
    assert json.loads(body)["span"] == {
        "traceId": "abc",
        "sampled": False,
        "baggage": "two words +",
    }


def test_the_servers_headers_follow_jaeger_propagation() -> None:
    """``JAEGER_PROPAGATION=b3 crossdock``: the server reads and writes B3 headers."""
    environ = {"JAEGER_PROPAGATION": "b3"}
    with crossdock_server.CrossdockServer((0, 0), "127.0.0.1", environ=environ) as running:
        headers = {"X-B3-TraceId": "0" * 13 + "abc", "X-B3-SpanId": "1" * 16, "X-B3-Sampled": "1"}
        status, body = request(
            running.ports[0],
            "/join_trace",
            {"serverRole": "S2", "downstream": downstream("S3", running.ports[1])},
            headers=headers,
        )
    assert status == 200, body
    response = json.loads(body)
    assert response["span"]["traceId"] == "abc"
    assert response["downstream"]["span"] == {"traceId": "abc", "sampled": True, "baggage": ""}


def test_join_trace_with_a_malformed_header_answers_200_with_a_new_trace(server: Any) -> None:
    headers = {"uber-trace-id": "not:a:trace:id"}
    status, body = request(server.ports[1], "/join_trace", {"serverRole": "S2"}, headers=headers)
    assert status == 200, body
    span = json.loads(body)["span"]
    assert int(span["traceId"], 16) != 0
    assert span["sampled"] is True  # a new root of the ConstSampler(True) tracer


def test_a_chain_through_both_ports_reports_every_level(server: Any) -> None:
    first, second = server.ports
    chain = downstream("S2", second, downstream("S3", first))
    status, body = request(
        first,
        "/start_trace",
        {"serverRole": "S1", "sampled": False, "baggage": "x", "downstream": chain},
    )
    assert status == 200, body
    response = json.loads(body)
    assert driver.check_trace_response(response, sampled=False, baggage="x", levels=3) == []
    assert response["downstream"]["downstream"]["span"]["traceId"] == response["span"]["traceId"]


@pytest.mark.parametrize(
    "raw",
    [
        b"{not json",
        b"[1, 2]",
        b'{"serverRole": "S1", "baggage": "x"}',
        b'{"serverRole": "S1", "sampled": 1, "baggage": "x"}',
        b'{"serverRole": "S1", "sampled": true, "baggage": 7}',
        b'{"serverRole": "S1", "sampled": true, "baggage": "x", "downstream": "S2"}',
        b'{"serverRole": "S1", "sampled": true, "baggage": "x", "downstream": {"port": "1"}}',
    ],
    ids=["not-json", "array", "no-sampled", "int-sampled", "int-baggage", "str-ds", "ds-no-host"],
)
def test_requests_that_break_the_protocol_are_400(server: Any, raw: bytes) -> None:
    status, body = request(server.ports[0], "/start_trace", raw=raw)
    assert status == 400, body
    assert body  # says what is wrong


def test_a_tchannel_downstream_is_reported_as_not_implemented(server: Any) -> None:
    ds = {**downstream("S2", server.ports[1]), "transport": "TCHANNEL"}
    status, body = request(
        server.ports[0],
        "/start_trace",
        {"serverRole": "S1", "sampled": True, "baggage": "x", "downstream": ds},
    )
    assert status == 200, body
    response = json.loads(body)
    assert "TCHANNEL" in response["notImplementedError"]
    assert "downstream" not in response


def test_an_unreachable_downstream_answers_502_naming_it(server: Any) -> None:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        closed_port = sock.getsockname()[1]  # nothing listens once it is closed
    status, body = request(
        server.ports[0],
        "/start_trace",
        {
            "serverRole": "S1",
            "sampled": True,
            "baggage": "x",
            "downstream": downstream("S2", closed_port),
        },
    )
    assert status == 502
    assert b"S2" in body


# ---- /create_traces (endtoend) ----------------------------------------------------------------


def test_agent_host_port_is_parsed_and_checked() -> None:
    assert parse_agent_host_port("jaeger-agent:6831") == ("jaeger-agent", 6831)
    assert parse_agent_host_port("[::1]:6831") == ("::1", 6831)
    for bad in ("jaeger-agent", ":6831", "host:0", "host:port", "host:70000"):
        with pytest.raises(ValueError, match="AGENT_HOST_PORT"):
            parse_agent_host_port(bad)


def test_a_bad_agent_host_port_fails_at_construction() -> None:
    with pytest.raises(ValueError, match="AGENT_HOST_PORT"):
        crossdock_server.CrossdockServer((0,), "127.0.0.1", environ={"AGENT_HOST_PORT": "x"})


def _endtoend_server(agent: InProcessAgent) -> crossdock_server.CrossdockServer:
    environ = {
        "AGENT_HOST_PORT": f"127.0.0.1:{agent.reporting_port}",
        "SAMPLING_SERVER_URL": agent.sampling_endpoint,
    }
    return crossdock_server.CrossdockServer((0,), "127.0.0.1", environ=environ)


def test_create_traces_spans_reach_the_dev_agent(jaeger_agent: InProcessAgent) -> None:
    with _endtoend_server(jaeger_agent) as running:
        results = driver.run_endtoend(
            driver.Peer("python", "127.0.0.1", running.ports[0]), jaeger_agent
        )
    assert [(dict(r.axes)["type"], r.errors) for r in results] == [("const", ()), ("remote", ())]
    # the remote sampler asked the agent for its strategy
    assert any(
        r.path == "/sampling" and r.query.get("service") == ["crossdock-python"]
        for r in jaeger_agent.requests
    )


@pytest.mark.parametrize(
    "body",
    [
        {"type": "adaptive", "operation": "op", "count": 1},
        {"type": "const", "count": 1},
        {"type": "const", "operation": "op", "count": -1},
        {"type": "const", "operation": "op", "count": True},
        {"type": "const", "operation": "op", "count": 1, "tags": ["a"]},
    ],
    ids=["type", "no-operation", "negative-count", "bool-count", "list-tags"],
)
def test_create_traces_rejects_bad_requests_without_starting_tracers(body: Any) -> None:
    with crossdock_server.CrossdockServer((0,), "127.0.0.1", environ={}) as running:
        status, text = request(running.ports[0], "/create_traces", body)
        assert status == 400, text
        assert running.endtoend._tracers is None  # nothing built, no socket opened


# ---- entry points -----------------------------------------------------------------------------


def test_serve_defaults_to_upstreams_ports_and_stops_on_request() -> None:
    assert DEFAULT_PORTS == (8080, 8081)
    assert inspect.signature(crossdock_server.serve).parameters["ports"].default == DEFAULT_PORTS
    ready: list[list[int]] = []
    stop = threading.Event()
    started = threading.Event()

    def on_ready(ports: list[int]) -> None:
        ready.append(ports)
        started.set()

    thread = threading.Thread(
        target=crossdock_server.serve,
        kwargs={
            "ports": (0,),
            "host": "127.0.0.1",
            "environ": {},
            "on_ready": on_ready,
            "stop": stop,
        },
    )
    thread.start()
    try:
        assert started.wait(10)
        assert request(ready[0][0], "/") == (200, b"")
    finally:
        stop.set()
        thread.join(10)
    assert not thread.is_alive()


def test_the_server_imports_no_tornado() -> None:
    code = (
        "import sys; sys.modules['tornado'] = None\n"
        "import crossdock.server.server, crossdock.driver\n"
        "assert not any(m.startswith('tornado') for m in sys.modules if sys.modules[m])\n"
    )
    subprocess.run([sys.executable, "-c", code], cwd=ROOT, check=True, timeout=30)


# ---- the driver's checks ----------------------------------------------------------------------


def _level(trace_id: str, sampled: bool = True, baggage: str = "b", downstream: Any = None) -> Any:
    node: dict[str, Any] = {
        "span": {"traceId": trace_id, "sampled": sampled, "baggage": baggage},
        "notImplementedError": "",
    }
    if downstream is not None:
        node["downstream"] = downstream
    return node


def test_the_driver_pads_trace_ids_to_16_digits_like_the_go_driver() -> None:
    ok = _level("abc", downstream=_level("0000000000000abc", downstream=_level("abc")))
    assert driver.check_trace_response(ok, sampled=True, baggage="b", levels=3) == []


@pytest.mark.parametrize(
    ("response", "complaint"),
    [
        (_level("abc", downstream=_level("abd", downstream=_level("abc"))), "S2: traceId"),
        (_level("abc", downstream=_level("abc", False, downstream=_level("abc"))), "S2: sampled"),
        (_level("abc", downstream=_level("abc", downstream=_level("abc", baggage=""))), "S3: bagg"),
        (_level("abc", downstream=_level("abc")), "S2: no downstream"),
        (
            _level(
                "abc", downstream=_level("abc", downstream=_level("abc", downstream=_level("a")))
            ),
            "S3: unexpected downstream",
        ),
        ({"span": None}, "S1: no span"),
    ],
    ids=["trace-id", "sampled", "baggage", "missing-level", "extra-level", "no-span"],
)
def test_the_driver_reports_every_mismatch(response: Any, complaint: str) -> None:
    errors = driver.check_trace_response(response, sampled=True, baggage="b", levels=3)
    assert any(e.startswith(complaint) for e in errors), errors


# ---- the matrix with Node ---------------------------------------------------------------------


def _require_node() -> None:
    reason = driver.node_available()
    if reason is not None:
        pytest.fail(f"the Node crossdock server cannot run: {reason} (make crossdock-node)")


def test_every_chain_of_python_and_node_servers_agrees(server: Any) -> None:
    """16 chains (S1, S2, S3 each Python or Node; sampled or not), HTTP, Jaeger headers."""
    _require_node()
    python = driver.Peer("python", "127.0.0.1", server.ports[1])
    with driver.start_node_server() as node:
        results = driver.run_trace_matrix([python, node])
    assert len(results) == 16
    failed = [(r.axes, r.errors) for r in results if not r.ok]
    assert failed == []


def test_make_crossdock_prints_a_full_green_matrix() -> None:
    """The driver as `make crossdock` runs it: both servers and the dev agent in subprocesses."""
    _require_node()
    result = subprocess.run(
        [sys.executable, "-m", "crossdock.driver"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    rows = [line.split() for line in result.stdout.splitlines() if line.endswith(("PASS", "FAIL"))]
    assert len(rows) == 18
    assert all(row[-1] == "PASS" for row in rows)
    assert {row[0] for row in rows[:16]} == {"python", "node"}
    assert "crossdock: 18/18 cases green (all green)" in result.stdout
