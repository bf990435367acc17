"""``POST /create_traces``: the crossdock "endtoend" behaviour, reporting to a real agent.

The driver asks for ``count`` single-span traces of one operation with some tags, sampled by a
const (always) or a remote (agent-controlled) sampler; it then looks for them in the backend.
Spans go over UDP to ``AGENT_HOST_PORT`` (``host:port``, default ``jaeger-agent:6831``); the
remote sampler polls ``SAMPLING_SERVER_URL`` (default ``http://{agent host}:5778/sampling``).
"""

from __future__ import annotations

import threading
from collections.abc import Mapping
from typing import Any, Optional

from jaeger_client import Config
from jaeger_client.constants import SAMPLER_TYPE_CONST, SAMPLER_TYPE_REMOTE

from .constants import (
    AGENT_HOST_PORT_ENV,
    DEFAULT_AGENT_HOST_PORT,
    DEFAULT_SAMPLING_PORT,
    ENDTOEND_SERVICE_NAME,
    SAMPLING_SERVER_URL_ENV,
)

__all__ = ["EndToEndHandler", "parse_agent_host_port"]

SAMPLING_REFRESH_INTERVAL = 5.0  # seconds, as upstream's crossdock: the driver waits ~7 s
FLUSH_TIMEOUT = 5.0  # seconds /create_traces waits for its spans to be sent before replying


def parse_agent_host_port(value: str) -> tuple[str, int]:
    """``host:port`` (``[v6]:port`` too) -> ``(host, port)``.

    :raises ValueError: naming ``AGENT_HOST_PORT`` and the value
    """
    host, sep, port_text = value.strip().rpartition(":")
    if host.startswith("[") and host.endswith("]"):
        host = host[1:-1]
    if not sep or not host or not port_text.isdigit() or not 0 < int(port_text) < 65536:
        raise ValueError(
            f"{AGENT_HOST_PORT_ENV} must be host:port with a port in 1-65535, got {value!r}"
        )
    return host, int(port_text)


class EndToEndHandler:
    """Creates traces on request with a const-sampled and a remote-sampled tracer.

    The tracers (and with them the reporter thread and the sampler poller) are built on the first
    request, not at start-up, so a server that is only asked for ``/join_trace`` never opens a
    socket to the agent. ``generate_traces`` may be called from any request thread.

    :param environ: where ``AGENT_HOST_PORT`` and ``SAMPLING_SERVER_URL`` are read (and the
        ``JAEGER_*`` variables, as any Config); validated here, at construction
    """

    def __init__(self, environ: Mapping[str, str]) -> None:
        agent = environ.get(AGENT_HOST_PORT_ENV) or DEFAULT_AGENT_HOST_PORT
        self.agent_host, self.agent_port = parse_agent_host_port(agent)
        host = f"[{self.agent_host}]" if ":" in self.agent_host else self.agent_host
        self.sampling_server_url = (
            environ.get(SAMPLING_SERVER_URL_ENV)
            or f"http://{host}:{DEFAULT_SAMPLING_PORT}/sampling"
        )
        self._environ = dict(environ)
        self._lock = threading.Lock()
        self._tracers: Optional[dict[str, Any]] = None

    def _config(self, sampler: Mapping[str, Any]) -> Config:
        return Config(
            {
                "sampler": dict(sampler),
                "local_agent": {
                    "reporting_host": self.agent_host,
                    "reporting_port": self.agent_port,
                },
                "sampling_endpoint": self.sampling_server_url,
                "sampling_refresh_interval": SAMPLING_REFRESH_INTERVAL,
                "reporter_flush_interval": 1,
            },
            service_name=ENDTOEND_SERVICE_NAME,
            environ=self._environ,
        )

    @property
    def tracers(self) -> dict[str, Any]:
        """Sampler type (``const``, ``remote``) -> tracer; built on first use."""
        with self._lock:
            if self._tracers is None:
                self._tracers = {
                    SAMPLER_TYPE_CONST: self._config(
                        {"type": SAMPLER_TYPE_CONST, "param": True}
                    ).new_tracer(),
                    SAMPLER_TYPE_REMOTE: self._config(
                        {"type": SAMPLER_TYPE_REMOTE, "param": 1.0}
                    ).new_tracer(),
                }
            return self._tracers

    @tracers.setter
    def tracers(self, tracers: dict[str, Any]) -> None:
        with self._lock:
            self._tracers = dict(tracers)

    def generate_traces(self, request: Mapping[str, Any]) -> None:
        """Create ``request["count"]`` single-span traces, then wait until they are sent.

        :raises ValueError: for a request that does not follow the protocol
        """
        sampler_type = request.get("type", SAMPLER_TYPE_REMOTE)
        operation = request.get("operation")
        count = request.get("count", 0)
        tags = request.get("tags") or {}
        if sampler_type not in (SAMPLER_TYPE_CONST, SAMPLER_TYPE_REMOTE):
            raise ValueError(f"type must be const or remote, got {sampler_type!r}")
        if not isinstance(operation, str) or not operation:
            raise ValueError(f"operation must be a non-empty string, got {operation!r}")
        if isinstance(count, bool) or not isinstance(count, int) or not 0 <= count <= 100_000:
            raise ValueError(f"count must be an int in [0, 100000], got {count!r}")
        if not isinstance(tags, Mapping):
            raise ValueError(f"tags must be an object, got {tags!r}")
        tracer = self.tracers[sampler_type]
        for _ in range(count):
            span = tracer.start_span(operation)
            for key, value in tags.items():
                span.set_tag(key, value)
            span.finish()
        # reply once they are on the wire: the driver queries the backend right after
        tracer.flush(FLUSH_TIMEOUT)

    def close(self, timeout: float = FLUSH_TIMEOUT) -> None:
        """Send what is queued and stop the tracers' threads."""
        with self._lock:
            tracers, self._tracers = self._tracers, None
        for tracer in (tracers or {}).values():
            tracer.close().result(timeout)
