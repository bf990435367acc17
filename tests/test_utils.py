"""utils: get_boolean, ErrorReporter, RateLimitedLogger, and local_ip (no DNS, never raises)."""

from __future__ import annotations

import logging
import socket
import sys
import time
from typing import Any

import pytest

from jaeger_client import utils
from jaeger_client.utils import (
    ErrorReporter,
    RateLimitedLogger,
    get_boolean,
    get_local_ip_by_interfaces,
    get_local_ip_by_socket,
    interface_ip,
    local_ip,
)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("true", True),
        ("TRUE", True),
        ("1", True),
        (1, True),
        (True, True),
        ("false", False),
        ("False", False),
        ("0", False),
        (0, False),
        ("none", False),
        (None, False),
        ("yes", "default"),
        ("", "default"),
    ],
)
def test_get_boolean_is_upstreams_lenient_parser(text: Any, expected: Any) -> None:
    assert get_boolean(text, "default") == expected  # type: ignore[arg-type]


# ---- rate-limited logging ------------------------------------------------------------------------


def test_rate_limited_logger_logs_first_then_counts_suppressed(
    caplog: pytest.LogCaptureFixture,
) -> None:
    limited = RateLimitedLogger(logging.getLogger("test.limited"), interval=60.0)
    with caplog.at_level(logging.INFO, logger="test.limited"):
        assert limited.log("k", logging.WARNING, "first %s", 1)
        assert not limited.log("k", logging.WARNING, "second %s", 2)
        assert not limited.log("k", logging.WARNING, "third %s", 3)
        assert limited.log("other", logging.WARNING, "other key")
        limited._next["k"] = time.monotonic() - 1  # the interval has passed
        assert limited.log("k", logging.WARNING, "fourth %s", 4)
    assert [r.getMessage() for r in caplog.records] == [
        "first 1",
        "other key",
        "fourth 4 (2 similar messages suppressed)",
    ]


def test_rate_limited_logger_reset_forgets_history(caplog: pytest.LogCaptureFixture) -> None:
    limited = RateLimitedLogger(logging.getLogger("test.reset"), interval=60.0)
    with caplog.at_level(logging.INFO, logger="test.reset"):
        limited.log("k", logging.INFO, "a")
        limited.reset()
        limited.log("k", logging.INFO, "b")
    assert [r.getMessage() for r in caplog.records] == ["a", "b"]


def test_error_reporter_logs_the_first_error_at_once_then_one_per_interval(
    caplog: pytest.LogCaptureFixture,
) -> None:
    """Upstream stayed silent for the first 15 minutes after construction."""
    reporter = ErrorReporter(metrics=None, logger=logging.getLogger("test.errors"))
    with caplog.at_level(logging.ERROR, logger="test.errors"):
        reporter.error("Failed to send batch: %s", OSError("refused"))
        reporter.error("Failed again: %s", OSError("refused"))
    assert [r.getMessage() for r in caplog.records] == ["Failed to send batch: refused"]
    assert caplog.records[0].levelno == logging.ERROR


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("plain",), "plain"),
        (("with %s format", "arg"), "with arg format"),
        (("parts to join:", ValueError("boom")), "parts to join: boom"),
        (("100% broken %d", "x"), "100% broken %d x"),
        (("a", 1, None), "a 1 None"),
    ],
)
def test_error_reporter_accepts_formats_and_plain_parts(
    caplog: pytest.LogCaptureFixture, args: tuple[Any, ...], message: str
) -> None:
    reporter = ErrorReporter(None, logger=logging.getLogger("test.parts"))
    with caplog.at_level(logging.ERROR, logger="test.parts"):
        reporter.error(*args)
    assert [r.getMessage() for r in caplog.records] == [message]


def test_error_reporter_survives_an_unprintable_argument(caplog: pytest.LogCaptureFixture) -> None:
    class Unprintable:
        def __str__(self) -> str:
            raise RuntimeError("nope")

    reporter = ErrorReporter(None, logger=logging.getLogger("test.unprintable"))
    with caplog.at_level(logging.ERROR, logger="test.unprintable"):
        reporter.error("value:", Unprintable())
    assert [r.getMessage() for r in caplog.records] == ["value: <unprintable Unprintable>"]


def test_error_reporter_without_a_logger_is_silent(caplog: pytest.LogCaptureFixture) -> None:
    reporter = ErrorReporter(metrics=None)
    with caplog.at_level(logging.DEBUG):
        reporter.error("nothing to see")
    assert caplog.records == []
    assert reporter.log_interval_minutes == 15


# ---- local ip ------------------------------------------------------------------------------------


@pytest.fixture
def no_dns(monkeypatch: pytest.MonkeyPatch) -> list[Any]:
    calls: list[Any] = []

    def refuse(*args: Any, **kwargs: Any) -> Any:
        calls.append(args)
        raise AssertionError("local_ip must not ask DNS")

    for name in ("getaddrinfo", "gethostbyname", "gethostbyname_ex", "gethostbyaddr", "getfqdn"):
        monkeypatch.setattr(socket, name, refuse)
    return calls


def test_local_ip_is_a_dotted_quad_found_without_dns(no_dns: list[Any]) -> None:
    start = time.perf_counter()
    ip = local_ip()
    assert time.perf_counter() - start < 0.5
    socket.inet_aton(ip)
    assert ip.count(".") == 3
    assert no_dns == []


def test_local_ip_prefers_a_non_loopback_address_when_one_exists(no_dns: list[Any]) -> None:
    found = get_local_ip_by_socket() or get_local_ip_by_interfaces()
    if found is None:
        pytest.skip("this host has no non-loopback IPv4 address")
    assert local_ip() == found and not found.startswith("127.")


def test_local_ip_falls_back_to_loopback_when_sockets_fail(monkeypatch: pytest.MonkeyPatch) -> None:
    def broken_socket(*args: Any, **kwargs: Any) -> Any:
        raise OSError("EMFILE")

    monkeypatch.setattr(socket, "socket", broken_socket)
    assert get_local_ip_by_socket() is None
    assert get_local_ip_by_interfaces() is None
    assert interface_ip("eth0") is None
    assert local_ip() == "127.0.0.1"


def test_local_ip_never_raises_whatever_the_platform_does(monkeypatch: pytest.MonkeyPatch) -> None:
    def explode(*args: Any, **kwargs: Any) -> Any:
        raise RuntimeError("unexpected")

    monkeypatch.setattr(utils, "get_local_ip_by_socket", explode)
    monkeypatch.setattr(socket, "if_nameindex", explode)
    assert local_ip() == "127.0.0.1"


def test_interface_scan_skips_loopback_and_prefers_routable(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    addresses = {"lo": "127.0.0.1", "ll0": "169.254.1.1", "eth0": "10.1.2.3"}
    monkeypatch.setattr(socket, "if_nameindex", lambda: [(1, "lo"), (2, "ll0"), (3, "eth0")])
    monkeypatch.setattr(utils, "interface_ip", addresses.get)
    assert get_local_ip_by_interfaces() == "10.1.2.3"
    del addresses["eth0"]
    assert get_local_ip_by_interfaces() == "169.254.1.1"
    del addresses["ll0"]
    assert get_local_ip_by_interfaces() is None


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="SIOCGIFADDR is Linux's ioctl")
def test_interface_ip_reads_the_loopback_address_by_ioctl() -> None:
    assert interface_ip("lo") == "127.0.0.1"
    assert interface_ip(b"lo") == "127.0.0.1"
    assert interface_ip("no-such-if") is None
