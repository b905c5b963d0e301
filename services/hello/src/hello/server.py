"""``python -m hello``: serve the app with uvicorn (one worker) and drain on SIGTERM.

On the first SIGTERM the app is marked not ready (``/readyz`` answers 503) while it
keeps serving for ``drain_seconds``, so Kubernetes removes the pod from its Endpoints
before it stops listening. Then uvicorn shuts down gracefully: it stops accepting,
lets in-flight requests finish for at most ``grace_period_seconds``, cancels what is
left, runs the lifespan shutdown and the process exits 0. A second SIGTERM, or SIGINT
(Ctrl-C), skips the rest of the drain.

The Prometheus metrics are served on a port of their own (``metrics_port``) by a second
uvicorn server in the same event loop (no thread, no lock): it starts before the app's
and shuts down with it, so the drain can still be scraped.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
import socket
import sys
import time
from collections.abc import Callable, Iterator
from types import FrameType

import uvicorn
from fastapi import FastAPI
from pydantic import ValidationError

from hello.logs import configure_logging
from hello.main import create_app
from hello.metrics import exposition_app
from hello.settings import Settings

logger = logging.getLogger("hello")


class DrainingServer(uvicorn.Server):
    """A uvicorn server whose SIGTERM first drains (not ready, still serving), then stops."""

    def __init__(
        self,
        config: uvicorn.Config,
        *,
        on_drain: Callable[[], None],
        drain_seconds: float,
        companion: uvicorn.Server | None = None,
    ) -> None:
        super().__init__(config)
        self.on_drain = on_drain
        self.drain_seconds = drain_seconds
        #: A server run alongside in the same loop (the metrics port), stopped after this one.
        self.companion = companion
        #: ``time.monotonic()`` at which the drain ends and the shutdown starts.
        self.drain_deadline: float | None = None

    def handle_exit(self, sig: int, frame: FrameType | None) -> None:
        self.on_drain()
        if sig == signal.SIGTERM and self.drain_deadline is None and not self.should_exit:
            self.drain_deadline = time.monotonic() + self.drain_seconds
            logger.info(
                "SIGTERM: draining for %.1fs before shutdown",
                self.drain_seconds,
                extra={"drain_seconds": self.drain_seconds},
            )
            return
        if sig == signal.SIGTERM:
            # A second SIGTERM: stop now (still gracefully). It is not re-raised after
            # the shutdown, so the process exits 0.
            self.should_exit = True
            return
        super().handle_exit(sig, frame)

    async def serve(self, sockets: list[socket.socket] | None = None) -> None:
        if self.companion is None:
            await super().serve(sockets)
            return
        companion = asyncio.create_task(self.companion.serve())
        try:
            await super().serve(sockets)
        finally:
            self.companion.should_exit = True
            await companion

    async def shutdown(self, sockets: list[socket.socket] | None = None) -> None:
        if self.companion is not None:  # it stops with this one, not after its grace period
            self.companion.should_exit = True
        await super().shutdown(sockets)

    async def on_tick(self, counter: int) -> bool:
        if self.drain_deadline is not None and time.monotonic() >= self.drain_deadline:
            if not self.should_exit:
                logger.info("drain over: shutting down")
            self.should_exit = True
        return await super().on_tick(counter)


def uvicorn_config(app: FastAPI, settings: Settings) -> uvicorn.Config:
    """One worker, httptools and uvloop (as ``nox -s bench`` measures), no access log."""
    return uvicorn.Config(
        app,
        host=settings.host,
        port=settings.port,
        workers=1,
        http="httptools",
        loop="uvloop" if sys.platform != "win32" else "asyncio",
        lifespan="on",
        access_log=False,  # the app logs requests itself when HELLO_ACCESS_LOG=true
        log_config=None,  # configure_logging() sets up JSON logs
        log_level=settings.log_level,
        timeout_graceful_shutdown=settings.grace_period_seconds,
    )


class CompanionServer(uvicorn.Server):
    """A uvicorn server that leaves the signals to the server it runs beside."""

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield


def metrics_config(app: FastAPI, settings: Settings) -> uvicorn.Config:
    """The metrics port: ``app``'s registry at /metrics, no lifespan, no access log."""
    return uvicorn.Config(
        exposition_app(app.state.metrics.registry),
        host=settings.host,
        port=settings.metrics_port,
        http="httptools",
        lifespan="off",
        access_log=False,
        log_config=None,
        log_level=settings.log_level,
    )


def serve(app: FastAPI, settings: Settings) -> None:
    """Serve ``app`` and its metrics until SIGTERM/SIGINT, then drain and shut down (see
    module doc)."""
    server = DrainingServer(
        uvicorn_config(app, settings),
        on_drain=app.state.hello.begin_drain,
        drain_seconds=settings.drain_seconds,
        companion=CompanionServer(metrics_config(app, settings)),
    )
    server.run()


def main() -> int:
    try:
        settings = Settings()
    except ValidationError as err:
        problems = "; ".join(
            f"HELLO_{'_'.join(str(p) for p in e['loc']).upper()}: {e['msg']}"
            if e["loc"]
            else e["msg"]
            for e in err.errors()
        )
        print(
            f"error: invalid setting ({problems}); fix the environment and start again",
            file=sys.stderr,
        )
        return 2
    configure_logging(settings.log_level)
    serve(create_app(settings), settings)
    return 0
