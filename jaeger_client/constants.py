"""Wire strings, tag keys and defaults; each appears once, here."""

from __future__ import annotations

import sys

from ._version import __version__

# --- client identity ---
JAEGER_CLIENT_VERSION = f"Python-{__version__}"

# --- span context flags (jaeger.thrift Span.flags) ---
SAMPLED_FLAG = 0x01
DEBUG_FLAG = 0x02

# --- id sizes ---
_max_id_bits = 64
_max_trace_id_bits = 128
MAX_ID_BITS = _max_id_bits
MAX_TRACE_ID_BITS = _max_trace_id_bits
MAX_ID = (1 << 64) - 1
MAX_TRACE_ID = (1 << 128) - 1

# --- propagation headers ---
TRACE_ID_HEADER = "uber-trace-id"
BAGGAGE_HEADER_PREFIX = "uberctx-"
DEBUG_ID_HEADER_KEY = "jaeger-debug-id"
BAGGAGE_HEADER_KEY = "jaeger-baggage"
# B3 multi-header names (matched case-insensitively on extract)
B3_TRACE_ID = "X-B3-TraceId"
B3_SPAN_ID = "X-B3-SpanId"
B3_PARENT_SPAN_ID = "X-B3-ParentSpanId"
B3_SAMPLED = "X-B3-Sampled"
B3_FLAGS = "X-B3-Flags"
B3_SINGLE_HEADER = "b3"
W3C_TRACEPARENT = "traceparent"
W3C_TRACESTATE = "tracestate"
W3C_BAGGAGE = "baggage"  # https://www.w3.org/TR/baggage/
ZIPKIN_SPAN_FORMAT = "zipkin-span-format"

# --- baggage bounds (W3C baggage limits, as Go's binary codec uses) ---
MAX_BAGGAGE_ITEMS = 180
MAX_BAGGAGE_ITEM_BYTES = 4096
MAX_BAGGAGE_HEADER_BYTES = 8192
DEFAULT_BAGGAGE_MAX_VALUE_LENGTH = 2048

# --- process and span tag keys ---
JAEGER_VERSION_TAG_KEY = "jaeger.version"
JAEGER_HOSTNAME_TAG_KEY = "hostname"
JAEGER_IP_TAG_KEY = "ip"
CLIENT_UUID_TAG_KEY = "client-uuid"
SAMPLER_TYPE_TAG_KEY = "sampler.type"
SAMPLER_PARAM_TAG_KEY = "sampler.param"

SAMPLER_TYPE_CONST = "const"
SAMPLER_TYPE_PROBABILISTIC = "probabilistic"
SAMPLER_TYPE_RATE_LIMITING = "ratelimiting"
SAMPLER_TYPE_LOWER_BOUND = "lowerbound"
SAMPLER_TYPE_REMOTE = "remote"

# --- defaults ---
DEFAULT_REPORTING_HOST = "localhost"
DEFAULT_REPORTING_PORT = 6831
DEFAULT_SAMPLING_PORT = 5778
DEFAULT_THROTTLER_PORT = DEFAULT_SAMPLING_PORT
DEFAULT_SAMPLING_INTERVAL = 60
DEFAULT_SAMPLING_PROBABILITY = 0.001
DEFAULT_LOWER_BOUND = 1.0 / (10.0 * 60.0)  # one trace per ten minutes
DEFAULT_MAX_OPERATIONS = 2000
DEFAULT_FLUSH_INTERVAL = 1
DEFAULT_THROTTLER_REFRESH_INTERVAL = 5
MAX_TAG_VALUE_LENGTH = 1024
MAX_TRACEBACK_LENGTH = 4096
# Per-span caps: bound memory and datagram size for runaway instrumentation (OTel uses 128 each).
DEFAULT_MAX_TAGS_PER_SPAN = 1024
DEFAULT_MAX_LOGS_PER_SPAN = 1024
DEFAULT_MAX_FIELDS_PER_LOG = 128
# UDP: jaeger-agent and the OTel Collector's jaeger receiver drop datagrams over 65,000 bytes.
UDP_MAX_PACKET_SIZE = 65000
UDP_MAX_PAYLOAD_IPV4 = 65507
UDP_MAX_PAYLOAD_IPV6 = 65527

LOGGER_NAME = "jaeger_tracing"
MAX_SIGNED_I64 = sys.maxsize

# --- samplers ---
# Upper bound on any traces-per-second setting (rate limiting, lower bound): finite, and far above
# what a tracer should ever record; a typo such as 1e9 fails at construction instead.
MAX_TRACES_PER_SECOND = 1_000_000.0
# sampling.thrift declares maxTracesPerSecond as i16, so a served value above this is garbage.
MAX_SERVED_TRACES_PER_SECOND = 32767.0

