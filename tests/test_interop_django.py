"""Django (<= 5.0) with django_opentracing 1.1: server spans continue inbound traces to the agent.

django_opentracing's middleware fails from Django 5.1 on (ECOSYSTEM 2.8), hence ``django<5.1`` in
the ``interop`` extra. Django is configured once, in this process, with this module as URLconf.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

django = pytest.importorskip("django")
if django.VERSION >= (5, 1):  # pragma: no cover
    pytest.skip("django_opentracing 1.1 does not work with Django >= 5.1", allow_module_level=True)
django_opentracing = pytest.importorskip("django_opentracing")

from django.conf import settings  # noqa: E402
from django.http import HttpRequest, JsonResponse  # noqa: E402
from django.urls import path  # noqa: E402

from jaeger_client import Config, testing  # noqa: E402
from jaeger_client.testing import InProcessAgent  # noqa: E402

jaeger_agent = testing.jaeger_agent

INBOUND_TRACE = 0x0DD0_0000_0000_0000_1234_5678_9ABC_DEF0  # 128-bit
INBOUND_SPAN = 0x42


def hello(request: HttpRequest) -> JsonResponse:
    tracing = settings.OPENTRACING_TRACING
    span = tracing.get_span(request)
    with tracing.tracer.start_active_span("work") as scope:
        scope.span.set_tag("user", span.get_baggage_item("user") or "-")
    return JsonResponse({"trace_id": f"{span.context.trace_id:x}"})


def boom(request: HttpRequest) -> JsonResponse:
    raise RuntimeError("boom")


urlpatterns = [path("hello/", hello), path("boom/", boom)]


@pytest.fixture(scope="module")
def django_settings() -> None:
    if not settings.configured:
        settings.configure(
            DEBUG=False,
            SECRET_KEY="interop-test",
            ALLOWED_HOSTS=["testserver"],
            ROOT_URLCONF=__name__,
            MIDDLEWARE=["django_opentracing.OpenTracingMiddleware"],
            INSTALLED_APPS=[],
            OPENTRACING_TRACE_ALL=True,
            LOGGING_CONFIG=None,  # keep Django's logging setup out of the test process
        )
        django.setup()


@pytest.fixture
def client(django_settings: None, jaeger_agent: InProcessAgent) -> Iterator[tuple[Any, Any]]:
    """A Django test client whose middleware traces with a tracer reporting to the agent."""
    from django.test import Client

    config = Config(
        jaeger_agent.config(extra={"propagation": ["jaeger", "b3", "w3c"]}),
        service_name="django-app",
        environ={},
    )
    tracer = config.new_tracer()
    tracing = django_opentracing.DjangoTracing(tracer)
    # the middleware reads both names, the old one first, on its first request
    settings.OPENTRACING_TRACING = settings.OPENTRACING_TRACER = tracing
    yield Client(raise_request_exception=False), tracer
    tracer.close().result(5)


def test_an_inbound_uber_trace_id_makes_the_server_span_its_child(
    client: tuple[Any, Any], jaeger_agent: InProcessAgent
) -> None:
    http, tracer = client
    reply = http.get(
        "/hello/",
        HTTP_UBER_TRACE_ID=f"{INBOUND_TRACE:x}:{INBOUND_SPAN:x}:0:1",
        HTTP_UBERCTX_USER="bob%2Fsmith",
    )
    assert reply.status_code == 200
    assert reply.json() == {"trace_id": f"{INBOUND_TRACE:x}"}
    tracer.close().result(5)

    spans = {s.operation_name: s for s in jaeger_agent.wait_for_spans(2)}
    server, work = spans["hello"], spans["work"]
    assert (server.trace_id, server.parent_id) == (INBOUND_TRACE, INBOUND_SPAN)
    assert server.service_name == "django-app"
    assert server.tags["component"] == "django"
    assert server.tags["http.status_code"] == 200
    assert (work.trace_id, work.parent_id) == (INBOUND_TRACE, server.span_id)
    assert work.tags["user"] == "bob/smith"


@pytest.mark.parametrize(
    "meta",
    [
        {"HTTP_UBER_TRACE_ID": "garbage"},
        {"HTTP_UBER_TRACE_ID": "0:0:0:0"},
        {"HTTP_UBER_TRACE_ID": "f" * 5000 + ":1:0:1"},
        {"HTTP_UBERCTX_K": "%zz", "HTTP_JAEGER_BAGGAGE": "=,==,k=v=w"},
        {"HTTP_X_B3_TRACEID": "-1", "HTTP_X_B3_SPANID": "zz"},
        {"HTTP_TRACEPARENT": "00-" + "0" * 32 + "-" + "0" * 16 + "-01"},
    ],
    ids=["garbage", "zero", "huge", "bad-baggage", "b3", "traceparent"],
)
def test_malformed_trace_headers_answer_200_with_a_new_trace(
    client: tuple[Any, Any], jaeger_agent: InProcessAgent, meta: dict[str, str]
) -> None:
    http, tracer = client
    reply = http.get("/hello/", **meta)
    assert reply.status_code == 200, reply.content
    tracer.close().result(5)
    spans = {s.operation_name: s for s in jaeger_agent.wait_for_spans(2)}
    assert spans["hello"].trace_id != 0
    assert spans["work"].parent_id == spans["hello"].span_id


def test_a_failing_view_is_a_500_with_an_error_span(
    client: tuple[Any, Any], jaeger_agent: InProcessAgent
) -> None:
    http, tracer = client
    assert http.get("/boom/").status_code == 500
    tracer.close().result(5)
    (span,) = jaeger_agent.wait_for_spans(1)
    assert span.operation_name == "boom"
    assert span.tags["error"] is True
