"""The Python crossdock server, on the standard library's HTTP server (no Tornado, no TChannel).

Routes (shared/reference/WIRE.md, "Crossdock interop protocol"), the same on every port:

- ``GET /`` and ``HEAD /``: 200, the health check
- ``POST /start_trace``: a new trace with ``crossdock-baggage-key`` baggage and
  ``sampling.priority`` 1 or 0, then the downstream chain; replies with a ``TraceResponse``
- ``POST /join_trace``: continue the inbound trace, then the downstream chain
- ``POST /create_traces``: the endtoend behaviour (:mod:`crossdock.server.endtoend`)

``serve()`` listens on 8080 and 8081 like upstream's server; the ``crossdock`` console script and
``python -m crossdock`` run :func:`main`, which takes ``--port``, ``--host``, ``--exit-with-stdin``.
/start_trace and /join_trace use a tracer for service ``python`` with ``ConstSampler(True)`` and a
``NullReporter``, as upstream's; downstream calls carry its context in ``uber-trace-id`` and
``uberctx-*`` headers.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import signal
import socket
import sys
import threading
import urllib.request
from collections.abc import Mapping, Sequence
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Callable, Optional

import opentracing
from opentracing import InvalidCarrierException, SpanContextCorruptedException
from opentracing.ext import tags as ext_tags
from opentracing.propagation import Format

from jaeger_client import Config, ConstSampler, Tracer
from jaeger_client.reporter import NullReporter

from .constants import (
    BAGGAGE_KEY,
    DEFAULT_PORTS,
    DOWNSTREAM_TIMEOUT,
    SERVICE_NAME,
    DefaultClientPortHTTP,
    DefaultServerPortHTTP,
)
from .endtoend import EndToEndHandler

__all__ = [
    "CrossdockServer",
    "DefaultClientPortHTTP",
    "DefaultServerPortHTTP",
    "DownstreamError",
    "RequestError",
    "Server",
    "main",
    "make_tracer",
    "serve",
]

logger = logging.getLogger("crossdock")

MAX_BODY = 1 << 20  # bytes of request JSON read; the protocol's bodies are a few hundred
TRANSPORT_HTTP = "HTTP"
_POLL_INTERVAL = 0.05  # seconds


class RequestError(ValueError):
    """A request that does not follow the crossdock protocol (answered with 400)."""


class DownstreamError(Exception):
    """A downstream /join_trace call failed, timed out or replied with no TraceResponse (502)."""


def make_tracer(environ: Optional[Mapping[str, str]] = None) -> Tracer:
    """Upstream's crossdock tracer: service ``python``, sample everything, report nothing.

    Its headers follow ``JAEGER_PROPAGATION`` in ``environ`` (default: Jaeger's own), so the
    same server can play a B3 or W3C peer: ``JAEGER_PROPAGATION=b3 crossdock``.
    """
    config = Config({}, service_name=SERVICE_NAME, environ={} if environ is None else environ)
    return config.create_tracer(reporter=NullReporter(), sampler=ConstSampler(True))


# ---- the trace behaviour, without HTTP --------------------------------------------------------


def _check_downstream(downstream: Any, where: str) -> Optional[dict[str, Any]]:
    if downstream is None:
        return None
    if not isinstance(downstream, dict):
        raise RequestError(f"{where} must be an object, got {downstream!r}")
    for key in ("serverRole", "host", "port", "transport"):
        if not isinstance(downstream.get(key), (str, int)) or isinstance(downstream[key], bool):
            raise RequestError(f"{where}.{key} must be a string, got {downstream.get(key)!r}")
    _check_downstream(downstream.get("downstream"), f"{where}.downstream")
    return downstream


class Server:
    """``start_trace`` and ``join_trace``: request dict + inbound headers -> ``TraceResponse``.

    Called from the HTTP server's request threads, several at once: it keeps no per-request
    state. A downstream call blocks its request thread for at most ``downstream_timeout``.

    :param tracer: default :func:`make_tracer`
    """

    def __init__(
        self,
        tracer: Optional[opentracing.Tracer] = None,
        *,
        downstream_timeout: float = DOWNSTREAM_TIMEOUT,
    ) -> None:
        self.tracer = tracer if tracer is not None else make_tracer()
        self.downstream_timeout = downstream_timeout
        # no proxy from the environment: downstream servers are addressed directly
        self._opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))

    def start_trace(self, request: Mapping[str, Any], headers: Mapping[str, str]) -> dict[str, Any]:
        """A new trace (inbound context ignored), with the requested baggage and sampling."""
        sampled = request.get("sampled")
        baggage = request.get("baggage")
        if not isinstance(sampled, bool):
            raise RequestError(f"sampled must be true or false, got {sampled!r}")
        if not isinstance(baggage, str):
            raise RequestError(f"baggage must be a string, got {baggage!r}")
        downstream = _check_downstream(request.get("downstream"), "downstream")
        span = self.tracer.start_span("start_trace", tags={ext_tags.SPAN_KIND: "server"})
        span.set_baggage_item(BAGGAGE_KEY, baggage)
        span.set_tag(ext_tags.SAMPLING_PRIORITY, 1 if sampled else 0)
        return self._respond(span, downstream)

    def join_trace(self, request: Mapping[str, Any], headers: Mapping[str, str]) -> dict[str, Any]:
        """Continue the trace in ``headers`` (a new one if they hold none or a broken one)."""
        downstream = _check_downstream(request.get("downstream"), "downstream")
        try:
            parent = self.tracer.extract(Format.HTTP_HEADERS, dict(headers))
        except (InvalidCarrierException, SpanContextCorruptedException) as e:
            # as the framework integrations do: a bad header costs the trace, not the request
            logger.warning("join_trace: cannot continue the inbound trace: %s", e)
            parent = None
        span = self.tracer.start_span(
            "join_trace", child_of=parent, tags={ext_tags.SPAN_KIND: "server"}
        )
        return self._respond(span, downstream)

    def _respond(self, span: Any, downstream: Optional[dict[str, Any]]) -> dict[str, Any]:
        with span:
            response: dict[str, Any] = {
                "span": observe(span),
                "notImplementedError": "",
            }
            if downstream is not None:
                if str(downstream["transport"]).upper() != TRANSPORT_HTTP:
                    response["notImplementedError"] = (
                        f"transport {downstream['transport']} is not supported by the Python "
                        "crossdock server (HTTP only)"
                    )
                else:
                    response["downstream"] = self._call_downstream(span, downstream)
            return response

    def _call_downstream(self, span: Any, downstream: Mapping[str, Any]) -> Any:
        host = str(downstream["host"])
        if ":" in host:
            host = f"[{host}]"
        url = f"http://{host}:{downstream['port']}/join_trace"
        body = json.dumps(
            {"serverRole": downstream["serverRole"], "downstream": downstream.get("downstream")}
        ).encode()
        headers = {"Content-Type": "application/json"}
        self.tracer.inject(span.context, Format.HTTP_HEADERS, headers)
        request = urllib.request.Request(url, data=body, headers=headers, method="POST")
        try:
            with self._opener.open(request, timeout=self.downstream_timeout) as reply:
                result = json.loads(reply.read(MAX_BODY))
        except (OSError, ValueError) as e:  # URLError and HTTPError are OSErrors
            raise DownstreamError(f"{downstream['serverRole']} at {url}: {e}") from e
        if not isinstance(result, dict):
            raise DownstreamError(f"{downstream['serverRole']} at {url}: not a TraceResponse")
        return result


def observe(span: Any) -> dict[str, Any]:
    """The ``ObservedSpan`` of ``span``: trace id as unpadded hex, as upstream wrote it."""
    return {
        "traceId": f"{span.context.trace_id:x}",
        "sampled": span.is_sampled(),
        "baggage": span.get_baggage_item(BAGGAGE_KEY) or "",
    }


# ---- HTTP -------------------------------------------------------------------------------------


class _Handler(BaseHTTPRequestHandler):
    server: _HTTPServer
    server_version = "crossdock-python"

    def do_HEAD(self) -> None:
        self._reply(200 if self.path.split("?")[0] == "/" else 404, b"", "text/plain")

    def do_GET(self) -> None:
        if self.path.split("?")[0] == "/":
            self._reply(200, b"", "text/plain")
        else:
            self._reply(404, f"no route GET {self.path}".encode(), "text/plain")

    def do_POST(self) -> None:
        path = self.path.split("?")[0]
        routes: dict[str, Callable[[dict[str, Any]], Any]] = {
            "/start_trace": lambda body: self.server.app.start_trace(body, self._headers()),
            "/join_trace": lambda body: self.server.app.join_trace(body, self._headers()),
            "/create_traces": self._create_traces,
        }
        route = routes.get(path)
        if route is None:
            self._reply(404, f"no route POST {path}".encode(), "text/plain")
            return
        try:
            result = route(self._body())
        except ValueError as e:  # RequestError, or the endtoend handler's validation
            self._reply(400, str(e).encode(), "text/plain")
        except DownstreamError as e:
            logger.warning("%s: downstream call failed: %s", path, e)
            self._reply(502, f"downstream call failed: {e}".encode(), "text/plain")
        else:
            payload = b"" if result is None else json.dumps(result).encode()
            self._reply(200, payload, "application/json")

    def _create_traces(self, body: dict[str, Any]) -> None:
        self.server.endtoend.generate_traces(body)

    def _headers(self) -> dict[str, str]:
        return dict(self.headers.items())

    def _body(self) -> dict[str, Any]:
        try:
            length = int(self.headers.get("Content-Length") or 0)
        except ValueError:
            raise RequestError("bad Content-Length") from None
        if not 0 <= length <= MAX_BODY:
            raise RequestError(f"body must be at most {MAX_BODY} bytes")
        raw = self.rfile.read(length) if length else b""
        try:
            body = json.loads(raw) if raw.strip() else {}
        except ValueError as e:
            raise RequestError(f"body is not JSON: {e}") from None
        if not isinstance(body, dict):
            raise RequestError(f"body must be a JSON object, got {type(body).__name__}")
        return body

    def _reply(self, status: int, payload: bytes, content_type: str) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(payload)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(payload)

    def log_message(self, format: str, *args: Any) -> None:  # stdlib's signature
        logger.debug("%s %s", self.address_string(), format % args)


class _HTTPServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(
        self, address: tuple[str, int], app: Server, endtoend: EndToEndHandler, family: int
    ) -> None:
        self.address_family = family
        self.app = app
        self.endtoend = endtoend
        super().__init__(address, _Handler)


class CrossdockServer:
    """The crossdock routes on several ports (upstream: 8080 for the driver, 8081 for peers).

    Thread model: the constructor binds every port (``0`` picks a free one, see ``ports``);
    ``start()`` serves each on its own daemon thread, with a thread per request; ``close()``
    (from any thread, twice is fine) stops them and the endtoend tracers.

    :param environ: where ``AGENT_HOST_PORT``, ``SAMPLING_SERVER_URL`` and the ``JAEGER_*``
        variables are read (``os.environ``)
    :param tracer: the /start_trace and /join_trace tracer, default :func:`make_tracer`
    """

    def __init__(
        self,
        ports: Sequence[int] = DEFAULT_PORTS,
        host: str = "0.0.0.0",
        *,
        environ: Optional[Mapping[str, str]] = None,
        tracer: Optional[opentracing.Tracer] = None,
    ) -> None:
        if not ports:
            raise ValueError("ports must list at least one port")
        environ = os.environ if environ is None else environ
        self.app = Server(tracer if tracer is not None else make_tracer(environ))
        self.endtoend = EndToEndHandler(environ)
        family = socket.AF_INET6 if ":" in host else socket.AF_INET
        self._servers: list[_HTTPServer] = []
        try:
            for port in ports:
                self._servers.append(_HTTPServer((host, port), self.app, self.endtoend, family))
        except BaseException:
            for server in self._servers:
                server.server_close()
            raise
        self._threads: list[threading.Thread] = []
        self._closed = False

    @property
    def ports(self) -> list[int]:
        """The ports listened on, in the order asked for."""
        return [server.server_address[1] for server in self._servers]

    def start(self) -> CrossdockServer:
        for server in self._servers:
            thread = threading.Thread(
                # a short poll: close() waits up to one interval per port
                target=server.serve_forever,
                args=(_POLL_INTERVAL,),
                name=f"crossdock-http-{server.server_address[1]}",
                daemon=True,
            )
            thread.start()
            self._threads.append(thread)
        return self

    def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        for server in self._servers:
            if self._threads:
                server.shutdown()
            server.server_close()
        self.endtoend.close()

    def __enter__(self) -> CrossdockServer:
        return self.start()

    def __exit__(self, *exc_info: object) -> None:
        self.close()


class _Terminated(Exception):
    """Raised by the SIGTERM handler in the main thread, to leave ``serve``'s wait."""


def _raise_terminated(signum: int, frame: Any) -> None:
    # raise rather than stop.set(): set() from a handler can deadlock on the Event's lock,
    # which the interrupted main thread may be holding inside wait()
    raise _Terminated()


def serve(
    ports: Sequence[int] = DEFAULT_PORTS,
    *,
    host: str = "0.0.0.0",
    environ: Optional[Mapping[str, str]] = None,
    on_ready: Optional[Callable[[list[int]], None]] = None,
    stop: Optional[threading.Event] = None,
) -> None:
    """Run the crossdock server until SIGTERM, SIGINT or ``stop`` is set (upstream's entry point).

    :param on_ready: called with the bound ports once every one accepts requests
    """
    stop = stop or threading.Event()
    in_main_thread = threading.current_thread() is threading.main_thread()
    previous = signal.signal(signal.SIGTERM, _raise_terminated) if in_main_thread else None
    try:
        with CrossdockServer(ports, host, environ=environ) as server:
            logger.info("Python crossdock server listening on %s:%s", host, server.ports)
            if on_ready is not None:
                on_ready(server.ports)
            while not stop.wait(3600):
                pass
    except (KeyboardInterrupt, _Terminated):
        logger.info("Python crossdock server stopping")
    finally:
        if in_main_thread:
            signal.signal(signal.SIGTERM, previous)


def _watch_stdin(stop: threading.Event) -> None:
    """Set ``stop`` once stdin reaches EOF: the parent that started us is gone."""

    def run() -> None:
        try:
            while sys.stdin.buffer.read(4096):
                pass
        except (OSError, ValueError):
            pass
        stop.set()

    threading.Thread(target=run, name="crossdock-stdin", daemon=True).start()


def main(argv: Optional[Sequence[str]] = None) -> int:
    """``crossdock`` / ``python -m crossdock``: run :func:`serve`.

    Prints ``{"ports": [...]}`` on one line of stdout once listening.
    """
    parser = argparse.ArgumentParser(prog="crossdock", description=__doc__.split("\n")[0])
    parser.add_argument(
        "--port",
        type=int,
        action="append",
        help=f"a port to listen on, repeatable; 0 picks a free one (default {DEFAULT_PORTS})",
    )
    parser.add_argument("--host", default="0.0.0.0", help="address to listen on")
    parser.add_argument(
        "--exit-with-stdin", action="store_true", help="exit when stdin closes (for test runners)"
    )
    parser.add_argument("-v", "--verbose", action="store_true", help="log every request")
    args = parser.parse_args(argv)
    logging.basicConfig(
        level=logging.DEBUG if args.verbose else logging.INFO,
        format="%(asctime)s %(name)s %(levelname)s %(message)s",
    )
    stop = threading.Event()
    if args.exit_with_stdin:
        _watch_stdin(stop)

    def ready(ports: list[int]) -> None:
        print(json.dumps({"ports": ports}), flush=True)

    serve(args.port or DEFAULT_PORTS, host=args.host, on_ready=ready, stop=stop)
    return 0


if __name__ == "__main__":
    sys.exit(main())
