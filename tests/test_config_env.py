"""Config from the environment: every JAEGER_* variable, precedence, from_env errors, the CLI."""

from __future__ import annotations

import logging
import os
import subprocess
import sys
from typing import Any

import pytest
from opentracing import Format

from jaeger_client import Config, ConstSampler, ProbabilisticSampler, RateLimitingSampler, codecs
from jaeger_client.__main__ import format_table, main
from jaeger_client.tracer import NoopTracer


def env_config(environ: dict[str, str], config: dict[str, Any] | None = None, **kw: Any) -> Config:
    """The implicit path: a plain Config reading ``environ``."""
    kw.setdefault("service_name", "svc")
    return Config({} if config is None else config, environ=environ, **kw)


def from_env(environ: dict[str, str], config: dict[str, Any] | None = None) -> Config:
    """The explicit path: Config.from_env, where a bad variable raises."""
    return Config.from_env(service_name="svc", config=config, environ=environ)


# ---- each variable -----------------------------------------------------------------------------

VARIABLES = [
    ("JAEGER_AGENT_HOST", "agent.local", "local_agent_reporting_host", "agent.local"),
    ("JAEGER_AGENT_PORT", "6832", "local_agent_reporting_port", 6832),
    ("JAEGER_REPORTER_LOG_SPANS", "true", "logging", True),
    ("JAEGER_REPORTER_MAX_QUEUE_SIZE", "500", "reporter_queue_size", 500),
    ("JAEGER_REPORTER_FLUSH_INTERVAL", "500ms", "reporter_flush_interval", 0.5),
    ("JAEGER_REPORTER_FLUSH_INTERVAL", "2", "reporter_flush_interval", 2.0),
    ("JAEGER_REPORTER_MAX_PACKET_SIZE", "9000", "max_packet_size", 9000),
    ("JAEGER_REPORTER_ATTEMPT_RECONNECT_INTERVAL", "10s", "reporter_attempt_reconnect_interval",
     10.0),
    ("JAEGER_REPORTER_ATTEMPT_RECONNECTING_DISABLED", "false",
     "reporter_attempt_reconnect_interval", 30.0),
    ("JAEGER_REPORTER_ATTEMPT_RECONNECTING_DISABLED", "true",
     "reporter_attempt_reconnect_interval", None),
    ("JAEGER_SAMPLER_MAX_OPERATIONS", "10", "max_operations", 10),
    ("JAEGER_SAMPLER_REFRESH_INTERVAL", "1m", "sampling_refresh_interval", 60.0),
    ("JAEGER_SAMPLER_REFRESH_INTERVAL", "1m30s", "sampling_refresh_interval", 90.0),
    ("JAEGER_SAMPLER_REFRESH_INTERVAL", "1.5h", "sampling_refresh_interval", 5400.0),
    ("JAEGER_SAMPLER_REFRESH_INTERVAL", "45", "sampling_refresh_interval", 45.0),
    ("JAEGER_SAMPLING_ENDPOINT", "http://sampler:5778/sampling", "sampling_endpoint",
     "http://sampler:5778/sampling"),
    ("JAEGER_ENDPOINT", "http://collector:14268/api/traces", "collector_endpoint",
     "http://collector:14268/api/traces"),
    ("JAEGER_AUTH_TOKEN", "tok", "collector_auth_token", "tok"),
    ("JAEGER_TRACEID_128BIT", "true", "generate_128bit_trace_id", True),
    ("JAEGER_TRACEID_128BIT", "TRUE", "generate_128bit_trace_id", True),
    ("JAEGER_TRACEID_128BIT", "True", "generate_128bit_trace_id", True),
    ("JAEGER_TRACEID_128BIT", "1", "generate_128bit_trace_id", True),
    ("JAEGER_TRACEID_128BIT", "false", "generate_128bit_trace_id", False),
    ("JAEGER_DISABLED", "true", "enabled", False),
    ("JAEGER_DISABLED", "0", "enabled", True),
    ("OTEL_SDK_DISABLED", "true", "enabled", False),
    ("OTEL_SDK_DISABLED", "TRUE", "enabled", False),
    ("OTEL_SDK_DISABLED", "1", "enabled", True),  # the OTel spec: only "true" disables
    ("OTEL_SDK_DISABLED", "no", "enabled", True),
]  # fmt: skip


