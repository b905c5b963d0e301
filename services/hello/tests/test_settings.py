"""Settings come from HELLO_* environment variables and are validated."""

from __future__ import annotations

import pytest
from hello.settings import Settings
from pydantic import ValidationError


def test_defaults() -> None:
    settings = Settings()
    assert settings.service_name == "hello"
    assert (settings.port, settings.metrics_port) == (8000, 9102)
    assert settings.access_log is False
    assert (settings.fault_error_rate, settings.fault_latency_ms) == (0, 0)
    assert settings.drain_seconds > 0 and settings.grace_period_seconds > 0


def test_read_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HELLO_SERVICE_NAME", "greeter")
    monkeypatch.setenv("HELLO_LOG_LEVEL", "DEBUG")
    monkeypatch.setenv("HELLO_DRAIN_SECONDS", "2.5")
    monkeypatch.setenv("HELLO_GRACE_PERIOD_SECONDS", "7")
    monkeypatch.setenv("HELLO_MAX_BODY_BYTES", "10")
    monkeypatch.setenv("HELLO_GIT_REVISION", "deadbeef")
    monkeypatch.setenv("HELLO_FAULT_ERROR_RATE", "0.25")
    monkeypatch.setenv("HELLO_FAULT_LATENCY_MS", "200")
    settings = Settings()
    assert (settings.fault_error_rate, settings.fault_latency_ms) == (0.25, 200)
    assert settings.service_name == "greeter"
    assert settings.log_level == "debug"
    assert settings.drain_seconds == 2.5
    assert settings.grace_period_seconds == 7
    assert settings.max_body_bytes == 10
    assert settings.git_revision == "deadbeef"


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("HELLO_PORT", "0"),
        ("HELLO_PORT", "http"),
        ("HELLO_METRICS_PORT", "0"),
        ("HELLO_METRICS_PORT", "8000"),  # the app's own port
        ("HELLO_LOG_LEVEL", "loud"),
        ("HELLO_DRAIN_SECONDS", "-1"),
        ("HELLO_GRACE_PERIOD_SECONDS", "0"),
        ("HELLO_FAULT_ERROR_RATE", "1.5"),
        ("HELLO_FAULT_ERROR_RATE", "-0.1"),
        ("HELLO_FAULT_LATENCY_MS", "-1"),
    ],
)
def test_bad_values_are_rejected(monkeypatch: pytest.MonkeyPatch, name: str, value: str) -> None:
    monkeypatch.setenv(name, value)
    with pytest.raises(ValidationError):
        Settings()


def test_host_name_prefers_the_pod_name() -> None:
    assert Settings(pod_name="pod-1").host_name == "pod-1"
    assert Settings(pod_name="").host_name
