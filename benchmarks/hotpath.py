"""Hot-path cost per component: µs per operation, or instructions per operation under callgrind.

    python benchmarks/hotpath.py                     # µs per op (minimum over --repeat rounds)
    python benchmarks/hotpath.py --only log_kv,finish
    python benchmarks/hotpath.py --callgrind         # instructions per op (deterministic)
    python benchmarks/hotpath.py --list

Each component is one statement run in a loop compiled the way ``timeit`` compiles it (no call
per iteration), minus the same loop around its baseline statement (``pass``, or whatever the
statement needs besides the measured call, such as ``next(it)``). Wall time is the minimum over
rounds, which is what the machine does when nothing else competes for the core; the garbage
collector is off while timing, as in ``timeit``.

``--callgrind`` runs every component twice under ``valgrind --tool=callgrind`` (statement and
baseline, each in a fresh process) with collection toggled on only inside ``operator.call``, which
wraps the measured loop and nothing else; the difference divided by the iteration count is the
instruction count per operation. It is exact up to hash randomisation (``PYTHONHASHSEED=0`` is
set) and random ids, so a change of a few percent is real even on a loaded machine.

Components marked ``udp`` send real datagrams to a socket bound on 127.0.0.1 that never reads
(the kernel drops what overflows its buffer; ``sendto`` costs the same). The ``e2e_*`` rows are
not loops: they run ``one_span`` with the real Reporter and report the application thread's µs per
span and the CPU of the whole process (application + worker, ``time.process_time``) per span,
after ``close()`` has sent everything.
"""

from __future__ import annotations

import argparse
import gc
import json
import operator
import os
import socket
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any, Callable, Optional

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.dirname(HERE))
sys.path.insert(0, os.path.join(HERE, "scenarios"))

import _common  # noqa: E402
from opentracing import Format  # noqa: E402

import jaeger_client  # noqa: E402
from jaeger_client import _encode  # noqa: E402
from jaeger_client.reporter import NullReporter, Reporter  # noqa: E402
from jaeger_client.sampler import ConstSampler  # noqa: E402
from jaeger_client.senders import UDPSender  # noqa: E402
from jaeger_client.tracer import Tracer  # noqa: E402

BIG = 10**9  # tag/log caps for components that add to one span over and over

# ---- fixtures ---------------------------------------------------------------------------------


class _Collect:
    def __init__(self) -> None:
        self.spans: list[Any] = []

    def report_span(self, span: Any) -> None:
        self.spans.append(span)


one_span = _common.one_span  # the project's benchmark unit: start, 3 tags, a log, finish


def null_tracer(sampled: bool = True, reporter: Any = None) -> Tracer:
    return Tracer(
        "bench",
        NullReporter() if reporter is None else reporter,
        ConstSampler(sampled),
        max_tags_per_span=BIG,
        max_logs_per_span=BIG,
    )


def sink() -> socket.socket:
    sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    sock.bind(("127.0.0.1", 0))
    return sock


def finished_spans(n: int, child: bool = False) -> list[Any]:
    collect = _Collect()
    tracer = Tracer("bench", collect, ConstSampler(True))
    root = tracer.start_span("root") if child else None
    for i in range(n):
        if child:
            span = tracer.start_span("GET /users/{id}", child_of=root)
            span.set_tag("component", "flask")
            span.set_tag("http.status_code", 200 if i % 10 else 404)
            span.set_tag("error", False)
            span.log_kv({"event": "cache miss"})
            span.finish()
        else:
            one_span(tracer)
    return collect.spans


def udp_sender(port: int) -> UDPSender:
    sender = UDPSender("127.0.0.1", port)
    sender.set_process("bench", {"hostname": "bench-host", "ip": "127.0.0.1"}, 1024)
    return sender


# Each setup returns the names the statement uses. It runs again before every timed round (and
# once per callgrind process), so a statement may consume what setup made (``next(it)``).


def _setup_root(n: int, sampled: bool = True) -> dict[str, Any]:
    return {"tracer": null_tracer(sampled)}


