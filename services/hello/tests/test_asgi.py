"""The pure-ASGI layer: fast path parity with FastAPI, body limits, access log."""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Callable, Iterable
from typing import Any

import pytest
from fastapi.testclient import TestClient
from hello.asgi import HelloApp

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


@pytest.mark.parametrize("path", ["/", "/healthz", "/readyz"])
def test_fast_path_sends_the_same_bytes_as_fastapi(
    app: HelloApp, client: TestClient, path: str
) -> None:
    fast = client.get(path)
    with TestClient(app.api) as direct:  # FastAPI alone, without the fast path
        slow = direct.get(path)
    assert (fast.status_code, fast.content) == (slow.status_code, slow.content)
    assert fast.headers["content-type"] == slow.headers["content-type"]
    assert fast.headers["content-length"] == slow.headers["content-length"]


def test_declared_content_length_over_the_limit_is_413(client: TestClient) -> None:
    response = client.post("/", content=b"x" * 2048)
    assert response.status_code == 413
    assert response.json() == {"detail": "Request body too large"}


def test_body_within_the_limit_reaches_the_app(client: TestClient) -> None:
    assert client.post("/", content=b"x" * 10).status_code == 405


def test_413_is_counted_under_the_route_it_was_sent_to(
    sample: Sample, app: HelloApp, client: TestClient
) -> None:
    client.post("/version", content=b"x" * 2048)
    assert (
        sample(app, "hello_http_requests_total", method="POST", route="/version", status="4xx") == 1
    )


def test_streamed_body_over_the_limit_is_413(app: HelloApp) -> None:
    @app.api.post("/echo-length")
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


def test_invalid_content_length_is_400(app: HelloApp) -> None:
    status, body = call(app, "POST", "/", [(b"content-length", b"-5")])
    assert status == 400
    assert json.loads(body) == {"detail": "Invalid Content-Length header"}


@pytest.mark.parametrize("path", ["/", "/readyz", "/version", "/missing"])
def test_a_draining_app_ends_each_keep_alive_connection(
    app: HelloApp, client: TestClient, path: str
) -> None:
    """Once draining, every response (hot path or FastAPI) says ``Connection: close``."""
    assert "connection" not in client.get(path).headers
    app.begin_drain()
    response = client.get(path)
    assert response.headers["connection"] == "close"
    assert response.status_code == {"/readyz": 503, "/missing": 404}.get(path, 200)


def test_lifespan_and_other_scopes_go_to_fastapi(app: HelloApp) -> None:
    with TestClient(app):
        assert app.state.started
    assert app.state.draining


def test_access_log_is_one_record_per_request(
    settings: Any, caplog: pytest.LogCaptureFixture
) -> None:
    from hello.main import create_app

    app = create_app(settings.model_copy(update={"access_log": True}))
    with TestClient(app) as client, caplog.at_level(logging.INFO, logger="hello.access"):
        client.get("/")
        client.get("/nope")
    records = [r for r in caplog.records if r.name == "hello.access"]
    assert [(r.method, r.route, r.status) for r in records] == [  # type: ignore[attr-defined]
        ("GET", "/", 200),
        ("GET", "<unmatched>", 404),
    ]


def test_no_access_log_by_default(client: TestClient, caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.DEBUG, logger="hello.access"):
        client.get("/")
    assert not [r for r in caplog.records if r.name == "hello.access"]
