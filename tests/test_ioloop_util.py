"""ioloop_util.submit on a real Tornado 6 IOLoop running in its own thread."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator
from typing import Any

import pytest

from jaeger_client import ioloop_util

tornado_ioloop = pytest.importorskip("tornado.ioloop")
gen = pytest.importorskip("tornado.gen")


@pytest.fixture
def io_loop() -> Iterator[Any]:
    ready = threading.Event()
    holder: dict[str, Any] = {}

    def run() -> None:
        asyncio.set_event_loop(asyncio.new_event_loop())
        loop = tornado_ioloop.IOLoop.current()
        holder["loop"] = loop
        ready.set()
        loop.start()
        loop.close(all_fds=True)

    thread = threading.Thread(target=run, name="test-ioloop", daemon=True)
    thread.start()
    assert ready.wait(5)
    yield holder["loop"]
    holder["loop"].add_callback(holder["loop"].stop)
    thread.join(5)


def test_submit_runs_async_def_and_returns_its_result(io_loop: Any) -> None:
    async def coro(x: int) -> int:
        await asyncio.sleep(0)
        return x * 2

    assert ioloop_util.submit(coro, io_loop, 21).result(timeout=5) == 42


def test_submit_runs_gen_coroutine(io_loop: Any) -> None:
    @gen.coroutine  # type: ignore[untyped-decorator]
    def coro() -> Any:
        yield gen.moment
        return "done"

    assert ioloop_util.submit(coro, io_loop).result(timeout=5) == "done"


def test_submit_reports_synchronous_exception(io_loop: Any) -> None:
    def boom() -> None:
        raise KeyError("x")

    with pytest.raises(KeyError):
        ioloop_util.submit(boom, io_loop).result(timeout=5)


def test_submit_returns_plain_function_result(io_loop: Any) -> None:
    assert ioloop_util.submit(lambda: 7, io_loop).result(timeout=5) == 7


def test_future_helpers() -> None:
    assert ioloop_util.future_result(3).result() == 3
    with pytest.raises(ValueError):
        ioloop_util.future_exception(ValueError("bad")).result()
