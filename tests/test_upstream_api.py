"""Every name, class member and parameter of jaeger-client 4.8.0 is still there.

``tests/data/upstream_api_4.8.0.json`` is upstream's API as ``scripts/upstream_api.py`` recorded it
from the real package. Each difference allowed below is deliberate and listed in CHANGELOG.md.
"""

from __future__ import annotations

import ast
import importlib
import inspect
import json
import pathlib
from typing import Any, Optional

import pytest

MANIFEST = json.loads(
    (pathlib.Path(__file__).parent / "data" / "upstream_api_4.8.0.json").read_text("utf-8")
)
MODULES: dict[str, dict[str, Any]] = MANIFEST["modules"]

# Names upstream's modules held by importing them from libraries we no longer use (Tornado and
# its asyncio Future, threadloop) or from typing and the standard library: not part of its API.
NOT_API_ORIGINS = (
    "typing",
    "tornado",
    "threadloop",
    "asyncio",
    "_asyncio",
    "_thread",
    "logging",
    "collections",
)
# Private names that upstream users import all the same
PRIVATE_KEPT = {"_max_id_bits", "_max_trace_id_bits"}

# Deliberate differences, each listed in CHANGELOG.md ("Changed"): module -> {name: "*" for the
# whole name, or the class members that are gone}; a module mapped to "*" is gone altogether.
GAPS: dict[str, Any] = {
    # upstream's LocalAgentSender was a Thrift TBufferedTransport the reporter wrote through;
    # ours says where the agent is, and the senders own the sockets
    "jaeger_client.local_agent_net": {
        "LocalAgentSender": {
            "DEFAULT_BUFFER",
            "close",
            "cstringio_buf",
            "cstringio_refill",
            "flush",
            "isOpen",
            "open",
            "read",
            "readAll",
            "readFrame",
            "write",
        },
    },
    # Generated code: ours comes from our own IDL through the thrift compiler's plain Python
    # generator. Upstream's was generated for Tornado (its service clients took a transport and
    # protocol factories), for Python 2 too (xrange), and carried Zipkin's Thrift structs and the
    # agent's deprecated emitZipkinBatch, which nothing in the client used.
    "jaeger_client.thrift_gen.agent.Agent": {
        "Client": "*",
        "Iface": {"emitZipkinBatch"},
        "Processor": {"emitZipkinBatch", "process_emitZipkinBatch"},
        "emitZipkinBatch_args": "*",
        "xrange": "*",
    },
    "jaeger_client.thrift_gen.agent.constants": {"xrange": "*"},
    "jaeger_client.thrift_gen.agent.ttypes": {"xrange": "*"},
    "jaeger_client.thrift_gen.jaeger.Collector": {"Client": "*", "xrange": "*"},
    "jaeger_client.thrift_gen.jaeger.constants": {"xrange": "*"},
    "jaeger_client.thrift_gen.jaeger.ttypes": {"xrange": "*"},
    "jaeger_client.thrift_gen.sampling.SamplingManager": {"Client": "*", "xrange": "*"},
    "jaeger_client.thrift_gen.sampling.constants": {"xrange": "*"},
    "jaeger_client.thrift_gen.sampling.ttypes": {"xrange": "*"},
    "jaeger_client.thrift_gen.zipkincore": "*",
    "jaeger_client.thrift_gen.zipkincore.ZipkinCollector": "*",
    "jaeger_client.thrift_gen.zipkincore.constants": "*",
    "jaeger_client.thrift_gen.zipkincore.ttypes": "*",
}
# Defaults changed on purpose: (qualified callable, parameter)
CHANGED_DEFAULTS = {
    ("jaeger_client.reporter.Reporter.__init__", "queue_capacity"),
    ("jaeger_client.reporter.Reporter.__init__", "batch_size"),
    # HTTP requests to the agent time out after 10 s everywhere (upstream's LocalAgentHTTP: 15)
    ("jaeger_client.local_agent_net.LocalAgentHTTP.request_sampling_strategy", "timeout"),
    ("jaeger_client.local_agent_net.LocalAgentHTTP.request_throttling_credits", "timeout"),
}
CHANGED_VALUES = {("jaeger_client.constants", "JAEGER_CLIENT_VERSION")}

_VARIADIC = ("VAR_POSITIONAL", "VAR_KEYWORD")


def _import(name: str) -> Any:
    if name == "jaeger_client.metrics.prometheus":
        pytest.importorskip("prometheus_client")
    return importlib.import_module(name)


def _is_api(entry: dict[str, Any]) -> bool:
    origin = entry.get("origin") or ""
    return not any(origin == o or origin.startswith(o + ".") for o in NOT_API_ORIGINS)


def _signature(obj: Any) -> Optional[list[tuple[str, str, Optional[str]]]]:
    try:
        signature = inspect.signature(obj)
    except (TypeError, ValueError):
        return None
    return [
        (p.name, p.kind.name, None if p.default is inspect.Parameter.empty else repr(p.default))
        for p in signature.parameters.values()
    ]


def _literal(text: Optional[str]) -> Any:
    try:
        return ("literal", ast.literal_eval(text)) if text is not None else ("none",)
    except (ValueError, SyntaxError):
        return ("other",)


