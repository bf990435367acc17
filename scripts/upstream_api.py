"""Record jaeger-client 4.8.0's public API as JSON, for tests/test_upstream_api.py.

Run with a Python that has upstream installed (``make bench`` builds one, plus
``prometheus_client`` for its metrics module)::

    .bench/upstream/bin/pip install prometheus_client
    .bench/upstream/bin/python scripts/upstream_api.py > tests/data/upstream_api_4.8.0.json

For every module of the package (``thrift_gen`` included): every name in its namespace that does
not start with ``__``, with the kind of object and the module it comes from; for the functions and
classes a module defines, their parameters (name, kind, default's repr or null) and, for classes,
their public members and their methods' parameters.
"""

from __future__ import annotations

import importlib
import inspect
import json
import pkgutil
import sys
from typing import Any, Optional


def parameters(obj: Any) -> Optional[list[list[Any]]]:
    try:
        signature = inspect.signature(obj)
    except (TypeError, ValueError):
        return None
    return [
        [p.name, p.kind.name, None if p.default is inspect.Parameter.empty else repr(p.default)]
        for p in signature.parameters.values()
    ]


def describe(obj: Any, module_name: str) -> dict[str, Any]:
    """What ``module_name`` holds under a name; a class or function imported from another module
    is described only where it is defined."""
    origin = getattr(obj, "__module__", None) or type(obj).__module__
    entry: dict[str, Any] = {"origin": origin}
    if origin != module_name and (inspect.isclass(obj) or callable(obj)):
        entry["kind"] = "class" if inspect.isclass(obj) else "callable"
    elif inspect.isclass(obj):
        entry["kind"] = "class"
        entry["init"] = parameters(obj.__init__)
        members: dict[str, Any] = {}
        for name in dir(obj):
            if name.startswith("_") and name != "__init__":
                continue
            owner = next(k for k in obj.__mro__ if name in vars(k))
            if owner.__module__ == "builtins":  # Exception's methods vary with the Python version
                continue
            static = inspect.getattr_static(obj, name)
            if isinstance(static, property):
                members[name] = "property"
            elif callable(getattr(obj, name)):
                members[name] = parameters(getattr(obj, name))
            else:
                members[name] = "attribute"
        entry["members"] = members
    elif callable(obj):
        entry["kind"] = "callable"
        entry["params"] = parameters(obj)
    else:
        entry["kind"] = "value"
        entry["type"] = type(obj).__name__
        if obj is None or isinstance(obj, (bool, int, float, str)):
            entry["value"] = repr(obj)
    return entry


def main() -> None:
    import jaeger_client

    names = ["jaeger_client"] + [
        m.name for m in pkgutil.walk_packages(jaeger_client.__path__, "jaeger_client.")
    ]
    api: dict[str, Any] = {}
    for module_name in sorted(names):
        module = importlib.import_module(module_name)
        entries = {}
        for name, obj in sorted(vars(module).items()):
            if name.startswith("__") or inspect.ismodule(obj):
                continue
            entries[name] = describe(obj, module_name)
        api[module_name] = entries
    json.dump(
        {"package": "jaeger-client==4.8.0", "python": sys.version.split()[0], "modules": api},
        sys.stdout,
        indent=1,
        sort_keys=True,
    )
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
