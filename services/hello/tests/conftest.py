"""Fixtures: a fresh app per test (own state and registry), started through its lifespan."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from hello.main import create_app
from hello.metrics import exposition_app
from hello.settings import Settings


@pytest.fixture
def settings() -> Settings:
    return Settings(
        service_name="hello",
        pod_name="hello-7d4b9-abcde",
        git_revision="0123abc",
        build_time="2026-01-02T03:04:05Z",
        max_body_bytes=1024,
    )


@pytest.fixture
def app(settings: Settings) -> FastAPI:
    return create_app(settings)


@pytest.fixture
def client(app: FastAPI) -> Iterator[TestClient]:
    """A client of the started app (the context manager runs the lifespan)."""
    with TestClient(app) as started:
        yield started


@pytest.fixture
def metrics_client(app: FastAPI) -> TestClient:
    """A client of ``app``'s metrics port (the exposition app; it has no lifespan)."""
    return TestClient(exposition_app(app.state.metrics.registry))


def _sample(app: FastAPI, name: str, **labels: str) -> float | None:
    return app.state.metrics.registry.get_sample_value(name, labels)  # type: ignore[no-any-return]


@pytest.fixture
def sample() -> Callable[..., float | None]:
    """``sample(app, name, **labels)``: the value of one sample in ``app``'s registry."""
    return _sample
