"""PrometheusMetricsFactory: upstream names, the service label, registries shared by factories."""

from __future__ import annotations

import subprocess
import sys

import pytest
from prometheus_client import CollectorRegistry

from jaeger_client.metrics.prometheus import PrometheusMetricsFactory
from jaeger_client.reporter import InMemoryReporter
from jaeger_client.sampler import ConstSampler
from jaeger_client.tracer import Tracer


@pytest.fixture
def registry() -> CollectorRegistry:
    return CollectorRegistry()


def value(registry: CollectorRegistry, name: str, **labels: str) -> float | None:
    return registry.get_sample_value(name, labels)


def test_counter_is_exposed_with_upstream_name_and_total_suffix(
    registry: CollectorRegistry,
) -> None:
    factory = PrometheusMetricsFactory(registry=registry)
    factory.create_counter("jaeger:traces", {"state": "started", "sampled": "y"})(2)
    assert value(registry, "jaeger:traces_total", state="started", sampled="y") == 2.0


def test_counter_without_tags_has_no_labels(registry: CollectorRegistry) -> None:
    factory = PrometheusMetricsFactory(registry=registry)
    increment = factory.create_counter("jaeger:finished_spans")
    increment(1)
    increment(1)
    assert value(registry, "jaeger:finished_spans_total") == 2.0


def test_gauge_is_set_to_the_last_value(registry: CollectorRegistry) -> None:
    factory = PrometheusMetricsFactory(registry=registry)
    update = factory.create_gauge("jaeger:reporter_queue_length")
    update(10)
    update(3)
    assert value(registry, "jaeger:reporter_queue_length") == 3.0


def test_namespace_prefixes_the_name(registry: CollectorRegistry) -> None:
    factory = PrometheusMetricsFactory(namespace="app", registry=registry)
    factory.create_counter("jaeger:started_spans", {"sampled": "n"})(1)
    assert value(registry, "app_jaeger:started_spans_total", sampled="n") == 1.0


def test_service_name_label_is_added_without_touching_callers_tags(
    registry: CollectorRegistry,
) -> None:
    factory = PrometheusMetricsFactory(service_name_label="checkout", registry=registry)
    tags = {"result": "ok"}
    factory.create_counter("jaeger:reporter_spans", tags)(5)
    factory.create_counter("jaeger:finished_spans")(1)
    assert value(registry, "jaeger:reporter_spans_total", result="ok", service="checkout") == 5.0
    assert value(registry, "jaeger:finished_spans_total", service="checkout") == 1.0
    assert tags == {"result": "ok"}


def test_label_values_of_one_name_share_a_collector(registry: CollectorRegistry) -> None:
    factory = PrometheusMetricsFactory(registry=registry)
    factory.create_counter("jaeger:reporter_spans", {"result": "ok"})(1)
    factory.create_counter("jaeger:reporter_spans", {"result": "err"})(2)
    assert value(registry, "jaeger:reporter_spans_total", result="ok") == 1.0
    assert value(registry, "jaeger:reporter_spans_total", result="err") == 2.0


def test_timer_is_a_noop(registry: CollectorRegistry) -> None:
    factory = PrometheusMetricsFactory(registry=registry)
    assert factory.create_timer("t")(100) is None
    assert list(registry.collect()) == []


def test_two_factories_on_one_registry_share_collectors(registry: CollectorRegistry) -> None:
    """A second tracer in the same process no longer fails with 'Duplicated timeseries'."""
    first = PrometheusMetricsFactory(service_name_label="a", registry=registry)
    second = PrometheusMetricsFactory(service_name_label="b", registry=registry)
    first.create_counter("jaeger:traces", {"state": "started", "sampled": "y"})(1)
    second.create_counter("jaeger:traces", {"state": "started", "sampled": "y"})(4)
    again = PrometheusMetricsFactory(service_name_label="a", registry=registry)
    again.create_counter("jaeger:traces", {"sampled": "y", "state": "started"})(1)
    labels = {"state": "started", "sampled": "y"}
    assert value(registry, "jaeger:traces_total", service="a", **labels) == 2.0
    assert value(registry, "jaeger:traces_total", service="b", **labels) == 4.0


def test_two_tracers_with_factories_on_one_registry(registry: CollectorRegistry) -> None:
    tracers = [
        Tracer(
            service_name=name,
            reporter=InMemoryReporter(),
            sampler=ConstSampler(True),
            metrics_factory=PrometheusMetricsFactory(service_name_label=name, registry=registry),
        )
        for name in ("one", "two")
    ]
    for tracer in tracers:
        tracer.start_span("op").finish()
    for name in ("one", "two"):
        assert value(registry, "jaeger:started_spans_total", sampled="y", service=name) == 1.0
        assert value(registry, "jaeger:finished_spans_total", service=name) == 1.0


def test_factories_disagreeing_on_the_service_label_fail_clearly_at_construction(
    registry: CollectorRegistry,
) -> None:
    """Prometheus cannot hold one name with two label sets: the second tracer's construction
    raises a ValueError that says why and what to do (upstream: 'Duplicated timeseries')."""

    def tracer(factory: PrometheusMetricsFactory) -> Tracer:
        return Tracer("svc", InMemoryReporter(), ConstSampler(True), metrics_factory=factory)

    tracer(PrometheusMetricsFactory(service_name_label="a", registry=registry))
    with pytest.raises(ValueError, match="service_name_label") as info:
        tracer(PrometheusMetricsFactory(registry=registry))
    assert "jaeger:" in str(info.value)
    tracer(PrometheusMetricsFactory(registry=CollectorRegistry()))  # its own registry: fine


def test_a_name_taken_by_someone_else_fails_clearly(registry: CollectorRegistry) -> None:
    from prometheus_client import Counter

    Counter("jaeger:finished_spans", "the application's own", registry=registry)
    with pytest.raises(ValueError, match="something else in this registry uses the name"):
        PrometheusMetricsFactory(registry=registry).create_counter("jaeger:finished_spans")


def test_default_registry_is_prometheus_clients_global() -> None:
    import prometheus_client

    factory = PrometheusMetricsFactory(namespace="jaeger_client_test_default_registry")
    factory.create_counter("jaeger:finished_spans")(1)
    again = PrometheusMetricsFactory(namespace="jaeger_client_test_default_registry")
    again.create_counter("jaeger:finished_spans")(1)
    name = "jaeger_client_test_default_registry_jaeger:finished_spans_total"
    assert prometheus_client.REGISTRY.get_sample_value(name) == 2.0


def test_missing_prometheus_client_names_the_extra() -> None:
    code = (
        "import sys; sys.modules['prometheus_client'] = None\n"
        "try:\n"
        "    import jaeger_client.metrics.prometheus\n"
        "except ImportError as e:\n"
        "    print(e)\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=30, check=True
    ).stdout
    assert "jaeger_client[prometheus]" in out


def test_an_invalid_name_keeps_prometheus_clients_own_error(registry: CollectorRegistry) -> None:
    with pytest.raises(ValueError, match="Reserved label") as info:
        PrometheusMetricsFactory(registry=registry).create_counter("x", {"__reserved": "1"})
    assert "registry" not in str(info.value)  # not dressed up as a clash
