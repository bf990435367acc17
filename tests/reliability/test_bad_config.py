"""Figure 14: every invalid setting of RELIABILITY 2.12, as a ``Config`` key and as a ``JAEGER_*``
variable read by ``Config.from_env``, raises ``ValueError`` naming it, identically under
``python -O``. The unit suites' tables (``tests/test_config.py``, ``tests/test_config_env.py``)
run here too, so the figure counts every invalid input the project knows of.
"""

from __future__ import annotations

import json
from typing import Any, Callable

import pytest

from jaeger_client import Config

from ._support import run_python

# (what, config dict, name the message must contain), by RELIABILITY 2.12's categories
CONFIG_CASES: list[tuple[str, dict[str, Any], str]] = [
    ("unknown key", {"reporter_queue_sise": 10}, "reporter_queue_sise"),
    ("unknown key in sampler", {"sampler": {"typ": "const"}}, "sampler.typ"),
    ("unknown key in local_agent", {"local_agent": {"reporting_prot": 1}}, "reporting_prot"),
    ("unknown key in throttler", {"throttler": {"intervall": 1}}, "throttler.intervall"),
    ("queue size 0", {"reporter_queue_size": 0}, "reporter_queue_size"),
    ("queue size -1", {"reporter_queue_size": -1}, "reporter_queue_size"),
    ("batch size 0", {"reporter_batch_size": 0}, "reporter_batch_size"),
    ("flush interval 0", {"reporter_flush_interval": 0}, "reporter_flush_interval"),
    ("flush interval -1", {"reporter_flush_interval": -1}, "reporter_flush_interval"),
    ("flush interval NaN", {"reporter_flush_interval": float("nan")}, "reporter_flush_interval"),
    (
        "reconnect interval 0",
        {"reporter_attempt_reconnect_interval": 0},
        "reporter_attempt_reconnect_interval",
    ),
    (
        "reconnecting disabled 'maybe'",
        {"reporter_attempt_reconnecting_disabled": "maybe"},
        "reporter_attempt_reconnecting_disabled",
    ),
    ("refresh interval 0", {"sampling_refresh_interval": 0}, "sampling_refresh_interval"),
    ("max operations 0", {"max_operations": 0}, "max_operations"),
    ("throttler refresh 0", {"throttler": {"refresh_interval": 0}}, "throttler.refresh_interval"),
    ("collector timeout 0", {"collector_timeout": 0}, "collector_timeout"),
    ("exit flush timeout -1", {"exit_flush_timeout": -1}, "exit_flush_timeout"),
    ("tags per span 0", {"max_tags_per_span": 0}, "max_tags_per_span"),
    ("logs per span 0", {"max_logs_per_span": 0}, "max_logs_per_span"),
    ("tag value length 0", {"max_tag_value_length": 0}, "max_tag_value_length"),
    ("batch > queue", {"reporter_batch_size": 50, "reporter_queue_size": 10}, "reporter_batch"),
    ("reporting port 0", {"local_agent": {"reporting_port": 0}}, "reporting_port"),
    ("reporting port 65536", {"local_agent": {"reporting_port": 65536}}, "reporting_port"),
    ("reporting port -1", {"local_agent": {"reporting_port": -1}}, "reporting_port"),
    ("sampling port 70000", {"local_agent": {"sampling_port": 70000}}, "sampling_port"),
    ("throttler port 0", {"throttler": {"port": 0}}, "throttler.port"),
    ("port 'abc'", {"local_agent": {"reporting_port": "abc"}}, "reporting_port"),
    ("port '6831x'", {"local_agent": {"reporting_port": "6831x"}}, "reporting_port"),
    ("port 1.5", {"local_agent": {"reporting_port": 1.5}}, "reporting_port"),
    ("port True", {"local_agent": {"reporting_port": True}}, "reporting_port"),
    ("host with a space", {"local_agent": {"reporting_host": "bad host"}}, "reporting_host"),
    ("host as a URL", {"local_agent": {"reporting_host": "http://agent"}}, "reporting_host"),
    ("host with a port", {"local_agent": {"reporting_host": "agent:6831"}}, "reporting_host"),
    ("host '::::'", {"local_agent": {"reporting_host": "::::"}}, "reporting_host"),
    ("host 999.1.1.1", {"local_agent": {"reporting_host": "999.1.1.1"}}, "reporting_host"),
    ("probability 1.5", {"sampler": {"type": "probabilistic", "param": 1.5}}, "sampler.param"),
    ("probability -0.1", {"sampler": {"type": "probabilistic", "param": -0.1}}, "sampler.param"),
    ("probability NaN", {"sampler": {"type": "probabilistic", "param": float("nan")}}, "param"),
    ("rate limit -1", {"sampler": {"type": "ratelimiting", "param": -1}}, "sampler.param"),
    ("rate limit inf", {"sampler": {"type": "ratelimiting", "param": float("inf")}}, "param"),
    ("const 2", {"sampler": {"type": "const", "param": 2}}, "sampler.param"),
    ("sampler type 'foo'", {"sampler": {"type": "foo"}}, "sampler.type"),
    ("sampler type 3", {"sampler": {"type": 3}}, "sampler.type"),
    ("max_packet_size 0", {"max_packet_size": 0}, "max_packet_size"),
    ("max_packet_size 65508 over IPv4", {"max_packet_size": 65508}, "max_packet_size"),
    ("max_packet_size 70000", {"max_packet_size": 70000}, "max_packet_size"),
    ("max_packet_size 'big'", {"max_packet_size": "big"}, "max_packet_size"),
]

