"""The benchmark harness (benchmarks/run.py) in smoke mode, so that it cannot rot.

Smoke mode runs every scenario once with tiny sizes against our implementation only, checks no
target, and never creates the upstream/OTel environments (they need PyPI). It does use loopback
UDP: the scenarios report through the real reporter to benchmarks/sink.py.
"""

from __future__ import annotations

import importlib.util
import json
import subprocess
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
RUN = ROOT / "benchmarks" / "run.py"


def load_driver() -> ModuleType:
    spec = importlib.util.spec_from_file_location("bench_run", RUN)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules["bench_run"] = module  # dataclasses look their module up while being built
    spec.loader.exec_module(module)
    return module


def test_smoke_run_completes_every_scenario_for_ours(tmp_path: Path) -> None:
    out = tmp_path / "smoke.json"
    proc = subprocess.run(
        [sys.executable, str(RUN), "--smoke", "--impl", "ours", "--no-setup", "--json", str(out)],
        capture_output=True,
        text=True,
        timeout=50,
        cwd=tmp_path,
    )
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    data = json.loads(out.read_text())
    assert data["impls"] == ["ours"]
    driver = load_driver()
    assert set(data["results"]) == {s.name for s in driver.SCENARIO_LIST}
    for name, cells in data["results"].items():
        assert list(cells) == ["ours"], name
        for result in cells["ours"]:
            assert result["ok"], (name, result.get("error"), result.get("traceback"))
            assert result["version"] != "4.8.0", "the smoke run must exercise our package"
    assert "| sampled span, discarding reporter | µs/span |" in proc.stdout


def fake_results(values: dict[str, dict[str, list[Any]]]) -> dict[str, Any]:
    """{scenario: {impl: [metric dicts]}} -> the driver's results shape."""
    return {
        scenario: {impl: [{"ok": True, "metrics": m} for m in runs] for impl, runs in cells.items()}
        for scenario, cells in values.items()
    }


def test_targets_compare_medians_with_upstream_and_check_worst_runs() -> None:
    driver = load_driver()
    results = fake_results(
        {
            "span_sampled": {
                "upstream": [{"us_per_span": 10.0}, {"us_per_span": 12.0}, {"us_per_span": 11.0}],
                "ours": [{"us_per_span": 3.0}, {"us_per_span": 3.2}, {"us_per_span": 9.0}],
            },
            "burst": {
                "upstream": [{"app_rate": 1000.0, "delivered_pct": 60.0}],
                "ours": [
                    {"app_rate": 6000.0, "delivered_pct": 100.0},
                    {"app_rate": 4000.0, "delivered_pct": 99.0},
                ],
            },
            "interference": {
                "upstream": [{"late_load": 0}],
                "ours": [{"late_load": 0}],
            },
        }
    )
    verdicts = {t.label: (measured, v) for t, measured, v in driver.evaluate(results)}
    # median 3.2 / median 11.0 = 0.29: passes although one run was slow
    assert verdicts["sampled span ≤ 0.3x upstream (discarding reporter)"][1] == "PASS"
    # median rate 5000 / 1000 = 5.0: passes; but one run lost spans
    assert verdicts["end-to-end app-thread rate ≥ 5x upstream"][1] == "PASS"
    assert verdicts["end-to-end 100 % delivered (every run)"][1] == "FAIL"
    # upstream had no late tick: only zero passes
    assert verdicts["late timer ticks ≤ 1 % of upstream's"][1] == "PASS"


def test_table_marks_missing_cells_and_prints_ratios() -> None:
    driver = load_driver()
    results = fake_results(
        {
            "span_sampled": {
                "upstream": [{"us_per_span": 10.0}],
                "ours": [{"us_per_span": 2.5}],
            }
        }
    )
    results["span_sampled"]["otel"] = [{"ok": False, "na": "not here"}]
    lines = driver.build_table(results, ["upstream", "ours", "otel"], smoke=False)
    assert lines[2] == (
        "| sampled span, discarding reporter | µs/span | 10.00 | 2.50 | 0.25\u00d7 | n/a | — |"
    )
