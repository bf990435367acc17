"""Span encoding cost on the reporter thread: µs per span, ours (C and pure) vs thrift's encoders.

    python benchmarks/encode.py [--spans 1000] [--repeat 15]

Spans are distinct (own ids and timestamps; only tag values repeat). They are encoded in chunks
of 100, each with a fresh encoder (so the tag cache starts cold every time), ``--repeat`` times;
the minimum per chunk is kept, which is what the machine does when nothing else competes for
the core (the CI machines are shared).

Workloads:
  child     a child span with 3 tags (string, int, bool) and 1 log of 1 field
  standard  the project's benchmark unit (benchmarks/scenarios/_common.py ``one_span``): a root
            span with 3 tags plus the sampler's 2, and a log of 2 fields

Paths:
  ours C        CompactEncoder(accelerated=True): fastbinary for the fixed fields, cached tag lists
  ours pure     CompactEncoder(accelerated=False): Python varints, cached names and tag lists
  thrift C      thrift.make_span + generated Span + fastbinary.encode_compact (whole struct)
  thrift pure   thrift.make_span + generated Span.write(TCompactProtocol)
"""

from __future__ import annotations

import argparse
import time
from typing import Any, Callable, Optional

from thrift.protocol import TCompactProtocol
from thrift.transport import TTransport

from jaeger_client import _encode
from jaeger_client import thrift as jthrift
from jaeger_client.sampler import ConstSampler
from jaeger_client.thrift_gen.jaeger import ttypes
from jaeger_client.tracer import Tracer


class _Collect:
    def __init__(self) -> None:
        self.spans: list[Any] = []

    def report_span(self, span: Any) -> None:
        self.spans.append(span)


def child_spans(n: int) -> list[Any]:
    reporter = _Collect()
    tracer = Tracer("bench", reporter, ConstSampler(True))
    root = tracer.start_span("root")
    for i in range(n):
        span = tracer.start_span("GET /users/{id}", child_of=root)
        span.set_tag("component", "flask")
        span.set_tag("http.status_code", 200 if i % 10 else 404)
        span.set_tag("error", False)
        span.log_kv({"event": "cache miss"})
        span.finish()
    return reporter.spans


def standard_spans(n: int) -> list[Any]:
    reporter = _Collect()
    tracer = Tracer("bench", reporter, ConstSampler(True))
    for _ in range(n):
        span = tracer.start_span("checkout")
        span.set_tag("http.method", "GET")
        span.set_tag("http.status_code", 200)
        span.set_tag("component", "bench")
        span.log_kv({"event": "cache-miss", "key": "user:42"})
        span.finish()
    return reporter.spans


def ours(accelerated: Optional[bool]) -> Callable[[list[Any]], int]:
    def run(spans: list[Any]) -> int:
        encode = _encode.CompactEncoder(accelerated=accelerated).encode_span
        return sum(len(encode(s)) for s in spans)

    return run


def thrift_c(spans: list[Any]) -> int:
    from thrift.protocol.fastbinary import encode_compact

    spec = [ttypes.Span, ttypes.Span.thrift_spec]
    return sum(len(encode_compact(jthrift.make_span(s), spec)) for s in spans)


def thrift_pure(spans: list[Any]) -> int:
    total = 0
    for s in spans:
        buf = TTransport.TMemoryBuffer()
        jthrift.make_span(s).write(TCompactProtocol.TCompactProtocol(buf))
        total += len(buf.getvalue())
    return total


def best_us_per_span(fn: Callable[[list[Any]], int], spans: list[Any], repeat: int) -> float:
    """Minimum over ``repeat`` runs of each 100-span chunk, summed: short runs dodge preemption."""
    total = 0.0
    for i in range(0, len(spans), 100):
        chunk = spans[i : i + 100]
        best = float("inf")
        for _ in range(repeat):
            start = time.perf_counter()
            fn(chunk)
            best = min(best, time.perf_counter() - start)
        total += best
    return total / len(spans) * 1e6


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--spans", type=int, default=1000)
    parser.add_argument("--repeat", type=int, default=25)
    args = parser.parse_args()
    paths: list[tuple[str, Callable[[list[Any]], int]]] = [("ours pure", ours(False))]
    if _encode.HAS_FASTBINARY:
        paths.insert(0, ("ours C", ours(True)))
        paths.append(("thrift C", thrift_c))
    paths.append(("thrift pure", thrift_pure))
    print(
        f"fastbinary available: {_encode.HAS_FASTBINARY}; {args.spans} spans, best of {args.repeat}"
    )
    for workload, make in (("child", child_spans), ("standard", standard_spans)):
        spans = make(args.spans)
        sizes = {name: fn(spans) for name, fn in paths}
        if len(set(sizes.values())) != 1:
            raise SystemExit(f"encoders disagree on total size: {sizes}")
        print(f"{workload:9s} ({sizes[paths[0][0]] / len(spans):.0f} B/span)")
        for name, fn in paths:
            print(f"  {name:12s} {best_us_per_span(fn, spans, args.repeat):6.2f} µs/span")


if __name__ == "__main__":
    main()