def signature_problems(where: str, upstream: list[list[Any]], ours: Any) -> list[str]:
    """Calls valid against upstream's parameters that ours would reject or read differently."""
    mine = _signature(ours)
    if mine is None:
        return []
    problems = []
    by_name = {p[0]: (i, p) for i, p in enumerate(mine)}
    takes_kwargs = any(p[1] == "VAR_KEYWORD" for p in mine)
    takes_args = any(p[1] == "VAR_POSITIONAL" for p in mine)
    upstream_names = {p[0] for p in upstream}
    for index, (name, kind, default) in enumerate(upstream):
        if kind in _VARIADIC:
            continue
        if name not in by_name:
            if not takes_kwargs or (kind == "POSITIONAL_OR_KEYWORD" and not takes_args):
                problems.append(f"{where}: parameter {name!r} is gone")
            continue
        my_index, (_, my_kind, my_default) = by_name[name]
        if kind == "POSITIONAL_OR_KEYWORD" and (
            my_kind != "POSITIONAL_OR_KEYWORD" or my_index != index
        ):
            problems.append(f"{where}: {name!r} is no longer positional argument {index}")
        if default is not None and my_default is None:
            problems.append(f"{where}: {name!r} lost its default {default}")
        elif (
            default is not None
            and _literal(default)[0] == "literal"
            and _literal(default) != _literal(my_default)
            and (where, name) not in CHANGED_DEFAULTS
        ):
            problems.append(f"{where}: default of {name!r} {default} -> {my_default}")
    passes_through = any(p[1] in _VARIADIC for p in upstream)  # upstream's f(*args, **kwargs)
    for name, kind, default in mine:
        if passes_through:
            break
        if name not in upstream_names and kind not in _VARIADIC and default is None:
            problems.append(f"{where}: new required parameter {name!r}")
    return problems


def class_problems(where: str, entry: dict[str, Any], ours: Any, gaps: Any) -> list[str]:
    problems = []
    if entry.get("init") is not None:
        problems += signature_problems(f"{where}.__init__", entry["init"], ours.__init__)
    for member, spec in entry.get("members", {}).items():
        if member == "__init__" or member in gaps:
            continue
        if not hasattr(ours, member):
            problems.append(f"{where}.{member} is missing")
        elif isinstance(spec, list):
            mine = getattr(ours, member)
            if callable(mine):
                problems += signature_problems(f"{where}.{member}", spec, mine)
            else:
                problems.append(f"{where}.{member} is no longer callable")
    return problems


@pytest.mark.parametrize("module_name", sorted(MODULES))
def test_upstream_module_keeps_its_names_members_and_parameters(module_name: str) -> None:
    gaps = GAPS.get(module_name, {})
    if gaps == "*":
        with pytest.raises(ImportError):
            importlib.import_module(module_name)
        return
    module = _import(module_name)
    problems: list[str] = []
    for name, entry in MODULES[module_name].items():
        if name.startswith("_") and name not in PRIVATE_KEPT:
            continue
        if not _is_api(entry) or gaps.get(name) == "*":
            continue
        where = f"{module_name}.{name}"
        if not hasattr(module, name):
            problems.append(f"{where} is missing")
            continue
        ours = getattr(module, name)
        if entry["kind"] == "class" and "members" in entry:
            problems += class_problems(where, entry, ours, gaps.get(name, set()))
        elif entry["kind"] == "callable" and entry.get("params") is not None:
            problems += signature_problems(where, entry["params"], ours)
        elif (
            entry["kind"] == "value"
            and "value" in entry
            and (module_name, name) not in CHANGED_VALUES
            and ast.literal_eval(entry["value"]) != ours
        ):
            problems.append(f"{where} = {ours!r}, upstream {entry['value']}")
    assert not problems, "\n".join(problems)


def test_the_manifest_covers_upstreams_modules_and_main_classes() -> None:
    """The recorded API is upstream's whole package, not a truncated one."""
    assert MANIFEST["package"] == "jaeger-client==4.8.0"
    assert len(MODULES) >= 30
    tracer = MODULES["jaeger_client.tracer"]["Tracer"]
    assert {"start_span", "inject", "extract", "close"} <= set(tracer["members"])
    assert [p[0] for p in tracer["init"]][:4] == ["self", "service_name", "reporter", "sampler"]


def test_a_removed_parameter_or_member_would_be_reported() -> None:
    """The checker itself: a signature that drops, moves or newly requires a parameter fails."""

    def upstream_shape(a: int, b: int = 1) -> None: ...

    def dropped(a: int) -> None: ...

    def moved(b: int = 1, a: int = 0) -> None: ...

    def required(a: int, b: int = 1, c: int = 0, *, d: int) -> None: ...

    def kwargs_only(**kwargs: Any) -> None: ...

    upstream = [list(p) for p in _signature(upstream_shape) or []]
    assert signature_problems("f", upstream, upstream_shape) == []
    assert signature_problems("f", upstream, dropped) == ["f: parameter 'b' is gone"]
    assert "f: 'a' is no longer positional argument 0" in signature_problems("f", upstream, moved)
    assert signature_problems("f", upstream, required) == ["f: new required parameter 'd'"]
    assert "f: parameter 'a' is gone" in signature_problems("f", upstream, kwargs_only)

    class Upstream:
        def flush(self) -> None: ...

    entry = {"members": {"flush": [["self", "POSITIONAL_OR_KEYWORD", None]]}}
    assert class_problems("C", entry, object, set()) == ["C.flush is missing"]
    assert class_problems("C", entry, Upstream, set()) == []
