"""Config from OpenTelemetry's variables: OTEL_RESOURCE_ATTRIBUTES (service name, process tags)
and OTEL_TRACES_SAMPLER / OTEL_TRACES_SAMPLER_ARG, as fallbacks behind the config and JAEGER_*."""

from __future__ import annotations

import logging
import os
from collections.abc import Iterator
from typing import Any, Callable

import pytest
from _http_agent import AgentHTTP, agent_http
from conftest import wait_until
from opentracing.propagation import Format

from jaeger_client import Config, ConstSampler, ProbabilisticSampler, Tracer, _settings
from jaeger_client.__main__ import main
from jaeger_client.reporter import InMemoryReporter
from jaeger_client.sampler import RemoteControlledSampler


@pytest.fixture(autouse=True)
def fresh_log_once(monkeypatch: pytest.MonkeyPatch) -> None:
    """Each test sees its own "logged once" messages (the memory is process-wide)."""
    monkeypatch.setattr(_settings, "_logged", set())


def env_config(environ: dict[str, str], config: dict[str, Any] | None = None, **kw: Any) -> Config:
    """The implicit path: a plain Config reading ``environ``."""
    kw.setdefault("service_name", "svc")
    return Config({} if config is None else config, environ=environ, **kw)


def from_env(environ: dict[str, str], config: dict[str, Any] | None = None) -> Config:
    """The explicit path: Config.from_env, where a bad variable raises."""
    return Config.from_env(service_name="svc", config=config, environ=environ)


def both(environ: dict[str, str], config: dict[str, Any] | None = None) -> list[Config]:
    return [env_config(environ, config), from_env(environ, config)]


def described(config: Config, name: str) -> tuple[str, str]:
    """``(value, source)`` of one ``describe()`` row (what ``python -m jaeger_client`` prints)."""
    rows = {row[0]: row[1:] for row in config.describe()}
    return rows[name]


# ---- OTEL_RESOURCE_ATTRIBUTES: process tags -----------------------------------------------------


def test_resource_attributes_become_process_tags_but_service_name() -> None:
    environ = {"OTEL_RESOURCE_ATTRIBUTES": "deployment.environment=prod,service.name=x,team=pay"}
    for config in both(environ):
        assert config.tags == {"deployment.environment": "prod", "team": "pay"}
        assert config.sources["tags"] == "env OTEL_RESOURCE_ATTRIBUTES"
    assert described(from_env(environ), "tags") == (
        "deployment.environment=prod, team=pay",
        "env OTEL_RESOURCE_ATTRIBUTES",
    )


def test_resource_attributes_are_trimmed_and_values_percent_decoded() -> None:
    raw = " a = 1 , url=http%3A%2F%2Fx%2F%3Fq%3D1 ,list=x%2Cy, caf%C3%A9=cr%C3%A8me, sp=%20pad%20,"
    raw += "plus=a+b,empty="
    assert from_env({"OTEL_RESOURCE_ATTRIBUTES": raw}).tags == {
        "a": "1",
        "url": "http://x/?q=1",
        "list": "x,y",
        "caf%C3%A9": "crème",  # keys are not encoded: taken as they are, as the SDK does
        "sp": " pad ",
        "plus": "a+b",  # percent-encoding, not a form: '+' stays
        "empty": "",
    }


def test_resource_attributes_merge_with_config_tags_and_win_on_conflict() -> None:
    environ = {"OTEL_RESOURCE_ATTRIBUTES": "team=env,zone=b"}
    for config in both(environ, {"tags": {"app": "cfg", "team": "cfg"}}):
        assert config.tags == {"app": "cfg", "team": "env", "zone": "b"}
        assert config.sources["tags"] == "config + env OTEL_RESOURCE_ATTRIBUTES"