def _setup_child(n: int) -> dict[str, Any]:
    tracer = null_tracer()
    return {"tracer": tracer, "root": tracer.start_span("root")}


def _setup_span(n: int, sampled: bool = True) -> dict[str, Any]:
    return {"span": null_tracer(sampled).start_span("checkout")}


def _setup_finish(n: int) -> dict[str, Any]:
    tracer = null_tracer()
    spans = [tracer.start_span("checkout") for _ in range(n)]
    return {"it": iter(spans), "keep": spans}


def _setup_report(n: int) -> dict[str, Any]:
    reporter = Reporter(
        None,
        queue_capacity=BIG,
        batch_size=BIG,
        flush_interval=3600.0,
        sender=udp_sender(_PORT[0]),
        exit_flush_timeout=0.0,
    )
    reporter.set_process("bench", {}, 1024)
    span = finished_spans(1)[0]
    reporter.report_span(span)  # starts the worker outside the measurement
    return {"reporter": reporter, "span": span}


def _setup_udp_tracer(n: int, sampled: bool = True) -> dict[str, Any]:
    reporter = Reporter(
        None, sender=udp_sender(_PORT[0]), queue_capacity=BIG, exit_flush_timeout=0.0
    )
    return {"tracer": null_tracer(sampled, reporter), "one_span": one_span}


def _setup_null_tracer(n: int, sampled: bool = True) -> dict[str, Any]:
    return {"tracer": null_tracer(sampled), "one_span": one_span}


def _setup_propagation(n: int) -> dict[str, Any]:
    tracer = null_tracer()
    span = tracer.start_span("client")
    span.set_baggage_item("tenant", "acme")
    return {"tracer": tracer, "ctx": span.context, "fmt": Format.HTTP_HEADERS}


def _setup_encode(n: int, accelerated: bool = True, child: bool = False) -> dict[str, Any]:
    encoder = _encode.CompactEncoder(accelerated=accelerated)
    warm = finished_spans(20, child)
    for span in warm:  # the worker's encoder lives as long as the sender: its tag cache is warm
        encoder.encode_span(span)
    spans = finished_spans(n, child)
    return {"encode": encoder.encode_span, "it": iter(spans), "keep": spans}


def _setup_samplers(n: int) -> dict[str, Any]:
    from jaeger_client import ConstSampler, ProbabilisticSampler

    return {
        "const": ConstSampler(True).is_sampled,
        "probabilistic": ProbabilisticSampler(0.5).is_sampled,
        "trace_id": 0x1234567890ABCDEF,
    }


_BATCH = 100


def _setup_send(n: int) -> dict[str, Any]:
    sender = udp_sender(_PORT[0])
    sender.send(finished_spans(_BATCH), 0)  # resolves and connects outside the measurement
    batches = [finished_spans(_BATCH) for _ in range(n)]
    return {"send": sender.send, "it": iter(batches), "keep": batches}


_PORT = [0]


@dataclass
class Component:
    name: str
    setup: Callable[[int], dict[str, Any]]
    stmt: str
    baseline: str = "pass"
    n: int = 20000  # iterations per timed round
    cg_n: int = 2000  # iterations under callgrind
    per: int = 1  # operations per iteration


