"""One scenario through jaeger_client's public API, and what it produces, as JSON.

The same file runs under upstream jaeger-client 4.8.0 (to record its behaviour) and under ours
(tests/test_upstream_behaviour.py, which compares the two)::

    .bench/upstream/bin/python tests/upstream_scenario.py > tests/data/upstream_behaviour_4.8.0.json

(again after any edit here: a recorded stack trace holds this file's line numbers).

It uses only what both packages have: spans with every kind of tag and log value, baggage, errors,
references and renames turned into a Thrift batch by ``thrift.make_jaeger_batch``; the samplers'
tags; inject and extract through the text, HTTP, B3 and binary codecs; the metrics a tracer creates
and counts; ``Config``'s properties for a few configurations (run it with no ``JAEGER_*`` variables
set). Ids, timestamps and host-dependent values are left out.
"""

from __future__ import annotations

import json
import logging
import sys
from typing import Any

import opentracing
from opentracing import Format

from jaeger_client import (
    ConstSampler,
    ProbabilisticSampler,
    RateLimitingSampler,
    SpanContext,
    Tracer,
    thrift,
)
from jaeger_client.codecs import B3Codec, TextCodec
from jaeger_client.metrics import MetricsFactory
from jaeger_client.reporter import InMemoryReporter


class RecordingMetrics(MetricsFactory):  # type: ignore[misc]  # upstream's is untyped
    """Records the metrics a tracer creates, and the counters' totals."""

    def __init__(self) -> None:
        super().__init__()
        self.created: list[str] = []
        self.counts: dict[str, int] = {}

    def _key(self, kind: str, name: str, tags: Any) -> str:
        key = name + (json.dumps(sorted(tags.items())) if tags else "")
        self.created.append(f"{kind}:{key}")
        return key

    def create_counter(self, name: str, tags: Any = None) -> Any:
        key = self._key("counter", name, tags)

        def increment(value: int) -> None:
            self.counts[key] = self.counts.get(key, 0) + value

        return increment

    def create_gauge(self, name: str, tags: Any = None) -> Any:
        self._key("gauge", name, tags)
        return lambda value: None

    def create_timer(self, name: str, tags: Any = None) -> Any:
        self._key("timer", name, tags)
        return lambda value: None


class _Object:
    def __str__(self) -> str:
        return "Obj!"


def _tag(t: Any) -> list[Any]:
    value = {0: t.vStr, 1: t.vDouble, 2: t.vBool, 3: t.vLong, 4: t.vBinary}.get(t.vType)
    if isinstance(value, bytes):
        value = value.decode("latin-1")
    if isinstance(value, str):  # a stack trace names this file: not where it was checked out
        value = value.replace(__file__, "upstream_scenario.py")
    return [t.key, t.vType, value]


def _span(s: Any) -> dict[str, Any]:
    return {
        "op": s.operationName,
        "flags": s.flags,
        "tags": [_tag(t) for t in (s.tags or [])],
        "logs": [[_tag(f) for f in log.fields] for log in (s.logs or [])],
        "refs": [r.refType for r in (s.references or [])],
        "has_parent": bool(s.parentSpanId),
    }


def _context(c: Any) -> Any:
    if c is None:
        return None
    baggage = dict(c.baggage or {})
    return [c.trace_id, c.span_id, c.parent_id, c.flags, baggage, getattr(c, "debug_id", None)]


CONFIGS: dict[str, dict[str, Any]] = {
    "empty": {},
    "full": {
        "enabled": True,
        "logging": True,
        "local_agent": {"reporting_host": "h", "reporting_port": 1234, "sampling_port": 4321},
        "sampler": {"type": "probabilistic", "param": 0.25},
        "trace_id_header": "x-trace",
        "baggage_header_prefix": "x-b-",
        "debug_id_header": "x-dbg",
        "service_name_header": "x-svc",
        "reporter_batch_size": 5,
        "reporter_queue_size": 50,
        "reporter_flush_interval": 2,
        "sampling_refresh_interval": 30,
        "max_tag_value_length": 99,
        "max_traceback_length": 77,
        "propagation": "b3",
        "generate_128bit_trace_id": True,
        "throttler": {"port": 999, "refresh_interval": 5},
        "max_operations": 50,
        "tags": {"x": "y"},
    },
    "strings": {
        "logging": "true",
        "enabled": "false",
        "reporter_batch_size": "7",
        "generate_128bit_trace_id": "1",
    },
}


