"""A root span with 10 active children (``start_active_span`` scopes): µs per tree of 11 spans.

A process's figure is its fastest round (``_common.fastest``)."""

from __future__ import annotations

from typing import Any

import _common


def one_tree(tracer: Any) -> None:
    with tracer.start_active_span("root") as root_scope:
        root_scope.span.set_tag("component", "bench")
        for _ in range(10):
            with tracer.start_active_span("child") as scope:
                scope.span.set_tag("http.status_code", 200)


def body(impl: _common.Impl, p: dict[str, Any]) -> dict[str, Any]:
    tracer = impl.tracer("null")
    rounds = _common.per_op_us(lambda: one_tree(tracer), p["n"], p["rounds"], p.get("seconds", 0.0))
    impl.close(tracer)
    return {
        "us_per_tree": _common.fastest(rounds),
        "median_round": _common.median(rounds),
        "rounds": rounds,
    }


if __name__ == "__main__":
    _common.run("tree", body, {"n": 2000, "rounds": 5})
