"""The ASGI app uvicorn runs: a thin, pure-ASGI layer in front of FastAPI.

Every HTTP request passes through :class:`HelloApp`, which

* counts it in the ``hello_*`` metrics (pure ASGI: no ``BaseHTTPMiddleware``),
* rejects bodies larger than ``max_body_bytes`` with 413 before anything reads them,
* answers the hot paths (``GET``/``HEAD`` on ``/``, ``/healthz`` and ``/readyz``) itself
  from bytes rendered once, and
* hands everything else (``/version``, ``/metrics``, the OpenAPI schema, errors such as
  404 and 405) to FastAPI, where the same routes are declared and documented.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, MutableMapping
from time import perf_counter
from typing import Any, NamedTuple

from fastapi import FastAPI
from starlette.exceptions import HTTPException

from hello.metrics import UNMATCHED, Metrics
from hello.state import HEALTH_BODY, READINESS_BODIES, ServiceState, render

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]

access_logger = logging.getLogger("hello.access")
logger = logging.getLogger("hello")

_EMPTY_BODY: Message = {"type": "http.response.body", "body": b""}
_TOO_LARGE = render({"detail": "Request body too large"})
_BAD_LENGTH = render({"detail": "Invalid Content-Length header"})


class Prepared(NamedTuple):
    """A response rendered once: its status and its two ASGI messages."""

    status: int
    start: Message
    body: Message


def prepare(status: int, body: bytes) -> Prepared:
    headers = [
        (b"content-type", b"application/json"),
        (b"content-length", str(len(body)).encode()),
    ]
    return Prepared(
        status,
        {"type": "http.response.start", "status": status, "headers": headers},
        {"type": "http.response.body", "body": body},
    )


class HelloApp:
    """The service's ASGI callable (``hello.main:app``)."""

    def __init__(
        self,
        api: FastAPI,
        state: ServiceState,
        metrics: Metrics,
        *,
        max_body_bytes: int,
        access_log: bool,
    ) -> None:
        self.api = api
        self.state = state
        self.metrics = metrics
        self.max_body_bytes = max_body_bytes
        self.access_log = access_log
        self._static = {
            "/": prepare(200, state.greeting_body),
            "/healthz": prepare(200, HEALTH_BODY),
        }
        self._plain_routes: frozenset[str] | None = None  # filled on first use
        self._readiness = {
            name: prepare(200 if name == "ready" else 503, body)
            for name, body in READINESS_BODIES.items()
        }
        # Bind the metric children of the hot path now, so that a request only looks up.
        for method in ("GET", "HEAD"):
            metrics.children(method, "/", 200)
        for path, status in (("/healthz", 200), ("/readyz", 200), ("/readyz", 503)):
            metrics.probe(path, status)

    def begin_drain(self) -> None:
        """Shutdown has begun: from now on /readyz answers 503 (requests still succeed)."""
        if not self.state.draining:
            self.state.draining = True
            logger.info("shutdown begun: readiness is now 503")

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":  # lifespan (and websockets) go to FastAPI
            await self.api(scope, receive, send)
            return
        start = perf_counter()
        metrics = self.metrics
        metrics.active += 1
        method: str = scope["method"]
        path: str = scope["path"]
        route = UNMATCHED
        status = 500
        try:
            for name, value in scope["headers"]:
                if name == b"content-length":
                    if not value.isdigit():
                        route, status = self._template(path), 400
                        await _reply(send, 400, _BAD_LENGTH)
                        return
                    if int(value) > self.max_body_bytes:
                        route, status = self._template(path), 413
                        await _reply(send, 413, _TOO_LARGE)
                        return
                elif name == b"transfer-encoding":
                    receive = self._limited(receive)

            if method == "GET" or method == "HEAD":
                prepared = self._static.get(path)
                if prepared is None and path == "/readyz":
                    prepared = self._readiness[self.state.readiness]
                if prepared is not None:
                    route, status = path, prepared.status
                    await send(prepared.start)
                    await send(prepared.body if method == "GET" else _EMPTY_BODY)
                    return

            def capture(message: Message) -> Awaitable[None]:
                nonlocal status
                if message["type"] == "http.response.start":
                    status = message["status"]
                return send(message)

            try:
                await self.api(scope, receive, capture)
            finally:
                found = scope.get("route")
                route = getattr(found, "path_format", None) or UNMATCHED
        finally:
            metrics.active -= 1
            seconds = perf_counter() - start
            metrics.observe(method, route, status, seconds)
            if self.access_log:
                access_logger.info(
                    "%s %s %d",
                    method,
                    path,
                    status,
                    extra={
                        "method": method,
                        "path": path,
                        "route": route,
                        "status": status,
                        "duration_ms": round(seconds * 1000, 3),
                    },
                )

    def _template(self, path: str) -> str:
        """The route template of a request rejected before routing (400/413).

        Only parameterless routes are known this way (all of this service's are);
        anything else is counted as ``<unmatched>``.
        """
        if self._plain_routes is None:
            paths = self.api.openapi().get("paths", {})
            self._plain_routes = frozenset(p for p in paths if "{" not in p)
        return path if path in self._plain_routes else UNMATCHED

    def _limited(self, receive: Receive) -> Receive:
        """``receive`` that fails with 413 once a streamed body exceeds the limit."""
        limit = self.max_body_bytes
        received = 0

        async def limited() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    raise HTTPException(413, "Request body too large")
            return message

        return limited


async def _reply(send: Send, status: int, body: bytes) -> None:
    prepared = prepare(status, body)
    await send(prepared.start)
    await send(prepared.body)
