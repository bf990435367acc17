"""A scriptable agent HTTP endpoint on 127.0.0.1:0 for remote sampler, throttler, baggage tests.

Each path answers with a scripted ``Reply`` (status, headers, body) or ``HANG`` (read the request,
then never answer). Every request is recorded with its parsed query string.
"""

from __future__ import annotations

import json
import socket
import threading
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, NamedTuple, Optional, Union
from urllib.parse import parse_qs, urlsplit

from jaeger_client.metrics import Counter as CounterFn
from jaeger_client.metrics import MetricsFactory

JSON = "application/json"


class Reply(NamedTuple):
    status: int = 200
    body: bytes = b""
    content_type: Optional[str] = JSON
    headers: tuple[tuple[str, str], ...] = ()
    send_length: bool = True  # False: no Content-Length, the body ends when the connection closes


class _Hang:
    def __repr__(self) -> str:
        return "HANG"


HANG = _Hang()


def json_reply(obj: Any, status: int = 200) -> Reply:
    return Reply(status=status, body=json.dumps(obj).encode())


class Request(NamedTuple):
    path: str
    query: dict[str, list[str]]


class AgentHTTP:
    """``ThreadingHTTPServer`` on 127.0.0.1:0 with a reply per path."""

    def __init__(self) -> None:
        self.replies: dict[str, Union[Reply, _Hang]] = {}
        self.requests: list[Request] = []
        self.hanging = threading.Event()  # set when a HANG request has been read
        self._release = threading.Event()
        agent = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                parts = urlsplit(self.path)
                agent.requests.append(
                    Request(parts.path, parse_qs(parts.query, keep_blank_values=True))
                )
                reply = agent.replies.get(parts.path, Reply(404, b"not found", "text/plain"))
                if isinstance(reply, _Hang):
                    agent.hanging.set()
                    agent._release.wait(30)
                    return
                self.send_response(reply.status)
                if reply.content_type is not None:
                    self.send_header("Content-Type", reply.content_type)
                for name, value in reply.headers:
                    self.send_header(name, value)
                if reply.send_length:
                    self.send_header("Content-Length", str(len(reply.body)))
                self.end_headers()
                try:
                    self.wfile.write(reply.body)
                except OSError:  # the client stopped reading (body cap): expected
                    pass

            def log_message(self, format: str, *args: Any) -> None:
                pass

        class Server(ThreadingHTTPServer):
            daemon_threads = True

            def handle_error(self, request: Any, client_address: Any) -> None:
                pass  # clients that hang up early are part of the tests

        self.server = Server(("127.0.0.1", 0), Handler)
        self.port = self.server.server_address[1]
        self._thread = threading.Thread(
            target=self.server.serve_forever, args=(0.02,), name="test-agent-http", daemon=True
        )
        self._thread.start()

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def serve(self, path: str, reply: Union[Reply, _Hang]) -> None:
        self.replies[path] = reply

    def serve_json(self, path: str, obj: Any, status: int = 200) -> None:
        self.replies[path] = json_reply(obj, status)

    def requests_to(self, path: str) -> list[Request]:
        return [r for r in self.requests if r.path == path]

    def close(self) -> None:
        self._release.set()
        self.server.shutdown()
        self.server.server_close()
        self._thread.join(5)


@contextmanager
def agent_http() -> Iterator[AgentHTTP]:
    agent = AgentHTTP()
    try:
        yield agent
    finally:
        agent.close()


@contextmanager
def silent_listener() -> Iterator[int]:
    """A TCP port that completes connections (kernel backlog) but never reads or answers."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", 0))
    sock.listen(16)
    try:
        yield sock.getsockname()[1]
    finally:
        sock.close()


class CountingMetricsFactory(MetricsFactory):
    """Counts every counter under ``name.k_v`` keys (tags sorted), as the legacy adapter does."""

    def __init__(self) -> None:
        super().__init__()
        self.counts: Counter[str] = Counter()

    def create_counter(self, name: str, tags: Optional[dict[str, str]] = None) -> CounterFn:
        key = name + "".join(f".{k}_{v}" for k, v in sorted((tags or {}).items()))

        def increment(value: int) -> None:
            self.counts[key] += value

        return increment


def live_threads(name: str) -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.name == name and t.is_alive()]


# How long a closed poller's thread may take to end: a loaded machine can take over a second to
# run it, and it is still half the 10 s default request timeout, so a hanging poll that ended
# this soon was aborted by close().
THREAD_EXIT_DEADLINE = 5.0


def new_threads(name: str, before: list[threading.Thread]) -> list[threading.Thread]:
    """Live threads named ``name`` not in ``before``: this test's, not an earlier test's that is
    still ending (``close()`` joins its poller only briefly)."""
    return [t for t in live_threads(name) if t not in before]


def has_ended(thread: threading.Thread) -> bool:
    """Whether ``thread`` ends within ``THREAD_EXIT_DEADLINE``."""
    thread.join(THREAD_EXIT_DEADLINE)
    return not thread.is_alive()
