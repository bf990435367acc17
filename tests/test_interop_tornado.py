"""A Tornado 6 app: handlers continue inbound traces (ContextVarsScopeManager, the manager for
Tornado >= 6), and the app awaits ``tracer.close()``, natively and from ``@gen.coroutine``."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import pytest
from opentracing.propagation import Format
from opentracing.scope_managers.contextvars import ContextVarsScopeManager

from jaeger_client import Config, testing
from jaeger_client.testing import InProcessAgent

tornado = pytest.importorskip("tornado")
if tornado.version_info < (6,):  # pragma: no cover
    pytest.skip("Tornado 6 or later", allow_module_level=True)
from tornado import gen, httpclient, httpserver, web  # noqa: E402
from tornado import testing as tornado_testing  # noqa: E402

jaeger_agent = testing.jaeger_agent


def make_tracer(agent: InProcessAgent) -> Any:
    return Config(
        agent.config(), service_name="tornado-app", scope_manager=ContextVarsScopeManager()
    ).new_tracer()


def make_app(tracer: Any) -> web.Application:
    class Hello(web.RequestHandler):
        async def get(self) -> None:
            context = tracer.extract(Format.HTTP_HEADERS, dict(self.request.headers))
            with tracer.start_active_span("hello", child_of=context) as scope:
                await asyncio.sleep(0)
                with tracer.start_active_span("work"):
                    await asyncio.sleep(0)
                self.write(
                    {
                        "trace_id": f"{scope.span.context.trace_id:x}",
                        "user": scope.span.get_baggage_item("user"),
                    }
                )

    return web.Application([(r"/hello", Hello)])


async def serve_and_call(tracer: Any, calls: int) -> list[Any]:
    """Start the app on a free loopback port; make ``calls`` traced client calls to it."""
    sock, port = tornado_testing.bind_unused_port()
    server = httpserver.HTTPServer(make_app(tracer))
    server.add_sockets([sock])
    client = httpclient.AsyncHTTPClient(force_instance=True)
    replies = []
    try:
        for number in range(calls):
            with tracer.start_active_span(f"client-{number}") as scope:
                scope.span.set_baggage_item("user", f"user {number}")
                headers: dict[str, str] = {}
                tracer.inject(scope.span.context, Format.HTTP_HEADERS, headers)
                reply = await client.fetch(f"http://127.0.0.1:{port}/hello", headers=headers)
                replies.append((scope.span, json.loads(reply.body)))
    finally:
        client.close()
        server.stop()
        await server.close_all_connections()
    return replies


def check_delivered(agent: InProcessAgent, replies: list[Any]) -> None:
    spans = agent.wait_for_spans(3 * len(replies))
    by_parent = {(s.trace_id, s.parent_id, s.operation_name): s for s in spans}
    for client_span, body in replies:
        trace_id = client_span.context.trace_id
        assert body["trace_id"] == f"{trace_id:x}"
        server = by_parent[(trace_id, client_span.context.span_id, "hello")]
        assert (trace_id, server.span_id, "work") in by_parent
    assert [b["user"] for _, b in replies] == [f"user {n}" for n in range(len(replies))]


def test_a_tornado_app_continues_traces_and_awaits_close(jaeger_agent: InProcessAgent) -> None:
    tracer = make_tracer(jaeger_agent)

    async def main() -> list[Any]:
        replies = await serve_and_call(tracer, 3)
        await tracer.close()
        return replies

    check_delivered(jaeger_agent, asyncio.run(main()))


def test_a_gen_coroutine_can_yield_close(jaeger_agent: InProcessAgent) -> None:
    """Upstream's callers wrote ``yield tracer.close()`` in ``@gen.coroutine`` code."""
    tracer = make_tracer(jaeger_agent)

    @gen.coroutine
    def shutdown() -> Any:
        yield tracer.close()

    async def main() -> list[Any]:
        replies = await serve_and_call(tracer, 2)
        await shutdown()
        return replies

    check_delivered(jaeger_agent, asyncio.run(main()))
