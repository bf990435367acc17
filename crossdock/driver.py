"""The crossdock driver: every S1 -> S2 -> S3 chain over HTTP, Python and Node in every role.

``python -m crossdock.driver`` (``make crossdock``) starts, on free loopback ports:

- the Python crossdock server (``python -m crossdock``), reporting ``/create_traces`` spans to
- an in-process dev agent (:class:`jaeger_client.testing.InProcessAgent`), and
- the Node crossdock server (``crossdock/node/server.js`` on the npm ``jaeger-client`` 3.x;
  ``npm ci`` in ``crossdock/node`` first),

then runs the "trace" behaviour as jaeger's Go driver does (axes s1, s2, s3 in {python, node},
sampled in {true, false}, transport HTTP): ``POST /start_trace`` to S1, which calls S2's and then
S3's ``/join_trace``. Each level must report the same trace id (compared after left-padding to 16
hex digits, as the Go driver does), the requested ``sampled`` and the same baggage, with a
downstream response exactly where one was requested. Then the "endtoend" behaviour: ``POST
/create_traces`` (const and remote samplers) to the Python server, checked at the dev agent.

Prints the matrix; exits 0 only if every case passed. ``--python HOST:PORT`` or ``--node
HOST:PORT`` use a server that is already running instead (``--node none`` leaves Node out).
"""

from __future__ import annotations

import argparse
import itertools
import json
import os
import queue
import secrets
import shutil
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterator, Mapping, Sequence
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Optional

from crossdock.server.constants import (
    AGENT_HOST_PORT_ENV,
    ENDTOEND_SERVICE_NAME,
    SAMPLING_SERVER_URL_ENV,
)

__all__ = [
    "CaseResult",
    "Peer",
    "check_trace_response",
    "format_results",
    "main",
    "run_endtoend",
    "run_trace_matrix",
    "start_node_server",
    "start_python_server",
]

ROOT = Path(__file__).resolve().parent.parent
NODE_DIR = Path(__file__).resolve().parent / "node"
START_TIMEOUT = 20.0  # seconds for a server to print its ports
REQUEST_TIMEOUT = 15.0  # seconds for one driver request (a whole chain)
ROLES = ("S1", "S2", "S3")
HEADERS = {  # what the servers send downstream, per --propagation
    "jaeger": "uber-trace-id, uberctx-*",
    "b3": "X-B3-*; Node adds uberctx-*",
}

_OPENER = urllib.request.build_opener(urllib.request.ProxyHandler({}))  # loopback: no proxy


@dataclass(frozen=True)
class Peer:
    """A crossdock server the driver can reach."""

    name: str  # "python" or "node": the serviceName in Downstream
    host: str
    port: int


@dataclass(frozen=True)
class CaseResult:
    behaviour: str  # "trace" or "endtoend"
    axes: tuple[tuple[str, str], ...]  # e.g. (("s1", "python"), ..., ("sampled", "true"))
    errors: tuple[str, ...]

    @property
    def ok(self) -> bool:
        return not self.errors


class ServerError(RuntimeError):
    """A crossdock server could not be started."""


# ---- starting servers -------------------------------------------------------------------------


def _read_ports(process: subprocess.Popen[str], what: str, timeout: float) -> list[int]:
    """The ``{"ports": [...]}`` line a server prints once it listens."""
    lines: queue.Queue[Optional[str]] = queue.Queue()

    def read() -> None:
        assert process.stdout is not None
        for line in process.stdout:
            lines.put(line)
        lines.put(None)

    threading.Thread(target=read, name=f"crossdock-{what}-stdout", daemon=True).start()
    deadline = time.monotonic() + timeout
    while True:
        try:
            line = lines.get(timeout=max(0.0, deadline - time.monotonic()))
        except queue.Empty:
            raise ServerError(f"{what} server printed no ports within {timeout:.0f}s") from None
        if line is None:
            raise ServerError(f"{what} server exited with code {process.wait()} before listening")
        try:
            ports = json.loads(line)["ports"]
        except (ValueError, KeyError, TypeError):
            continue  # some other output
        return [int(port) for port in ports]


