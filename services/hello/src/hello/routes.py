"""The service's HTTP API: every route, declared once, with FastAPI.

Routes marked :func:`hello.static.static` answer from the app's state alone (not from
the request), so :class:`hello.static.StaticResponses` serves the bytes FastAPI rendered
for them until that state changes: the probes and the greeting cost little more than
uvicorn itself, and there is still one implementation of each route.
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request, Response
from pydantic import BaseModel, Field

from hello.state import ServiceState
from hello.static import static

router = APIRouter()


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


State = Annotated[ServiceState, Depends(service_state)]


@router.get("/", summary="Greeting with the service's name and version")
@static
async def greeting(state: State) -> Greeting:
    return Greeting(
        message=f"Hello from {state.service}!",
        service=state.service,
        version=state.version,
        host=state.host,
    )


@router.get("/healthz", summary="Liveness: the process answers")
@static
async def healthz() -> Status:
    return Status(status="ok")


@router.get(
    "/readyz",
    summary="Readiness: 503 while starting and from the start of shutdown",
    responses={503: {"model": Status, "description": "Starting or draining"}},
)
@static
async def readyz(state: State, response: Response) -> Status:
    if not state.ready:
        response.status_code = 503
    return Status(status=state.readiness)


@router.get("/version", summary="Version, git revision, build time")
async def version(state: State) -> VersionInfo:
    return VersionInfo(
        service=state.service,
        version=state.version,
        revision=state.revision,
        build_time=state.build_time,
    )


# HEAD too for the greeting and the probes (some probes and load balancers send it; FastAPI
# answers HEAD only where it is declared). Declared last: FastAPI tries the routes in
# order, and a GET should not have to pass these first.
for _path, _endpoint in (("/", greeting), ("/healthz", healthz), ("/readyz", readyz)):
    router.head(_path, include_in_schema=False)(_endpoint)
