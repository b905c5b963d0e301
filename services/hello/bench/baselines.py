"""The baselines ``nox -s bench`` measures the service against (not part of the service).

This folder is not in the service's wheel or image: ``hello-platform bench`` runs these
apps with ``uvicorn --app-dir services/hello/bench baselines:raw`` (or ``:bare``).

* ``raw``: a raw ASGI app answering every request with a fixed JSON body, the floor of
  what any Python app can cost under uvicorn. The service's static routes are measured
  against it.
* ``bare``: the service's own FastAPI app (:func:`hello.main.create_api`: the same routes,
  state and FastAPI settings) without the service's middleware. A routed request of the
  service is measured against the same route here.
"""

from __future__ import annotations

from typing import Any

from hello.main import create_api
from hello.settings import Settings

BODY = b'{"message":"Hello from raw!","service":"raw","version":"0.0.0","host":"localhost"}'
HEADERS = [(b"content-type", b"application/json"), (b"content-length", str(len(BODY)).encode())]


async def raw(scope: dict[str, Any], receive: Any, send: Any) -> None:
    if scope["type"] == "lifespan":  # acknowledge startup and shutdown
        while (await receive())["type"] != "lifespan.shutdown":
            await send({"type": "lifespan.startup.complete"})
        await send({"type": "lifespan.shutdown.complete"})
        return
    await send({"type": "http.response.start", "status": 200, "headers": HEADERS})
    await send({"type": "http.response.body", "body": BODY})


bare = create_api(Settings())
