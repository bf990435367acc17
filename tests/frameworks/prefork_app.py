"""A WSGI app for tests/test_interop_prefork.py, under ``gunicorn --preload -w 2`` and under uWSGI
with 2 processes (which loads the app in its master by default).

The tracer is built and used at import, so it exists, and its reporter thread runs, in the master
before the workers are forked. Each request continues the inbound trace and answers with its
worker's pid and span ids.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable
from typing import Any, Callable

from opentracing.propagation import Format

from jaeger_client import Config

tracer = Config.from_env(service_name="prefork-app").new_tracer()
with tracer.start_active_span("preload") as _scope:  # starts the reporter in the master
    _scope.span.set_tag("pid", os.getpid())
tracer.flush(5)


def app(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
    headers = {
        key[5:].replace("_", "-").lower(): value
        for key, value in environ.items()
        if key.startswith("HTTP_")
    }
    context = tracer.extract(Format.HTTP_HEADERS, headers)
    with tracer.start_active_span("request", child_of=context) as scope:
        scope.span.set_tag("pid", os.getpid())
        with tracer.start_active_span("work"):
            pass
        body = json.dumps(
            {
                "pid": os.getpid(),
                "trace_id": scope.span.context.trace_id,
                "span_id": scope.span.context.span_id,
            }
        ).encode()
    start_response(
        "200 OK", [("Content-Type", "application/json"), ("Content-Length", str(len(body)))]
    )
    return [body]
