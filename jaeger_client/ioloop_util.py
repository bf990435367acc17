"""Tornado helpers, kept at upstream's import path for code that still calls them.

Tornado is imported only when ``submit`` is called, so importing this module needs no Tornado.
Unlike upstream's version, ``submit`` also runs ``async def`` functions and reports synchronous
exceptions (upstream lost both on Tornado 6).
"""

from __future__ import annotations

import concurrent.futures
import inspect
from typing import Any, Callable

from ._future import CloseFuture

__all__ = ["future_exception", "future_result", "submit"]


def submit(fn: Callable[..., Any], io_loop: Any, *args: Any, **kwargs: Any) -> CloseFuture:
    """Run ``fn(*args, **kwargs)`` on ``io_loop``; return a thread-safe future of its result.

    :param fn: a plain function, a ``@gen.coroutine`` or an ``async def`` function
    :param io_loop: the Tornado ``IOLoop`` to run it on (``add_callback`` is thread-safe)
    """
    from tornado import gen  # the only Tornado import in the package

    future = CloseFuture()

    def on_done(done: Any) -> None:
        exception = done.exception()
        if exception is None:
            future.set_result(done.result())
        else:
            future.set_exception(exception)

    def execute() -> None:
        try:
            result = fn(*args, **kwargs)
        except Exception as e:  # reported through the future, as a coroutine's error would be
            future.set_exception(e)
            return
        if inspect.isawaitable(result) or isinstance(result, concurrent.futures.Future):
            gen.convert_yielded(result).add_done_callback(on_done)
        else:
            future.set_result(result)

    io_loop.add_callback(execute)
    return future


def future_result(result: Any) -> CloseFuture:
    future = CloseFuture()
    future.set_result(result)
    return future


def future_exception(exception: BaseException) -> CloseFuture:
    future = CloseFuture()
    future.set_exception(exception)
    return future
