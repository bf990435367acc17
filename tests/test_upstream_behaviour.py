"""The same scenario gives what jaeger-client 4.8.0 gave, but for the changes CHANGELOG.md lists.

``tests/upstream_scenario.py`` runs spans, tags, logs, baggage, errors, samplers, codecs and metrics
through the public API; ``tests/data/upstream_behaviour_4.8.0.json`` is its output under upstream
(recorded with ``.bench/upstream/bin/python tests/upstream_scenario.py``). Here it runs under ours,
and every difference must be one of the deliberate ones below.
"""

from __future__ import annotations

import copy
import json
import os
import pathlib
from typing import Any

import pytest
from upstream_scenario import run

UPSTREAM: dict[str, Any] = json.loads(
    (pathlib.Path(__file__).parent / "data" / "upstream_behaviour_4.8.0.json").read_text("utf-8")
)


@pytest.fixture(scope="module")
def ours() -> dict[str, Any]:
    with pytest.MonkeyPatch.context() as patch:
        for name in os.environ:
            if name.startswith("JAEGER_"):
                patch.delenv(name)
        return run()


def _root_tags(result: dict[str, Any]) -> dict[str, list[Any]]:
    root = next(s for s in result["spans"] if s["op"] == "root-renamed")
    return {tag[0]: tag for tag in root["tags"]}


def expected_from_upstream() -> dict[str, Any]:
    """Upstream's output with each deliberate change applied (CHANGELOG.md, Changed and Fixed)."""
    expected = copy.deepcopy(UPSTREAM)
    # X-B3-Flags: 1 (debug) implies sampled
    expected["extract"]["b3/parent"][3] = 3
    # jaeger-baggage keys and values are trimmed
    for codec in ("text", "http"):
        expected["extract"][f"{codec}/jbaggage"][4] = {"a": "1", "b": "2"}
    # B3 carries baggage as uberctx-* headers, and writes X-B3-Sampled: 0 when unsampled
    expected["inject"]["b3/ctx"].update({"uberctx-k1": "v%201", "uberctx-k2": "%C3%BC/%3D%3B%2C"})
    expected["inject"]["b3/unsampled"]["X-B3-Sampled"] = "0"
    # the process tag client-uuid (an int, as upstream's) is always sent (upstream: only with a
    # throttler)
    expected["process"]["tags"] = sorted([*expected["process"]["tags"], ["client-uuid", 3]])
    # ints outside i64 become decimal strings (upstream's LONG tag failed the whole batch);
    # bytes become BINARY tags (upstream wrote their repr)
    root = next(s for s in expected["spans"] if s["op"] == "root-renamed")
    for tag in root["tags"]:
        if tag[0] == "big":
            tag[1:] = [0, str(1 << 70)]
        elif tag[0] == "bytes":
            tag[1:] = [4, "ab\x00"]
    # Config: queue 10,000 and batch 100 by default (upstream 100 and 10); max_operations reads
    # 2000 when unset (upstream None, meaning 2000); Config's new keys are not compared
    for name in ("empty", "strings"):
        expected["config"][name].update(reporter_queue_size=10000, max_operations=2000)
    expected["config"]["empty"]["reporter_batch_size"] = 100
    # counters upstream did not have (Go's names): created with the tracer
    expected["metrics_created_at_init"] = sorted(
        {
            *expected["metrics_created_at_init"],
            "counter:jaeger:baggage_truncations",
            'counter:jaeger:baggage_updates[["result", "err"]]',
            'counter:jaeger:baggage_updates[["result", "ok"]]',
            "counter:jaeger:span_context_decoding_errors",
        }
    )
    return expected


@pytest.mark.parametrize("part", sorted(UPSTREAM))
def test_scenario_matches_upstream_but_for_the_listed_changes(
    ours: dict[str, Any], part: str
) -> None:
    expected = expected_from_upstream()[part]
    if part == "config":  # ours has more properties (new keys): compare upstream's
        assert {n: {k: ours[part][n][k] for k in c} for n, c in expected.items()} == expected
    else:
        assert ours[part] == expected


def test_the_recorded_scenario_covers_what_users_see() -> None:
    """A guard on the data file: the scenario's parts and upstream's defects are all in it."""
    assert set(UPSTREAM) >= {"spans", "process", "inject", "extract", "sampler_tags", "binary"}
    assert {s["op"] for s in UPSTREAM["spans"]} >= {"root-renamed", "child", "failing", "follows"}
    assert _root_tags(UPSTREAM)["big"][1] == 3  # upstream's unencodable LONG
    assert UPSTREAM["extract"]["b3/parent"][3] == 2  # upstream's debug-without-sampled