# (what, environment, variable the message must contain), read by Config.from_env
ENV_CASES: list[tuple[str, dict[str, str], str]] = [
    ("queue size 0", {"JAEGER_REPORTER_MAX_QUEUE_SIZE": "0"}, "JAEGER_REPORTER_MAX_QUEUE_SIZE"),
    ("agent host as a URL", {"JAEGER_AGENT_HOST": "udp://agent"}, "JAEGER_AGENT_HOST"),
    ("queue size -5", {"JAEGER_REPORTER_MAX_QUEUE_SIZE": "-5"}, "JAEGER_REPORTER_MAX_QUEUE_SIZE"),
    ("queue size 'abc'", {"JAEGER_REPORTER_MAX_QUEUE_SIZE": "abc"}, "MAX_QUEUE_SIZE"),
    ("flush interval 0", {"JAEGER_REPORTER_FLUSH_INTERVAL": "0"}, "JAEGER_REPORTER_FLUSH"),
    ("flush interval -1s", {"JAEGER_REPORTER_FLUSH_INTERVAL": "-1s"}, "JAEGER_REPORTER_FLUSH"),
    ("refresh interval 0", {"JAEGER_SAMPLER_REFRESH_INTERVAL": "0"}, "JAEGER_SAMPLER_REFRESH"),
    ("max operations 0", {"JAEGER_SAMPLER_MAX_OPERATIONS": "0"}, "JAEGER_SAMPLER_MAX_OPER"),
    (
        "queue smaller than the batch",
        {"JAEGER_REPORTER_MAX_QUEUE_SIZE": "5"},
        "JAEGER_REPORTER_MAX_QUEUE_SIZE",
    ),
    ("agent port 0", {"JAEGER_AGENT_PORT": "0"}, "JAEGER_AGENT_PORT"),
    ("agent port 65536", {"JAEGER_AGENT_PORT": "65536"}, "JAEGER_AGENT_PORT"),
    ("agent port -1", {"JAEGER_AGENT_PORT": "-1"}, "JAEGER_AGENT_PORT"),
    ("agent port 'abc'", {"JAEGER_AGENT_PORT": "abc"}, "JAEGER_AGENT_PORT"),
    ("agent port '68 31'", {"JAEGER_AGENT_PORT": "68 31"}, "JAEGER_AGENT_PORT"),
    (
        "probability 2",
        {"JAEGER_SAMPLER_TYPE": "probabilistic", "JAEGER_SAMPLER_PARAM": "2"},
        "JAEGER_SAMPLER_PARAM",
    ),
    (
        "rate limit -1",
        {"JAEGER_SAMPLER_TYPE": "ratelimiting", "JAEGER_SAMPLER_PARAM": "-1"},
        "JAEGER_SAMPLER_PARAM",
    ),
    ("sampler param 'lots'", {"JAEGER_SAMPLER_PARAM": "lots"}, "JAEGER_SAMPLER_PARAM"),
    ("sampler type 'foo'", {"JAEGER_SAMPLER_TYPE": "foo"}, "JAEGER_SAMPLER_TYPE"),
    ("max packet size 0", {"JAEGER_REPORTER_MAX_PACKET_SIZE": "0"}, "MAX_PACKET_SIZE"),
    ("max packet size 70000", {"JAEGER_REPORTER_MAX_PACKET_SIZE": "70000"}, "MAX_PACKET_SIZE"),
    ("tags 'a' (Go panics)", {"JAEGER_TAGS": "a"}, "JAEGER_TAGS"),
    ("tags '=x'", {"JAEGER_TAGS": "=x"}, "JAEGER_TAGS"),
    ("disabled 'maybe'", {"JAEGER_DISABLED": "maybe"}, "JAEGER_DISABLED"),
    ("128bit 'yes'", {"JAEGER_TRACEID_128BIT": "yes"}, "JAEGER_TRACEID_128BIT"),
    ("endpoint without scheme", {"JAEGER_ENDPOINT": "collector:14268"}, "JAEGER_ENDPOINT"),
    ("propagation 'zipkin'", {"JAEGER_PROPAGATION": "zipkin"}, "JAEGER_PROPAGATION"),
]
ENV_CONFIG = {"queue smaller than the batch": {"reporter_batch_size": 10}}