# --- sampling strategies (agent HTTP API, port 5778) ---
# JSON field names as in sampling.thrift / api_v2/sampling.proto (lowerCamelCase).
STRATEGY_TYPE_KEY = "strategyType"
PROBABILISTIC_SAMPLING_KEY = "probabilisticSampling"
SAMPLING_RATE_KEY = "samplingRate"
RATE_LIMITING_SAMPLING_KEY = "rateLimitingSampling"
MAX_TRACES_PER_SECOND_KEY = "maxTracesPerSecond"
OPERATION_SAMPLING_KEY = "operationSampling"
DEFAULT_SAMPLING_PROBABILITY_KEY = "defaultSamplingProbability"
DEFAULT_LOWER_BOUND_KEY = "defaultLowerBoundTracesPerSecond"
PER_OPERATION_STRATEGIES_KEY = "perOperationStrategies"
OPERATION_KEY = "operation"
# strategyType: names on /sampling and /api/sampling, integers on the legacy "/" route
STRATEGY_TYPE_PROBABILISTIC = "PROBABILISTIC"
STRATEGY_TYPE_RATE_LIMITING = "RATE_LIMITING"
STRATEGY_TYPE_CODES = {0: STRATEGY_TYPE_PROBABILISTIC, 1: STRATEGY_TYPE_RATE_LIMITING}

# --- remote control plane: agent HTTP API (port 5778) ---
SAMPLING_PATH = "/sampling"
CREDITS_PATH = "/credits"
BAGGAGE_RESTRICTIONS_PATH = "/baggageRestrictions"
# /credits response: {"balances": [{"operation": str, "balance": float}]}
CREDITS_BALANCES_KEY = "balances"
CREDITS_OPERATION_KEY = "operation"
CREDITS_BALANCE_KEY = "balance"
# /baggageRestrictions response: [{"baggageKey": str, "maxValueLength": int}]
BAGGAGE_KEY_KEY = "baggageKey"
BAGGAGE_MAX_VALUE_LENGTH_KEY = "maxValueLength"
MAX_BAGGAGE_VALUE_LENGTH_LIMIT = 2**31 - 1  # i32, as jaeger-idl's baggage.thrift
# HTTP polling: a hung agent costs the poller thread at most this long per request.
DEFAULT_HTTP_CONNECT_TIMEOUT = 2.0
DEFAULT_HTTP_TIMEOUT = 10.0  # the whole request: connect, headers and body
MAX_HTTP_BODY_BYTES = 1024 * 1024
POLL_INTERVAL_JITTER = 0.1  # each interval after the first poll varies by up to +-10 %
MINIMUM_CREDITS = 1.0  # one debug span costs one credit

# --- Config defaults (queue and batch differ from upstream's 100 and 10: see CHANGELOG) ---
DEFAULT_REPORTER_QUEUE_SIZE = 10000  # holds a 2,000-span burst with room to spare
# Spans queued before the worker wakes (upstream: "spans to accumulate before sending"). It no
# longer caps a datagram: a backlog is handed to the sender in large slices, cut by bytes.
DEFAULT_REPORTER_BATCH_SIZE = 100
DEFAULT_EXIT_FLUSH_TIMEOUT = 2.0  # seconds the atexit flush may take
DEFAULT_COLLECTOR_TIMEOUT = 10.0  # seconds per HTTP request to the collector
DEFAULT_BAGGAGE_RESTRICTIONS_REFRESH_INTERVAL = 60

# --- propagation values (B3 sampling states, W3C traceparent version) ---
# X-B3-Sampled also accepts "true"/"false" from some peers; the single b3 header adds "d" (debug).
B3_SAMPLED_ACCEPT = "1"
B3_SAMPLED_DENY = "0"
B3_SAMPLED_DEBUG = "d"
B3_FLAGS_DEBUG = "1"
W3C_TRACEPARENT_VERSION = "00"
W3C_TRACEPARENT_INVALID_VERSION = "ff"
# 'zipkin-span-format' carrier keys (TChannel interop), as dict keys or object attributes
ZIPKIN_TRACE_ID_KEY = "trace_id"
ZIPKIN_SPAN_ID_KEY = "span_id"
ZIPKIN_PARENT_ID_KEY = "parent_id"
ZIPKIN_FLAGS_KEY = "traceflags"

# --- span senders (jaeger_client.senders) ---
AGENT_EMIT_BATCH = "emitBatch"  # Agent.emitBatch: the oneway message on the agent's compact port
COLLECTOR_CONTENT_TYPE = "application/x-thrift"  # POST /api/traces body: one binary Thrift Batch
DEFAULT_UDP_RESOLVE_INTERVAL = 30.0  # seconds between resolutions of the agent's host (as Go)
DEFAULT_HTTP_SENDER_TIMEOUT = 5.0  # seconds per connect/send/receive to the collector (as Go)
DEFAULT_HTTP_MAX_BODY_SIZE = 1_000_000  # bytes per POST body; larger batches are split (as Java)
# Kill switch: True sends each datagram with libc send(MSG_DONTWAIT) through ctypes.PyDLL, which
# keeps the GIL (Linux and macOS); False, or no libc, sends with socket.send, which releases the
# GIL and so hands it to a busy application thread for a whole switch interval per datagram.
# Read when the sender opens its socket.
UDP_SEND_KEEPS_GIL = True
