"""Instructions per operation under callgrind: the span-cost and propagation workloads, counted.

Wall-clock medians on this shared VM move by tens of percent between runs (the same pure-CPU
extract takes 1x to 2.3x its fastest time, in spells), and a ratio of two such medians moves
with them. An instruction count does not: each workload runs in its own process under
``valgrind --tool=callgrind`` with collection on only inside ``operator.call`` (which wraps the
measured loop and nothing else), once with the statement and once with its baseline; the
difference divided by the iterations is the count per operation. The garbage collector is off
inside the loop, as in ``timeit``; hash randomisation is fixed (``PYTHONHASHSEED=0``).

Workloads: ``span_sampled`` (``one_span``: start, 3 tags, a log, finish; a discarding
reporter), ``span_unsampled`` (the same with a const-false sampler), ``inject_extract`` (a
sampled context with one baggage item through HTTP_HEADERS). Needs valgrind and Python 3.11+
(``operator.call``); otherwise the cell is n/a. The smoke run (``dry``) runs each workload
once in its own process, uncounted.
"""

from __future__ import annotations

import operator
import os
import shutil
import sys
from typing import Any, Callable

import _common
import propagation

WORKLOADS = ("span_sampled", "span_unsampled", "inject_extract")


def workload(impl: _common.Impl, name: str) -> tuple[Callable[[], None], Callable[[], None]]:
    """(statement, baseline) for ``name``."""
    if name == "inject_extract":
        _, _, round_trip = propagation.setup(impl)

        def empty_carrier() -> None:
            carrier: dict[str, str] = {}  # noqa: F841  # the statement's own allocation

        return round_trip, empty_carrier
    tracer = impl.tracer("null", sampled=name == "span_sampled")
    one_span = _common.one_span

    def span() -> None:
        one_span(tracer)

    def nothing() -> None:
        pass

    return span, nothing


def inner(impl_name: str, name: str, which: str, n: int) -> None:
    """Under callgrind: build, warm up, then run the loop inside ``operator.call``."""
    import gc

    statement, baseline = workload(_common.make_impl(impl_name), name)
    fn = statement if which == "stmt" else baseline

    def loop(count: int) -> None:
        for _ in range(count):
            fn()

    loop(min(n, 500))  # specialise the bytecode and fill caches before collecting
    gc.collect()
    gc.disable()
    operator.call(loop, n)  # type: ignore[attr-defined]  # 3.11+, checked by body
    gc.enable()


def count(impl_name: str, name: str, which: str, n: int) -> int:
    args = [os.path.abspath(__file__), "--inner", impl_name, name, which, str(n)]
    return _common.callgrind_instructions(args)


def body(impl: _common.Impl, p: dict[str, Any]) -> dict[str, Any]:
    if p.get("dry"):  # the smoke run: each workload once, in this process, without valgrind
        for name in WORKLOADS:
            for fn in workload(impl, name):
                fn()
        return {f"{name}_ir": None for name in WORKLOADS}
    if shutil.which("valgrind") is None:
        raise _common.NotApplicable("valgrind is not installed")
    if not hasattr(operator, "call"):
        raise _common.NotApplicable("needs Python 3.11+ (operator.call)")
    import concurrent.futures

    n = p["n"]
    with concurrent.futures.ThreadPoolExecutor(max_workers=p["jobs"]) as pool:
        runs = {
            (name, which): pool.submit(count, impl.name, name, which, n)
            for name in WORKLOADS
            for which in ("stmt", "base")
        }
        return {
            f"{name}_ir": (runs[name, "stmt"].result() - runs[name, "base"].result()) / n
            for name in WORKLOADS
        }


if __name__ == "__main__":
    if len(sys.argv) == 6 and sys.argv[1] == "--inner":
        inner(sys.argv[2], sys.argv[3], sys.argv[4], int(sys.argv[5]))
    else:
        _common.run("instructions", body, {"n": 2000, "jobs": 2})
