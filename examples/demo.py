"""End to end: a dev agent, an instrumented app and a downstream service, then the trace tree.

Run ``make demo`` (or ``python examples/demo.py``) from a clean clone; nothing leaves 127.0.0.1.

1. The dev agent starts in-process on free ports (``jaeger_client.testing.InProcessAgent``),
   serving ``examples/strategies.json``.
2. A downstream "inventory" service runs on a loopback HTTP server with its own tracer.
3. The "demo-app" tracer comes from ``Config(config=..., service_name=...).initialize_tracer()``.
   One ``checkout`` request: two worker threads with nested spans, an HTTP call to inventory
   with the context injected into the headers (and baggage riding along), and an error raised
   inside a ``with`` block.
4. ``tracer.close().result(timeout)`` sends everything; the agent then prints the trace tree.
"""

from __future__ import annotations

import json
import sys
import threading
import time
import urllib.request
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from opentracing import Format, Span, Tracer
from opentracing.ext import tags as ext_tags

from jaeger_client import Config
from jaeger_client.agent import Strategies, format_trace
from jaeger_client.testing import InProcessAgent

HERE = Path(__file__).resolve().parent
# checkout, load-cart, SELECT cart, price-items, POST /reserve, apply-coupon (demo-app) and
# reserve, reserve-stock (inventory)
EXPECTED_SPANS = 8
TIMEOUT = 10.0


class InventoryService:
    """The downstream service: ``POST /reserve`` continues the caller's trace from the headers."""

    def __init__(self, tracer: Tracer) -> None:
        self.tracer = tracer
        service = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = service.reserve(
                    dict(self.headers), self.rfile.read(int(self.headers["Content-Length"]))
                )
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, format: str, *args: Any) -> None:  # stdlib's parameter name
                pass  # keep the demo's output to the traces

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/reserve"
        self.thread = threading.Thread(
            target=self.server.serve_forever, args=(0.05,), name="inventory", daemon=True
        )
        self.thread.start()

    def reserve(self, headers: dict[str, str], body: bytes) -> bytes:
        parent = self.tracer.extract(Format.HTTP_HEADERS, headers)
        tags = {ext_tags.SPAN_KIND: ext_tags.SPAN_KIND_RPC_SERVER, ext_tags.HTTP_METHOD: "POST"}
        with self.tracer.start_active_span("reserve", child_of=parent, tags=tags) as scope:
            items = json.loads(body)["items"]
            scope.span.set_tag("items", len(items))
            # baggage set by the caller arrives with the context
            scope.span.set_tag("demo.run", scope.span.get_baggage_item("demo-run") or "(none)")
            with self.tracer.start_active_span("reserve-stock") as stock:
                stock.span.log_kv({"event": "reserved", "skus": ",".join(items)})
            return json.dumps({"reserved": items}).encode()

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join()


def load_cart(tracer: Tracer, parent: Span) -> None:
    # another thread: the active scope does not cross threads, so name the parent explicitly
    with tracer.start_active_span("load-cart", child_of=parent) as scope:
        scope.span.set_tag("cart.size", 3)
        with tracer.start_active_span("SELECT cart") as query:
            query.span.set_tag(ext_tags.DATABASE_TYPE, "sql")
            query.span.set_tag(ext_tags.DATABASE_STATEMENT, "SELECT * FROM cart WHERE user = ?")


def price_items(tracer: Tracer, parent: Span) -> None:
    with tracer.start_active_span("price-items", child_of=parent) as scope:
        scope.span.log_kv({"event": "priced", "total": 42.5})


def call_inventory(tracer: Tracer, url: str) -> None:
    tags = {ext_tags.SPAN_KIND: ext_tags.SPAN_KIND_RPC_CLIENT, ext_tags.HTTP_URL: url}
    with tracer.start_active_span("POST /reserve", tags=tags) as scope:
        headers = {"Content-Type": "application/json"}
        tracer.inject(scope.span.context, Format.HTTP_HEADERS, headers)
        payload = json.dumps({"items": ["sku-1", "sku-2"]}).encode()
        request = urllib.request.Request(url, data=payload, headers=headers, method="POST")
        with urllib.request.urlopen(request, timeout=TIMEOUT) as response:
            scope.span.set_tag(ext_tags.HTTP_STATUS_CODE, response.status)


def checkout(tracer: Tracer, inventory_url: str) -> None:
    """One request of the demo app."""
    with tracer.start_active_span("checkout", tags={ext_tags.SPAN_KIND: "server"}) as scope:
        root = scope.span
        root.set_baggage_item("demo-run", uuid.uuid4().hex[:8])
        workers = [
            threading.Thread(target=load_cart, args=(tracer, root), name="cart-worker"),
            threading.Thread(target=price_items, args=(tracer, root), name="pricing-worker"),
        ]
        for worker in workers:
            worker.start()
        for worker in workers:
            worker.join()
        call_inventory(tracer, inventory_url)
        try:
            # leaving a `with` block by an exception tags the span error=true and logs it
            with tracer.start_active_span("apply-coupon") as coupon:
                coupon.span.set_tag("coupon", "SPRING")
                raise ValueError("coupon SPRING has expired")
        except ValueError:
            root.log_kv({"event": "coupon rejected"})


def main() -> int:
    strategies = Strategies.from_file(HERE / "strategies.json")
    with InProcessAgent(strategies=strategies) as agent:
        print(
            f"dev agent (in-process) on 127.0.0.1: UDP {agent.reporting_port} (compact), "
            f"HTTP {agent.sampling_port} (sampling, baggage restrictions, credits), "
            f"serving {HERE.name}/strategies.json"
        )
        inventory_tracer = Config(config=agent.config(), service_name="inventory").new_tracer()
        inventory = InventoryService(inventory_tracer)
        tracer = Config(config=agent.config(), service_name="demo-app").initialize_tracer()
        if tracer is None:  # initialize_tracer() works once per process, as upstream's does
            print("a global tracer was already initialized", file=sys.stderr)
            return 1
        print(f"inventory service on {inventory.url}; running one checkout...")
        started = time.monotonic()
        try:
            checkout(tracer, inventory.url)
            elapsed = time.monotonic() - started
        finally:
            inventory.close()
            tracer.close().result(timeout=TIMEOUT)  # every span reported has been sent
            inventory_tracer.close().result(timeout=TIMEOUT)
        print(f"checkout took {elapsed * 1000:.1f} ms; tracers closed\n")
        try:
            agent.wait_for_spans(EXPECTED_SPANS, timeout=TIMEOUT)
        except TimeoutError as e:
            print(f"the agent did not receive the demo's spans: {e}", file=sys.stderr)
            return 1
    for trace in agent.traces:
        print(format_trace(trace))
    malformed = len(agent.malformed)
    spans, batches = len(agent.spans), len(agent.batches)
    print(f"the agent received {spans} spans in {batches} batches, {malformed} malformed")
    return 0 if malformed == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
