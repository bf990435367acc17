"""RateLimiter: bucket arithmetic through the ``timestamp()`` seam, validation, locking, fork."""

from __future__ import annotations

import math
import os
import random
import threading
import time
from collections.abc import Iterator

import pytest

from jaeger_client.rate_limiter import RateLimiter


class FakeClock:
    def __init__(self, now: float = 1000.0) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeClock]:
    fake = FakeClock()
    monkeypatch.setattr(RateLimiter, "timestamp", staticmethod(fake))
    yield fake


def test_initial_balance_is_random_within_bucket() -> None:
    balances = {RateLimiter(10, 10).balance for _ in range(50)}
    assert all(0.0 <= b <= 10.0 for b in balances)
    assert len(balances) > 1, "upstream 4.8 starts each bucket part-full at random"


def test_a_new_limiter_leaves_the_random_module_alone() -> None:
    """An application's seeded sequence (a test's fixed seed, Hypothesis) is not moved."""
    state = random.getstate()
    RateLimiter(10, 10)
    assert random.getstate() == state


def test_spends_balance_then_refills_with_elapsed_time(clock: FakeClock) -> None:
    limiter = RateLimiter(2, 2)
    limiter.balance = 2.0
    assert limiter.check_credit(1.0)
    assert limiter.check_credit(1.0)
    assert not limiter.check_credit(1.0), "bucket empty, clock stopped"
    clock.now += 0.25
    assert not limiter.check_credit(1.0), "0.5 credit is not enough"
    clock.now += 0.25
    assert limiter.check_credit(1.0), "1.0 credit after 0.5 s at 2/s"
    assert not limiter.check_credit(1.0)


def test_refill_is_capped_at_max_balance(clock: FakeClock) -> None:
    limiter = RateLimiter(2, 2)
    limiter.balance = 0.0
    clock.now += 100
    assert [limiter.check_credit(1.0) for _ in range(5)] == [True, True, False, False, False]


def test_clock_stepping_back_neither_adds_nor_removes_credit(clock: FakeClock) -> None:
    limiter = RateLimiter(10, 10)
    limiter.balance = 1.5
    clock.now -= 50
    assert limiter.check_credit(1.0)
    assert limiter.balance == pytest.approx(0.5)


def test_item_cost_is_charged_in_full(clock: FakeClock) -> None:
    limiter = RateLimiter(1000, 1500)
    limiter.balance = 1500.0
    assert limiter.check_credit(1200)
    assert not limiter.check_credit(400)
    assert limiter.balance == pytest.approx(300.0)


def test_update_keeps_balance_proportional_to_bucket(clock: FakeClock) -> None:
    limiter = RateLimiter(3.0, 3.0)
    limiter.balance = 2.0
    limiter.update(2.0, 2.0)
    assert limiter.balance == pytest.approx(4.0 / 3.0)
    assert (limiter.credits_per_second, limiter.max_balance) == (2.0, 2.0)
    clock.now += 1.0  # 4/3 + 2 credits, capped by the new bucket of 2
    assert not limiter.check_credit(2.5)
    assert limiter.check_credit(2.0)
    assert limiter.balance == 0.0


def test_update_refills_at_the_old_rate_first(clock: FakeClock) -> None:
    limiter = RateLimiter(1.0, 10.0)
    limiter.balance = 0.0
    clock.now += 4.0
    limiter.update(100.0, 10.0)  # the 4 s before the update accrued at 1/s
    assert limiter.balance == pytest.approx(4.0)


def test_update_from_empty_bucket_starts_empty(clock: FakeClock) -> None:
    limiter = RateLimiter(0.0, 0.0)
    limiter.update(5.0, 5.0)
    assert limiter.balance == 0.0
    clock.now += 1.0
    assert [limiter.check_credit(1.0) for _ in range(6)] == [True] * 5 + [False]


@pytest.mark.parametrize("name", ["credits_per_second", "max_balance"])
@pytest.mark.parametrize("bad", [-1, -0.001, math.nan, math.inf, -math.inf, "1", None, True, [1]])
def test_invalid_arguments_raise_value_error_naming_them(name: str, bad: object) -> None:
    kwargs: dict[str, object] = {"credits_per_second": 1.0, "max_balance": 1.0, name: bad}
    with pytest.raises(ValueError, match=name) as info:
        RateLimiter(**kwargs)  # type: ignore[arg-type]
    assert repr(bad) in str(info.value)
    limiter = RateLimiter(1.0, 1.0)
    with pytest.raises(ValueError, match=name):
        limiter.update(**kwargs)  # type: ignore[arg-type]
    assert (limiter.credits_per_second, limiter.max_balance) == (1.0, 1.0), "unchanged"


def test_concurrent_check_credit_never_overspends(clock: FakeClock) -> None:
    """Defect 16: upstream's limiter had no lock; N threads must share exactly the balance."""
    limiter = RateLimiter(0.0, 1000.0)
    limiter.balance = 1000.0
    granted = [0] * 8
    start = threading.Barrier(len(granted))

    def spend(slot: int) -> None:
        start.wait()
        for _ in range(500):
            if limiter.check_credit(1.0):
                granted[slot] += 1

    threads = [threading.Thread(target=spend, args=(i,)) for i in range(len(granted))]
    for t in threads:
        t.start()
    for t in threads:
        t.join(10)
    assert sum(granted) == 1000
    assert limiter.balance == 0.0


def test_timestamp_reads_a_monotonic_clock() -> None:
    before = time.monotonic()
    assert before <= RateLimiter.timestamp() <= time.monotonic()


def _wait_child(pid: int, timeout: float) -> int:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        done, status = os.waitpid(pid, os.WNOHANG)
        if done:
            return os.waitstatus_to_exitcode(status)
        time.sleep(0.005)
    os.kill(pid, 9)
    os.waitpid(pid, 0)
    return -9


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs os.fork")
@pytest.mark.filterwarnings("ignore:This process .* is multi-threaded:DeprecationWarning")
def test_forked_child_gets_a_fresh_lock_even_if_parent_held_it() -> None:
    limiter = RateLimiter(0.0, 5.0)
    limiter.balance = 5.0
    with limiter._lock:  # as if another thread were inside check_credit at fork()
        pid = os.fork()
        if pid == 0:  # pragma: no cover - child
            os._exit(0 if limiter.check_credit(1.0) else 1)
    assert _wait_child(pid, 5.0) == 0, "child deadlocked or failed on the inherited lock"
