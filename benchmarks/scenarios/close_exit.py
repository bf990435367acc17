"""A script that makes ``spans`` spans, calls ``tracer.close()`` without waiting, and exits.

The parent (this script without ``--child``) starts the sink, runs the child ``runs`` times and
counts what reached the sink after each child exited. OTel: n/a (no UDP exporter to observe).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from typing import Any

import _common


def child(impl_name: str, port: int, spans: int) -> None:
    impl = _common.make_impl(impl_name)
    tracer = impl.tracer("udp", port=port)
    for _ in range(spans):
        _common.one_span(tracer)
    tracer.close()  # and fall off the end of the script, as a batch job would


def body(impl: _common.Impl, p: dict[str, Any]) -> dict[str, Any]:
    if impl.name == "otel":
        raise _common.NotApplicable("no UDP exporter; delivery at exit cannot be observed")
    delivered = []
    with _common.SinkClient() as sink:
        for _ in range(p["runs"]):
            sink.reset()
            subprocess.run(
                [
                    sys.executable,
                    os.path.abspath(__file__),
                    "--child",
                    json.dumps([impl.name, sink.port, p["spans"]]),
                ],
                check=True,
                timeout=60,
            )
            delivered.append(sink.stats(quiet=p["quiet"])["spans"])
    return {
        "delivered_pct": 100.0 * _common.median(delivered) / p["spans"],
        "delivered": delivered,
        "min_pct": 100.0 * min(delivered) / p["spans"],
    }


if __name__ == "__main__":
    if len(sys.argv) == 3 and sys.argv[1] == "--child":
        name, port, spans = json.loads(sys.argv[2])
        child(name, port, spans)
    else:
        _common.run("close_exit", body, {"spans": 100, "runs": 3, "quiet": 0.5})
