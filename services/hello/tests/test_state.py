"""The service's identity: one source for the version."""

from __future__ import annotations

import logging
from importlib import metadata

import pytest
from hello import state as state_module
from hello.settings import Settings
from hello.state import ServiceState, package_version


def test_version_is_the_package_metadata() -> None:
    assert package_version() == metadata.version("hello")


def test_version_without_metadata(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(state_module, "DISTRIBUTION", "hello-not-installed-anywhere")
    assert package_version() == "0.0.0+unknown"


def test_readiness_follows_the_lifecycle(caplog: pytest.LogCaptureFixture) -> None:
    state = ServiceState.from_settings(Settings(pod_name="p", git_revision="abc"))
    assert (state.host, state.revision) == ("p", "abc")
    assert (state.ready, state.readiness) == (False, "starting")
    state.started = True
    assert (state.ready, state.readiness) == (True, "ready")
    with caplog.at_level(logging.INFO, logger="hello"):
        state.begin_drain()
        state.begin_drain()  # once is enough
    assert (state.ready, state.readiness) == (False, "draining")
    assert [r.message for r in caplog.records] == ["shutdown begun: readiness is now 503"]
