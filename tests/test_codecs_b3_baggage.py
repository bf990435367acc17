"""B3 multi-header baggage: uberctx-* as the npm jaeger-client's ZipkinB3TextMapCodec writes it."""

from __future__ import annotations

from _http_agent import CountingMetricsFactory

from jaeger_client import SpanContext, constants
from jaeger_client.codecs import B3Codec, B3SingleCodec, CompositeCodec, TextCodec
from jaeger_client.tracer import TracerMetrics

B3_IDS = {"X-B3-TraceId": "0" * 15 + "1", "X-B3-SpanId": "0" * 15 + "2", "X-B3-Sampled": "1"}


def test_b3_injects_baggage_as_url_encoded_uberctx_headers() -> None:
    carrier: dict[str, str] = {}
    B3Codec().inject(SpanContext(1, 2, None, 1, {"k": "a b/é", "plain": "v1"}), carrier)
    assert carrier["uberctx-k"] == "a%20b/%C3%A9"
    assert carrier["uberctx-plain"] == "v1"


def test_b3_extracts_uberctx_and_go_java_baggage_prefix_any_case() -> None:
    carrier = {**B3_IDS, "UberCtx-K": "a%20b+c", "baggage-other": "x", "baggage": "not-ours"}
    context = B3Codec().extract(carrier)
    assert context is not None and context.trace_id == 1
    assert dict(context.baggage) == {"k": "a b c", "other": "x"}


def test_b3_baggage_round_trips_without_url_encoding() -> None:
    codec = B3Codec(url_encoding=False)
    carrier: dict[str, str] = {}
    codec.inject(SpanContext(1, 2, None, 1, {"k": "a+b %41"}), carrier)
    assert carrier["uberctx-k"] == "a+b %41"
    context = codec.extract(carrier)
    assert context is not None and dict(context.baggage) == {"k": "a+b %41"}


def test_b3_baggage_without_ids_is_a_baggage_only_context() -> None:
    context = B3Codec().extract({"uberctx-k": "v"})
    assert context is not None and not context.has_trace
    assert dict(context.baggage) == {"k": "v"}


def test_b3_baggage_is_bounded_and_the_excess_counted() -> None:
    factory = CountingMetricsFactory()
    codec = B3Codec(metrics=TracerMetrics(factory))
    many = {f"uberctx-k{i:04d}": "v" for i in range(constants.MAX_BAGGAGE_ITEMS + 20)}
    context = codec.extract({**B3_IDS, **many})
    assert context is not None and len(context.baggage) == constants.MAX_BAGGAGE_ITEMS
    assert factory.counts["jaeger:baggage_truncations"] == 20


def test_b3_single_carries_no_baggage() -> None:
    """Node has no b3-single codec; Go's and Java's jaeger clients neither; B3 defines none."""
    carrier: dict[str, str] = {}
    B3SingleCodec().inject(SpanContext(1, 2, None, 1, {"k": "v"}), carrier)
    assert list(carrier) == ["b3"]


def test_composite_b3_and_jaeger_writes_each_baggage_header_once_and_agrees() -> None:
    for url_encoding in (True, False):  # TEXT_MAP: the TextCodec does not url-encode
        codec = CompositeCodec([B3Codec(), TextCodec(url_encoding=url_encoding)])
        carrier: dict[str, str] = {}
        codec.inject(SpanContext(1, 2, None, 1, {"k": "a+b c%"}), carrier)
        assert [k for k in carrier if k.startswith("uberctx-")] == ["uberctx-k"]
        context = codec.extract(carrier)
        assert context is not None and dict(context.baggage) == {"k": "a+b c%"}, url_encoding
