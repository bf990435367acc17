"""The dev agent: real datagrams and HTTP requests built with thrift's own protocol classes."""

from __future__ import annotations

import contextlib
import io
import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any, Callable

import pytest
from _agent_helpers import (
    NOW_US,
    LineReader,
    batch,
    batch_body,
    emit_batch,
    http,
    send_udp,
    span,
)
from thrift.Thrift import TMessageType

from jaeger_client.agent import (
    MAX_DATAGRAM_BYTES,
    Agent,
    HTTPRequestRecord,
    MalformedInput,
    MalformedInputError,
    ReceivedBatch,
    Strategies,
    StrategyError,
    Trace,
    TracePrinter,
    decode_batch_body,
    decode_datagram,
    format_trace,
    group_traces,
    main,
    span_to_json,
)
from jaeger_client.agent._model import batch_from_thrift
from jaeger_client.thrift_gen.jaeger import ttypes as jt

EXAMPLES = Path(__file__).resolve().parent.parent / "examples"


class Recorder:
    """Listener for an :class:`Agent`: records what it reports and lets a test wait for it."""

    def __init__(self) -> None:
        self.cond = threading.Condition()
        self.batches: list[ReceivedBatch] = []
        self.malformed: list[MalformedInput] = []
        self.requests: list[HTTPRequestRecord] = []

    def on_batch(self, item: ReceivedBatch) -> None:
        with self.cond:
            self.batches.append(item)
            self.cond.notify_all()

    def on_malformed(self, item: MalformedInput) -> None:
        with self.cond:
            self.malformed.append(item)
            self.cond.notify_all()

    def on_request(self, item: HTTPRequestRecord) -> None:
        with self.cond:
            self.requests.append(item)
            self.cond.notify_all()

    def wait(self, predicate: Callable[[], Any], timeout: float = 5.0) -> None:
        with self.cond:
            assert self.cond.wait_for(predicate, timeout), "timed out"


@pytest.fixture
def recorder() -> Recorder:
    return Recorder()


@pytest.fixture
def agent(recorder: Recorder) -> Iterator[Agent]:
    with Agent(
        "127.0.0.1",
        0,
        0,
        0,
        on_batch=[recorder.on_batch],
        on_malformed=[recorder.on_malformed],
        on_request=[recorder.on_request],
    ) as running:
        yield running


def full_span() -> Any:
    """One span using every field: all tag types, a log, a FOLLOWS_FROM ref, a 128-bit trace id."""
    return span(
        "checkout",
        span_id=-2,  # ids travel as signed i64
        parent_id=5,
        trace_low=-1,
        trace_high=0x0102030405060708,
        start=10,
        duration=2500,
        flags=3,
        tags={"s": "text", "d": 1.5, "b": True, "l": -(2**63), "bin": b"\x00\xff"},
        logs=[(1000, {"event": "error", "message": "boom"})],
        references=[jt.SpanRef(jt.SpanRefType.FOLLOWS_FROM, 9, 0, 77)],
    )


# ---- decoding --------------------------------------------------------------------------------


def test_compact_datagram_on_udp_becomes_one_batch_with_every_field_decoded(
    agent: Agent, recorder: Recorder
) -> None:
    send_udp(agent.compact_port, emit_batch(batch([full_span()], "shop", {"hostname": "h1"})))
    recorder.wait(lambda: recorder.batches)

    (received,) = recorder.batches
    assert (received.service_name, received.process_tags, received.transport) == (
        "shop",
        {"hostname": "h1"},
        "compact",
    )
    (got,) = received.spans
    assert got.trace_id == (0x0102030405060708 << 64) | (2**64 - 1)
    assert got.trace_id_hex == "0102030405060708ffffffffffffffff"
    assert (got.span_id, got.parent_id) == (2**64 - 2, 5)
    assert (got.operation_name, got.service_name, got.is_sampled, got.is_debug) == (
        "checkout",
        "shop",
        True,
        True,
    )
    assert (got.start_time_us, got.duration_us) == (NOW_US + 10, 2500)
    assert got.duration == pytest.approx(0.0025)
    assert got.tags == {"s": "text", "d": 1.5, "b": True, "l": -(2**63), "bin": b"\x00\xff"}
    assert [(log.timestamp_us, log.fields) for log in got.logs] == [
        (NOW_US + 1000, {"event": "error", "message": "boom"})
    ]
    assert [(r.ref_type, r.trace_id, r.span_id) for r in got.references] == [
        ("follows_from", 9, 77)
    ]
    assert isinstance(got.thrift, jt.Span)
    assert agent.stats() == {"batches": 1, "spans": 1, "malformed": 0, "http_requests": 0}