def test_jaeger_tags_hide_resource_attributes() -> None:
    environ = {"JAEGER_TAGS": "a=jaeger", "OTEL_RESOURCE_ATTRIBUTES": "a=otel,b=otel"}
    for config in both(environ):
        assert config.tags == {"a": "jaeger"}
        assert config.sources["tags"] == "env JAEGER_TAGS"
    # not read at all, so not checked either: from_env does not raise on it
    hidden = {"JAEGER_TAGS": "a=1", "OTEL_RESOURCE_ATTRIBUTES": "not-an-attribute"}
    assert from_env(hidden).tags == {"a": "1"}


def test_only_service_name_in_resource_attributes_adds_no_tags() -> None:
    config = from_env({"OTEL_RESOURCE_ATTRIBUTES": "service.name=x"}, {"tags": {"a": "1"}})
    assert config.tags == {"a": "1"}
    assert config.sources["tags"] == "config"


# ---- OTEL_RESOURCE_ATTRIBUTES: service.name ------------------------------------------------------


def test_service_name_falls_back_to_resource_attributes() -> None:
    environ = {"OTEL_RESOURCE_ATTRIBUTES": "team=a, service.name = check%20out "}
    for config in (Config({}, environ=environ), Config.from_env(environ=environ)):
        assert config.service_name == "check out"
        assert config.sources["service_name"] == "env OTEL_RESOURCE_ATTRIBUTES"
    assert described(Config({}, environ=environ), "service_name") == (
        "check out",
        "env OTEL_RESOURCE_ATTRIBUTES",
    )


def test_service_name_precedence_over_resource_attributes() -> None:
    resource = {"OTEL_RESOURCE_ATTRIBUTES": "service.name=resource"}
    otel = {**resource, "OTEL_SERVICE_NAME": "otel"}
    jaeger = {**otel, "JAEGER_SERVICE_NAME": "jaeger"}
    assert Config({}, environ=otel).service_name == "otel"  # OpenTelemetry's own order
    assert Config({}, environ=otel).sources["service_name"] == "env OTEL_SERVICE_NAME"
    assert Config({}, environ=jaeger).service_name == "jaeger"
    assert Config({}, service_name="arg", environ=resource).service_name == "arg"
    assert Config({"service_name": "cfg"}, environ=resource).service_name == "cfg"


def test_service_name_comes_from_resource_attributes_even_when_jaeger_tags_are_set() -> None:
    environ = {"JAEGER_TAGS": "a=1", "OTEL_RESOURCE_ATTRIBUTES": "service.name=res,b=2"}
    config = Config.from_env(environ=environ)
    assert (config.service_name, config.tags) == ("res", {"a": "1"})


def test_empty_service_name_attribute_is_no_service_name() -> None:
    with pytest.raises(ValueError, match=r"service\.name in OTEL_RESOURCE_ATTRIBUTES"):
        Config({}, environ={"OTEL_RESOURCE_ATTRIBUTES": "service.name= ,a=1"})


# ---- OTEL_RESOURCE_ATTRIBUTES: invalid values --------------------------------------------------

BAD_RESOURCE = ["a=1,novalue", "a=1,=2", "a=%zz", "a=%C3", " =x"]


@pytest.mark.parametrize("raw", BAD_RESOURCE)
def test_bad_resource_attributes_are_logged_not_raised_by_from_env(
    raw: str, caplog: pytest.LogCaptureFixture
) -> None:
    """OpenTelemetry's variables are read as its SDKs read them: never a startup error."""
    with caplog.at_level(logging.WARNING, logger="jaeger_tracing"):
        config = from_env({"OTEL_RESOURCE_ATTRIBUTES": raw})
    assert config.tags == {} and config.sources["tags"] == "default"
    assert f"OTEL_RESOURCE_ATTRIBUTES={raw!r}" in caplog.text


