"""Encoding finished spans into one ``Agent.emitBatch`` compact datagram: µs per span.

Spans are the standard workload (3 tags and a log each), ``n`` per batch, encoded ``rounds``
times. Upstream: what its reporter does on its IOLoop thread, ``thrift.make_jaeger_batch`` and
thrift's ``TCompactProtocol`` (its generated code never uses the C accelerator). Ours: the
UDP sender's encoder. Run with ``BENCH_NO_FASTBINARY=1`` to hide thrift's C extension.
"""

from __future__ import annotations

import time
from typing import Any, Callable

import _common


def finished_spans(n: int) -> tuple[Any, list[Any]]:
    from jaeger_client import ConstSampler, Tracer
    from jaeger_client.reporter import InMemoryReporter

    reporter = InMemoryReporter()
    tracer = Tracer(service_name=_common.SERVICE, reporter=reporter, sampler=ConstSampler(True))
    for _ in range(n):
        _common.one_span(tracer)
    return tracer, reporter.get_spans()


def thrift_encoder(tracer: Any, accelerated: bool) -> Callable[[list[Any]], bytes]:
    """make_jaeger_batch + emitBatch through thrift's generated code (upstream's path)."""
    from thrift.protocol import TCompactProtocol
    from thrift.Thrift import TMessageType
    from thrift.transport import TTransport

    from jaeger_client import thrift
    from jaeger_client.thrift_gen.agent import Agent

    process = thrift.make_process(
        service_name=tracer.service_name, tags=tracer.tags, max_length=tracer.max_tag_value_length
    )
    protocol_class = (
        TCompactProtocol.TCompactProtocolAccelerated
        if accelerated
        else TCompactProtocol.TCompactProtocol
    )

    def encode(spans: list[Any]) -> bytes:
        buf = TTransport.TMemoryBuffer()
        protocol = protocol_class(buf)
        protocol.writeMessageBegin("emitBatch", TMessageType.ONEWAY, 0)
        Agent.emitBatch_args(batch=thrift.make_jaeger_batch(spans, process)).write(protocol)
        protocol.writeMessageEnd()
        return bytes(buf.getvalue())

    return encode


def body(impl: _common.Impl, p: dict[str, Any]) -> dict[str, Any]:
    if impl.name == "otel":
        raise _common.NotApplicable("OTel has no Jaeger Thrift encoder")
    tracer, spans = finished_spans(p["n"])
    fast = _common.fastbinary_present()
    if impl.name == "upstream":
        encode = thrift_encoder(tracer, accelerated=False)
        path = "make_jaeger_batch + TCompactProtocol"
    else:
        encode = thrift_encoder(tracer, accelerated=fast)
        path = "make_jaeger_batch + TCompactProtocol" + ("Accelerated" if fast else "")
    size = len(encode(spans))
    results = []
    for _ in range(3):
        start = time.perf_counter()
        for _ in range(p["rounds"]):
            encode(spans)
        results.append((time.perf_counter() - start) / (p["rounds"] * p["n"]) * 1e6)
    return {
        "us_per_span": min(results),
        "rounds": results,
        "bytes": size,
        "path": path,
        "fastbinary": fast,
    }


if __name__ == "__main__":
    _common.run("encode", body, {"n": 50, "rounds": 200})