def test_binary_port_decodes_the_binary_protocol(agent: Agent, recorder: Recorder) -> None:
    send_udp(agent.binary_port, emit_batch(batch([span("a", 1), span("b", 2, 1)]), "binary"))
    recorder.wait(lambda: recorder.batches)
    assert [s.operation_name for s in recorder.batches[0].spans] == ["a", "b"]
    assert recorder.batches[0].transport == "binary"


def test_seq_no_and_client_stats_are_kept() -> None:
    stats = jt.ClientStats(fullQueueDroppedSpans=3, tooLargeDroppedSpans=2, failedToEmitSpans=1)
    decoded = decode_datagram(emit_batch(batch([span("a", 1)], seqNo=42, stats=stats)))
    received = batch_from_thrift(decoded, "compact", "test")
    assert received.seq_no == 42
    assert received.stats == {"full_queue_dropped": 3, "too_large_dropped": 2, "failed": 1}


def _nested_structs(depth: int) -> bytes:
    # emitBatch header, then field 1 (struct) over and over: thrift's skip() recurses per level
    good = emit_batch(batch([]))
    header_end = good.index(b"emitBatch") + len(b"emitBatch")
    return good[:header_end] + b"\x1c" * depth


def _without_operation_name() -> bytes:
    bad = span("x", 1)
    bad.operationName = None
    return emit_batch(batch([bad]))


def _string_tag_without_value() -> bytes:
    bad = span("x", 1)
    bad.tags = [jt.Tag("k", jt.TagType.STRING)]
    return emit_batch(batch([bad]))


MALFORMED = {
    "garbage": (b"hello", "undecodable"),
    "empty": (b"", "undecodable"),
    "truncated": (emit_batch(batch([span("a", 1)]))[:-5], "undecodable"),
    "trailing bytes": (emit_batch(batch([span("a", 1)])) + b"\x00\x00", "2 trailing bytes"),
    "zipkin method": (emit_batch(batch([]), name="emitZipkinBatch"), "unsupported method"),
    "CALL message": (emit_batch(batch([]), mtype=TMessageType.CALL), "type CALL"),
    "binary on compact": (emit_batch(batch([span("a", 1)]), "binary"), "undecodable"),
    "missing required": (_without_operation_name(), "operationName is unset"),
    "tag without value": (_string_tag_without_value(), "vType STRING but vStr unset"),
    "deep nesting": (_nested_structs(20000), "undecodable"),
    "oversized": (emit_batch(batch([span("x" * MAX_DATAGRAM_BYTES, 1)])), "65000-byte limit"),
}


@pytest.mark.parametrize("payload,reason", MALFORMED.values(), ids=MALFORMED.keys())
def test_malformed_datagram_is_rejected_with_its_reason(payload: bytes, reason: str) -> None:
    with pytest.raises(MalformedInputError, match=reason):
        decode_datagram(payload)


def test_malformed_datagrams_are_counted_and_reported_and_the_agent_keeps_serving(
    agent: Agent, recorder: Recorder
) -> None:
    send_udp(agent.compact_port, b"\x82\x21garbage")
    send_udp(agent.binary_port, emit_batch(batch([span("a", 1)])))  # compact sent to binary
    send_udp(agent.compact_port, _nested_structs(20000))
    recorder.wait(lambda: len(recorder.malformed) == 3)
    send_udp(agent.compact_port, emit_batch(batch([span("still-alive", 1)])))
    recorder.wait(lambda: recorder.batches)

    assert sorted(m.transport for m in recorder.malformed) == ["binary", "compact", "compact"]
    assert all(m.source.startswith("127.0.0.1:") and m.error for m in recorder.malformed)
    assert recorder.batches[0].spans[0].operation_name == "still-alive"
    assert agent.stats()["malformed"] == 3


def test_largest_accepted_datagram_arrives_whole(agent: Agent, recorder: Recorder) -> None:
    """socketserver reads 8 KiB by default; the agent must read up to the 65,000-byte limit."""
    empty = len(emit_batch(batch([span("", 1)])))
    payload = emit_batch(batch([span("x" * (MAX_DATAGRAM_BYTES - empty - 2), 1)]))
    assert MAX_DATAGRAM_BYTES - 2 <= len(payload) <= MAX_DATAGRAM_BYTES
    send_udp(agent.compact_port, payload)
    recorder.wait(lambda: recorder.batches or recorder.malformed)
    assert not recorder.malformed
    assert len(recorder.batches[0].spans[0].operation_name) > 60000


# ---- HTTP: sampling, baggage restrictions, credits ------------------------------------------