@pytest.mark.parametrize("raw", BAD_RESOURCE)
def test_bad_resource_attributes_are_logged_and_ignored_whole(
    raw: str, caplog: pytest.LogCaptureFixture
) -> None:
    """One bad item discards the whole value (the OpenTelemetry specification's rule), not only
    that item as JAEGER_TAGS does."""
    unique = f"{raw},logged=whole-{BAD_RESOURCE.index(raw)}"  # log_once: a message per test
    with caplog.at_level(logging.WARNING, logger="jaeger_tracing"):
        config = env_config({"OTEL_RESOURCE_ATTRIBUTES": unique}, {"tags": {"k": "cfg"}})
    assert config.tags == {"k": "cfg"}
    assert config.sources["tags"] == "config"
    assert f"OTEL_RESOURCE_ATTRIBUTES={unique!r}" in caplog.text


def test_bad_resource_attributes_give_no_service_name(caplog: pytest.LogCaptureFixture) -> None:
    environ = {"OTEL_RESOURCE_ATTRIBUTES": "service.name=ignored-name,broken-item-7"}
    logged = caplog.at_level(logging.WARNING, logger="jaeger_tracing")
    with logged, pytest.raises(ValueError, match="service_name required"):
        Config({}, environ=environ)
    assert "broken-item-7" in caplog.text


