"""asyncio with opentracing's ContextVarsScopeManager: the active span follows tasks, and
``await tracer.close()`` delivers every span."""

from __future__ import annotations

import asyncio
from typing import Any, Callable

from opentracing.scope_managers.contextvars import ContextVarsScopeManager

from jaeger_client import Config, testing
from jaeger_client.testing import InProcessAgent

jaeger_agent = testing.jaeger_agent


def make_tracer(agent: InProcessAgent) -> Any:
    return Config(
        agent.config(), service_name="asyncio-app", scope_manager=ContextVarsScopeManager()
    ).new_tracer()


def test_the_parent_is_active_in_gathered_and_created_tasks(
    jaeger_agent: InProcessAgent, figure: Callable[[int, str], None]
) -> None:
    tracer = make_tracer(jaeger_agent)
    seen: dict[str, Any] = {}

    async def child(name: str) -> None:
        seen[name] = tracer.active_span
        with tracer.start_active_span(name):
            await asyncio.sleep(0)  # let the siblings interleave
            with tracer.start_active_span(f"{name}-inner"):
                await asyncio.sleep(0)

    async def main() -> Any:
        with tracer.start_active_span("parent") as scope:
            await asyncio.gather(child("a"), child("b"))
            await asyncio.create_task(child("c"))
            parent = scope.span
        assert tracer.active_span is None
        await tracer.close()  # a CloseFuture is awaitable in any running loop
        return parent

    parent = asyncio.run(main())
    spans = {s.operation_name: s for s in jaeger_agent.wait_for_spans(7)}
    active = sum(value is parent for value in seen.values())
    figure(
        13,
        f"asyncio with ContextVarsScopeManager: the parent active in {active} of 3 gathered and "
        f"created tasks; {len(spans)} of 7 spans delivered after `await tracer.close()`",
    )
    assert seen == {"a": parent, "b": parent, "c": parent}
    assert len(spans) == 7
    root = spans["parent"]
    assert root.parent_id == 0
    for name in "abc":
        assert spans[name].parent_id == root.span_id
        assert spans[f"{name}-inner"].parent_id == spans[name].span_id
        assert spans[name].trace_id == root.trace_id


def test_concurrent_requests_keep_their_own_traces(jaeger_agent: InProcessAgent) -> None:
    """Ten interleaved "requests": each task's spans stay in its own trace."""
    tracer = make_tracer(jaeger_agent)

    async def request(number: int) -> int:
        with tracer.start_active_span(f"request-{number}") as scope:
            for step in range(3):
                await asyncio.sleep(0)
                with tracer.start_active_span(f"step-{number}-{step}"):
                    await asyncio.sleep(0)
            return int(scope.span.context.trace_id)

    async def main() -> list[int]:
        trace_ids = await asyncio.gather(*(request(n) for n in range(10)))
        await asyncio.wait_for(asyncio.wrap_future(tracer.close()), 5)  # the documented spelling
        return list(trace_ids)

    trace_ids = asyncio.run(main())
    assert len(set(trace_ids)) == 10
    spans = jaeger_agent.wait_for_spans(40)
    by_name = {s.operation_name: s for s in spans}
    for number, trace_id in enumerate(trace_ids):
        root = by_name[f"request-{number}"]
        assert root.trace_id == trace_id
        for step in range(3):
            span = by_name[f"step-{number}-{step}"]
            assert (span.trace_id, span.parent_id) == (trace_id, root.span_id)
