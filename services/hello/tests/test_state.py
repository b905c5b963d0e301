"""The service's identity: one source for the version."""

from __future__ import annotations

import json
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


def test_bodies_are_rendered_once_from_settings() -> None:
    state = ServiceState.from_settings(Settings(pod_name="p", git_revision="abc"))
    assert json.loads(state.version_body)["revision"] == "abc"
    assert json.loads(state.greeting_body)["host"] == "p"
    assert state.readiness == "starting"
    state.started = True
    assert (state.ready, state.readiness) == (True, "ready")
    state.draining = True
    assert (state.ready, state.readiness) == (False, "draining")
