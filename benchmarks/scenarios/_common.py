"""What every scenario script shares: the per-implementation adapters, the sink client, output.

A scenario runs in a fresh interpreter of the implementation's own virtual environment
(``ours``: the project's .venv; ``upstream``: .bench/upstream with jaeger-client 4.8.0;
``otel``: .bench/otel with the OpenTelemetry SDK and its OpenTracing shim), so the same
OpenTracing-API code exercises all three. It prints exactly one line ``RESULT {json}`` on stdout.

Environment set by the driver (benchmarks/run.py):

* ``BENCH_SINK_PYTHON``, ``BENCH_SINK_SCRIPT``: how to start the UDP sink (it decodes with the
  project's Thrift structs, so it always runs in our environment).
* ``BENCH_NO_FASTBINARY=1``: hide ``thrift.protocol.fastbinary`` before anything imports thrift.
"""

from __future__ import annotations

import argparse
import gc
import json
import os
import re
import socket
import statistics
import subprocess
import sys
import time
import traceback
from collections.abc import Callable, Iterator
from typing import Any, Optional

if os.environ.get("BENCH_NO_FASTBINARY") == "1":
    sys.modules["thrift.protocol.fastbinary"] = None  # type: ignore[assignment]  # import fails

HERE = os.path.dirname(os.path.abspath(__file__))
SERVICE = "bench"
IMPLS = ("ours", "upstream", "otel")


class NotApplicable(Exception):
    """This implementation cannot run this scenario (the cell prints as n/a, with the reason)."""


# ---- the workload ----------------------------------------------------------------------


def one_span(tracer: Any) -> None:
    """The unit of work every span-cost scenario measures: start, 3 tags, a log, finish."""
    span = tracer.start_span("checkout")
    span.set_tag("http.method", "GET")
    span.set_tag("http.status_code", 200)
    span.set_tag("component", "bench")
    span.log_kv({"event": "cache-miss", "key": "user:42"})
    span.finish()


def per_op_us(fn: Callable[[], None], n: int, rounds: int, seconds: float = 0.0) -> list[float]:
    """Run ``fn`` n times per round after one warm-up round; return µs per call for each round.

    At least ``rounds`` rounds, and more until ``seconds`` have passed since the first.
    """
    loop = range(n)
    for _ in range(min(n, 1000)):
        fn()
    results: list[float] = []
    perf = time.perf_counter
    until = perf() + seconds
    while len(results) < rounds or perf() < until:
        start = perf()
        for _ in loop:
            fn()
        results.append((perf() - start) / n * 1e6)
    return results


def free_udp_port() -> int:
    """A loopback UDP port nobody listens on (the 'agent down' case)."""
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind(("127.0.0.1", 0))
    port = int(s.getsockname()[1])
    s.close()
    return port


def fastest(rounds: list[float]) -> float:
    """A CPU-bound cell's figure for one process: its fastest round (timeit's convention).

    This VM's CPU alternates between phases about 1.6x apart that last 100 ms or more
    (benchmarks/README, "How it measures"), so the median of a few long rounds lands
    in whichever phase the process happened to run. Short rounds for a second or more (long
    enough to meet a fast phase), and the fastest of them, give the code's own cost; the driver
    still takes the median over processes. Used only where
    no background thread shares the process (a slow round there may be the reporter's work).
    """
    return float(min(rounds))


def timed_cell(
    fn: Callable[[], None], p: dict[str, Any], metric: str, *, fastest_round: bool = True
) -> dict[str, Any]:
    """``per_op_us`` with the cell's ``n``, ``rounds`` and ``seconds``: ``metric`` is the
    process's figure (its fastest round, or the median round where a background thread shares
    the process), with the median round and every round beside it."""
    rounds = per_op_us(fn, p["n"], p["rounds"], p.get("seconds", 0.0))
    return {
        metric: fastest(rounds) if fastest_round else median(rounds),
        "median_round": median(rounds),
        "rounds": rounds,
    }


def rss_bytes() -> int:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


def settle() -> None:
    gc.collect()
    time.sleep(0.05)


# ---- implementations -------------------------------------------------------------------


class Impl:
    """Builds tracers for one implementation.

    ``kind``: ``"none"`` (no reporting at all, no background thread), ``"null"`` (a discarding
    reporter; for OTel the SDK's BatchSpanProcessor with a discarding exporter) or ``"udp"`` (the
    real remote reporter sending to ``port``). ``substitute=True`` lets OTel, which has no UDP
    exporter any more, run ``"udp"`` with its discarding pipeline; results say so.
    """

    name = ""
    substituted = False

    def tracer(
        self,
        kind: str,
        *,
        sampled: bool = True,
        port: int = 0,
        substitute: bool = False,
        extra: Optional[dict[str, Any]] = None,
    ) -> Any:
        raise NotImplementedError

    def close(self, tracer: Any, timeout: float = 10.0) -> bool:
        """Close the tracer and wait (at most ``timeout``) until it reports that it is done."""
        raise NotImplementedError

    def version(self) -> str:
        raise NotImplementedError

    def exported(self) -> Optional[int]:
        """Spans a discarding exporter received (OTel only)."""
        return None


