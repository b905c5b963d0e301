"""The service's pure ASGI middleware (no ``BaseHTTPMiddleware``, which costs throughput).

* :class:`Instrumentation` counts every request in the ``hello_*`` metrics and, when
  asked, logs it (``hello.access``);
* :class:`CloseWhenDraining`: once the pod drains, every response says
  ``Connection: close``, so a keep-alive client's next request opens a new connection,
  which the Service sends to a pod that is still Ready, instead of reusing one that the
  shutdown will close under it (an Endpoints change only steers new connections);
* :class:`BodyLimit` answers 413 to a body over the limit before anything reads it (400
  to an invalid ``Content-Length``);
* :class:`Faults`, only when asked for (a drill): delays real requests and answers a share
  of them 500.
"""

from __future__ import annotations

import asyncio
import json
import logging
import random
from collections.abc import Awaitable, Callable
from time import perf_counter

from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from hello.metrics import PROBES, UNMATCHED, Metrics
from hello.state import ServiceState

access_logger = logging.getLogger("hello.access")


class Instrumentation:
    """Counts each HTTP request by method, route template and status (probes apart)."""

    def __init__(self, app: ASGIApp, metrics: Metrics, access_log: bool) -> None:
        self.app = app
        self.metrics = metrics
        self.access_log = access_log

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":  # lifespan (and websockets)
            await self.app(scope, receive, send)
            return
        status = 500  # unless a response starts

        def capture(message: Message) -> Awaitable[None]:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            return send(message)

        metrics = self.metrics
        metrics.active += 1
        start = perf_counter()
        try:
            await self.app(scope, receive, capture)
        finally:
            seconds = perf_counter() - start
            metrics.active -= 1
            found = scope.get("route")
            route = getattr(found, "path_format", None) or self._template(scope)
            metrics.observe(scope["method"], route, status, seconds)
            if self.access_log:
                log_request(scope, route, status, seconds)

    def _template(self, scope: Scope) -> str:
        """The route of a request that was never routed: 404, or refused before routing
        (then its path, if that is the template of a parameterless route)."""
        path: str = scope["path"]
        return path if path in self.metrics.templates else UNMATCHED


def log_request(scope: Scope, route: str, status: int, seconds: float) -> None:
    method, path = scope["method"], scope["path"]
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


class CloseWhenDraining:
    """Adds ``Connection: close`` to every response once the app drains (uvicorn then
    closes the connection after sending it)."""

    def __init__(self, app: ASGIApp, state: ServiceState) -> None:
        self.app = app
        self.state = state

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or not self.state.draining:
            await self.app(scope, receive, send)
            return

        async def closing(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = [*message.get("headers", ()), (b"connection", b"close")]
                message = {**message, "headers": headers}
            await send(message)

        await self.app(scope, receive, closing)


def _json(status: int, detail: str) -> tuple[Message, Message]:
    """The two ASGI messages of a small JSON error, as FastAPI renders it."""
    body = json.dumps({"detail": detail}, separators=(",", ":")).encode()
    headers = [(b"content-type", b"application/json"), (b"content-length", b"%d" % len(body))]
    return (
        {"type": "http.response.start", "status": status, "headers": headers},
        {"type": "http.response.body", "body": body},
    )


TOO_LARGE = _json(413, "Request body too large")
BAD_LENGTH = _json(400, "Invalid Content-Length header")


class BodyLimit:
    """413 for a body over ``max_body_bytes`` (declared, or streamed in chunks)."""

    def __init__(self, app: ASGIApp, max_body_bytes: int) -> None:
        self.app = app
        self.max_body_bytes = max_body_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            for name, value in scope["headers"]:
                if name == b"content-length":
                    refusal = self._check(value)
                    if refusal is not None:
                        await send(refusal[0])
                        await send(refusal[1])
                        return
                elif name == b"transfer-encoding":
                    receive = self._limited(receive)
        await self.app(scope, receive, send)

    def _check(self, value: bytes) -> tuple[Message, Message] | None:
        if not value.isdigit():
            return BAD_LENGTH
        return TOO_LARGE if int(value) > self.max_body_bytes else None

    def _limited(self, receive: Receive) -> Receive:
        """``receive`` that fails with 413 once a streamed body exceeds the limit (FastAPI's
        exception handler answers it)."""
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


INJECTED = _json(500, "Injected fault")


class Faults:
    """Fault injection for drills: each real request (not a probe, so the pod stays Ready)
    waits ``latency_ms``, and a share ``error_rate`` of them is answered 500 (counted in the
    metrics like any answer; the metrics port is apart and never faulted)."""

    EXEMPT = PROBES

    def __init__(
        self,
        app: ASGIApp,
        error_rate: float,
        latency_ms: int,
        draw: Callable[[], float] = random.random,
    ) -> None:
        self.app = app
        self.error_rate = error_rate
        self.delay = latency_ms / 1000
        self.draw = draw  # uniform in [0, 1): a request fails when it draws below the rate

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"] in self.EXEMPT:
            await self.app(scope, receive, send)
            return
        if self.delay:
            await asyncio.sleep(self.delay)
        if self.draw() < self.error_rate:
            await send(INJECTED[0])
            await send(INJECTED[1])
            return
        await self.app(scope, receive, send)
