"""Builds the service: ``hello.main:app`` is the ASGI app (``python -m hello`` serves it).

``app`` is built from the environment on first access (``uvicorn hello.main:app`` or
``from hello.main import app``), so importing this module reads no settings.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from hello import routes
from hello.asgi import HelloApp
from hello.metrics import Metrics
from hello.settings import Settings
from hello.state import ServiceState


def create_app(settings: Settings | None = None) -> HelloApp:
    """A new, independent app (own state and metrics registry) configured by ``settings``."""
    settings = settings or Settings()
    state = ServiceState.from_settings(settings)
    metrics = Metrics(version=state.version, revision=state.revision)

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        state.started, state.draining = True, False
        yield
        state.draining = True

    api = FastAPI(
        title=settings.service_name,
        version=state.version,
        description="The hello-world service of hello-platform.",
        lifespan=lifespan,
    )
    api.state.hello = state
    api.state.metrics = metrics
    api.include_router(routes.router)
    return HelloApp(
        api,
        state,
        metrics,
        max_body_bytes=settings.max_body_bytes,
        access_log=settings.access_log,
    )


_app: HelloApp | None = None


def __getattr__(name: str) -> HelloApp:
    """``hello.main.app``: the app configured by the environment, built once on first use."""
    global _app
    if name != "app":
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    if _app is None:
        _app = create_app()
    return _app
