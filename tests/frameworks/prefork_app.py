"""A WSGI app for tests/test_interop_prefork.py, under ``gunicorn --preload -w 2`` and under uWSGI
with 2 processes (which loads the app in its master by default).

The tracer is built and used at import, so it exists in the master before the workers are forked,
and its reporter thread runs there under gunicorn (not under uWSGI: see
``_fork.is_uwsgi_master``). Each request continues the inbound trace and answers with its worker's
pid and span ids.
"""

from __future__ import annotations

import json
import os
import threading
from collections.abc import Iterable
from typing import Any, Callable

from opentracing.propagation import Format

from jaeger_client import Config

tracer = Config.from_env(service_name="prefork-app").new_tracer()
with tracer.start_active_span("preload") as _scope:  # starts the reporter in the master
    _scope.span.set_tag("pid", os.getpid())
tracer.flush(5)
if os.environ.get("PREFORK_SAMPLING_ENDPOINT"):  # a remote sampler used in the master as well
    remote = Config(
        {
            "sampler": {"type": "remote"},
            "sampling_endpoint": os.environ["PREFORK_SAMPLING_ENDPOINT"],
        },
        service_name="prefork-remote",
    ).new_tracer()
    remote.start_span("decided-by-the-remote-sampler").finish()  # its poller starts on first use
if os.environ.get("PREFORK_THREADS_FILE"):  # what runs in the master when the workers are forked
    with open(os.environ["PREFORK_THREADS_FILE"], "w") as threads_file:
        json.dump([t.name for t in threading.enumerate()], threads_file)


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
