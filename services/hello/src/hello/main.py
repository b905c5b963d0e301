"""Builds the service: ``hello.main:app`` is the ASGI app (``python -m hello`` serves it).

``app`` is built from the environment on first access (``uvicorn hello.main:app`` or
``from hello.main import app``), so importing this module reads no settings.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI
from fastapi.telemetry import TelemetryConfig

from hello import routes
from hello.metrics import Metrics
from hello.middleware import BodyLimit, CloseWhenDraining, Faults, Instrumentation
from hello.settings import Settings
from hello.state import ServiceState
from hello.static import StaticResponses

#: FastAPI's own OpenTelemetry instrumentation stays off: the service exports Prometheus
#: metrics, and even with no OpenTelemetry provider set up, its checks cost each request
#: three environment look-ups (about 3 us in-process, half of what a static response costs).
NO_OPENTELEMETRY: TelemetryConfig = {"tracing": False, "metrics": False, "logs": False}


def create_api(settings: Settings) -> FastAPI:
    """The FastAPI app with the service's routes, state and metrics, and no middleware.

    ``app.state.hello`` is its :class:`~hello.state.ServiceState` and ``app.state.metrics``
    its :class:`~hello.metrics.Metrics`. ``nox -s bench`` measures a route here against the
    same route in :func:`create_app`.
    """
    state = ServiceState.from_settings(settings)

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        state.started, state.draining = True, False
        yield
        state.begin_drain()

    app = FastAPI(
        title=settings.service_name,
        version=state.version,
        description="The hello-world service of hello-platform.",
        lifespan=lifespan,
        telemetry=NO_OPENTELEMETRY,
    )
    app.state.hello = state
    app.state.metrics = metrics = Metrics(
        version=state.version, revision=state.revision, pod=state.host
    )
    app.include_router(routes.router)
    metrics.expect(routes.router.routes)
    return app


def create_app(settings: Settings | None = None) -> FastAPI:
    """A new, independent app (own state and metrics registry) configured by ``settings``:
    :func:`create_api` behind the service's pure ASGI middleware."""
    settings = settings or Settings()
    app = create_api(settings)
    state: ServiceState = app.state.hello
    # The last added runs first: metrics see every request, the refused ones too, and a
    # draining app closes the connection after a static response too.
    app.add_middleware(StaticResponses, state_key=lambda: state.readiness)
    if settings.fault_error_rate or settings.fault_latency_ms:
        app.add_middleware(
            Faults,
            error_rate=settings.fault_error_rate,
            latency_ms=settings.fault_latency_ms,
        )
    app.add_middleware(BodyLimit, max_body_bytes=settings.max_body_bytes)
    app.add_middleware(CloseWhenDraining, state=state)
    app.add_middleware(Instrumentation, metrics=app.state.metrics, access_log=settings.access_log)
    return app


_app: FastAPI | None = None


def __getattr__(name: str) -> FastAPI:
    """``hello.main.app``: the app configured by the environment, built once on first use."""
    global _app
    if name != "app":
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    if _app is None:
        _app = create_app()
    return _app
