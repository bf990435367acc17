"""Run by tests/test_interop_green.py in its own process: spans from green threads after gevent's
``patch_all()`` or eventlet's ``monkey_patch()``.

    python green_child.py gevent|eventlet GREENLETS SPANS_PER_GREENLET

The tracer comes from ``Config.from_env`` (``JAEGER_AGENT_PORT`` points at the test's agent).
Prints one JSON line: the ids of every finished span, as ``[trace, span, parent, name]``.
"""

from __future__ import annotations

import sys

LIBRARY = sys.argv[1]
if LIBRARY == "gevent":  # first, before anything imports threading or socket
    from gevent import monkey

    monkey.patch_all()
elif LIBRARY == "eventlet":
    import eventlet

    eventlet.monkey_patch()
else:
    raise SystemExit(f"unknown library {LIBRARY!r}")

import json  # noqa: E402
from typing import Any, Callable  # noqa: E402

from jaeger_client import Config  # noqa: E402


def green() -> tuple[Callable[[], None], Callable[[list[Any]], None], Callable[[], bool]]:
    """(switch to another green thread, run functions each in its own and wait, is threading
    patched) for the library under test."""
    if LIBRARY == "gevent":
        import gevent
        from gevent import monkey

        def run_all(calls: list[Any]) -> None:
            gevent.joinall([gevent.spawn(f, *args) for f, *args in calls], raise_error=True)

        return (lambda: gevent.sleep(0)), run_all, (lambda: monkey.is_module_patched("threading"))
    import eventlet

    def run_all_eventlet(calls: list[Any]) -> None:
        pool = eventlet.GreenPool()
        threads = [pool.spawn(f, *args) for f, *args in calls]
        for thread in threads:
            thread.wait()  # raises what the green thread raised

    return (
        (lambda: eventlet.sleep(0)),
        run_all_eventlet,
        (lambda: eventlet.patcher.is_monkey_patched("thread")),
    )


def main() -> int:
    greenlets, per_greenlet = int(sys.argv[2]), int(sys.argv[3])
    switch, run_all, is_patched = green()
    tracer = Config.from_env(service_name="green-app").new_tracer()
    finished = []

    def work(number: int) -> None:
        with tracer.start_active_span(f"greenlet-{number}") as root:
            finished.append(root.span)
            for step in range(per_greenlet - 1):
                switch()  # the active span must stay this green thread's
                with tracer.start_active_span(f"step-{number}-{step}") as scope:
                    assert scope.span.context.parent_id == root.span.context.span_id
                    finished.append(scope.span)

    run_all([(work, n) for n in range(greenlets)])
    tracer.close().result(10)
    ids = [
        [s.context.trace_id, s.context.span_id, s.context.parent_id or 0, s.operation_name]
        for s in finished
    ]
    print(json.dumps({"spans": ids, "threading_patched": is_patched()}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