def test_sampling_default_is_sample_everything_with_names_and_legacy_integer_enums(
    agent: Agent,
) -> None:
    status, body, headers = http(agent.http_port, "/sampling?service=svc")
    assert status == 200
    assert headers["Content-Type"] == "application/json"
    assert json.loads(body) == {
        "strategyType": "PROBABILISTIC",
        "probabilisticSampling": {"samplingRate": 1.0},
    }
    _, legacy, _ = http(agent.http_port, "/?service=svc")
    assert json.loads(legacy)["strategyType"] == 0
    _, collector, _ = http(agent.http_port, "/api/sampling?service=svc")
    assert json.loads(collector) == json.loads(body)


@pytest.mark.parametrize("query", ["", "?service=a&service=b", "?other=1"])
def test_service_parameter_must_appear_exactly_once(agent: Agent, query: str) -> None:
    for route in ("/sampling", "/", "/baggageRestrictions", "/credits"):
        status, body, _ = http(agent.http_port, route + query)
        assert (status, body) == (400, b"'service' parameter must be provided once\n")


def test_unknown_routes_answer_404(agent: Agent) -> None:
    assert http(agent.http_port, "/nope?service=x")[0] == 404
    assert http(agent.http_port, "/api/other", body=b"")[0] == 404


STRATEGIES = {
    "default_strategy": {
        "type": "probabilistic",
        "param": 0.5,
        "operation_strategies": [
            {"operation": "health", "type": "probabilistic", "param": 0.0},
            {"operation": "login", "type": "probabilistic", "param": 0.8},
        ],
        "baggage_restrictions": {"session-id": 64},
        "credits": {"balance": 3.0, "operation_balances": {"checkout": 1.0}},
    },
    "service_strategies": [
        {"service": "limited", "type": "ratelimiting", "param": 5},
        {
            "service": "own-ops",
            "type": "probabilistic",
            "param": 0.2,
            "operation_strategies": [{"operation": "login", "type": "probabilistic", "param": 1.0}],
            "default_lower_bound_traces_per_second": 0.5,
        },
        {"service": "inherits", "type": "probabilistic", "param": 0.3},
        {"service": "quiet", "baggage_restrictions": {}, "credits": {"balance": 0}},
    ],
}


def _ops(rates: dict[str, float]) -> list[dict[str, Any]]:
    return [
        {"operation": op, "probabilisticSampling": {"samplingRate": r}} for op, r in rates.items()
    ]


@pytest.mark.parametrize(
    "service,expected",
    [
        (
            "anyone",
            {
                "strategyType": "PROBABILISTIC",
                "probabilisticSampling": {"samplingRate": 0.5},
                "operationSampling": {
                    "defaultSamplingProbability": 0.5,
                    "defaultLowerBoundTracesPerSecond": 0.0,
                    "perOperationStrategies": _ops({"health": 0.0, "login": 0.8}),
                },
            },
        ),
        (
            "limited",
            {"strategyType": "RATE_LIMITING", "rateLimitingSampling": {"maxTracesPerSecond": 5}},
        ),
        (
            "own-ops",  # its own operations first, then the default's it does not override
            {
                "strategyType": "PROBABILISTIC",
                "probabilisticSampling": {"samplingRate": 0.2},
                "operationSampling": {
                    "defaultSamplingProbability": 0.2,
                    "defaultLowerBoundTracesPerSecond": 0.5,
                    "perOperationStrategies": _ops({"login": 1.0, "health": 0.0}),
                },
            },
        ),
        (
            "inherits",  # jaeger: the default's operations with the service's rate as default
            {
                "strategyType": "PROBABILISTIC",
                "probabilisticSampling": {"samplingRate": 0.3},
                "operationSampling": {
                    "defaultSamplingProbability": 0.3,
                    "defaultLowerBoundTracesPerSecond": 0.0,
                    "perOperationStrategies": _ops({"health": 0.0, "login": 0.8}),
                },
            },
        ),
    ],
)
def test_strategies_file_answers_sampling_per_service_with_jaeger_merging(
    tmp_path: Path, service: str, expected: dict[str, Any]
) -> None:
    path = tmp_path / "strategies.json"
    path.write_text(json.dumps(STRATEGIES))
    with Agent("127.0.0.1", 0, 0, 0, strategies=Strategies.from_file(path)) as agent:
        status, body, _ = http(agent.http_port, f"/sampling?service={service}")
        assert status == 200
        assert json.loads(body) == expected
        _, legacy, _ = http(agent.http_port, f"/?service={service}")
    names = {"PROBABILISTIC": 0, "RATE_LIMITING": 1}
    assert json.loads(legacy) == {**expected, "strategyType": names[expected["strategyType"]]}


def test_baggage_restrictions_come_from_the_service_or_default_section() -> None:
    with Agent("127.0.0.1", 0, 0, 0, strategies=Strategies(STRATEGIES)) as agent:
        status, body, _ = http(agent.http_port, "/baggageRestrictions?service=anyone")
        assert (status, json.loads(body)) == (
            200,
            [{"baggageKey": "session-id", "maxValueLength": 64}],
        )
        status, body, _ = http(agent.http_port, "/baggageRestrictions?service=quiet")
        assert (status, json.loads(body)) == (200, [])