@pytest.mark.parametrize(("var", "raw", "prop", "expected"), VARIABLES)
def test_variable_sets_its_setting(var: str, raw: str, prop: str, expected: Any) -> None:
    for config in (env_config({var: raw}), from_env({var: raw})):
        assert getattr(config, prop) == expected
        assert type(getattr(config, prop)) is type(expected)
    assert f"env {var}" in env_config({var: raw}).sources.values()


def test_user_and_password_set_together() -> None:
    config = from_env({"JAEGER_USER": "me", "JAEGER_PASSWORD": "pw"})
    assert (config.collector_user, config.collector_password) == ("me", "pw")


def test_empty_variable_counts_as_unset() -> None:
    config = from_env({"JAEGER_AGENT_PORT": "", "JAEGER_SERVICE_NAME": " "})
    assert config.local_agent_reporting_port == 6831
    assert config.sources["local_agent.reporting_port"] == "default"


def test_process_environment_is_read_by_default(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("JAEGER_AGENT_HOST", "from-os-environ")
    assert Config({}, service_name="svc").local_agent_reporting_host == "from-os-environ"
    assert Config({}, service_name="svc", environ={}).local_agent_reporting_host == "localhost"


# ---- precedence --------------------------------------------------------------------------------


def test_config_key_wins_over_variable() -> None:
    environ = {
        "JAEGER_AGENT_HOST": "env-host",
        "JAEGER_AGENT_PORT": "7000",
        "JAEGER_TRACEID_128BIT": "true",
        "JAEGER_REPORTER_MAX_QUEUE_SIZE": "500",
        "JAEGER_SAMPLER_TYPE": "const",
        "JAEGER_SAMPLER_PARAM": "1",
        "JAEGER_DISABLED": "true",
        "JAEGER_PROPAGATION": "w3c",
    }
    config = env_config(
        environ,
        {
            "local_agent": {"reporting_host": "cfg-host", "reporting_port": 7001},
            "generate_128bit_trace_id": False,
            "reporter_queue_size": 600,
            "sampler": {"type": "probabilistic", "param": 0.5},
            "enabled": True,
            "propagation": "jaeger",
        },
    )
    assert (config.local_agent_reporting_host, config.local_agent_reporting_port) == (
        "cfg-host",
        7001,
    )
    assert config.generate_128bit_trace_id is False
    assert config.reporter_queue_size == 600
    assert isinstance(config.sampler, ProbabilisticSampler)
    assert config.enabled is True
    assert config.propagation == {}
    assert set(config.sources.values()) <= {"config", "argument", "default"}


def test_variable_applies_when_the_group_lacks_the_key() -> None:
    """Upstream: local_agent without reporting_host still honours JAEGER_AGENT_HOST."""
    config = env_config({"JAEGER_AGENT_HOST": "env-host"}, {"local_agent": {"sampling_port": 1}})
    assert config.local_agent_reporting_host == "env-host"


def test_service_name_precedence() -> None:
    both = {"JAEGER_SERVICE_NAME": "jaeger-env", "OTEL_SERVICE_NAME": "otel-env"}
    assert Config({"service_name": "cfg"}, service_name="arg", environ=both).service_name == "cfg"
    assert Config({}, service_name="arg", environ=both).service_name == "arg"
    assert Config({}, environ=both).service_name == "jaeger-env"
    assert Config({}, environ={"OTEL_SERVICE_NAME": "otel-env"}).service_name == "otel-env"
    assert Config({}, environ=both).sources["service_name"] == "env JAEGER_SERVICE_NAME"


def test_jaeger_tags_merge_with_config_tags_and_win_on_conflict() -> None:
    config = env_config({"JAEGER_TAGS": "b=env,c=3"}, {"tags": {"a": "1", "b": "cfg"}})
    assert config.tags == {"a": "1", "b": "env", "c": "3"}
    assert config.sources["tags"] == "config + env JAEGER_TAGS"


# ---- JAEGER_TAGS ---------------------------------------------------------------------------------


def test_jaeger_tags_syntax() -> None:
    environ = {
        "JAEGER_TAGS": " a = 1 ,url=http://x/?q=1, ref=${REF:fallback},set=${HOME_X:d},"
        "bare=${HOME_X},none=${MISSING},",
        "HOME_X": "/home/x",
    }
    assert from_env(environ).tags == {
        "a": "1",
        "url": "http://x/?q=1",
        "ref": "fallback",
        "set": "/home/x",
        "bare": "/home/x",
        "none": "",
    }


@pytest.mark.parametrize("raw", ["a=1,novalue", "a=1,=2"])
def test_malformed_jaeger_tags_entry_raises_from_env(raw: str) -> None:
    with pytest.raises(ValueError, match="JAEGER_TAGS entry"):
        from_env({"JAEGER_TAGS": raw})


def test_malformed_jaeger_tags_entry_is_logged_and_skipped_on_the_implicit_path(
    caplog: pytest.LogCaptureFixture,
) -> None:
    with caplog.at_level(logging.WARNING, logger="jaeger_tracing"):
        config = env_config({"JAEGER_TAGS": "a=1,skipped-entry-42"})
    assert config.tags == {"a": "1"}
    assert "skipped-entry-42" in caplog.text


# ---- samplers from the environment --------------------------------------------------------------


def test_sampler_variables() -> None:
    const = from_env({"JAEGER_SAMPLER_TYPE": "const", "JAEGER_SAMPLER_PARAM": "1"}).sampler
    assert isinstance(const, ConstSampler) and const.decision is True
    off = from_env({"JAEGER_SAMPLER_TYPE": "const", "JAEGER_SAMPLER_PARAM": "0.0"}).sampler
    assert isinstance(off, ConstSampler) and off.decision is False
    prob = from_env({"JAEGER_SAMPLER_TYPE": "probabilistic", "JAEGER_SAMPLER_PARAM": "0.5"})
    assert isinstance(prob.sampler, ProbabilisticSampler) and prob.sampler.rate == 0.5
    assert prob.sources["sampler"] == "env JAEGER_SAMPLER_TYPE + env JAEGER_SAMPLER_PARAM"
    limit = from_env({"JAEGER_SAMPLER_TYPE": "ratelimiting", "JAEGER_SAMPLER_PARAM": "3"})
    assert isinstance(limit.sampler, RateLimitingSampler)


def test_remote_sampler_type_and_a_lone_param_select_the_remote_sampler() -> None:
    remote = from_env({"JAEGER_SAMPLER_TYPE": "remote", "JAEGER_SAMPLER_PARAM": "0.2"})
    assert remote.sampler is None
    assert ("sampler", "remote (param 0.2)") in [row[:2] for row in remote.describe()]
    lone = from_env({"JAEGER_SAMPLER_PARAM": "0.3"})
    assert lone.sampler is None
    assert lone.sources["sampler"] == "env JAEGER_SAMPLER_PARAM"


def test_sampler_manager_host_port_is_a_deprecated_fallback() -> None:
    assert (
        from_env({"JAEGER_SAMPLER_MANAGER_HOST_PORT": "sampler:5778"}).sampling_endpoint
        == "http://sampler:5778/sampling"
    )
    assert (
        from_env({"JAEGER_SAMPLER_MANAGER_HOST_PORT": "http://s:1/x"}).sampling_endpoint
        == "http://s:1/x"
    )
    both = {
        "JAEGER_SAMPLER_MANAGER_HOST_PORT": "old:5778",
        "JAEGER_SAMPLING_ENDPOINT": "http://new:5778/sampling",
    }
    assert from_env(both).sampling_endpoint == "http://new:5778/sampling"


# ---- propagation from the environment ----------------------------------------------------------


def test_jaeger_propagation_variable_sets_both_text_formats() -> None:
    """JAEGER_PROPAGATION=b3 (Java's meaning) covers TEXT_MAP too, unlike the 'b3' config key."""
    extra = from_env({"JAEGER_PROPAGATION": "b3"}).propagation
    assert set(extra) == {Format.TEXT_MAP, Format.HTTP_HEADERS}
    many = from_env({"JAEGER_PROPAGATION": "jaeger,b3,w3c"}).propagation
    assert all(isinstance(c, codecs.CompositeCodec) for c in many.values())


# ---- bad values: from_env raises, the implicit path logs once and uses the default ------------

BAD = [
    ("JAEGER_AGENT_PORT", "abc"),
    ("JAEGER_AGENT_PORT", "0"),
    ("JAEGER_AGENT_PORT", "65536"),
    ("JAEGER_REPORTER_MAX_QUEUE_SIZE", "-5"),
    ("JAEGER_REPORTER_FLUSH_INTERVAL", "0"),
    ("JAEGER_REPORTER_FLUSH_INTERVAL", "-1s"),
    ("JAEGER_REPORTER_FLUSH_INTERVAL", "1 minute"),
    ("JAEGER_SAMPLER_REFRESH_INTERVAL", "inf"),
    ("JAEGER_SAMPLER_MAX_OPERATIONS", "1.5"),
    ("JAEGER_REPORTER_MAX_PACKET_SIZE", "70000"),
    ("JAEGER_REPORTER_ATTEMPT_RECONNECT_INTERVAL", "0s"),
    ("JAEGER_REPORTER_ATTEMPT_RECONNECTING_DISABLED", "sometimes"),
    ("JAEGER_AGENT_HOST", "udp://agent"),
    ("JAEGER_REPORTER_LOG_SPANS", "yes"),
    ("JAEGER_DISABLED", "disabled"),
    ("JAEGER_TRACEID_128BIT", "yes"),
    ("JAEGER_SAMPLER_TYPE", "sometimes"),
    ("JAEGER_SAMPLER_PARAM", "lots"),
    ("JAEGER_SAMPLING_ENDPOINT", "sampler:5778"),
    ("JAEGER_SAMPLER_MANAGER_HOST_PORT", "a b:c"),
    ("JAEGER_ENDPOINT", "collector:14268"),
    ("JAEGER_PROPAGATION", "jaeger,zipkin"),
]


@pytest.mark.parametrize(("var", "raw"), BAD)
def test_bad_variable_raises_from_env_naming_it(var: str, raw: str) -> None:
    with pytest.raises(ValueError) as info:
        from_env({var: raw})
    assert f"{var}={raw!r}" in str(info.value)


@pytest.mark.parametrize(("var", "raw"), BAD)
def test_bad_variable_is_logged_and_defaulted_on_the_implicit_path(
    var: str, raw: str, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.WARNING, logger="jaeger_tracing"):
        config = env_config({var: raw})
    assert set(config.sources.values()) <= {"argument", "default"}
    assert f"{var}={raw!r}" in caplog.text


def test_implicit_path_logs_a_bad_variable_only_once(caplog: pytest.LogCaptureFixture) -> None:
    environ = {"JAEGER_AGENT_PORT": "logged-once-port"}
    with caplog.at_level(logging.WARNING, logger="jaeger_tracing"):
        for _ in range(3):
            assert env_config(environ).local_agent_reporting_port == 6831
    assert caplog.text.count("logged-once-port") == 1


def test_from_env_lists_every_bad_variable() -> None:
    with pytest.raises(ValueError) as info:
        from_env({"JAEGER_AGENT_PORT": "x", "JAEGER_DISABLED": "y", "JAEGER_ENDPOINT": "z"})
    message = str(info.value)
    assert message.startswith("3 configuration errors")
    for var in ("JAEGER_AGENT_PORT", "JAEGER_DISABLED", "JAEGER_ENDPOINT"):
        assert var in message


def test_user_without_password_raises_from_env_and_is_dropped_otherwise(
    caplog: pytest.LogCaptureFixture,
) -> None:
    with pytest.raises(ValueError, match="must be set together"):
        from_env({"JAEGER_USER": "me"})
    with caplog.at_level(logging.WARNING, logger="jaeger_tracing"):
        config = env_config({"JAEGER_PASSWORD": "pw"})
    assert (config.collector_user, config.collector_password) == (None, None)
    assert "must be set together" in caplog.text
    assert "pw" not in caplog.text.replace("PASSWORD", "")


def test_queue_from_env_smaller_than_config_batch() -> None:
    environ = {"JAEGER_REPORTER_MAX_QUEUE_SIZE": "5"}
    with pytest.raises(ValueError, match="JAEGER_REPORTER_MAX_QUEUE_SIZE"):
        Config.from_env("svc", {"reporter_batch_size": 10}, environ=environ)
    config = env_config(environ, {"reporter_batch_size": 10})
    assert (config.reporter_queue_size, config.reporter_batch_size) == (10000, 10)


def test_password_is_never_echoed() -> None:
    config = from_env({"JAEGER_USER": "me", "JAEGER_PASSWORD": "hunter2"})
    assert "hunter2" not in repr(config.describe())


def test_disabled_variable_builds_a_noop_tracer() -> None:
    assert isinstance(from_env({"JAEGER_DISABLED": "true"}).new_tracer(), NoopTracer)


def test_from_env_config_keys_still_win() -> None:
    config = Config.from_env(
        config={"service_name": "cfg", "local_agent": {"reporting_port": 7001}},
        environ={"JAEGER_SERVICE_NAME": "env", "JAEGER_AGENT_PORT": "7000"},
    )
    assert (config.service_name, config.local_agent_reporting_port) == ("cfg", 7001)


# ---- python -m jaeger_client ----------------------------------------------------------------


def test_format_table_aligns_columns() -> None:
    text = format_table([("a", "1", "default"), ("longer", "22", "env X")])
    assert text.splitlines() == [
        "setting  value  source",
        "-------  -----  -------",
        "a        1      default",
        "longer   22     env X",
    ]


def test_cli_prints_each_setting_with_its_source(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    for name in list(os.environ):
        if name.startswith(("JAEGER_", "OTEL_")):
            monkeypatch.delenv(name)
    monkeypatch.setenv("JAEGER_SERVICE_NAME", "cli-svc")
    monkeypatch.setenv("JAEGER_AGENT_PORT", "7000")
    monkeypatch.setenv("JAEGER_PASSWORD", "hunter2")
    monkeypatch.setenv("JAEGER_USER", "me")
    monkeypatch.setenv("JAEGER_AGENT_HOSTNAME", "typo")
    assert main([]) == 0
    out = capsys.readouterr().out
    rows = {line.split()[0]: line.split() for line in out.splitlines()[2:] if line}
    assert rows["service_name"][1:] == ["cli-svc", "env", "JAEGER_SERVICE_NAME"]
    assert rows["local_agent.reporting_port"][1:] == ["7000", "env", "JAEGER_AGENT_PORT"]
    assert rows["reporter_queue_size"][1:] == ["10000", "default"]
    assert rows["collector_password"][1] == "***"
    assert "hunter2" not in out
    assert "ignored: JAEGER_AGENT_HOSTNAME" in out


def test_cli_reports_bad_variables_with_exit_status_2() -> None:
    environ = {k: v for k, v in os.environ.items() if not k.startswith(("JAEGER_", "OTEL_"))}
    environ.update(JAEGER_SERVICE_NAME="svc", JAEGER_AGENT_PORT="not-a-port")
    result = subprocess.run(
        [sys.executable, "-m", "jaeger_client"],
        capture_output=True,
        text=True,
        env=environ,
        timeout=30,
    )
    assert result.returncode == 2
    assert "JAEGER_AGENT_PORT='not-a-port'" in result.stderr


def test_cli_service_name_argument() -> None:
    environ = {k: v for k, v in os.environ.items() if not k.startswith(("JAEGER_", "OTEL_"))}
    result = subprocess.run(
        [sys.executable, "-m", "jaeger_client", "--service-name", "given"],
        capture_output=True,
        text=True,
        env=environ,
        timeout=30,
    )
    assert result.returncode == 0, result.stderr
    assert "service_name" in result.stdout and "argument" in result.stdout


def test_the_reconnect_settings_reach_the_udp_sender() -> None:
    """Go's JAEGER_REPORTER_ATTEMPT_RECONNECT_INTERVAL and ..._RECONNECTING_DISABLED set how often
    the UDP sender resolves the agent's host name again."""
    for environ, expected in (
        ({}, 30.0),
        ({"JAEGER_REPORTER_ATTEMPT_RECONNECT_INTERVAL": "250ms"}, 0.25),
        ({"JAEGER_REPORTER_ATTEMPT_RECONNECTING_DISABLED": "true"}, None),
    ):
        tracer = from_env({**environ, "JAEGER_AGENT_HOST": "127.0.0.1"}).new_tracer()
        try:
            assert tracer.reporter._sender.resolve_interval == expected  # type: ignore[attr-defined]
        finally:
            tracer.close().result(5)
    config = Config({"reporter_attempt_reconnect_interval": 5}, service_name="svc", validate=True)
    assert config.reporter_attempt_reconnect_interval == 5.0


def test_jaeger_disabled_wins_over_otel_sdk_disabled() -> None:
    both = {"JAEGER_DISABLED": "false", "OTEL_SDK_DISABLED": "true"}
    assert from_env(both).enabled is True
    assert from_env(both).sources["enabled"] == "env JAEGER_DISABLED"
    assert from_env({"OTEL_SDK_DISABLED": "true"}, {"enabled": True}).enabled is True