@contextmanager
def _server_process(
    argv: Sequence[str], what: str, *, cwd: Path, env: Optional[Mapping[str, str]] = None
) -> Iterator[list[int]]:
    process = subprocess.Popen(
        list(argv),
        cwd=cwd,
        env=None if env is None else dict(env),
        stdin=subprocess.PIPE,  # closing it tells the server to exit (--exit-with-stdin)
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        yield _read_ports(process, what, START_TIMEOUT)
    finally:
        assert process.stdin is not None
        process.stdin.close()
        try:
            process.wait(5)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(5)
        if process.stdout is not None:
            process.stdout.close()


@contextmanager
def start_python_server(
    *,
    agent_host_port: Optional[str] = None,
    sampling_server_url: Optional[str] = None,
    propagation: str = "jaeger",
) -> Iterator[Peer]:
    """The Python crossdock server in a subprocess on a free loopback port."""
    env = dict(os.environ)
    env["JAEGER_PROPAGATION"] = propagation
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(ROOT), env.get("PYTHONPATH")]))
    if agent_host_port is not None:
        env[AGENT_HOST_PORT_ENV] = agent_host_port
    if sampling_server_url is not None:
        env[SAMPLING_SERVER_URL_ENV] = sampling_server_url
    argv = [sys.executable, "-m", "crossdock", "--host", "127.0.0.1", "--port", "0"]
    with _server_process([*argv, "--exit-with-stdin"], "python", cwd=ROOT, env=env) as ports:
        yield Peer("python", "127.0.0.1", ports[0])


def node_available() -> Optional[str]:
    """Why the Node server cannot run here, or None if it can."""
    if shutil.which("node") is None:
        return "node is not on PATH"
    if not (NODE_DIR / "node_modules" / "jaeger-client").is_dir():
        return f"jaeger-client is not installed: run `npm ci` in {NODE_DIR}"
    return None


@contextmanager
def start_node_server(*, propagation: str = "jaeger") -> Iterator[Peer]:
    """The Node crossdock server (npm jaeger-client) in a subprocess on a free loopback port."""
    reason = node_available()
    if reason is not None:
        raise ServerError(reason)
    node = shutil.which("node")
    assert node is not None
    argv = [node, "server.js", "--host", "127.0.0.1", "--port", "0"]
    argv += ["--propagation", propagation, "--exit-with-stdin"]
    with _server_process(argv, "node", cwd=NODE_DIR) as ports:
        yield Peer("node", "127.0.0.1", ports[0])


# ---- the trace behaviour ----------------------------------------------------------------------


def _post(peer: Peer, path: str, body: Mapping[str, Any]) -> tuple[int, bytes]:
    request = urllib.request.Request(
        f"http://{peer.host}:{peer.port}{path}",
        data=json.dumps(body).encode(),
        headers={"Content-Type": "application/json"},
        method="POST",
    )
    try:
        with _OPENER.open(request, timeout=REQUEST_TIMEOUT) as reply:
            return reply.status, reply.read()
    except urllib.error.HTTPError as e:
        return e.code, e.read()


def _downstream(chain: Sequence[Peer], role_index: int) -> Optional[dict[str, Any]]:
    if not chain:
        return None
    peer = chain[0]
    return {
        "serviceName": peer.name,
        "serverRole": ROLES[role_index],
        "host": peer.host,
        "port": str(peer.port),
        "transport": "HTTP",
        "downstream": _downstream(chain[1:], role_index + 1),
    }


def _padded(trace_id: Any) -> Any:
    """As jaeger's Go driver compares trace ids: left-padded with zeros to 16 digits."""
    return trace_id.rjust(16, "0") if isinstance(trace_id, str) else trace_id


def check_trace_response(response: Any, *, sampled: bool, baggage: str, levels: int) -> list[str]:
    """What is wrong with a ``TraceResponse`` for a chain of ``levels`` servers."""
    errors: list[str] = []
    trace_id: Any = None
    node = response
    for level in range(levels):
        role = ROLES[level]
        if not isinstance(node, dict):
            errors.append(f"{role}: no TraceResponse (got {node!r})")
            break
        if node.get("notImplementedError"):
            errors.append(f"{role}: notImplementedError {node['notImplementedError']!r}")
        span = node.get("span")
        if not isinstance(span, dict):
            errors.append(f"{role}: no span in {node!r}")
            break
        if level == 0:
            trace_id = span.get("traceId")
            if not isinstance(trace_id, str) or not trace_id:
                errors.append(f"{role}: no traceId")
        elif _padded(span.get("traceId")) != _padded(trace_id):
            errors.append(f"{role}: traceId {span.get('traceId')!r}, S1 had {trace_id!r}")
        if span.get("sampled") is not sampled:
            errors.append(f"{role}: sampled {span.get('sampled')!r}, want {sampled}")
        if span.get("baggage") != baggage:
            errors.append(f"{role}: baggage {span.get('baggage')!r}, want {baggage!r}")
        downstream = node.get("downstream")
        if level == levels - 1:
            if downstream is not None:
                errors.append(f"{role}: unexpected downstream {downstream!r}")
        elif downstream is None:
            errors.append(f"{role}: no downstream response from {ROLES[level + 1]}")
            break
        node = downstream
    return errors