def test_baggage_restrictions_answer_404_when_none_are_configured(agent: Agent) -> None:
    """An empty list would deny every baggage key; 404 leaves clients on their allow-all start."""
    status, body, _ = http(agent.http_port, "/baggageRestrictions?service=svc")
    assert status == 404
    assert b"no baggage restrictions" in body


def test_credits_answer_each_requested_operation_once_in_order() -> None:
    with Agent("127.0.0.1", 0, 0, 0, strategies=Strategies(STRATEGIES)) as agent:
        query = "service=anyone&uuid=42&operations=b&operations=checkout&operations=b"
        status, body, _ = http(agent.http_port, f"/credits?{query}")
        assert status == 200
        assert json.loads(body) == {
            "balances": [
                {"operation": "b", "balance": 3.0},
                {"operation": "checkout", "balance": 1.0},
            ]
        }
        _, body, _ = http(agent.http_port, "/credits?service=quiet&operations=x")
        assert json.loads(body) == {"balances": [{"operation": "x", "balance": 0.0}]}
        _, body, _ = http(agent.http_port, "/credits?service=quiet")
        assert json.loads(body) == {"balances": []}


def test_built_in_credits_grant_ten_per_operation(agent: Agent) -> None:
    _, body, _ = http(agent.http_port, "/credits?service=s&uuid=1&operations=op")
    assert json.loads(body) == {"balances": [{"operation": "op", "balance": 10.0}]}


def test_strategies_can_change_while_serving(agent: Agent) -> None:
    agent.strategies.set_sampling({"type": "ratelimiting", "param": 2}, "svc")
    agent.strategies.set_baggage_restrictions({"k": 3}, "svc")
    agent.strategies.set_credits({"balance": 1}, "svc")
    assert (
        json.loads(http(agent.http_port, "/sampling?service=svc")[1])["strategyType"]
        == "RATE_LIMITING"
    )
    assert json.loads(http(agent.http_port, "/baggageRestrictions?service=svc")[1]) == [
        {"baggageKey": "k", "maxValueLength": 3}
    ]
    assert json.loads(http(agent.http_port, "/credits?service=svc&operations=o")[1]) == {
        "balances": [{"operation": "o", "balance": 1.0}]
    }
    agent.strategies.set_sampling(None, "svc")
    assert (
        json.loads(http(agent.http_port, "/sampling?service=svc")[1])["strategyType"]
        == "PROBABILISTIC"
    )


def test_set_response_overrides_a_route_until_cleared(agent: Agent) -> None:
    agent.set_response("/sampling", "broken", status=500)
    assert http(agent.http_port, "/sampling?service=s")[:2] == (500, b"broken")
    agent.set_response("/sampling", {"strategyType": "SOMETHING"})
    assert json.loads(http(agent.http_port, "/sampling?service=s")[1]) == {
        "strategyType": "SOMETHING"
    }
    agent.clear_responses()
    assert http(agent.http_port, "/sampling?service=s")[0] == 200


def test_requests_are_reported_with_query_and_headers(agent: Agent, recorder: Recorder) -> None:
    http(agent.http_port, "/credits?service=s&uuid=7&operations=a", headers={"X-Test": "yes"})
    recorder.wait(lambda: recorder.requests)
    (record,) = recorder.requests
    assert (record.method, record.path, record.status) == ("GET", "/credits", 200)
    assert record.query == {"service": ["s"], "uuid": ["7"], "operations": ["a"]}
    assert record.headers["x-test"] == "yes"


# ---- HTTP: POST /api/traces ------------------------------------------------------------------


@pytest.mark.parametrize("gzip_body", [False, True], ids=["plain", "gzip"])
def test_collector_post_of_a_binary_batch_is_accepted_with_202(
    agent: Agent, recorder: Recorder, gzip_body: bool
) -> None:
    body = batch_body(batch([span("posted", 1)], "web"))
    status, reply, _ = http(
        agent.http_port, "/api/traces?format=jaeger.thrift", body=body, gzip_body=gzip_body
    )
    assert (status, reply) == (202, b"")
    recorder.wait(lambda: recorder.batches)
    (received,) = recorder.batches
    assert (received.service_name, received.transport) == ("web", "http")
    assert [s.operation_name for s in received.spans] == ["posted"]


