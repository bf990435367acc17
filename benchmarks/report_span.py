"""Cost of ``Reporter.report_span`` on the application thread, in microseconds per call.

    python benchmarks/report_span.py [--spans N] [--repeat R]

Reports finished spans from the main thread into a ``Reporter`` whose sender only counts them
(so encoding and sockets are not measured), with the default ``queue_capacity`` and
``batch_size``. The worker runs as it would in production, so the figure includes the cost of
waking it once per batch and of sharing the GIL with it. Prints the best and median per-call
times over ``R`` runs, and the accounting the reporter kept.
"""

from __future__ import annotations

import argparse
import statistics
import time
from collections.abc import Mapping, Sequence
from typing import Any

from jaeger_client.reporter import Reporter
from jaeger_client.senders import SendResult
from jaeger_client.span import Span


class CountingSender:
    def __init__(self) -> None:
        self.count = 0

    def set_process(self, service_name: str, tags: Mapping[str, Any], max_length: int) -> None:
        pass

    def send(self, spans: Sequence[Span], queue_dropped: int) -> SendResult:
        self.count += len(spans)
        return SendResult(len(spans), 0, 0)

    def close(self) -> None:
        pass

    def reset_after_fork(self) -> None:
        pass


def run_once(spans: int) -> tuple[float, Any]:
    sender = CountingSender()
    reporter = Reporter(channel=None, sender=sender)
    reporter.set_process("bench", {}, 1024)
    span: Any = object()  # the reporter never looks inside a span; the sender would
    report = reporter.report_span
    chunk = 1000  # below queue_capacity: let the worker keep up, as it must in production
    elapsed = 0.0
    for _ in range(spans // chunk):
        start = time.perf_counter()
        for _ in range(chunk):
            report(span)
        elapsed += time.perf_counter() - start
        reporter.flush(5.0)
    reporter.close().result(5.0)
    return elapsed / spans * 1e6, reporter.stats()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--spans", type=int, default=200_000)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    results = [run_once(args.spans) for _ in range(args.repeat)]
    per_call = [r[0] for r in results]
    print(
        f"report_span: best {min(per_call):.3f} us/call, median {statistics.median(per_call):.3f}"
        f" us/call over {args.repeat} runs of {args.spans} spans"
    )
    print(f"last run: {results[-1][1]}")


if __name__ == "__main__":
    main()
