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
    metrics = _common.timed_cell(lambda: one_tree(tracer), p, "us_per_tree")
    impl.close(tracer)
    return metrics


if __name__ == "__main__":
    _common.run("tree", body, {"n": 2000, "rounds": 5})