class JaegerImpl(Impl):
    """Ours and upstream: one public API (``Tracer``, ``Config``, ``reporter.NullReporter``)."""

    def __init__(self, name: str) -> None:
        self.name = name
        import jaeger_client

        self.jc = jaeger_client
        expected_upstream = name == "upstream"
        if (jaeger_client.__version__ == "4.8.0") != expected_upstream:
            raise RuntimeError(
                f"{name}: imported jaeger_client {jaeger_client.__version__} from "
                f"{jaeger_client.__file__}; wrong environment"
            )

    def version(self) -> str:
        return str(self.jc.__version__)

    def tracer(
        self,
        kind: str,
        *,
        sampled: bool = True,
        port: int = 0,
        substitute: bool = False,
        extra: Optional[dict[str, Any]] = None,
    ) -> Any:
        from jaeger_client import ConstSampler, Tracer

        if kind in ("none", "null"):
            from jaeger_client.reporter import NullReporter

            return Tracer(
                service_name=SERVICE, reporter=NullReporter(), sampler=ConstSampler(sampled)
            )
        from jaeger_client import Config

        config: dict[str, Any] = {
            "sampler": {"type": "const", "param": 1 if sampled else 0},
            "local_agent": {
                "reporting_host": "127.0.0.1",
                "reporting_port": port,
                "sampling_port": free_udp_port(),  # never polled with a const sampler
            },
            "logging": False,
        }
        config.update(extra or {})
        return Config(config=config, service_name=SERVICE, validate=True).new_tracer()

    def close(self, tracer: Any, timeout: float = 10.0) -> bool:
        future = tracer.close()
        deadline = time.monotonic() + timeout
        # Upstream returns a Tornado (asyncio) future completed on its IOLoop thread; ours a
        # concurrent.futures one. Polling done() works for both without touching an event loop.
        while not future.done():
            if time.monotonic() >= deadline:
                return False
            time.sleep(0.002)
        return True


class OtelImpl(Impl):
    """OpenTelemetry SDK behind its OpenTracing shim, so the same OT-API scenario code runs."""

    name = "otel"

    def __init__(self) -> None:
        from opentelemetry.sdk.trace import TracerProvider  # noqa: F401  # fail early if absent
        from opentelemetry.shim.opentracing_shim import create_tracer  # noqa: F401

        self.providers: dict[int, Any] = {}
        self.exporters: list[Any] = []

    def version(self) -> str:
        from importlib.metadata import version

        shim = version("opentelemetry-opentracing-shim")
        return f"sdk {version('opentelemetry-sdk')}, shim {shim}"

    def tracer(
        self,
        kind: str,
        *,
        sampled: bool = True,
        port: int = 0,
        substitute: bool = False,
        extra: Optional[dict[str, Any]] = None,
    ) -> Any:
        from opentelemetry.sdk.trace import TracerProvider
        from opentelemetry.sdk.trace.export import (
            BatchSpanProcessor,
            SpanExporter,
            SpanExportResult,
        )
        from opentelemetry.sdk.trace.sampling import ALWAYS_OFF, ALWAYS_ON
        from opentelemetry.shim.opentracing_shim import create_tracer

        if kind == "udp":
            if not substitute:
                raise NotApplicable("OpenTelemetry has no UDP (Jaeger agent) exporter any more")
            self.substituted = True

        class CountingExporter(SpanExporter):  # type: ignore[misc]  # untyped in this venv
            def __init__(self) -> None:
                self.count = 0

            def export(self, spans: Any) -> Any:
                self.count += len(spans)
                return SpanExportResult.SUCCESS

            def shutdown(self) -> None:
                pass

        provider = TracerProvider(sampler=ALWAYS_ON if sampled else ALWAYS_OFF)
        if kind != "none":
            exporter = CountingExporter()
            self.exporters.append(exporter)
            provider.add_span_processor(BatchSpanProcessor(exporter))
        shim = create_tracer(provider)
        self.providers[id(shim)] = provider
        return shim

    def close(self, tracer: Any, timeout: float = 10.0) -> bool:
        provider = self.providers.pop(id(tracer))
        provider.shutdown()  # blocks until the BatchSpanProcessor has exported everything
        return True

    def exported(self) -> Optional[int]:
        return sum(e.count for e in self.exporters)