def run_trace_case(chain: Sequence[Peer], sampled: bool) -> CaseResult:
    """One chain: ``/start_trace`` to ``chain[0]``, which calls the rest in turn."""
    baggage = f"crossdock {secrets.token_hex(4)} +/é"  # space, '+', '/' and UTF-8 must survive
    axes = tuple((f"s{i + 1}", peer.name) for i, peer in enumerate(chain))
    axes += (("sampled", "true" if sampled else "false"),)
    request = {
        "serverRole": ROLES[0],
        "sampled": sampled,
        "baggage": baggage,
        "downstream": _downstream(chain[1:], 1),
    }
    try:
        status, body = _post(chain[0], "/start_trace", request)
    except OSError as e:
        return CaseResult("trace", axes, (f"S1: request failed: {e}",))
    if status != 200:
        text = body.decode("utf-8", "replace")[:300]
        return CaseResult("trace", axes, (f"S1: HTTP {status}: {text}",))
    try:
        response = json.loads(body)
    except ValueError as e:
        return CaseResult("trace", axes, (f"S1: reply is not JSON: {e}",))
    errors = check_trace_response(response, sampled=sampled, baggage=baggage, levels=len(chain))
    return CaseResult("trace", axes, tuple(errors))


def run_trace_matrix(peers: Sequence[Peer], *, levels: int = 3) -> list[CaseResult]:
    """Every chain of ``levels`` servers drawn from ``peers`` (repeats allowed), both samplings."""
    return [
        run_trace_case(chain, sampled)
        for chain in itertools.product(peers, repeat=levels)
        for sampled in (True, False)
    ]


# ---- the endtoend behaviour -------------------------------------------------------------------


def run_endtoend(peer: Peer, agent: Any, *, count: int = 5) -> list[CaseResult]:
    """``/create_traces`` per sampler type; the spans must reach ``agent`` (an InProcessAgent)."""
    results = []
    for sampler_type in ("const", "remote"):
        axes = (("server", peer.name), ("type", sampler_type))
        operation = f"crossdock-{sampler_type}-{secrets.token_hex(3)}"
        tags = {"crossdock": sampler_type, "number": "42"}
        request = {"type": sampler_type, "operation": operation, "count": count, "tags": tags}
        try:
            status, body = _post(peer, "/create_traces", request)
        except OSError as e:
            results.append(CaseResult("endtoend", axes, (f"request failed: {e}",)))
            continue
        if status != 200:
            text = body.decode("utf-8", "replace")[:300]
            results.append(CaseResult("endtoend", axes, (f"HTTP {status}: {text}",)))
            continue
        errors = _check_received(agent, operation, tags, count, sampler_type)
        results.append(CaseResult("endtoend", axes, tuple(errors)))
    return results


def _check_received(
    agent: Any, operation: str, tags: Mapping[str, str], count: int, sampler_type: str
) -> list[str]:
    deadline = time.monotonic() + REQUEST_TIMEOUT
    spans: list[Any] = []
    while time.monotonic() < deadline:
        spans = [s for s in agent.spans if s.operation_name == operation]
        if len(spans) >= count:
            break
        time.sleep(0.02)  # polling the agent's record; /create_traces already flushed
    errors = []
    if len(spans) != count:
        errors.append(f"agent received {len(spans)} spans of {operation!r}, want {count}")
    if len({s.trace_id for s in spans}) != len(spans):
        errors.append("spans share trace ids: want one trace per span")
    for span in spans:
        problems = []
        if span.service_name != ENDTOEND_SERVICE_NAME:
            problems.append(f"service {span.service_name!r}")
        if span.parent_id:
            problems.append(f"parent {span.parent_id:x}")
        if not span.is_sampled:
            problems.append("not sampled")
        for key, value in tags.items():
            if span.tags.get(key) != value:
                problems.append(f"tag {key}={span.tags.get(key)!r}")
        sampler = span.tags.get("sampler.type")
        want = ("const",) if sampler_type == "const" else ("probabilistic", "ratelimiting")
        if sampler not in want:
            problems.append(f"sampler.type {sampler!r}, want one of {want}")
        if problems:
            errors.append(f"span {span.span_id:x}: " + ", ".join(problems))
            break
    return errors


