"""The HTTP API: greeting, probes, version, errors (through the whole app)."""

from __future__ import annotations

from importlib import metadata

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from hello.main import app as module_app
from hello.main import create_app
from hello.settings import Settings


def test_module_app_is_the_asgi_entry_point() -> None:
    assert isinstance(module_app, FastAPI)


def test_greeting_names_service_version_and_host(client: TestClient) -> None:
    response = client.get("/")
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/json"
    assert response.json() == {
        "message": "Hello from hello!",
        "service": "hello",
        "version": metadata.version("hello"),
        "host": "hello-7d4b9-abcde",
    }


def test_host_defaults_to_the_machine_name(monkeypatch: object) -> None:
    import socket

    app = create_app(Settings(pod_name=""))
    with TestClient(app) as client:
        assert client.get("/").json()["host"] == socket.gethostname()


def test_version_comes_from_package_metadata_and_build_env(client: TestClient) -> None:
    assert client.get("/version").json() == {
        "service": "hello",
        "version": metadata.version("hello"),
        "revision": "0123abc",
        "build_time": "2026-01-02T03:04:05Z",
    }


def test_probes_when_started(client: TestClient) -> None:
    assert client.get("/healthz").json() == {"status": "ok"}
    ready = client.get("/readyz")
    assert (ready.status_code, ready.json()) == (200, {"status": "ready"})


def test_not_ready_before_startup_and_after_shutdown(app: FastAPI) -> None:
    plain = TestClient(app)  # no context manager: the lifespan has not run
    assert plain.get("/readyz").status_code == 503
    assert plain.get("/readyz").json() == {"status": "starting"}
    assert plain.get("/healthz").status_code == 200  # liveness has no dependencies
    with TestClient(app) as client:
        assert client.get("/readyz").status_code == 200
    assert plain.get("/readyz").json() == {"status": "draining"}


def test_begin_drain_turns_readiness_503_but_keeps_serving(
    app: FastAPI, client: TestClient
) -> None:
    app.state.hello.begin_drain()
    ready = client.get("/readyz")
    assert (ready.status_code, ready.json()) == (503, {"status": "draining"})
    assert client.get("/").status_code == 200
    assert client.get("/healthz").status_code == 200


def test_unknown_route_is_json_404(client: TestClient) -> None:
    response = client.get("/no/such/page")
    assert response.status_code == 404
    assert response.json() == {"detail": "Not Found"}


def test_wrong_method_is_405(client: TestClient) -> None:
    for method in ("POST", "PUT", "DELETE", "PATCH"):
        assert client.request(method, "/").status_code == 405
        assert client.request(method, "/healthz").status_code == 405


@pytest.mark.parametrize("path", ["/", "/healthz", "/readyz"])
def test_head_on_the_greeting_and_the_probes(client: TestClient, path: str) -> None:
    for _ in range(2):  # through FastAPI, then (after a GET) from the kept response
        response = client.head(path)
        assert response.status_code == 200
        assert response.content == b""
        assert int(response.headers["content-length"]) == len(client.get(path).content)
    assert client.head("/version").status_code == 405  # declared for GET alone


def test_openapi_documents_every_route(client: TestClient) -> None:
    schema = client.get("/openapi.json").json()
    assert set(schema["paths"]) == {"/", "/healthz", "/readyz", "/version"}
    assert schema["info"]["version"] == metadata.version("hello")
    assert "503" in schema["paths"]["/readyz"]["get"]["responses"]
