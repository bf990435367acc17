"""Crossdock protocol names and defaults (shared/reference/WIRE.md, "Crossdock interop")."""

from __future__ import annotations

__all__ = [
    "AGENT_HOST_PORT_ENV",
    "BAGGAGE_KEY",
    "DEFAULT_AGENT_HOST_PORT",
    "DEFAULT_PORTS",
    "DEFAULT_SAMPLING_PORT",
    "DOWNSTREAM_TIMEOUT",
    "ENDTOEND_SERVICE_NAME",
    "SAMPLING_SERVER_URL_ENV",
    "SERVICE_NAME",
    "DefaultClientPortHTTP",
    "DefaultServerPortHTTP",
    "baggage_key",
]

BAGGAGE_KEY = "crossdock-baggage-key"
baggage_key = BAGGAGE_KEY  # upstream's name

# upstream's names: the driver calls :8080, other servers call :8081; both serve every route
DefaultClientPortHTTP = 8080
DefaultServerPortHTTP = 8081
DEFAULT_PORTS = (DefaultClientPortHTTP, DefaultServerPortHTTP)

SERVICE_NAME = "python"  # the tracer behind /start_trace and /join_trace
ENDTOEND_SERVICE_NAME = "crossdock-python"  # the tracers behind /create_traces

# where /create_traces reports (as the Go, Node and C# crossdock servers read them)
AGENT_HOST_PORT_ENV = "AGENT_HOST_PORT"
SAMPLING_SERVER_URL_ENV = "SAMPLING_SERVER_URL"
DEFAULT_AGENT_HOST_PORT = "jaeger-agent:6831"
DEFAULT_SAMPLING_PORT = 5778

DOWNSTREAM_TIMEOUT = 10.0  # seconds for one downstream /join_trace call, chain included
