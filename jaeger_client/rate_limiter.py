"""Leaky-bucket rate limiter; the clock is a seam (``RateLimiter.timestamp``)."""

from __future__ import annotations

import math
import numbers
import os
import random
import threading
import time
import weakref
from typing import Any, Optional

__all__ = ["RateLimiter"]

# Our own generator, not the random module's: an application that seeds the global one (a test
# with a fixed seed, Hypothesis) gets the same sequence whether or not a limiter was made meanwhile,
# on whichever thread (samplers build limiters on their pollers' threads).
_random = random.Random().random

# Every live limiter, so a forked child can replace locks that another parent thread may have
# held at the moment of fork(). One module-level hook instead of one per limiter: per-operation
# samplers create limiters continually and os.register_at_fork hooks can never be removed.
_live_limiters: weakref.WeakSet[RateLimiter] = weakref.WeakSet()


def _reinit_locks_in_child() -> None:
    for limiter in list(_live_limiters):
        limiter._lock = threading.Lock()


if hasattr(os, "register_at_fork"):  # pragma: no branch - absent only on Windows
    os.register_at_fork(after_in_child=_reinit_locks_in_child)


def _check_number(name: str, value: Any, low: float, high: Optional[float] = None) -> None:
    """Raise ``ValueError`` naming ``name`` unless ``value`` is a finite real in [low, high].

    Explicit checks rather than ``assert``, so ``python -O`` validates exactly the same.
    """
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise ValueError(f"{name} must be a number, got {value!r}")
    try:
        number = float(value)
    except OverflowError:  # an int too large for a float
        number = math.inf
    if not math.isfinite(number):
        raise ValueError(f"{name} must be finite, got {value!r}")
    if number < low or (high is not None and number > high):
        allowed = f"[{low}, {high}]" if high is not None else f">= {low}"
        raise ValueError(f"{name} must be within {allowed}, got {value!r}")


class RateLimiter:
    """A leaky bucket of credits, refilled at ``credits_per_second`` up to ``max_balance``.

    ``check_credit(cost)`` refills the balance for the time elapsed since the previous call, then
    spends ``cost`` if the balance covers it. Limiting spans per second means
    ``check_credit(1.0)`` per span; limiting bytes per second means ``check_credit(size)``.

    Thread model: ``check_credit`` and ``update`` may be called from any thread; both take the
    limiter's own lock (upstream had none and relied on its caller's lock).

    ``timestamp()`` is the clock seam tests patch (``RateLimiter.timestamp``); it reads
    ``time.monotonic()`` so wall-clock steps neither flood nor starve the bucket.

    :param credits_per_second: refill rate, finite and >= 0
    :param max_balance: bucket size, finite and >= 0
    """

    def __init__(self, credits_per_second: float, max_balance: float) -> None:
        _check_number("credits_per_second", credits_per_second, 0.0)
        _check_number("max_balance", max_balance, 0.0)
        self.credits_per_second = credits_per_second
        self.max_balance = max_balance
        # As upstream 4.8: start part-full, so a fleet restarted at once does not sample in step.
        self.balance = max_balance * _random()
        self.last_tick = self.timestamp()
        self._lock = threading.Lock()
        _live_limiters.add(self)

    @staticmethod
    def timestamp() -> float:
        return time.monotonic()

    def check_credit(self, item_cost: float) -> bool:
        """Spend ``item_cost`` credits if the balance covers it; return whether it did."""
        with self._lock:
            self._update_balance()
            if self.balance >= item_cost:
                self.balance -= item_cost
                return True
            return False

    def update(self, credits_per_second: float, max_balance: float) -> None:
        """Change the rate and bucket size, keeping the balance proportional to the bucket."""
        _check_number("credits_per_second", credits_per_second, 0.0)
        _check_number("max_balance", max_balance, 0.0)
        with self._lock:
            self._update_balance()
            self.credits_per_second = credits_per_second
            if self.max_balance > 0:
                self.balance = max_balance * self.balance / self.max_balance
            else:
                self.balance = 0.0
            self.max_balance = max_balance

    def _update_balance(self) -> None:
        """Refill for the time since the last tick; caller holds ``_lock``."""
        now = self.timestamp()
        elapsed = now - self.last_tick
        self.last_tick = now
        if elapsed > 0:  # a patched clock may step back; never drain the bucket for it
            balance = self.balance + elapsed * self.credits_per_second
            self.balance = balance if balance < self.max_balance else self.max_balance

    def __repr__(self) -> str:
        return f"RateLimiter({self.credits_per_second!r}, {self.max_balance!r})"