def test_bad_resource_attributes_are_reported_once_though_read_twice(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """The service name and the tags both read the variable: it is logged once."""
    logged = caplog.at_level(logging.WARNING, logger="jaeger_tracing")
    with logged, pytest.raises(ValueError) as info:
        Config.from_env(environ={"OTEL_RESOURCE_ATTRIBUTES": "service.name=x,oops"})
    assert str(info.value).startswith("service_name required")
    assert caplog.text.count("OTEL_RESOURCE_ATTRIBUTES='service.name=x,oops'") == 1


# ---- OTEL_TRACES_SAMPLER: the mapping ------------------------------------------------------------

CONST_AND_RATIO = [
    ("always_on", None, ConstSampler, "decision", True, "env OTEL_TRACES_SAMPLER"),
    ("parentbased_always_on", None, ConstSampler, "decision", True, "env OTEL_TRACES_SAMPLER"),
    ("ALWAYS_ON", None, ConstSampler, "decision", True, "env OTEL_TRACES_SAMPLER"),
    ("always_off", None, ConstSampler, "decision", False, "env OTEL_TRACES_SAMPLER"),
    ("parentbased_always_off", None, ConstSampler, "decision", False, "env OTEL_TRACES_SAMPLER"),
    ("always_on", "ignored: takes no arg", ConstSampler, "decision", True,
     "env OTEL_TRACES_SAMPLER"),
    ("traceidratio", "0.25", ProbabilisticSampler, "rate", 0.25,
     "env OTEL_TRACES_SAMPLER + env OTEL_TRACES_SAMPLER_ARG"),
    ("parentbased_traceidratio", " 0.5 ", ProbabilisticSampler, "rate", 0.5,
     "env OTEL_TRACES_SAMPLER + env OTEL_TRACES_SAMPLER_ARG"),
    ("traceidratio", "0", ProbabilisticSampler, "rate", 0.0,
     "env OTEL_TRACES_SAMPLER + env OTEL_TRACES_SAMPLER_ARG"),
    ("traceidratio", None, ProbabilisticSampler, "rate", 1.0, "env OTEL_TRACES_SAMPLER"),
    ("parentbased_traceidratio", "", ProbabilisticSampler, "rate", 1.0,
     "env OTEL_TRACES_SAMPLER"),
]  # fmt: skip


@pytest.mark.parametrize(("name", "arg", "cls", "attr", "expected", "source"), CONST_AND_RATIO)
def test_otel_traces_sampler_maps_to_const_and_probabilistic(
    name: str, arg: str | None, cls: type, attr: str, expected: Any, source: str
) -> None:
    environ = {"OTEL_TRACES_SAMPLER": name}
    if arg is not None:
        environ["OTEL_TRACES_SAMPLER_ARG"] = arg
    for config in both(environ):
        sampler = config.sampler
        assert isinstance(sampler, cls)
        assert getattr(sampler, attr) == expected
        assert type(getattr(sampler, attr)) is type(expected)
        assert config.sources["sampler"] == source


@pytest.mark.parametrize("name", ["jaeger_remote", "parentbased_jaeger_remote", "Jaeger_Remote"])
def test_jaeger_remote_without_arg_is_the_default_remote_sampler(name: str) -> None:
    for config in both({"OTEL_TRACES_SAMPLER": name}):
        assert config.sampler is None  # new_tracer builds the remote sampler
        assert described(config, "sampler") == ("remote (param 0.001)", "env OTEL_TRACES_SAMPLER")
        assert config.sampling_endpoint is None
        assert config.sampling_refresh_interval == 60.0
        assert config.sources["sampling_endpoint"] == "default"
        assert config.sources["sampling_refresh_interval"] == "default"


def test_jaeger_remote_arg_sets_endpoint_interval_and_initial_rate() -> None:
    environ = {
        "OTEL_TRACES_SAMPLER": "parentbased_jaeger_remote",
        "OTEL_TRACES_SAMPLER_ARG": " endpoint = http://collector:14268/api/sampling ,"
        "pollingIntervalMs=2500,initialSamplingRate=0.25",
    }
    for config in both(environ):
        assert config.sampling_endpoint == "http://collector:14268/api/sampling"
        assert config.sampling_refresh_interval == 2.5
        assert config.sources["sampling_endpoint"] == "env OTEL_TRACES_SAMPLER_ARG"
        assert config.sources["sampling_refresh_interval"] == "env OTEL_TRACES_SAMPLER_ARG"
        assert described(config, "sampler") == (
            "remote (param 0.25)",
            "env OTEL_TRACES_SAMPLER + env OTEL_TRACES_SAMPLER_ARG",
        )


def test_jaeger_remote_arg_parts_are_each_optional() -> None:
    only_interval = from_env(
        {"OTEL_TRACES_SAMPLER": "jaeger_remote", "OTEL_TRACES_SAMPLER_ARG": "pollingIntervalMs=500"}
    )
    assert only_interval.sampling_refresh_interval == 0.5
    assert only_interval.sampling_endpoint is None
    assert described(only_interval, "sampler") == (
        "remote (param 0.001)",
        "env OTEL_TRACES_SAMPLER",
    )
    only_endpoint = from_env(
        {"OTEL_TRACES_SAMPLER": "jaeger_remote", "OTEL_TRACES_SAMPLER_ARG": "endpoint=http://a/"}
    )
    assert only_endpoint.sampling_endpoint == "http://a/"
    assert only_endpoint.sampling_refresh_interval == 60.0


def test_otel_variables_are_known_names() -> None:
    """They are not reported as ignored, and validate=True accepts them."""
    environ = {
        "OTEL_TRACES_SAMPLER": "always_on",
        "OTEL_TRACES_SAMPLER_ARG": "x",
        "OTEL_RESOURCE_ATTRIBUTES": "a=1",
        "JAEGER_NOT_A_VARIABLE": "1",
    }
    assert env_config(environ).ignored_environment() == ["JAEGER_NOT_A_VARIABLE"]
    del environ["JAEGER_NOT_A_VARIABLE"]
    config = Config.from_env("svc", validate=True, environ={**environ, "JAEGER_TAGS": "b=2"})
    assert config.tags == {"b": "2"}


# ---- OTEL_TRACES_SAMPLER: precedence ------------------------------------------------------------

REMOTE_ARG = "endpoint=http://otel:5778/sampling,pollingIntervalMs=2000,initialSamplingRate=0.5"


def test_config_sampler_key_hides_every_otel_sampler_part() -> None:
    environ = {"OTEL_TRACES_SAMPLER": "jaeger_remote", "OTEL_TRACES_SAMPLER_ARG": REMOTE_ARG}
    for config in both(environ, {"sampler": {"type": "const", "param": False}}):
        assert isinstance(config.sampler, ConstSampler) and config.sampler.decision is False
        assert config.sources["sampler"] == "config"
        assert config.sampling_endpoint is None
        assert config.sampling_refresh_interval == 60.0


def test_jaeger_sampler_type_hides_otel_traces_sampler() -> None:
    environ = {
        "JAEGER_SAMPLER_TYPE": "probabilistic",
        "JAEGER_SAMPLER_PARAM": "0.5",
        "OTEL_TRACES_SAMPLER": "always_on",
    }
    for config in both(environ):
        assert isinstance(config.sampler, ProbabilisticSampler) and config.sampler.rate == 0.5
        assert config.sources["sampler"] == "env JAEGER_SAMPLER_TYPE + env JAEGER_SAMPLER_PARAM"
    remote = {"JAEGER_SAMPLER_TYPE": "const", "OTEL_TRACES_SAMPLER": "jaeger_remote"}
    config = from_env({**remote, "OTEL_TRACES_SAMPLER_ARG": REMOTE_ARG})
    assert (config.sampling_endpoint, config.sampling_refresh_interval) == (None, 60.0)


@pytest.mark.parametrize(
    "name", ["always_on", "parentbased_always_off", "traceidratio", "jaeger_remote"]
)
def test_a_set_jaeger_sampler_param_hides_otel_traces_sampler(name: str) -> None:
    """JAEGER_SAMPLER_PARAM alone means the remote sampler at that initial rate, as before:
    a sampler the OpenTelemetry operator injects does not override it."""
    environ = {
        "OTEL_TRACES_SAMPLER": name,
        "OTEL_TRACES_SAMPLER_ARG": REMOTE_ARG if "remote" in name else "0.9",
        "JAEGER_SAMPLER_PARAM": "0.2",
    }
    for config in both(environ):
        assert described(config, "sampler") == ("remote (param 0.2)", "env JAEGER_SAMPLER_PARAM")
        assert config.sources["sampling_endpoint"] == "default"
        assert config.sources["sampling_refresh_interval"] == "default"


def test_endpoint_precedence() -> None:
    otel = {"OTEL_TRACES_SAMPLER": "jaeger_remote", "OTEL_TRACES_SAMPLER_ARG": REMOTE_ARG}
    jaeger = {**otel, "JAEGER_SAMPLING_ENDPOINT": "http://jaeger:5778/sampling"}
    assert from_env(jaeger).sampling_endpoint == "http://jaeger:5778/sampling"
    assert from_env(jaeger).sources["sampling_endpoint"] == "env JAEGER_SAMPLING_ENDPOINT"
    legacy = {**otel, "JAEGER_SAMPLER_MANAGER_HOST_PORT": "legacy:5778"}
    assert from_env(legacy).sampling_endpoint == "http://legacy:5778/sampling"
    configured = from_env(otel, {"sampling_endpoint": "http://cfg:5778/sampling"})
    assert configured.sampling_endpoint == "http://cfg:5778/sampling"
    assert configured.sources["sampling_endpoint"] == "config"
    # each part on its own: the ARG's interval and rate still apply
    assert from_env(jaeger).sampling_refresh_interval == 2.0
    assert described(from_env(jaeger), "sampler")[0] == "remote (param 0.5)"


def test_refresh_interval_precedence() -> None:
    otel = {"OTEL_TRACES_SAMPLER": "jaeger_remote", "OTEL_TRACES_SAMPLER_ARG": REMOTE_ARG}
    jaeger = from_env({**otel, "JAEGER_SAMPLER_REFRESH_INTERVAL": "7s"})
    assert jaeger.sampling_refresh_interval == 7.0
    assert jaeger.sources["sampling_refresh_interval"] == "env JAEGER_SAMPLER_REFRESH_INTERVAL"
    assert jaeger.sampling_endpoint == "http://otel:5778/sampling"
    configured = from_env(otel, {"sampling_refresh_interval": 9})
    assert configured.sampling_refresh_interval == 9.0
    assert configured.sources["sampling_refresh_interval"] == "config"


def test_invalid_jaeger_variable_still_hides_its_otel_fallback(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """A JAEGER_* variable that is set wins even when invalid: the default applies, as before."""
    environ = {
        "OTEL_TRACES_SAMPLER": "jaeger_remote",
        "OTEL_TRACES_SAMPLER_ARG": REMOTE_ARG,
        "JAEGER_SAMPLER_REFRESH_INTERVAL": "hidden-fallback-interval",
    }
    with caplog.at_level(logging.WARNING, logger="jaeger_tracing"):
        config = env_config(environ)
    assert config.sampling_refresh_interval == 60.0
    assert config.sources["sampling_refresh_interval"] == "default"
    assert "hidden-fallback-interval" in caplog.text


# ---- OTEL_TRACES_SAMPLER: invalid values -------------------------------------------------------

BAD_SAMPLER = [
    ("OTEL_TRACES_SAMPLER", "xray", {}),
    ("OTEL_TRACES_SAMPLER", "parentbased", {}),
    ("OTEL_TRACES_SAMPLER", "always-on", {}),
    ("OTEL_TRACES_SAMPLER_ARG", "1.5", {"OTEL_TRACES_SAMPLER": "traceidratio"}),
    ("OTEL_TRACES_SAMPLER_ARG", "-0.1", {"OTEL_TRACES_SAMPLER": "traceidratio"}),
    ("OTEL_TRACES_SAMPLER_ARG", "half", {"OTEL_TRACES_SAMPLER": "parentbased_traceidratio"}),
    ("OTEL_TRACES_SAMPLER_ARG", "endpoint=http://localhost:14250",
     {"OTEL_TRACES_SAMPLER": "jaeger_remote"}),
    ("OTEL_TRACES_SAMPLER_ARG", "endpoint=agent:5778", {"OTEL_TRACES_SAMPLER": "jaeger_remote"}),
    ("OTEL_TRACES_SAMPLER_ARG", "endpoint=grpc://agent:5778",
     {"OTEL_TRACES_SAMPLER": "jaeger_remote"}),
    ("OTEL_TRACES_SAMPLER_ARG", "pollingIntervalMs=0", {"OTEL_TRACES_SAMPLER": "jaeger_remote"}),
    ("OTEL_TRACES_SAMPLER_ARG", "pollingIntervalMs=1s",
     {"OTEL_TRACES_SAMPLER": "parentbased_jaeger_remote"}),
    ("OTEL_TRACES_SAMPLER_ARG", "initialSamplingRate=2",
     {"OTEL_TRACES_SAMPLER": "jaeger_remote"}),
    ("OTEL_TRACES_SAMPLER_ARG", "endpint=http://agent:5778/sampling",
     {"OTEL_TRACES_SAMPLER": "jaeger_remote"}),
    ("OTEL_TRACES_SAMPLER_ARG", "pollingIntervalMs=500,endpoint",
     {"OTEL_TRACES_SAMPLER": "jaeger_remote"}),
]  # fmt: skip


@pytest.mark.parametrize(("var", "raw", "others"), BAD_SAMPLER)
@pytest.mark.parametrize("make", [env_config, from_env], ids=["Config", "from_env"])
def test_bad_sampler_variable_is_logged_and_ignored_never_raised(
    var: str,
    raw: str,
    others: dict[str, str],
    make: Callable[[dict[str, str]], Config],
    caplog: pytest.LogCaptureFixture,
) -> None:
    """An unknown sampler name (another SDK's) leaves the default sampler; a bad ARG is ignored
    as if unset (the OpenTelemetry specification's rule), so the sampler it came with keeps its
    defaults; both are logged once, and neither is an error, from_env included."""
    with caplog.at_level(logging.WARNING, logger="jaeger_tracing"):
        config = make({**others, var: raw})
    assert f"{var}={raw!r}" in caplog.text
    assert config.sources["sampling_endpoint"] == "default"
    assert config.sources["sampling_refresh_interval"] == "default"
    name = others.get("OTEL_TRACES_SAMPLER")
    if name is None:
        assert described(config, "sampler") == ("remote (param 0.001)", "default")
    elif "traceidratio" in name:
        assert isinstance(config.sampler, ProbabilisticSampler) and config.sampler.rate == 1.0
        assert config.sources["sampler"] == "env OTEL_TRACES_SAMPLER"
    else:
        assert described(config, "sampler") == ("remote (param 0.001)", "env OTEL_TRACES_SAMPLER")


def test_grpc_port_is_refused_with_the_reason(caplog: pytest.LogCaptureFixture) -> None:
    environ = {
        "OTEL_TRACES_SAMPLER": "parentbased_jaeger_remote",
        "OTEL_TRACES_SAMPLER_ARG": "endpoint=http://jaeger-collector:14250,pollingIntervalMs=5000",
    }
    with caplog.at_level(logging.WARNING, logger="jaeger_tracing"):
        config = from_env(environ)
    message = caplog.text
    assert "14250" in message and "gRPC" in message
    assert ":5778/sampling" in message and ":14268/api/sampling" in message  # what to use instead
    assert config.sources["sampling_endpoint"] == "default"  # the whole ARG is ignored


def test_unknown_sampler_name_alone_leaves_the_default(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING, logger="jaeger_tracing"):
        config = from_env({"OTEL_TRACES_SAMPLER": "unknown-sampler-9"})
    assert described(config, "sampler") == ("remote (param 0.001)", "default")
    assert "unknown-sampler-9" in caplog.text


def test_bad_jaeger_sampler_param_with_otel_sampler(caplog: pytest.LogCaptureFixture) -> None:
    environ = {"OTEL_TRACES_SAMPLER": "traceidratio", "JAEGER_SAMPLER_PARAM": "bad-param-with-otel"}
    with pytest.raises(ValueError, match="JAEGER_SAMPLER_PARAM='bad-param-with-otel'"):
        from_env(environ)
    with caplog.at_level(logging.WARNING, logger="jaeger_tracing"):
        config = env_config(environ)
    assert described(config, "sampler") == ("remote (param 0.001)", "default")
    assert "bad-param-with-otel" in caplog.text


# ---- python -m jaeger_client ----------------------------------------------------------------


def test_cli_names_the_otel_variables_as_sources(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    for name in list(os.environ):
        if name.startswith(("JAEGER_", "OTEL_")):
            monkeypatch.delenv(name)
    monkeypatch.setenv("OTEL_RESOURCE_ATTRIBUTES", "service.name=cli-svc,team=pay")
    monkeypatch.setenv("OTEL_TRACES_SAMPLER", "parentbased_jaeger_remote")
    monkeypatch.setenv("OTEL_TRACES_SAMPLER_ARG", "endpoint=http://a:5778/sampling")
    assert main([]) == 0
    out = capsys.readouterr().out
    rows = {line.split()[0]: line.split() for line in out.splitlines()[2:] if line}
    assert rows["service_name"][1:] == ["cli-svc", "env", "OTEL_RESOURCE_ATTRIBUTES"]
    assert rows["tags"][1:] == ["team=pay", "env", "OTEL_RESOURCE_ATTRIBUTES"]
    assert rows["sampler"][-2:] == ["env", "OTEL_TRACES_SAMPLER"]
    assert rows["sampling_endpoint"][1:] == [
        "http://a:5778/sampling",
        "env",
        "OTEL_TRACES_SAMPLER_ARG",
    ]
    assert "ignored:" not in out


# ---- end to end --------------------------------------------------------------------------------


@pytest.fixture
def agent() -> Iterator[AgentHTTP]:
    with agent_http() as server:
        yield server


def test_tracer_from_otel_variables_polls_the_arg_endpoint(agent: AgentHTTP) -> None:
    """parentbased_jaeger_remote with an ARG endpoint: the tracer's remote sampler starts at the
    initial rate, polls ``{endpoint}?service=NAME`` and then samples as served."""
    agent.serve_json("/api/sampling", {"error": "not yet"}, status=503)  # the first poll fails
    environ = {
        "OTEL_RESOURCE_ATTRIBUTES": "service.name=checkout,team=pay",
        "OTEL_TRACES_SAMPLER": "parentbased_jaeger_remote",
        "OTEL_TRACES_SAMPLER_ARG": f"endpoint={agent.url('/api/sampling')},"
        "pollingIntervalMs=60000,initialSamplingRate=0",
        "JAEGER_AGENT_HOST": "127.0.0.1",
    }
    tracer = Config.from_env(environ=environ).new_tracer()
    assert isinstance(tracer, Tracer)
    try:
        sampler = tracer.sampler
        assert isinstance(sampler, RemoteControlledSampler)
        assert sampler.sampling_endpoint == agent.url("/api/sampling")
        assert sampler.sampling_refresh_interval == 60.0
        assert tracer.tags["team"] == "pay"
        before = tracer.start_span("before")  # the initial rate 0; starts the poller
        assert before.is_sampled() is False
        before.finish()
        assert wait_until(lambda: agent.requests_to("/api/sampling"), timeout=5)
        assert agent.requests_to("/api/sampling")[0].query == {"service": ["checkout"]}
        agent.serve_json(
            "/api/sampling",
            {"strategyType": "PROBABILISTIC", "probabilisticSampling": {"samplingRate": 1.0}},
        )
        assert sampler.poll_once() is True  # the next poll, without waiting a minute
        after = tracer.start_span("after")
        assert after.is_sampled() is True
        after.finish()
    finally:
        tracer.close().result(5)


# ---- OTEL_PROPAGATORS ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("value", "names"),
    [
        ("tracecontext,baggage", ("jaeger", "w3c", "baggage")),
        (" B3 , b3multi ", ("jaeger", "b3-single", "b3")),  # OpenTelemetry's b3 is one header
        ("jaeger,tracecontext", ("jaeger", "w3c")),
        ("xray,none,ottrace", ("jaeger",)),  # formats this tracer has not: skipped
    ],
)
def test_otel_propagators_add_their_formats_after_jaeger(
    value: str, names: tuple[str, ...]
) -> None:
    for config in both({"OTEL_PROPAGATORS": value}):
        assert config._values["propagation"].names == names
        assert config.sources["propagation"] == "env OTEL_PROPAGATORS"
    headers: dict[str, str] = {}
    tracer = env_config({"OTEL_PROPAGATORS": "tracecontext,baggage"}).create_tracer(
        reporter=InMemoryReporter(), sampler=ConstSampler(True)
    )
    span = tracer.start_span("op")
    span.set_baggage_item("k", "v")
    tracer.inject(span.context, Format.HTTP_HEADERS, headers)
    assert {"uber-trace-id", "uberctx-k", "traceparent", "baggage"} <= set(headers)


def test_otel_propagators_come_after_the_config_and_jaeger_propagation() -> None:
    environ = {"OTEL_PROPAGATORS": "tracecontext", "JAEGER_PROPAGATION": "b3"}
    assert from_env(environ)._values["propagation"].names == ("b3",)
    config = from_env({"OTEL_PROPAGATORS": "tracecontext"}, {"propagation": "b3-single"})
    assert config._values["propagation"].names == ("b3-single",)
    # a JAEGER_PROPAGATION that is set hides the fallback even when it is invalid
    config = env_config({"OTEL_PROPAGATORS": "tracecontext", "JAEGER_PROPAGATION": "bogus"})
    assert config._values["propagation"].names == ("jaeger",)


@pytest.mark.parametrize("make", [env_config, from_env], ids=["Config", "from_env"])
def test_an_unknown_otel_propagator_is_skipped_and_logged_never_raised(
    make: Callable[[dict[str, str]], Config], caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.WARNING, logger="jaeger_tracing"):
        config = make({"OTEL_PROPAGATORS": "tracecontext,bogus,xray-lambda"})
    assert config._values["propagation"].names == ("jaeger", "w3c")  # the rest is kept
    assert "OTEL_PROPAGATORS: bogus, xray-lambda" in caplog.text