@pytest.mark.parametrize(
    "path,headers,body,status",
    [
        ("/api/traces", {"Content-Type": "application/json"}, b"{}", 400),
        ("/api/traces?format=zipkin.thrift", {}, b"", 400),
        ("/api/traces", {"Content-Encoding": "br"}, b"", 415),
        ("/api/traces", {"Content-Encoding": "gzip"}, b"not gzip", 400),
    ],
    ids=["content type", "format", "encoding", "bad gzip"],
)
def test_collector_post_rejects_what_a_collector_would(
    agent: Agent, path: str, headers: dict[str, str], body: bytes, status: int
) -> None:
    assert http(agent.http_port, path, body=body, headers=headers)[0] == status


def test_undecodable_collector_body_is_400_and_counted(agent: Agent, recorder: Recorder) -> None:
    status, reply, _ = http(agent.http_port, "/api/traces", body=b"\x0c\x00\x01garbage")
    assert status == 400
    assert b"cannot decode" in reply
    recorder.wait(lambda: recorder.malformed)
    assert recorder.malformed[0].transport == "http"
    with pytest.raises(MalformedInputError, match="trailing"):
        decode_batch_body(batch_body(batch([span("a", 1)])) + b"\x00")


def test_collector_auth_is_enforced_when_configured() -> None:
    body = batch_body(batch([span("a", 1)]))
    with Agent("127.0.0.1", 0, 0, 0, collector_auth="Bearer secret") as agent:
        assert http(agent.http_port, "/api/traces", body=body)[0] == 401
        wrong = {"Authorization": "Bearer nope"}
        assert http(agent.http_port, "/api/traces", body=body, headers=wrong)[0] == 401
        right = {"Authorization": "Bearer secret"}
        assert http(agent.http_port, "/api/traces", body=body, headers=right)[0] == 202


# ---- construction ----------------------------------------------------------------------------


def test_busy_port_raises_oserror_and_leaves_nothing_open() -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as busy:
        busy.bind(("127.0.0.1", 0))
        with pytest.raises(OSError):
            Agent("127.0.0.1", 0, busy.getsockname()[1], 0)


@pytest.mark.parametrize("port", [-1, 65536, "6831", True])
def test_invalid_port_is_a_value_error_naming_it(port: Any) -> None:
    with pytest.raises(ValueError, match="binary_port must be an integer"):
        Agent("127.0.0.1", 0, port, 0)


def test_close_is_idempotent_and_stops_http() -> None:
    agent = Agent("127.0.0.1", 0, 0, 0)
    port = agent.http_port
    agent.close()
    agent.close()
    with pytest.raises(OSError):
        http(port, "/sampling?service=s")


def test_close_takes_datagrams_already_queued(recorder: Recorder) -> None:
    """A client may send and stop the agent at once (SIGTERM after a demo run): nothing is lost."""
    agent = Agent("127.0.0.1", 0, 0, 0, on_batch=[recorder.on_batch])
    for i in range(50):
        send_udp(agent.compact_port, emit_batch(batch([span(f"op{i}", i + 1)])))
    agent.close()
    assert len(recorder.batches) == 50


def test_a_failing_listener_does_not_stop_the_agent(recorder: Recorder) -> None:
    def explode(item: ReceivedBatch) -> None:
        raise RuntimeError("listener bug")

    with Agent("127.0.0.1", 0, 0, 0, on_batch=[explode, recorder.on_batch]) as agent:
        send_udp(agent.compact_port, emit_batch(batch([span("a", 1)])))
        send_udp(agent.compact_port, emit_batch(batch([span("b", 2)])))
        recorder.wait(lambda: len(recorder.batches) == 2)


# ---- strategies file validation --------------------------------------------------------------


@pytest.mark.parametrize(
    "document,message",
    [
        ({"default": {}}, r"strategies: unknown key\(s\) \['default'\]"),
        (
            {"default_strategy": {"type": "probabilistic", "param": 1.5}},
            r"default_strategy.param: must be \[0.0, 1.0\], got 1.5",
        ),
        (
            {"default_strategy": {"type": "const", "param": 1}},
            "expected 'probabilistic' or 'ratelimiting', got 'const'",
        ),
        ({"default_strategy": {"type": "ratelimiting"}}, "'type' needs 'param'"),
        ({"default_strategy": {"param": 0.1}}, "'param' needs 'type'"),
        ({"default_strategy": {"type": "ratelimiting", "param": 40000}}, "must be"),
        (
            {"default_strategy": {"type": "probabilistic", "param": "0.1"}},
            "expected a number, got '0.1'",
        ),
        (
            {
                "default_strategy": {
                    "type": "probabilistic",
                    "param": 1,
                    "operation_strategies": [
                        {"operation": "a", "type": "ratelimiting", "param": 1}
                    ],
                }
            },
            r"operation_strategies\[0\].type: operations support only 'probabilistic'",
        ),
        (
            {"service_strategies": [{"type": "probabilistic", "param": 1}]},
            r"service_strategies\[0\].service",
        ),
        ({"service_strategies": [{"service": "a"}, {"service": "a"}]}, "'a' appears twice"),
        ({"service_strategies": {"service": "a"}}, "service_strategies: expected a list"),
        (
            {"default_strategy": {"baggage_restrictions": {"k": -1}}},
            r"baggage_restrictions\['k'\]: expected an integer >= 0",
        ),
        (
            {"default_strategy": {"baggage_restrictions": ["k"]}},
            "expected an object with string keys",
        ),
        ({"default_strategy": {"credits": {"balance": -1}}}, r"credits.balance: must be >= 0.0"),
        ({"default_strategy": {"credits": {"per_op": {}}}}, r"unknown key\(s\) \['per_op'\]"),
    ],
)
def test_invalid_strategies_name_the_place_and_the_value(document: Any, message: str) -> None:
    with pytest.raises(StrategyError, match=message):
        Strategies(document)