# ---- output -----------------------------------------------------------------------------------


def format_results(results: Sequence[CaseResult], *, propagation: str = "jaeger") -> str:
    """The matrix as a fixed-width table per behaviour, and a summary line."""
    lines: list[str] = []
    for behaviour in dict.fromkeys(r.behaviour for r in results):
        rows = [r for r in results if r.behaviour == behaviour]
        headers = [name for name, _ in rows[0].axes] + ["result"]
        table = [[value for _, value in r.axes] + ["PASS" if r.ok else "FAIL"] for r in rows]
        widths = [max(len(row[i]) for row in [headers, *table]) for i in range(len(headers))]
        title = {
            "trace": f"trace behaviour: S1 -> S2 -> S3 over HTTP ({HEADERS[propagation]})",
            "endtoend": "endtoend behaviour: POST /create_traces -> UDP -> dev agent",
        }.get(behaviour, behaviour)
        lines.append(title)
        lines.append("  " + "  ".join(h.ljust(w) for h, w in zip(headers, widths)).rstrip())
        for row, result in zip(table, rows):
            lines.append("  " + "  ".join(v.ljust(w) for v, w in zip(row, widths)).rstrip())
            lines.extend(f"      {error}" for error in result.errors)
        lines.append("")
    passed = sum(r.ok for r in results)
    verdict = "all green" if passed == len(results) else f"{len(results) - passed} FAILED"
    lines.append(f"crossdock: {passed}/{len(results)} cases green ({verdict})")
    return "\n".join(lines)


def _parse_peer(name: str, value: str) -> Peer:
    host, _, port = value.rpartition(":")
    if not host or not port.isdigit():
        raise argparse.ArgumentTypeError(f"--{name} must be HOST:PORT, got {value!r}")
    return Peer(name, host, int(port))


def main(argv: Optional[Sequence[str]] = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m crossdock.driver", description=__doc__)
    parser.add_argument("--python", metavar="HOST:PORT", help="a running Python server")
    parser.add_argument(
        "--node", metavar="HOST:PORT", help="a running Node server, or 'none' to leave Node out"
    )
    parser.add_argument(
        "--propagation",
        choices=sorted(HEADERS),
        default="jaeger",
        help="headers the servers it starts use (default jaeger, what crossdock tests)",
    )
    args = parser.parse_args(argv)

    from jaeger_client.testing import InProcessAgent  # the driver's dev agent

    started = time.monotonic()
    with ExitStack() as stack:
        peers: list[Peer] = []
        agent = stack.enter_context(InProcessAgent())
        if args.python:
            python = _parse_peer("python", args.python)
        else:
            python = stack.enter_context(
                start_python_server(
                    agent_host_port=f"127.0.0.1:{agent.reporting_port}",
                    sampling_server_url=agent.sampling_endpoint,
                    propagation=args.propagation,
                )
            )
        peers.append(python)
        if args.node != "none":
            if args.node:
                peers.append(_parse_peer("node", args.node))
            else:
                try:
                    node = start_node_server(propagation=args.propagation)
                    peers.append(stack.enter_context(node))
                except ServerError as e:
                    print(f"crossdock: cannot start the Node server: {e}", file=sys.stderr)
                    return 2
        results = run_trace_matrix(peers)
        if not args.python:  # the endtoend spans reach our agent only if we started the server
            results += run_endtoend(python, agent)
    print(format_results(results, propagation=args.propagation))
    print(f"({time.monotonic() - started:.1f}s)")
    return 0 if all(r.ok for r in results) else 1


if __name__ == "__main__":
    sys.exit(main())
