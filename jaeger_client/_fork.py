"""Fork hooks that hold their owner weakly, so a collected tracer or reporter is never revived."""

from __future__ import annotations

import os
import weakref
from typing import Any, Callable

__all__ = ["after_fork_in_child"]


def after_fork_in_child(method: Callable[[], Any]) -> None:
    """Call bound ``method`` in every forked child while its object is alive.

    ``os.register_at_fork`` hooks cannot be unregistered, so the hook keeps only a ``WeakMethod``
    and does nothing once the object is gone.
    """
    if not hasattr(os, "register_at_fork"):  # pragma: no cover - Windows
        return
    ref = weakref.WeakMethod(method)  # type: ignore[arg-type]  # bound method expected

    def hook() -> None:
        bound = ref()
        if bound is not None:
            bound()

    os.register_at_fork(after_in_child=hook)