def test_strategies_file_errors_name_the_file(tmp_path: Path) -> None:
    bad_json = tmp_path / "bad.json"
    bad_json.write_text("{not json")
    with pytest.raises(StrategyError, match=r"bad\.json"):
        Strategies.from_file(bad_json)
    with pytest.raises(StrategyError, match=r"missing\.json"):
        Strategies.from_file(tmp_path / "missing.json")
    invalid = tmp_path / "invalid.json"
    invalid.write_text('{"default_strategy": {"type": "x", "param": 1}}')
    with pytest.raises(StrategyError, match=r"invalid.json.*default_strategy.type"):
        Strategies.from_file(invalid)


def test_example_strategies_file_is_valid_and_covers_all_three_sections() -> None:
    strategies = Strategies.from_file(EXAMPLES / "strategies.json")
    document = json.loads((EXAMPLES / "strategies.json").read_text())
    services = [s["service"] for s in document["service_strategies"]]
    assert services
    for service in [*services, "some-other-service"]:
        assert strategies.sampling(service)["strategyType"] in ("PROBABILISTIC", "RATE_LIMITING")
        assert isinstance(strategies.credits(service, ["op"])["balances"][0]["balance"], float)
    assert any(strategies.baggage_restrictions(s) for s in services)


# ---- printing --------------------------------------------------------------------------------


def received(*spans: Any, service: str = "svc", process_tags: Any = None) -> list[Any]:
    return list(batch_from_thrift(batch(list(spans), service, process_tags), "compact", "t").spans)


def sample_trace() -> Trace:
    spans = received(
        span(
            "checkout",
            1,
            start=0,
            duration=12_000,
            tags={"component": "demo", "error": True},
            logs=[(1500, {"event": "error", "message": "boom went the cart"})],
        ),
        span("load-cart", 2, 1, start=100, duration=2000, tags={"db.rows": 3}),
        span("sql", 3, 2, start=200, duration=1500, flags=3),
        span("reserve", 4, 1, start=3000, duration=3000),
        process_tags={"hostname": "box"},
    )
    spans += received(span("late-orphan", 5, 99, start=5000, duration=10), service="inventory")
    return group_traces(spans)[0]


EXPECTED_TREE = """\
trace 0000000000001234: 5 spans, 2 services, 12.000 ms
  process svc: hostname=box
  process inventory:
|- svc: checkout  12.000 ms  at +0 us  [sampled]  span=0000000000000001
|  |  tags: component=demo error=true
|  |  log +1.500 ms: event=error message="boom went the cart"
|  |- svc: load-cart  2.000 ms  at +100 us  [sampled]  span=0000000000000002
|  |  |  tags: db.rows=3
|  |  `- svc: sql  1.500 ms  at +200 us  [sampled, debug]  span=0000000000000003
|  `- svc: reserve  3.000 ms  at +3.000 ms  [sampled]  span=0000000000000004
`- inventory: late-orphan  10 us  at +5.000 ms  [sampled]  span=0000000000000005\
  (parent 0000000000000063 not received)
"""


def test_trace_prints_as_a_tree_with_children_under_parents() -> None:
    assert format_trace(sample_trace()) == EXPECTED_TREE


def test_tree_cuts_long_values_and_quotes_odd_ones() -> None:
    trace = group_traces(
        received(span("op", 1, tags={"stack": "x" * 50, "empty": "", "b": b"\x01"}))
    )[0]
    text = format_trace(trace, max_value_length=10)
    assert "stack=xxxxxxxxxx... (40 more chars)" in text
    assert 'empty=""' in text
    assert "b=0x01" in text
    assert "x" * 50 in format_trace(trace, max_value_length=0)


