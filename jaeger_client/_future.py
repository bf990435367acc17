"""A ``concurrent.futures.Future`` that asyncio can ``await`` and Tornado coroutines ``yield``."""

from __future__ import annotations

import concurrent.futures
from collections.abc import Generator
from typing import Any

__all__ = ["CloseFuture", "completed_future"]


class CloseFuture(concurrent.futures.Future):  # type: ignore[type-arg]  # generic only in stubs
    """Completed by a background thread; usable from threads, asyncio and Tornado alike.

    ``.result(timeout)`` blocks a thread; ``await f`` works in any running asyncio loop (the
    wrapper is made only when awaited, so no loop is needed to create it); Tornado's
    ``@gen.coroutine`` accepts a ``concurrent.futures.Future`` as a yield target natively.
    """

    def __await__(self) -> Generator[Any, None, Any]:
        # imported here: asyncio (and ssl with it) is half of the package's import time otherwise
        import asyncio

        return asyncio.wrap_future(self).__await__()


def completed_future(result: Any = None) -> CloseFuture:
    """A :class:`CloseFuture` that is already done with ``result``."""
    future = CloseFuture()
    future.set_result(result)
    return future
