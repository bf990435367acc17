"""Metrics seams: no-op factories, the legacy Metrics callbacks, upstream's metric names."""

from __future__ import annotations

from typing import Any

from jaeger_client.metrics import LegacyMetricsFactory, Metrics, MetricsFactory, NoopMetricsFactory
from jaeger_client.reporter import InMemoryReporter
from jaeger_client.sampler import ConstSampler
from jaeger_client.tracer import Tracer


class Recorder:
    """Collects what the legacy callbacks receive, keyed like upstream's statsd adapters."""

    def __init__(self) -> None:
        self.counts: dict[str, int] = {}
        self.gauges: dict[str, Any] = {}
        self.timings: dict[str, Any] = {}

    def count(self, key: str, value: int) -> None:
        self.counts[key] = self.counts.get(key, 0) + value

    def gauge(self, key: str, value: Any) -> None:
        self.gauges[key] = value

    def timing(self, key: str, value: Any) -> None:
        self.timings[key] = value

    def metrics(self) -> Metrics:
        return Metrics(count=self.count, gauge=self.gauge, timing=self.timing)


def test_base_factory_returns_callables_that_do_nothing() -> None:
    for factory in (MetricsFactory(), NoopMetricsFactory()):
        assert factory.create_counter("c", {"a": "b"})(1) is None
        assert factory.create_gauge("g")(5) is None
        assert factory.create_timer("t")(1.5) is None


def test_legacy_key_is_name_plus_sorted_tag_pairs() -> None:
    rec = Recorder()
    factory = LegacyMetricsFactory(rec.metrics())
    factory.create_counter("jaeger:traces", {"state": "started", "sampled": "y"})(1)
    assert rec.counts == {"jaeger:traces.sampled_y.state_started": 1}


def test_legacy_key_without_tags_is_the_bare_name() -> None:
    rec = Recorder()
    factory = LegacyMetricsFactory(rec.metrics())
    factory.create_counter("jaeger:finished_spans")(3)
    factory.create_counter("jaeger:finished_spans", {})(2)
    assert rec.counts == {"jaeger:finished_spans": 5}


def test_legacy_gauge_passes_the_value_through() -> None:
    rec = Recorder()
    LegacyMetricsFactory(rec.metrics()).create_gauge("jaeger:reporter_queue_length")(7)
    assert rec.gauges == {"jaeger:reporter_queue_length": 7}


def test_legacy_timer_converts_microseconds_to_milliseconds() -> None:
    rec = Recorder()
    LegacyMetricsFactory(rec.metrics()).create_timer("latency", {"op": "x"})(2500)
    assert rec.timings == {"latency.op_x": 2.5}


def test_metrics_ignores_callbacks_that_are_not_callable() -> None:
    metrics = Metrics(count="not callable", gauge=None, timing=42)  # type: ignore[arg-type]  # misuse on purpose
    metrics.count("k", 1)
    metrics.gauge("k", 1)
    metrics.timing("k", 1)
    factory = LegacyMetricsFactory(metrics)
    assert factory.create_counter("k")(1) is None
    assert factory.create_gauge("k")(1) is None
    assert factory.create_timer("k")(1) is None


def test_metrics_calls_each_callback_with_key_and_value() -> None:
    rec = Recorder()
    metrics = rec.metrics()
    metrics.count("a", 2)
    metrics.gauge("b", 3)
    metrics.timing("c", 4)
    assert (rec.counts, rec.gauges, rec.timings) == ({"a": 2}, {"b": 3}, {"c": 4})


def _tracer(rec: Recorder, decision: bool) -> Tracer:
    return Tracer(
        service_name="svc",
        reporter=InMemoryReporter(),
        sampler=ConstSampler(decision),
        metrics_factory=LegacyMetricsFactory(rec.metrics()),
    )


def test_tracer_counts_sampled_root_and_child_spans_with_upstream_names() -> None:
    rec = Recorder()
    tracer = _tracer(rec, True)
    root = tracer.start_span("root")
    tracer.start_span("child", child_of=root).finish()
    root.finish()
    assert rec.counts == {
        "jaeger:traces.sampled_y.state_started": 1,
        "jaeger:started_spans.sampled_y": 2,
        "jaeger:finished_spans": 2,
    }


def test_tracer_counts_unsampled_traces_with_sampled_n() -> None:
    rec = Recorder()
    tracer = _tracer(rec, False)
    tracer.start_span("root")
    assert rec.counts == {
        "jaeger:traces.sampled_n.state_started": 1,
        "jaeger:started_spans.sampled_n": 1,
    }


def test_tracer_accepts_the_deprecated_metrics_argument() -> None:
    rec = Recorder()
    tracer = Tracer(
        service_name="svc",
        reporter=InMemoryReporter(),
        sampler=ConstSampler(True),
        metrics=rec.metrics(),
    )
    tracer.start_span("root")
    assert rec.counts["jaeger:started_spans.sampled_y"] == 1
