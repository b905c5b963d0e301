"""The service's HTTP API, declared (and documented in the OpenAPI schema) with FastAPI.

``GET``/``HEAD`` on ``/``, ``/healthz`` and ``/readyz`` are answered by the fast path in
:mod:`hello.asgi` with the same bytes; these routes document them and serve any request
that does not take the fast path.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request, Response
from pydantic import BaseModel, Field

from hello.metrics import CONTENT_TYPE, Metrics
from hello.state import HEALTH_BODY, READINESS_BODIES, ServiceState

router = APIRouter()
JSON = "application/json"


class Greeting(BaseModel):
    message: str = Field(examples=["Hello from hello!"])
    service: str = Field(examples=["hello"])
    version: str = Field(examples=["0.1.0"])
    host: str = Field(description="Host (pod) name of the replica that answered.")


class Status(BaseModel):
    status: str = Field(examples=["ok"])


class VersionInfo(BaseModel):
    service: str
    version: str = Field(description="From the package metadata (services/hello/pyproject.toml).")
    revision: str = Field(description="Git revision the image was built from.")
    build_time: str = Field(description="When the image was built (RFC 3339).")


async def service_state(request: Request) -> ServiceState:
    state: ServiceState = request.app.state.hello
    return state


async def service_metrics(request: Request) -> Metrics:
    metrics: Metrics = request.app.state.metrics
    return metrics


State = Annotated[ServiceState, Depends(service_state)]


@router.get("/", response_model=Greeting, summary="Greeting with the service's name and version")
async def greeting(state: State) -> Response:
    return Response(state.greeting_body, media_type=JSON)


@router.get("/healthz", response_model=Status, summary="Liveness: the process answers")
async def healthz() -> Response:
    return Response(HEALTH_BODY, media_type=JSON)


@router.get(
    "/readyz",
    response_model=Status,
    summary="Readiness: 503 while starting and from the start of shutdown",
    responses={503: {"model": Status, "description": "Starting or draining"}},
)
async def readyz(state: State) -> Response:
    return Response(
        READINESS_BODIES[state.readiness], status_code=200 if state.ready else 503, media_type=JSON
    )


@router.get("/version", response_model=VersionInfo, summary="Version, git revision, build time")
async def version(state: State) -> Response:
    return Response(state.version_body, media_type=JSON)


@router.get(
    "/metrics",
    response_class=Response,
    summary="Prometheus metrics",
    responses={200: {"content": {CONTENT_TYPE: {}}, "description": "Prometheus text format"}},
)
async def metrics(metrics: Annotated[Metrics, Depends(service_metrics)]) -> Response:
    return Response(metrics.exposition(), media_type=CONTENT_TYPE)
