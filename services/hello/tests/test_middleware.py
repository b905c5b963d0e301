"""The pure ASGI middleware: body limits, Connection: close while draining, access log."""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Callable, Iterable
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from hello.main import create_app
from hello.settings import Settings
from starlette.middleware.base import BaseHTTPMiddleware

Sample = Callable[..., float | None]


def call(
    app: Any,
    method: str,
    path: str,
    headers: Iterable[tuple[bytes, bytes]] = (),
    chunks: Iterable[bytes] = (),
) -> tuple[int, bytes]:
    """Drive an ASGI app with one request; return (status, body)."""
    pending = [*chunks]
    sent: list[dict[str, Any]] = []

    async def receive() -> dict[str, Any]:
        if pending:
            return {"type": "http.request", "body": pending.pop(0), "more_body": bool(pending)}
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: dict[str, Any]) -> None:
        sent.append(message)

    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": method,
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "root_path": "",
        "query_string": b"",
        "headers": list(headers),
        "client": ("127.0.0.1", 1),
        "server": ("127.0.0.1", 80),
    }
    asyncio.run(app(scope, receive, send))
    status = next(m["status"] for m in sent if m["type"] == "http.response.start")
    body = b"".join(m.get("body", b"") for m in sent if m["type"] == "http.response.body")
    return status, body


def test_the_middleware_is_pure_asgi(app: FastAPI) -> None:
    classes = [m.cls for m in app.user_middleware]
    assert len(classes) == 4
    assert not [c for c in classes if isinstance(c, type) and issubclass(c, BaseHTTPMiddleware)]


def test_declared_content_length_over_the_limit_is_413(client: TestClient) -> None:
    response = client.post("/", content=b"x" * 2048)
    assert response.status_code == 413
    assert response.json() == {"detail": "Request body too large"}
    assert response.headers["content-type"] == "application/json"


def test_a_get_with_a_body_over_the_limit_is_413_too(client: TestClient) -> None:
    """Refused before the static responses are looked at."""
    assert client.request("GET", "/", content=b"x" * 2048).status_code == 413


def test_body_within_the_limit_reaches_the_app(client: TestClient) -> None:
    assert client.post("/", content=b"x" * 10).status_code == 405


def test_413_is_counted_under_the_route_it_was_sent_to(
    sample: Sample, app: FastAPI, client: TestClient
) -> None:
    client.post("/version", content=b"x" * 2048)
    assert (
        sample(app, "hello_http_requests_total", method="POST", route="/version", status="4xx") == 1
    )


def test_streamed_body_over_the_limit_is_413(app: FastAPI) -> None:
    @app.post("/echo-length")
    async def echo_length(body: dict[str, str]) -> dict[str, int]:  # reads the body
        return {"n": len(body)}

    chunked = [(b"transfer-encoding", b"chunked"), (b"content-type", b"application/json")]
    status, body = call(
        app, "POST", "/echo-length", chunked, [b"{", b' "a": "' + b"x" * 2000, b'"}']
    )
    assert status == 413
    assert json.loads(body) == {"detail": "Request body too large"}
    status, _ = call(app, "POST", "/echo-length", chunked, [b'{"a":', b' "b"}'])
    assert status == 200


def test_invalid_content_length_is_400(app: FastAPI) -> None:
    status, body = call(app, "POST", "/", [(b"content-length", b"-5")])
    assert status == 400
    assert json.loads(body) == {"detail": "Invalid Content-Length header"}


@pytest.mark.parametrize("path", ["/", "/readyz", "/version", "/missing"])
def test_a_draining_app_ends_each_keep_alive_connection(
    app: FastAPI, client: TestClient, path: str
) -> None:
    """Once draining, every response (static, routed or an error) says ``Connection: close``."""
    for _ in range(2):  # the second answer of a static route is a kept one
        assert "connection" not in client.get(path).headers
    app.state.hello.begin_drain()
    for _ in range(2):
        response = client.get(path)
        assert response.headers["connection"] == "close"
        assert response.status_code == {"/readyz": 503, "/missing": 404}.get(path, 200)


def test_the_lifespan_passes_through_the_middleware(app: FastAPI) -> None:
    with TestClient(app):
        assert app.state.hello.started
    assert app.state.hello.draining


def test_access_log_is_one_record_per_request(
    settings: Settings, caplog: pytest.LogCaptureFixture
) -> None:
    app = create_app(settings.model_copy(update={"access_log": True}))
    with TestClient(app) as client, caplog.at_level(logging.INFO, logger="hello.access"):
        client.get("/")
        client.get("/")  # a kept response is logged as well
        client.get("/nope")
    records = [r for r in caplog.records if r.name == "hello.access"]
    assert [(r.method, r.route, r.status) for r in records] == [  # type: ignore[attr-defined]
        ("GET", "/", 200),
        ("GET", "/", 200),
        ("GET", "<unmatched>", 404),
    ]
    assert records[0].duration_ms >= 0  # type: ignore[attr-defined]


def test_no_access_log_by_default(client: TestClient, caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.DEBUG, logger="hello.access"):
        client.get("/")
    assert not [r for r in caplog.records if r.name == "hello.access"]
