"""The reliability suite's scale knob and its figure lines (RELIABILITY.md §4).

``JAEGER_RELIABILITY_SCALE=ci`` (the default, what ``make test`` runs) keeps the whole folder
within a minute on two busy cores; ``full`` (``make reliability``) runs the issue's numbers. Each
test records exactly one ``FIGURE <n>: ...`` line through the ``figure`` fixture; they are printed
together, in figure order, in pytest's terminal summary (also with ``-q``).
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from pathlib import Path
from typing import Any, Callable

import pytest

from ._support import SCALE

_FIGURES = pytest.StashKey[list["Figure"]]()
_OUTCOMES = pytest.StashKey[dict[str, str]]()


@dataclasses.dataclass(frozen=True)
class Figure:
    number: int
    text: str
    nodeid: str


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    # slow: the Python-version matrix (scripts/test-matrix.sh, -m "not slow") runs its legs in
    # parallel on the same cores, where these timing figures mean little; make test runs them.
    here = Path(__file__).parent
    for item in items:
        if here in Path(item.path).parents:
            item.add_marker(pytest.mark.slow)


def _figures(config: pytest.Config) -> list[Figure]:
    return config.stash.setdefault(_FIGURES, [])


@pytest.fixture
def figure(request: pytest.FixtureRequest) -> Iterator[Callable[[int, str], None]]:
    """Record this test's ``FIGURE <number>: <text>`` line; each test records exactly one.

    Record the numbers before asserting on them, so a failing run still shows what it measured.
    """
    recorded: list[Figure] = []

    def record(number: int, text: str) -> None:
        item = Figure(number, text, request.node.nodeid)
        recorded.append(item)
        _figures(request.config).append(item)

    yield record
    outcome = request.config.stash.setdefault(_OUTCOMES, {}).get(request.node.nodeid)
    if outcome == "passed" and len(recorded) != 1:
        pytest.fail(f"a reliability test records exactly one figure line, got {len(recorded)}")


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[Any]) -> Any:
    report = yield
    if report.when == "call":
        item.config.stash.setdefault(_OUTCOMES, {})[item.nodeid] = report.outcome
    return report


def pytest_terminal_summary(terminalreporter: Any, exitstatus: int, config: pytest.Config) -> None:
    figures = _figures(config)
    if not figures:
        return
    outcomes = config.stash.setdefault(_OUTCOMES, {})
    terminalreporter.section(f"reliability figures (JAEGER_RELIABILITY_SCALE={SCALE})")
    for item in sorted(figures, key=lambda f: f.number):  # stable: recording order within one
        line = f"FIGURE {item.number}: {item.text}"
        outcome = outcomes.get(item.nodeid, "not run")
        if outcome != "passed":
            line += f"  [{outcome.upper()}: {item.nodeid}]"
        terminalreporter.write_line(line)