def unit_tables() -> tuple[
    list[tuple[str, dict[str, Any], str]], list[tuple[str, dict[str, str], str]]
]:
    """The unit suites' invalid-input tables, as more cases of the same two kinds."""
    import test_config
    import test_config_env

    config = [(f"unit: {key} = {shown}", cfg, key) for cfg, key, shown in test_config.INVALID]
    env = [(f"unit: {var}={raw!r}", {var: raw}, var) for var, raw in test_config_env.BAD]
    return config, env


def outcome(build: Callable[[], Any], name: str) -> tuple[str, str]:
    """``(verdict, message)``: ``named`` (ValueError naming it), ``unnamed``, ``accepted`` or
    the type of another exception."""
    try:
        build()
    except ValueError as e:
        return ("named" if name in str(e) else "unnamed"), str(e)
    except Exception as e:  # the point: only ValueError may say "invalid"
        return type(e).__name__, str(e)
    return "accepted", ""


def run_cases() -> list[list[str]]:
    """Every case: ``[kind, what, verdict, message]`` (no asserts: this runs under -O too)."""
    unit_config, unit_env = unit_tables()
    results = []
    for what, config, name in CONFIG_CASES + unit_config:

        def build(config: dict[str, Any] = config) -> Any:
            return Config(config, service_name="svc", validate=True, environ={})

        results.append(["config", what, *outcome(build, name)])
    for what, environ, name in ENV_CASES + unit_env:

        def build_env(environ: dict[str, str] = environ, what: str = what) -> Any:
            return Config.from_env(
                service_name="svc", config=ENV_CONFIG.get(what), environ=environ, validate=True
            )

        results.append(["env", what, *outcome(build_env, name)])
    return results


CHILD = """
import json, sys
from reliability.test_bad_config import run_cases
print(json.dumps({"optimize": sys.flags.optimize, "results": run_cases()}))
"""


def test_every_invalid_setting_and_variable_raises_value_error_naming_it(
    figure: Callable[[int, str], None],
) -> None:
    plain = run_cases()
    child = run_python(CHILD, optimize=True)
    assert child.returncode == 0, child.stderr[-3000:]
    optimized = json.loads(child.stdout.splitlines()[-1])
    config = [r for r in plain if r[0] == "config"]
    env = [r for r in plain if r[0] == "env"]
    not_named = [r for r in plain if r[2] != "named"]
    silent = [r for r in plain if r[2] == "accepted"]
    differ = [a for a, b in zip(plain, optimized["results"]) if a != b]
    figure(
        14,
        f"{len(config)} invalid options and {len(env)} invalid JAEGER_* variables (from_env) of "
        f"RELIABILITY 2.12 and the unit tables: {len(plain) - len(not_named)} raise ValueError "
        f"naming the key, {len(silent)} silent fallbacks on the explicit path, "
        f"{len(not_named) - len(silent)} other errors; under python -O "
        f"{len(plain) - len(differ)} of {len(plain)} outcomes and messages identical",
    )
    assert not_named == []
    assert optimized["optimize"] == 1
    assert differ == []
    assert len(optimized["results"]) == len(plain)


def test_an_unknown_jaeger_variable_is_rejected_by_from_env_with_validate() -> None:
    with pytest.raises(ValueError, match="JAEGER_AGENT_PROT"):
        Config.from_env(service_name="svc", environ={"JAEGER_AGENT_PROT": "6831"}, validate=True)


def test_variables_of_other_jaeger_clients_are_accepted_by_from_env_with_validate() -> None:
    config = Config.from_env(
        service_name="svc", environ={"JAEGER_RPC_METRICS": "true"}, validate=True
    )
    assert config.ignored_environment() == ["JAEGER_RPC_METRICS"]