COMPONENTS = [
    Component("start_root", _setup_root, 'tracer.start_span("checkout")'),
    Component(
        "start_root_unsampled",
        lambda n: _setup_root(n, sampled=False),
        'tracer.start_span("checkout")',
    ),
    Component("start_child", _setup_child, 'tracer.start_span("child", child_of=root)'),
    Component("set_tag_str", _setup_span, 'span.set_tag("http.method", "GET")'),
    Component("set_tag_int", _setup_span, 'span.set_tag("http.status_code", 200)'),
    Component(
        "set_tag_unsampled",
        lambda n: _setup_span(n, sampled=False),
        'span.set_tag("http.method", "GET")',
    ),
    Component("log_kv", _setup_span, 'span.log_kv({"event": "cache-miss", "key": "user:42"})'),
    Component("finish", _setup_finish, "next(it).finish()", "next(it)"),
    Component("report_span", _setup_report, "reporter.report_span(span)"),
    Component("sample_const", _setup_samplers, "const(trace_id, 'op')"),
    Component("sample_probabilistic", _setup_samplers, "probabilistic(trace_id, 'op')"),
    Component("span_sampled_null", _setup_null_tracer, "one_span(tracer)"),
    Component(
        "span_unsampled_null",
        lambda n: _setup_null_tracer(n, sampled=False),
        "one_span(tracer)",
    ),
    Component("span_sampled_udp", _setup_udp_tracer, "one_span(tracer)", n=10000),
    Component(
        "inject_extract",
        _setup_propagation,
        "c = {}; tracer.inject(ctx, fmt, c); tracer.extract(fmt, c)",
        "c = {}",
    ),
    Component("encode_c", _setup_encode, "encode(next(it))", "next(it)", n=10000),
    Component(
        "encode_c_child",
        lambda n: _setup_encode(n, child=True),
        "encode(next(it))",
        "next(it)",
        n=10000,
    ),
    Component(
        "encode_pure",
        lambda n: _setup_encode(n, accelerated=False),
        "encode(next(it))",
        "next(it)",
        n=10000,
    ),
    Component(
        "send_batch", _setup_send, "send(next(it), 0)", "next(it)", n=50, cg_n=10, per=_BATCH
    ),
]
BY_NAME = {c.name: c for c in COMPONENTS}


# ---- the loops --------------------------------------------------------------------------------


def compile_loop(stmt: str, names: list[str]) -> Callable[..., None]:
    """``def inner(_n, <names>): for _ in range(_n): <stmt>`` (names are locals, as timeit's)."""
    args = "".join(f", {name}" for name in names)
    src = f"def inner(_n{args}):\n    for _ in range(_n):\n        {stmt}\n"
    namespace: dict[str, Any] = {}
    exec(compile(src, f"<hotpath {stmt}>", "exec"), namespace)
    inner: Callable[..., None] = namespace["inner"]
    return inner


def time_component(c: Component, repeat: int) -> float:
    """Minimum over ``repeat`` rounds of (statement loop - baseline loop), µs per operation."""
    best_stmt = best_base = float("inf")
    for _ in range(repeat):
        for which in ("stmt", "base"):
            ns = c.setup(c.n)
            names = [k for k in ns if k != "keep"]
            loop = compile_loop(c.stmt if which == "stmt" else c.baseline, names)
            values = [ns[k] for k in names]
            gc.collect()
            gc.disable()
            try:
                start = time.perf_counter()
                loop(c.n, *values)
                elapsed = time.perf_counter() - start
            finally:
                gc.enable()
            if which == "stmt":
                best_stmt = min(best_stmt, elapsed)
            else:
                best_base = min(best_base, elapsed)
            del ns, values
    return (best_stmt - best_base) / (c.n * c.per) * 1e6


def run_inner(name: str, which: str, n: int) -> None:
    """Under callgrind: setup and warm-up uncollected, then the loop inside ``operator.call``."""
    c = BY_NAME[name]
    warm = min(200, n)
    ns = c.setup(n + warm)
    names = [k for k in ns if k != "keep"]
    loop = compile_loop(c.stmt if which == "stmt" else c.baseline, names)
    values = [ns[k] for k in names]
    loop(warm, *values)  # specialise the bytecode and fill caches before collecting
    call = getattr(operator, "call", None)  # 3.11+: the only caller of _operator_call here
    if call is None:
        raise SystemExit("--callgrind needs Python 3.11 or later (operator.call)")
    gc.collect()
    gc.disable()
    call(loop, n, *values)
    gc.enable()


def callgrind_count(name: str, which: str, n: int) -> int:
    script = [os.path.abspath(__file__), "--inner", name, "--which", which, "--n", str(n)]
    return _common.callgrind_instructions([*script, "--port", str(_PORT[0])])


