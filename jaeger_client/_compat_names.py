"""Names upstream's modules held only because they imported them, served on first use.

jaeger-client 4.8.0 code could write ``from jaeger_client.config import DEFAULT_SAMPLING_INTERVAL``
or ``from jaeger_client.tracer import Sampler``: the names were there, imported from elsewhere. Our
modules keep them without importing them eagerly (no import cycles, no start-up cost) through a
PEP 562 module ``__getattr__`` built here, and import them under ``TYPE_CHECKING`` for type
checkers (``tests/test_import_paths.py`` keeps the two lists equal). ``tests/test_upstream_api.py``
checks every such name against upstream's recorded namespace.
"""

from __future__ import annotations

import importlib
from collections.abc import Iterable, Mapping
from typing import Any, Callable


def module_getattr(module: str, sources: Mapping[str, Iterable[str]]) -> Callable[[str], Any]:
    """A module ``__getattr__`` serving the names in ``sources`` (module -> names it defines).

    Anything else raises ``AttributeError`` as a plain module does.
    """
    where = {name: source for source, names in sources.items() for name in names}

    def __getattr__(name: str) -> Any:
        source = where.get(name)
        if source is None:
            raise AttributeError(f"module {module!r} has no attribute {name!r}")
        return getattr(importlib.import_module(source), name)

    return __getattr__