def make_impl(name: str) -> Impl:
    if name in ("ours", "upstream"):
        return JaegerImpl(name)
    if name == "otel":
        return OtelImpl()
    raise ValueError(f"unknown implementation {name!r}; expected one of {IMPLS}")


# ---- instruction counts ----------------------------------------------------------------

_COLLECTED = re.compile(r"Collected : (\d+)")


def callgrind_instructions(script_args: list[str]) -> int:
    """Run this interpreter on ``script_args`` under ``valgrind --tool=callgrind``, collecting
    only inside ``operator.call`` (the script wraps its measured loop in it), with hash
    randomisation fixed; return the instructions collected."""
    cmd = [
        "valgrind",
        "--tool=callgrind",
        "--collect-atstart=no",
        "--toggle-collect=_operator_call",
        "--callgrind-out-file=/dev/null",
        sys.executable,
        *script_args,
    ]
    env = dict(os.environ, PYTHONHASHSEED="0")
    proc = subprocess.run(cmd, capture_output=True, text=True, env=env, check=False)
    match = _COLLECTED.search(proc.stderr)
    if proc.returncode != 0 or match is None:
        raise RuntimeError(f"callgrind failed for {script_args[1:]}:\n{proc.stderr[-2000:]}")
    return int(match.group(1))


# ---- the UDP sink (a separate process) -------------------------------------------------


class SinkClient:
    """Starts benchmarks/sink.py in our environment and talks to it over its stdin/stdout."""

    def __init__(self) -> None:
        python = os.environ.get("BENCH_SINK_PYTHON", sys.executable)
        script = os.environ.get("BENCH_SINK_SCRIPT", os.path.join(HERE, "..", "sink.py"))
        hidden = ("PYTHONPATH", "BENCH_NO_FASTBINARY")
        env = {k: v for k, v in os.environ.items() if k not in hidden}
        self.proc = subprocess.Popen(
            [python, script],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
            env=env,
            cwd=os.path.dirname(os.path.abspath(script)),
        )
        assert self.proc.stdout is not None
        line = self.proc.stdout.readline()
        if not line.startswith("PORT "):
            raise RuntimeError(f"sink did not start: {line!r}")
        self.port = int(line.split()[1])

    def _ask(self, command: str) -> dict[str, Any]:
        assert self.proc.stdin is not None and self.proc.stdout is not None
        self.proc.stdin.write(command + "\n")
        self.proc.stdin.flush()
        return dict(json.loads(self.proc.stdout.readline()))

    def stats(self, quiet: float = 0.5, timeout: float = 30.0) -> dict[str, Any]:
        return self._ask(f"stats {quiet} {timeout}")

    def reset(self) -> None:
        self._ask("reset")

    def close(self) -> None:
        try:
            self._ask("quit")
        except (OSError, ValueError):
            pass
        self.proc.wait(timeout=5)

    def __enter__(self) -> SinkClient:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()


# ---- scenario entry point --------------------------------------------------------------


def run(
    scenario: str, body: Callable[[Impl, dict[str, Any]], dict[str, Any]], defaults: dict[str, Any]
) -> None:
    """Parse ``--impl`` and ``--params``, run ``body``, print the one RESULT line."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--impl", required=True, choices=IMPLS)
    parser.add_argument("--params", default="{}", help="JSON object overriding the defaults")
    args = parser.parse_args()
    params = dict(defaults)
    params.update(json.loads(args.params))
    out: dict[str, Any] = {"scenario": scenario, "impl": args.impl, "params": params}
    try:
        impl = make_impl(args.impl)
        out["version"] = impl.version()
        out["metrics"] = body(impl, params)
        out["ok"] = True
        if impl.substituted:
            out["substituted"] = "discarding exporter instead of UDP"
    except NotApplicable as e:
        out["ok"] = False
        out["na"] = str(e)
    except Exception as e:  # reported as the cell's error; the driver carries on with the others
        out["ok"] = False
        out["error"] = f"{type(e).__name__}: {e}"
        out["traceback"] = traceback.format_exc()[-2000:]
    out["python"] = sys.version.split()[0]
    out["fastbinary"] = fastbinary_present()
    print("RESULT " + json.dumps(out), flush=True)


def fastbinary_present() -> bool:
    try:
        from thrift.protocol import fastbinary  # noqa: F401  # only probing for it
    except ImportError:
        return False
    return True


def median(values: list[float]) -> float:
    return float(statistics.median(values))


def chunks(total: int, size: int) -> Iterator[int]:
    while total > 0:
        yield min(size, total)
        total -= size