def _config_properties(config: dict[str, Any]) -> dict[str, Any]:
    """Every property of ``Config`` built from ``config``: plain values as they are, objects by
    their class name (a dict of codecs by format, by the codecs' class names)."""
    from jaeger_client import Config

    built = Config(config=config, service_name="svc")
    values: dict[str, Any] = {}
    for name, attribute in sorted(vars(Config).items()):
        if not isinstance(attribute, property):
            continue
        value = getattr(built, name)
        if isinstance(value, dict):
            value = {str(k): v if _plain(v) else type(v).__name__ for k, v in value.items()}
        elif not _plain(value):
            value = type(value).__name__
        values[name] = value
    return values


def _plain(value: Any) -> bool:
    return value is None or isinstance(value, (bool, int, float, str))


def _full(sampler: Any) -> Any:
    """The rate limiter starts with a random balance: fill it, so the first span is sampled."""
    sampler.rate_limiter.balance = sampler.rate_limiter.max_balance
    return sampler


def run() -> dict[str, Any]:
    logging.disable(logging.CRITICAL)
    try:
        return json.loads(json.dumps(_run(), sort_keys=True, default=repr))
    finally:
        logging.disable(logging.NOTSET)


def _run() -> dict[str, Any]:
    out: dict[str, Any] = {}

    rec = RecordingMetrics()
    reporter = InMemoryReporter()
    tracer = Tracer(
        "svc",
        reporter,
        ConstSampler(True),
        metrics_factory=rec,
        tags={"t.str": "v", "t.int": 3, "t.bool": True},
    )
    out["metrics_created_at_init"] = sorted(set(rec.created))
    root = tracer.start_span("root")
    for k, v in [
        ("s", "str"),
        ("i", 42),
        ("neg", -7),
        ("f", 1.5),
        ("b", True),
        ("bf", False),
        ("none", None),
        ("obj", _Object()),
        ("long", "x" * 2000),
        ("uni", "héllo ☃"),
        ("big", 1 << 70),
        ("bytes", b"ab\x00"),
    ]:
        root.set_tag(k, v)
    root.log_kv({"event": "e1", "n": 1, "f": 2.5, "b": False, "o": _Object(), "long": "y" * 2000})
    root.log_event("ev", payload={"a": 1})
    root.set_baggage_item("bk", "bv")
    root.set_baggage_item("bk", "bv2")
    root.info("an info", payload={"p": 1})
    root.error("an error", payload={"p": 2})
    child = tracer.start_span("child", child_of=root)
    child.set_tag("sampling.priority", 1)
    child.finish()
    try:
        with tracer.start_span("failing", child_of=root):
            raise ValueError("boom")
    except ValueError:
        pass
    follows = tracer.start_span("follows", references=[opentracing.follows_from(root.context)])
    follows.finish()
    with tracer.start_active_span("active", finish_on_close=True) as scope:
        scope.span.set_tag("error", True)
    root.set_operation_name("root-renamed")
    root.finish()
    unsampled_tracer = Tracer(
        "svc2", InMemoryReporter(), ConstSampler(False), metrics_factory=RecordingMetrics()
    )
    u = unsampled_tracer.start_span("u")
    u.set_tag("x", 1)
    u.finish()
    out["metrics_counts"] = dict(sorted(rec.counts.items()))
    process = thrift.make_process(
        service_name=tracer.service_name, tags=tracer.tags, max_length=tracer.max_tag_value_length
    )
    batch = thrift.make_jaeger_batch(reporter.get_spans(), process)
    out["process"] = {
        "service": batch.process.serviceName,
        "tags": sorted([t.key, t.vType] for t in batch.process.tags),
    }
    out["spans"] = sorted((_span(s) for s in batch.spans), key=lambda d: d["op"])

    def sampler_tags(sampler: Any) -> list[Any]:
        spans = InMemoryReporter()
        Tracer("svc", spans, sampler).start_span("x").finish()
        span = thrift.make_jaeger_batch(spans.get_spans(), process).spans[0]
        return sorted(_tag(t) for t in span.tags)

    out["sampler_tags"] = {
        "const": sampler_tags(ConstSampler(True)),
        "prob": sampler_tags(ProbabilisticSampler(1.0)),
        "rl": sampler_tags(_full(RateLimitingSampler(10))),
    }
    out["sampler_str"] = [
        str(ConstSampler(True)),
        str(ProbabilisticSampler(0.5)),
        str(RateLimitingSampler(10)),
    ]

    ctx = SpanContext(trace_id=0x1234, span_id=0x5678, parent_id=0x9, flags=1)
    ctx = ctx.with_baggage_item("k1", "v 1").with_baggage_item("k2", "ü/=;,")
    dbg = SpanContext(trace_id=0x1234, span_id=0x5678, parent_id=None, flags=3)
    inj: dict[str, Any] = {}
    for name, codec in [
        ("text", TextCodec(url_encoding=False)),
        ("http", TextCodec(url_encoding=True)),
        ("b3", B3Codec()),
    ]:
        for label, c in [("ctx", ctx), ("dbg", dbg), ("unsampled", SpanContext(0x1, 0x2, None, 0))]:
            carrier: dict[str, str] = {}
            try:
                codec.inject(c, carrier)
                inj[f"{name}/{label}"] = carrier
            except Exception as e:
                inj[f"{name}/{label}"] = "raised " + type(e).__name__
    out["inject"] = inj

    ext: dict[str, Any] = {}
    carriers = {
        "plain": {"uber-trace-id": "1234:5678:9:1"},
        "baggage": {"uber-trace-id": "1234:5678:9:1", "uberctx-k": "v%201", "UberCtx-K2": "x"},
        "debug": {"jaeger-debug-id": "abc"},
        "jbaggage": {"jaeger-baggage": "a=1, b = 2"},
        "upper": {"UBER-TRACE-ID": "ABC:DEF:0:1"},
        "encoded": {"uber-trace-id": "1234%3A5678%3A9%3A1"},
        "128": {"uber-trace-id": "0000000000000001000000000000abcd:5678:0:1"},
        "zero_parent": {"uber-trace-id": "1234:5678:0:0"},
    }
    for codec_name, codec in [
        ("text", TextCodec(url_encoding=False)),
        ("http", TextCodec(url_encoding=True)),
    ]:
        for k, carrier in carriers.items():
            try:
                ext[f"{codec_name}/{k}"] = _context(codec.extract(carrier))
            except Exception as e:
                ext[f"{codec_name}/{k}"] = "raised " + type(e).__name__
    b3c = {
        "sampled": {
            "X-B3-TraceId": "000000000000abcd",
            "X-B3-SpanId": "0000000000001234",
            "X-B3-Sampled": "1",
        },
        "parent": {
            "X-B3-TraceId": "abcd",
            "X-B3-SpanId": "1234",
            "X-B3-ParentSpanId": "99",
            "X-B3-Flags": "1",
        },
        "128": {"X-B3-TraceId": "0000000000000001000000000000abcd", "X-B3-SpanId": "1234"},
    }
    for k, carrier in b3c.items():
        try:
            ext[f"b3/{k}"] = _context(B3Codec().extract(carrier))
        except Exception as e:
            ext[f"b3/{k}"] = "raised " + type(e).__name__
    out["extract"] = ext
    tc = Tracer("svc", InMemoryReporter(), ConstSampler(True))
    bc = bytearray()
    tc.inject(ctx, Format.BINARY, bc)
    out["binary"] = bytes(bc).hex()
    out["config"] = {name: _config_properties(config) for name, config in CONFIGS.items()}
    out["binary_roundtrip"] = _context(tc.extract(Format.BINARY, bc))

    return out


if __name__ == "__main__":
    json.dump(run(), sys.stdout, indent=1, sort_keys=True)
    sys.stdout.write("\n")
