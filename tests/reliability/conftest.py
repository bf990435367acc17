"""The reliability suite's marker: every test here is ``slow`` (``make test`` runs them, the matrix
legs do not). Its scale knob is ``JAEGER_RELIABILITY_SCALE`` (``_support.SCALE``): ``ci``, the
default, keeps the folder within a minute on two busy cores; ``full`` (``make reliability``) runs
the issue's numbers. The ``figure`` fixture that prints the ``FIGURE <n>:`` lines is in
tests/conftest.py.
"""

from __future__ import annotations

from pathlib import Path

import pytest


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    # slow: the Python-version matrix (scripts/test-matrix.sh, -m "not slow") runs its legs in
    # parallel on the same cores, where these timing figures mean little; make test runs them.
    here = Path(__file__).parent
    for item in items:
        if here in Path(item.path).parents:
            item.add_marker(pytest.mark.slow)
