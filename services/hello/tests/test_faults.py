"""Fault injection for drills: HELLO_FAULT_ERROR_RATE and HELLO_FAULT_LATENCY_MS."""

from __future__ import annotations

import asyncio
import random
import time
from collections.abc import Callable
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from hello import middleware
from hello.main import create_app
from hello.middleware import Faults
from hello.settings import Settings

Sample = Callable[..., float | None]


def faulty(settings: Settings, **faults: Any) -> FastAPI:
    return create_app(settings.model_copy(update=faults))


def test_no_faults_no_fault_middleware(app: FastAPI) -> None:
    assert Faults not in [m.cls for m in app.user_middleware]


def test_every_real_request_fails_at_rate_one(settings: Settings, sample: Sample) -> None:
    app = faulty(settings, fault_error_rate=1.0)
    with TestClient(app) as client:
        for path in ("/", "/version", "/nope"):
            response = client.get(path)
            assert (response.status_code, response.json()) == (500, {"detail": "Injected fault"})
        for path in ("/healthz", "/readyz"):  # the pod stays Ready
            assert client.get(path).status_code == 200, path
    for route in ("/", "/version", "<unmatched>"):
        labels = {"method": "GET", "route": route, "status": "5xx"}
        assert sample(app, "hello_http_requests_total", **labels) == 1, route


def test_a_share_of_the_requests_fails() -> None:
    """Each request draws a number in [0, 1); it fails below the rate."""
    draws = iter([0.1, 0.5, 0.29, 0.3, 0.99])
    statuses: list[int] = []

    async def ok(scope: Any, receive: Any, send: Any) -> None:
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b""})

    async def send(message: dict[str, Any]) -> None:
        if message["type"] == "http.response.start":
            statuses.append(message["status"])

    faults = Faults(ok, error_rate=0.3, latency_ms=0, draw=lambda: next(draws))
    for _ in range(5):
        asyncio.run(faults({"type": "http", "path": "/"}, None, send))  # type: ignore[arg-type]
    assert statuses == [500, 200, 500, 200, 200]


def test_the_rate_holds_over_many_requests(settings: Settings) -> None:
    app = faulty(settings, fault_error_rate=0.25)
    seeded = random.Random(15)
    for m in app.user_middleware:  # the same middleware, with a seeded draw
        if m.cls is Faults:
            m.kwargs["draw"] = seeded.random
    with TestClient(app) as client:
        failed = sum(client.get("/version").status_code == 500 for _ in range(400))
    assert 70 <= failed <= 130  # 100 expected


def test_latency_is_added_to_real_requests_only(
    settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    slept: list[float] = []

    async def sleep(seconds: float) -> None:
        slept.append(seconds)

    monkeypatch.setattr(middleware.asyncio, "sleep", sleep)
    with TestClient(faulty(settings, fault_latency_ms=250)) as client:
        assert client.get("/version").status_code == 200
        assert client.get("/").status_code == 200
        for path in ("/healthz", "/readyz"):
            client.get(path)
    assert slept == [0.25, 0.25]


def test_a_real_delay_is_waited(settings: Settings) -> None:
    with TestClient(faulty(settings, fault_latency_ms=50)) as client:
        started = time.monotonic()
        assert client.get("/version").status_code == 200
        assert time.monotonic() - started >= 0.05
