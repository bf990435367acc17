"""What the tracer's background thread costs the application: late timer ticks and CPU slowdown.

The main thread is an application with a 1 ms timer: ``time.sleep(0.001)`` in a loop, counting
the sleeps that take longer than ``late_ms`` (the thread could not get the GIL back in time). It
also makes spans at a steady ``rate`` between sleeps; only the sleeps are timed, so the cost of
making spans is not counted here, only what the tracer's own threads do meanwhile.

Phases, one process: ``baseline`` (a tracer with no background work at all), ``idle`` (the real
reporter, no spans), ``load`` (the real reporter, spans at ``rate``; ``bg_cpu_*`` is the CPU the
process spent outside the main thread meanwhile); then a fixed CPU workload (pure-Python chunks,
spans made between them at the same rate), in blocks alternating between the no-background
tracer and the real reporter: ``cpu_slowdown_pct`` is the extra wall time of the chunks.
That last figure is diagnostic only (the driver does not print it): a reporter that cannot keep
up (upstream's) is still busy during the blocks without it, and on a shared machine the
difference is within the noise; ``bg_cpu_ms_per_s`` is the robust measure of the same cost.
OTel runs its BatchSpanProcessor with a discarding exporter.
"""

from __future__ import annotations

import time
from typing import Any

import _common


def timer_loop(tracer: Any, seconds: float, rate: float, late_s: float) -> dict[str, Any]:
    one_span = _common.one_span
    perf = time.perf_counter
    sleep = time.sleep
    start = perf()
    end = start + seconds
    ticks = late = emitted = 0
    worst = 0.0
    while True:
        now = perf()
        if now >= end:
            break
        if rate:
            due = int((now - start) * rate)
            while emitted < due:
                one_span(tracer)
                emitted += 1
        s = perf()
        sleep(0.001)
        d = perf() - s
        ticks += 1
        if d > late_s:
            late += 1
        worst = max(worst, d)
    return {"ticks": ticks, "late": late, "worst_ms": worst * 1e3, "spans": emitted}


def work_chunk(n: int) -> int:
    x = 0
    for i in range(n):
        x += i * i
    return x


def cpu_workload(tracer: Any, chunks: int, chunk_size: int, rate: float) -> float:
    """Seconds spent in the fixed work chunks (span-making between chunks is not counted)."""
    one_span = _common.one_span
    perf = time.perf_counter
    start = perf()
    emitted = 0
    in_chunks = 0.0
    for _ in range(chunks):
        due = int((perf() - start) * rate)
        while emitted < due:
            one_span(tracer)
            emitted += 1
        s = perf()
        work_chunk(chunk_size)
        in_chunks += perf() - s
    return in_chunks


def body(impl: _common.Impl, p: dict[str, Any]) -> dict[str, Any]:
    late_s = p["late_ms"] / 1e3
    rate = p["rate"]
    quiet = impl.tracer("none")
    work_chunk(p["chunk_size"])
    baseline = timer_loop(quiet, p["baseline_s"], rate, late_s)
    with _common.SinkClient() as sink:
        tracer = impl.tracer("udp", port=sink.port, substitute=True)
        idle = timer_loop(tracer, p["idle_s"], 0, late_s)
        cpu0, main0 = time.process_time(), time.thread_time()
        load = timer_loop(tracer, p["load_s"], rate, late_s)
        background_cpu = (time.process_time() - cpu0) - (time.thread_time() - main0)
        # Alternate blocks without and with the reporter so that drift in machine load cancels.
        cpu_base = cpu_real = 0.0
        per_block = max(1, p["chunks"] // p["blocks"])
        for _ in range(p["blocks"]):
            cpu_base += cpu_workload(quiet, per_block, p["chunk_size"], rate)
            cpu_real += cpu_workload(tracer, per_block, p["chunk_size"], rate)
        impl.close(tracer)
        delivered = sink.stats(quiet=0.3)["spans"]
    impl.close(quiet)
    return {
        "late_load": load["late"],
        "ticks_load": load["ticks"],
        "worst_ms_load": load["worst_ms"],
        "late_idle": idle["late"],
        "ticks_idle": idle["ticks"],
        "late_baseline": baseline["late"],
        "ticks_baseline": baseline["ticks"],
        "bg_cpu_ms_per_s": background_cpu * 1e3 / p["load_s"],
        "bg_cpu_us_per_span": background_cpu * 1e6 / max(load["spans"], 1),
        "cpu_base_s": cpu_base,
        "cpu_real_s": cpu_real,
        "cpu_slowdown_pct": 100.0 * (cpu_real / cpu_base - 1.0),
        "spans_load": load["spans"],
        "delivered": delivered,
    }


if __name__ == "__main__":
    _common.run(
        "interference",
        body,
        {
            "rate": 5000,
            "late_ms": 2.0,
            "baseline_s": 1.0,
            "idle_s": 1.0,
            "load_s": 5.0,
            "chunks": 4000,
            "blocks": 4,
            "chunk_size": 2000,
        },
    )
