"""Flask 3 with flask-opentracing 2.0: server spans continue inbound traces and reach the agent."""

from __future__ import annotations

import warnings
from collections.abc import Iterator
from typing import Any

import pytest

flask = pytest.importorskip("flask")
with warnings.catch_warnings():
    # flask-opentracing 2.0 warns on import that it is unsupported; it still works (ECOSYSTEM 2.7)
    warnings.filterwarnings(
        "ignore", message="This package is no longer supported", category=DeprecationWarning
    )
    flask_opentracing = pytest.importorskip("flask_opentracing")

from jaeger_client import Config, testing  # noqa: E402
from jaeger_client.testing import InProcessAgent  # noqa: E402

jaeger_agent = testing.jaeger_agent

INBOUND_TRACE = 0x5AFE_CAFE_0000_0001
INBOUND_SPAN = 0x0000_0000_0000_00F1

# Headers a client may send that our codecs reject or bound; flask-opentracing catches only the
# two OpenTracing exceptions from extract, so anything else would be a 500 (ECOSYSTEM 2.7).
MALFORMED = {
    "garbage": {"uber-trace-id": "garbage"},
    "five-parts": {"uber-trace-id": "1:2:3:4:5"},
    "zero-ids": {"uber-trace-id": "0:0:0:1"},
    "20000-bit": {"uber-trace-id": "f" * 5000 + ":1:0:1"},
    "non-ascii": {"uber-trace-id": "\u00e9:2:0:1"},
    "bad-percent": {"uber-trace-id": "%zz:1:0:1", "uberctx-k": "%zz%"},
    "b3-garbage": {"X-B3-TraceId": "xyz", "X-B3-SpanId": "-1"},
    "b3-single-garbage": {"b3": "---"},
    "traceparent-garbage": {"traceparent": "ff-" + "0" * 32 + "-" + "0" * 16 + "-01"},
    "baggage-flood": {"jaeger-baggage": ",".join(f"k{i}=v" for i in range(5000))},
}


@pytest.fixture
def traced_app(jaeger_agent: InProcessAgent) -> Iterator[tuple[Any, Any]]:
    """A Flask app traced by flask-opentracing with our tracer (all our propagation formats)."""
    config = Config(
        jaeger_agent.config(extra={"propagation": ["jaeger", "b3", "b3-single", "w3c"]}),
        service_name="flask-app",
        environ={},
    )
    tracer = config.new_tracer()
    app = flask.Flask("flask-app")
    tracing = flask_opentracing.FlaskTracing(tracer, True, app)

    @app.route("/hello")
    def hello() -> Any:
        span = tracing.get_span()
        with tracer.start_active_span("work") as scope:
            scope.span.set_tag("user", span.get_baggage_item("user") or "-")
        return {"trace_id": f"{span.context.trace_id:x}", "user": span.get_baggage_item("user")}

    yield app, tracer
    tracer.close().result(5)


def test_an_inbound_uber_trace_id_makes_the_server_span_its_child(
    traced_app: tuple[Any, Any], jaeger_agent: InProcessAgent
) -> None:
    app, tracer = traced_app
    headers = {
        "uber-trace-id": f"{INBOUND_TRACE:x}:{INBOUND_SPAN:x}:0:1",
        "uberctx-user": "alice%20b",
    }
    reply = app.test_client().get("/hello", headers=headers)
    assert reply.status_code == 200
    assert reply.get_json() == {"trace_id": f"{INBOUND_TRACE:x}", "user": "alice b"}
    tracer.close().result(5)

    spans = {s.operation_name: s for s in jaeger_agent.wait_for_spans(2)}
    server, work = spans["hello"], spans["work"]
    assert (server.trace_id, server.parent_id) == (INBOUND_TRACE, INBOUND_SPAN)
    assert server.service_name == "flask-app"
    assert server.tags["component"] == "Flask"
    assert server.tags["span.kind"] == "server"
    assert server.tags["http.status_code"] == 200
    assert (work.trace_id, work.parent_id) == (INBOUND_TRACE, server.span_id)
    assert work.tags["user"] == "alice b"


def test_a_request_without_context_starts_a_new_trace(
    traced_app: tuple[Any, Any], jaeger_agent: InProcessAgent
) -> None:
    app, tracer = traced_app
    assert app.test_client().get("/hello").status_code == 200
    tracer.close().result(5)
    spans = {s.operation_name: s for s in jaeger_agent.wait_for_spans(2)}
    assert spans["hello"].parent_id == 0
    assert spans["work"].parent_id == spans["hello"].span_id


@pytest.mark.parametrize("headers", list(MALFORMED.values()), ids=list(MALFORMED))
def test_malformed_trace_headers_answer_200_with_a_new_trace(
    traced_app: tuple[Any, Any], jaeger_agent: InProcessAgent, headers: dict[str, str]
) -> None:
    app, tracer = traced_app
    reply = app.test_client().get("/hello", headers=headers)
    assert reply.status_code == 200, reply.data
    tracer.close().result(5)
    spans = {s.operation_name: s for s in jaeger_agent.wait_for_spans(2)}
    assert spans["hello"].trace_id != 0
    assert spans["work"].parent_id == spans["hello"].span_id
