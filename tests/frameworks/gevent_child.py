"""Run by tests/test_interop_gevent.py in its own process: spans from greenlets under patch_all.

    python gevent_child.py GREENLETS SPANS_PER_GREENLET

The tracer comes from ``Config.from_env`` (``JAEGER_AGENT_PORT`` points at the test's agent).
Prints one JSON line: the ids of every finished span, as ``[trace, span, parent, name]``.
"""

from __future__ import annotations

from gevent import monkey

monkey.patch_all()  # first, before anything imports threading or socket

import json  # noqa: E402
import sys  # noqa: E402

import gevent  # noqa: E402

from jaeger_client import Config  # noqa: E402


def main() -> int:
    greenlets, per_greenlet = int(sys.argv[1]), int(sys.argv[2])
    tracer = Config.from_env(service_name="gevent-app").new_tracer()
    finished = []

    def work(number: int) -> None:
        with tracer.start_active_span(f"greenlet-{number}") as root:
            finished.append(root.span)
            for step in range(per_greenlet - 1):
                gevent.sleep(0)  # switch: the active span must stay this greenlet's
                with tracer.start_active_span(f"step-{number}-{step}") as scope:
                    assert scope.span.context.parent_id == root.span.context.span_id
                    finished.append(scope.span)

    gevent.joinall([gevent.spawn(work, n) for n in range(greenlets)], raise_error=True)
    tracer.close().result(10)
    ids = [
        [s.context.trace_id, s.context.span_id, s.context.parent_id or 0, s.operation_name]
        for s in finished
    ]
    print(json.dumps({"spans": ids, "threading_patched": monkey.is_module_patched("threading")}))
    return 0


if __name__ == "__main__":
    sys.exit(main())
