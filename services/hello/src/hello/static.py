"""Static responses, opt in: the bytes FastAPI rendered for a route, sent again before routing.

A route whose answer depends on the app's state alone, never on the request, is marked
with :func:`static` (under its ``@router.get``). :class:`StaticResponses` lets the first
``GET`` of such a route's path go through FastAPI like any request, keeps the two ASGI
messages FastAPI sent, and answers later ``GET`` and ``HEAD`` requests of that exact path
(without a query string) with them, before routing. When ``state_key()`` changes (say,
readiness flips), every kept response is dropped and the next ``GET`` renders again
through FastAPI. So each route has one implementation, and the bytes sent are FastAPI's.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, NamedTuple, TypeVar

from starlette.types import ASGIApp, Message, Receive, Scope, Send

Endpoint = TypeVar("Endpoint", bound=Callable[..., Any])

_MARK = "_hello_static_response"
_EMPTY_BODY: Message = {"type": "http.response.body", "body": b""}
_NO_KEY = object()


def static(endpoint: Endpoint) -> Endpoint:
    """Mark a route's endpoint: its answer depends on the app's state, not on the request."""
    setattr(endpoint, _MARK, True)
    return endpoint


def is_static(route: object) -> bool:
    """The endpoint of ``route`` is marked :func:`static`."""
    return getattr(getattr(route, "endpoint", None), _MARK, False) is True


class _Kept(NamedTuple):
    route: object
    start: Message
    body: Message


def _whole(sent: list[Message]) -> bool:
    """``sent`` is one complete response: its start and a single, final body message."""
    return (
        len(sent) == 2
        and sent[0]["type"] == "http.response.start"
        and sent[1]["type"] == "http.response.body"
        and not sent[1].get("more_body", False)
    )


class StaticResponses:
    """Pure ASGI middleware serving the kept responses of :func:`static` routes."""

    def __init__(self, app: ASGIApp, state_key: Callable[[], object]) -> None:
        self.app = app
        self.state_key = state_key
        self._key: object = _NO_KEY
        self._kept: dict[str, _Kept] = {}
        #: Paths of parameterless routes that are not static (bounded: one per route).
        self._routed: set[str] = set()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["query_string"]:
            await self.app(scope, receive, send)
            return
        method = scope["method"]
        if (method != "GET" and method != "HEAD") or scope["path"] in self._routed:
            await self.app(scope, receive, send)
            return
        key = self.state_key()
        if key != self._key:
            self._kept.clear()
            self._key = key
        kept = self._kept.get(scope["path"])
        if kept is not None:
            scope["route"] = kept.route  # as routing would (metrics read the template)
            await send(kept.start)
            await send(kept.body if method == "GET" else _EMPTY_BODY)
        elif method == "GET":
            await self._render(scope, receive, send, key)
        else:
            await self.app(scope, receive, send)

    async def _render(self, scope: Scope, receive: Receive, send: Send, key: object) -> None:
        """Answer through FastAPI; keep the response if the route is static and the state
        did not change meanwhile."""
        sent: list[Message] = []

        async def keep(message: Message) -> None:
            sent.append(message)
            await send(message)

        await self.app(scope, receive, keep)
        route = scope.get("route")
        if key != self.state_key() or getattr(route, "param_convertors", None) != {}:
            return  # the state changed meanwhile, or not one route for one path
        if not is_static(route):
            self._routed.add(scope["path"])
        elif _whole(sent):
            self._kept[scope["path"]] = _Kept(route, sent[0], sent[1])