def callgrind_component(c: Component, jobs: int) -> float:
    import concurrent.futures

    with concurrent.futures.ThreadPoolExecutor(jobs) as pool:
        stmt = pool.submit(callgrind_count, c.name, "stmt", c.cg_n)
        base = pool.submit(callgrind_count, c.name, "base", c.cg_n)
        return (stmt.result() - base.result()) / (c.cg_n * c.per)


# ---- end to end -------------------------------------------------------------------------------


def e2e(n: int, sampled: bool = True) -> dict[str, float]:
    """``one_span`` n times with the real Reporter, then close(): app µs/span, CPU µs/span."""
    reporter = Reporter(None, sender=udp_sender(_PORT[0]), exit_flush_timeout=0.0)
    tracer = null_tracer(sampled, reporter)
    for _ in range(1000):
        one_span(tracer)
    tracer.flush(10.0)
    before = reporter.stats().sent
    cpu0 = time.process_time()
    t0 = time.perf_counter()
    for _ in range(n):
        one_span(tracer)
    app = time.perf_counter() - t0
    tracer.close().result(30.0)
    cpu = time.process_time() - cpu0
    stats = reporter.stats()
    return {
        "app_us_per_span": app / n * 1e6,
        "cpu_us_per_span": cpu / n * 1e6,
        "sent": float(stats.sent - before),
        "dropped": float(stats.dropped),
    }


# ---- main -------------------------------------------------------------------------------------


def _select(only: Optional[str]) -> Iterator[Component]:
    if not only:
        yield from COMPONENTS
        return
    for name in only.split(","):
        if name not in BY_NAME:
            raise SystemExit(f"unknown component {name!r}; --list shows them")
        yield BY_NAME[name]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--only", help="comma-separated component names")
    parser.add_argument("--repeat", type=int, default=7, help="timed rounds per component")
    parser.add_argument("--callgrind", action="store_true", help="instructions per operation")
    parser.add_argument("--jobs", type=int, default=2, help="parallel callgrind processes")
    parser.add_argument("--no-e2e", action="store_true", help="skip the end-to-end rows")
    parser.add_argument("--json", action="store_true", help="print one JSON object at the end")
    parser.add_argument("--list", action="store_true")
    parser.add_argument("--inner", help=argparse.SUPPRESS)
    parser.add_argument("--which", help=argparse.SUPPRESS)
    parser.add_argument("--n", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--port", type=int, default=0, help=argparse.SUPPRESS)
    args = parser.parse_args()

    if args.list:
        for c in COMPONENTS:
            print(f"{c.name:22} {c.stmt}")
        return
    if args.inner:
        _PORT[0] = args.port
        run_inner(args.inner, args.which, args.n)
        return

    sock = sink()
    _PORT[0] = sock.getsockname()[1]
    results: dict[str, float] = {}
    unit = "Ir/op" if args.callgrind else "us/op"
    print(
        f"jaeger_client {jaeger_client.__version__}, Python {sys.version.split()[0]}, "
        f"fastbinary={_encode.HAS_FASTBINARY}"
    )
    for c in _select(args.only):
        value = (
            callgrind_component(c, args.jobs) if args.callgrind else time_component(c, args.repeat)
        )
        results[c.name] = value
        print(
            f"{c.name:22} {value:10.0f} {unit}"
            if args.callgrind
            else f"{c.name:22} {value:8.3f} {unit}",
            flush=True,
        )
    if not args.callgrind and not args.no_e2e and not args.only:
        for sampled in (True, False):
            row = e2e(20000, sampled)
            label = "e2e_udp_" + ("sampled" if sampled else "unsampled")
            print(
                f"{label:22} app {row['app_us_per_span']:.3f} us/span, "
                f"cpu {row['cpu_us_per_span']:.3f} us/span (app + worker), "
                f"sent {row['sent']:.0f}, dropped {row['dropped']:.0f}"
            )
            for key, value in row.items():
                results[f"{label}.{key}"] = value
    sock.close()
    if args.json:
        print(json.dumps(results, sort_keys=True))


if __name__ == "__main__":
    main()
