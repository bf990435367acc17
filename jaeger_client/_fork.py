"""Fork hooks that hold their owner weakly, so a collected tracer or reporter is never revived.

One ``os.register_at_fork`` hook serves every owner: hooks can never be unregistered, so one per
tracer would pile up in a process (or a test suite) that creates many tracers.
"""

from __future__ import annotations

import logging
import os
import threading
import weakref
from typing import Any, Callable

from .constants import LOGGER_NAME

__all__ = ["after_fork_in_child"]

_lock = threading.Lock()
_methods: list[weakref.WeakMethod[Callable[[], Any]]] = []
_prune_at = 64  # drop dead references once the list has grown past this


def after_fork_in_child(method: Callable[[], Any]) -> None:
    """Call bound ``method`` in every forked child while its object is alive.

    Methods run in registration order, in the child, right after ``fork()`` returns there. One
    that raises is logged and does not stop the others.
    """
    global _prune_at
    ref: weakref.WeakMethod[Callable[[], Any]] = weakref.WeakMethod(method)
    with _lock:
        _methods.append(ref)
        if len(_methods) > _prune_at:
            _methods[:] = [r for r in _methods if r() is not None]
            _prune_at = max(64, 2 * len(_methods))


def _run_in_child() -> None:
    global _lock
    # Another thread of the parent may have held the lock at fork time; it does not exist here.
    _lock = threading.Lock()
    for ref in list(_methods):
        method = ref()
        if method is None:
            continue
        try:
            method()
        except Exception:  # one owner's broken hook must not leave the others un-reset
            logging.getLogger(LOGGER_NAME).exception("after-fork hook %r failed", method)


if hasattr(os, "register_at_fork"):  # pragma: no branch - absent only on Windows
    os.register_at_fork(after_in_child=_run_in_child)