def test_tree_shows_every_span_once_even_with_a_parent_cycle_and_duplicate_ids() -> None:
    trace = group_traces(
        received(span("a", 1, 2, start=0), span("b", 2, 1, start=1), span("dup", 2, 0, start=2))
    )[0]
    walked = [s.operation_name for s, _ in trace.walk()]
    assert sorted(walked) == ["a", "b", "dup"]
    assert format_trace(trace).count("svc: ") == 3


def test_deep_trace_prints_without_recursion() -> None:
    chain = [span(f"op{i}", i + 1, i, start=i) for i in range(1500)]  # deeper than recursion allows
    text = format_trace(group_traces(received(*chain))[0])
    assert text.count("svc: op") == 1500


def test_trace_helpers_find_children_and_roots() -> None:
    trace = sample_trace()
    checkout = trace.find("checkout")
    assert [s.operation_name for s in trace.children(checkout)] == ["load-cart", "reserve"]
    assert [s.operation_name for s in trace.roots] == ["checkout", "late-orphan"]
    assert trace.services == ["inventory", "svc"]
    with pytest.raises(KeyError, match="no span named 'nope'"):
        trace.find("nope")


def test_span_json_is_one_serialisable_object_with_binary_as_base64() -> None:
    (got,) = received(full_span())
    line = json.dumps(span_to_json(got))
    assert "\n" not in line
    data = json.loads(line)
    assert data["trace_id"] == "0102030405060708ffffffffffffffff"
    assert data["span_id"] == "fffffffffffffffe"
    assert data["parent_span_id"] == "0000000000000005"
    assert data["tags"]["bin"] == {"binary": "AP8="}
    assert data["logs"] == [
        {"timestamp_us": NOW_US + 1000, "fields": {"event": "error", "message": "boom"}}
    ]
    assert data["references"] == [
        {"type": "follows_from", "trace_id": "0000000000000009", "span_id": "000000000000004d"}
    ]
    assert (data["sampled"], data["debug"], data["service"]) == (True, True, "svc")


class FakeClock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


def test_printer_emits_a_trace_only_after_it_is_quiet() -> None:
    clock = FakeClock()
    emitted: list[tuple[Trace, str]] = []
    printer = TracePrinter(
        lambda t, n: emitted.append((t, n)), 1.0, clock=clock, start_thread=False
    )
    printer.add(received(span("a", 1)))
    clock.now += 0.9
    printer.add(received(span("b", 2, 1)))
    printer.add(received(span("other", 1, trace_low=7)))
    clock.now += 0.5
    assert printer.flush_due() == 0
    clock.now += 0.5
    assert printer.flush_due() == 2
    assert sorted(len(t.spans) for t, _ in emitted) == [1, 2]
    assert all(note == "" for _, note in emitted)


def test_printer_reprints_a_trace_whole_when_a_late_span_arrives() -> None:
    clock = FakeClock()
    emitted: list[tuple[Trace, str]] = []
    printer = TracePrinter(
        lambda t, n: emitted.append((t, n)), 1.0, clock=clock, start_thread=False
    )
    printer.add(received(span("a", 1)))
    clock.now += 2
    printer.flush_due()
    printer.add(received(span("late", 2, 1)))
    clock.now += 2
    printer.flush_due()
    trace, note = emitted[-1]
    assert [s.operation_name for s in trace.spans] == ["a", "late"]
    assert note == "update: +1 span"


def test_printer_close_emits_pending_traces_at_once() -> None:
    emitted: list[Trace] = []
    printer = TracePrinter(lambda t, n: emitted.append(t), 3600.0)
    printer.add(received(span("a", 1)))
    printer.close()
    printer.close()
    assert [t.spans[0].operation_name for t in emitted] == ["a"]


def test_printer_thread_emits_when_the_quiet_interval_passes() -> None:
    done = threading.Event()
    printer = TracePrinter(lambda t, n: done.set(), 0.01)
    try:
        printer.add(received(span("a", 1)))
        assert done.wait(5)
    finally:
        printer.close()


def test_printer_rejects_negative_quiet_interval() -> None:
    with pytest.raises(ValueError, match="quiet_interval must be >= 0"):
        TracePrinter(lambda t, n: None, -1, start_thread=False)


# ---- the command line ------------------------------------------------------------------------

FREE_PORTS = ["--compact-port", "0", "--binary-port", "0", "--http-port", "0"]
# The deadline for a new interpreter's first line: it compiles and imports the package first
# (1.4 s measured, 3.3 s with the matrix legs and other work sharing the two cores). A passing
# test never waits for it; the later lines come from a running process and keep readline's 5 s.
STARTUP = 30.0


