"""Static responses: the bytes FastAPI rendered for a marked route, served again."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from hello.main import create_api
from hello.routes import service_state
from hello.settings import Settings
from hello.state import ServiceState
from hello.static import StaticResponses, is_static, static


class Probe:
    """A small app behind StaticResponses: what its routes answer, and how often they ran."""

    def __init__(self) -> None:
        self.key = "one"
        self.word = "first"
        self.calls: list[str] = []
        self.app = FastAPI()
        self.app.add_middleware(StaticResponses, state_key=lambda: self.key)

        @self.app.api_route("/word", methods=["GET", "HEAD"])
        @static
        async def word() -> dict[str, str]:
            self.calls.append("word")
            return {"word": self.word}

        @self.app.get("/dynamic")
        async def dynamic() -> dict[str, str]:
            self.calls.append("dynamic")
            return {"word": self.word}

        @self.app.get("/echo/{name}")
        @static
        async def echo(name: str) -> dict[str, str]:
            self.calls.append("echo")
            return {"name": name}

        @self.app.get("/flip")
        @static
        async def flip() -> dict[str, str]:
            self.calls.append("flip")
            self.key = "flipped" if self.key == "one" else "one"  # the state changes meanwhile
            return {"word": self.word}


@pytest.fixture
def probe() -> Iterator[tuple[Probe, TestClient]]:
    made = Probe()
    with TestClient(made.app) as client:
        yield made, client


def test_the_kept_bytes_are_the_routes_own(probe: tuple[Probe, TestClient]) -> None:
    made, client = probe
    first = client.get("/word")
    made.word = "second"  # the route would answer differently now ...
    kept = client.get("/word")
    assert made.calls == ["word"]  # ... but it is not asked until the state changes
    assert (kept.status_code, kept.content, kept.headers) == (
        first.status_code,
        first.content,
        first.headers,
    )
    made.key = "two"
    assert client.get("/word").json() == {"word": "second"}  # rendered again by the route
    assert client.get("/word").json() == {"word": "second"}
    assert made.calls == ["word", "word"]


def test_head_is_answered_from_the_kept_response(probe: tuple[Probe, TestClient]) -> None:
    made, client = probe
    routed_head = client.head("/word")  # nothing kept yet: FastAPI answers
    get = client.get("/word")
    kept_head = client.head("/word")
    assert made.calls == ["word", "word"]
    assert routed_head.headers == kept_head.headers == get.headers
    assert (kept_head.status_code, kept_head.content) == (200, b"")


@pytest.mark.parametrize(
    ("paths", "calls"),
    [
        (["/dynamic"] * 3, ["dynamic"] * 3),  # a route not marked static
        (["/word", "/word?lang=en"], ["word", "word"]),  # a query string
        (["/echo/a", "/echo/b", "/echo/b"], ["echo"] * 3),  # a path parameter
        (["/flip", "/flip"], ["flip", "flip"]),  # the state changed while it was rendered
    ],
)
def test_answers_that_are_not_kept(
    probe: tuple[Probe, TestClient], paths: list[str], calls: list[str]
) -> None:
    made, client = probe
    for path in paths:
        assert client.get(path).status_code == 200
    assert made.calls == calls


def test_errors_and_other_methods_pass_through(probe: tuple[Probe, TestClient]) -> None:
    _, client = probe
    assert client.post("/word").status_code == 405
    assert client.get("/missing").status_code == 404
    assert client.get("/missing").status_code == 404


def test_the_service_marks_its_greeting_and_probes_only(app: FastAPI) -> None:
    static_paths = {
        route.path  # type: ignore[attr-defined]
        for route in app.router.routes[-1].original_router.routes  # type: ignore[attr-defined]
        if is_static(route)
    }
    assert static_paths == {"/", "/healthz", "/readyz"}


@pytest.mark.parametrize("path", ["/", "/healthz", "/readyz"])
def test_static_and_routed_answers_are_byte_identical(
    client: TestClient, settings: Settings, path: str
) -> None:
    """The kept answer is the one the service's FastAPI app, without middleware, gives."""
    first, kept = client.get(path), client.get(path)
    with TestClient(create_api(settings)) as bare:
        routed = bare.get(path)
    for answer in (first, kept):
        assert (answer.status_code, answer.content) == (routed.status_code, routed.content)
        assert answer.headers == routed.headers


def test_the_service_greeting_comes_from_its_route(app: FastAPI) -> None:
    """Make the route answer otherwise (here through its dependency): the kept bytes follow."""
    other = ServiceState(service="greeter", version="9", revision="r", build_time="t", host="h")
    app.dependency_overrides[service_state] = lambda: other
    with TestClient(app) as client:
        for _ in range(2):
            assert client.get("/").json() == {
                "message": "Hello from greeter!",
                "service": "greeter",
                "version": "9",
                "host": "h",
            }


def test_a_readiness_change_renders_the_probe_again(app: FastAPI) -> None:
    plain = TestClient(app)  # no lifespan yet: starting
    assert [plain.get("/readyz").status_code for _ in range(2)] == [503, 503]
    with TestClient(app) as client:
        for _ in range(2):
            ready = client.get("/readyz")
            assert (ready.status_code, ready.json()) == (200, {"status": "ready"})
        app.state.hello.begin_drain()
        for _ in range(2):
            draining = client.get("/readyz")
            assert (draining.status_code, draining.json()) == (503, {"status": "draining"})