@contextlib.contextmanager
def start_cli(*args: str) -> Iterator[subprocess.Popen[bytes]]:
    """The agent CLI in a child process, killed at the end if a failed test left it running
    (``Popen``'s own exit would wait for it until pytest-timeout)."""
    with subprocess.Popen(
        [sys.executable, "-m", "jaeger_client.agent", *FREE_PORTS, *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    ) as proc:
        try:
            yield proc
        finally:
            if proc.poll() is None:
                proc.kill()


@pytest.mark.parametrize("stop_signal", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "SIGINT"])
def test_cli_prints_ports_first_then_pending_trees_on_shutdown(stop_signal: int) -> None:
    with start_cli("--quiet-interval", "3600") as proc:
        out, err = LineReader(proc.stdout), LineReader(proc.stderr)
        listening = json.loads(out.readline(STARTUP))
        assert listening["event"] == "listening"
        assert listening["host"] == "127.0.0.1"
        assert all(listening[k] > 0 for k in ("compact_port", "binary_port", "http_port"))
        assert "Ctrl-C to stop" in err.readline()

        send_udp(
            listening["compact_port"],
            emit_batch(batch([span("root", 1), span("child", 2, 1)], "cli")),
        )
        send_udp(listening["compact_port"], b"junk")
        assert "malformed compact datagram #1" in err.readline()
        assert http(listening["http_port"], "/sampling?service=cli")[0] == 200
        proc.send_signal(stop_signal)
        rest, summary = out.read_rest(), err.read_rest()
        assert proc.wait(5) == 0
    assert rest.startswith("trace 0000000000001234: 2 spans, 1 service")
    assert "`- cli: root" in rest
    assert "   `- cli: child" in rest
    assert "2 spans in 1 batches, 1 malformed, 1 HTTP requests" in summary


def test_cli_json_prints_one_span_per_line_as_it_arrives() -> None:
    with start_cli("--json") as proc:
        out = LineReader(proc.stdout)
        ports = json.loads(out.readline(STARTUP))
        send_udp(ports["binary_port"], emit_batch(batch([span("a", 1), span("b", 2, 1)]), "binary"))
        first, second = json.loads(out.readline()), json.loads(out.readline())
        proc.terminate()
        assert proc.wait(5) == 0
    assert [first["operation"], second["operation"]] == ["a", "b"]
    assert second["parent_span_id"] == first["span_id"]
    assert first["transport"] == "binary"


def test_cli_serves_a_strategies_file(tmp_path: Path) -> None:
    path = tmp_path / "s.json"
    path.write_text(json.dumps(STRATEGIES))
    with start_cli("--strategies", str(path)) as proc:
        ports = json.loads(LineReader(proc.stdout).readline(STARTUP))
        body = http(ports["http_port"], "/sampling?service=limited")[1]
        proc.terminate()
        assert proc.wait(5) == 0
    assert json.loads(body)["strategyType"] == "RATE_LIMITING"


def test_cli_bad_strategies_file_exits_2_naming_the_problem(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "s.json"
    path.write_text('{"default_strategy": {"type": "probabilistic", "param": 2}}')
    assert main(["--strategies", str(path), *FREE_PORTS]) == 2
    assert "default_strategy.param: must be [0.0, 1.0], got 2" in capsys.readouterr().err


def test_cli_busy_port_exits_1_with_a_hint(capsys: pytest.CaptureFixture[str]) -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as busy:
        busy.bind(("127.0.0.1", 0))
        args = [
            "--compact-port",
            str(busy.getsockname()[1]),
            "--binary-port",
            "0",
            "--http-port",
            "0",
        ]
        assert main(args) == 1
    assert "--compact-port 0" in capsys.readouterr().err


@pytest.mark.parametrize(
    "argv",
    [
        ["--http-port", "70000"],
        ["--quiet-interval", "-1"],
        ["--compact-port", "x"],
        ["--max-value-length", "-5"],
    ],
)
def test_cli_rejects_bad_arguments(argv: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main(argv)
    assert exit_info.value.code == 2
    assert "jaeger-agent: error" in capsys.readouterr().err


def test_cli_in_process_stops_on_sigterm_and_restores_the_old_handler(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    previous = signal.getsignal(signal.SIGTERM)
    stdout = io.StringIO()
    monkeypatch.setattr(sys, "stdout", stdout)

    def stop_once_listening() -> None:
        deadline = time.monotonic() + 30  # a loaded CI box: never signal before the handler is in
        while not stdout.getvalue() and time.monotonic() < deadline:
            time.sleep(0.005)
        os.kill(os.getpid(), signal.SIGTERM)  # handled in the main thread, inside main()

    thread = threading.Thread(target=stop_once_listening)
    thread.start()
    try:
        assert main([*FREE_PORTS, "--quiet-interval", "3600"]) == 0
    finally:
        thread.join(5)
    assert signal.getsignal(signal.SIGTERM) is previous
    assert json.loads(stdout.getvalue().splitlines()[0])["event"] == "listening"
