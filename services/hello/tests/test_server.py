"""``python -m hello``: SIGTERM drains (readiness 503, requests still served), then exits."""

from __future__ import annotations

import asyncio
import http.client
import os
import signal
import socket
import subprocess
import sys
import textwrap
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import uvicorn
from hello import server as server_module
from hello.main import create_app
from hello.server import CompanionServer, DrainingServer, metrics_config, uvicorn_config
from hello.settings import Settings
from pydantic import ValidationError


def draining_server(drain_seconds: float) -> tuple[DrainingServer, list[str]]:
    calls: list[str] = []
    config = uvicorn.Config(create_app(Settings()))
    return (
        DrainingServer(config, on_drain=lambda: calls.append("drain"), drain_seconds=drain_seconds),
        calls,
    )


def test_sigterm_drains_first() -> None:
    server, calls = draining_server(drain_seconds=30)
    server.handle_exit(signal.SIGTERM, None)
    assert calls == ["drain"]
    assert server.should_exit is False
    assert asyncio.run(server.on_tick(1)) is False  # still serving during the drain


def test_shutdown_starts_when_the_drain_is_over() -> None:
    server, _ = draining_server(drain_seconds=0)
    server.handle_exit(signal.SIGTERM, None)
    assert asyncio.run(server.on_tick(1)) is True
    assert server.should_exit is True


def test_second_sigterm_stops_at_once() -> None:
    server, calls = draining_server(drain_seconds=30)
    server.handle_exit(signal.SIGTERM, None)
    server.handle_exit(signal.SIGTERM, None)
    assert server.should_exit is True
    assert calls == ["drain", "drain"]


def test_sigint_skips_the_drain() -> None:
    server, calls = draining_server(drain_seconds=30)
    server.handle_exit(signal.SIGINT, None)
    assert server.should_exit is True
    assert calls == ["drain"]


def test_uvicorn_config_matches_the_benchmark() -> None:
    settings = Settings(grace_period_seconds=7)
    config = uvicorn_config(create_app(settings), settings)
    assert (config.http, config.loop, config.workers) == ("httptools", "uvloop", 1)
    assert config.access_log is False
    assert config.timeout_graceful_shutdown == 7


def test_the_metrics_server_leaves_the_signals_to_the_app_server() -> None:
    settings = Settings(metrics_port=9999)
    config = metrics_config(create_app(settings), settings)
    assert (config.port, config.lifespan, config.access_log) == (9999, "off", False)
    before = signal.getsignal(signal.SIGTERM)
    with CompanionServer(config).capture_signals():
        assert signal.getsignal(signal.SIGTERM) is before


@pytest.mark.parametrize(
    ("name", "value", "says"),
    [
        ("HELLO_PORT", "not-a-port", "error: invalid setting (HELLO_PORT:"),
        (
            "HELLO_METRICS_PORT",
            "8000",  # the app's own port
            "error: invalid setting (Value error, metrics_port must differ from port (8000))",
        ),
    ],
)
def test_invalid_setting_is_one_line_and_exit_2(
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    name: str,
    value: str,
    says: str,
) -> None:
    monkeypatch.setenv(name, value)
    assert server_module.main() == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1
    assert err.startswith(says)


def test_settings_are_read_only_when_the_app_is_asked_for(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import importlib

    import hello.main

    monkeypatch.setenv("HELLO_PORT", "not-a-port")
    module = importlib.reload(hello.main)  # importing reads no settings ...
    with pytest.raises(ValidationError):
        module.app  # noqa: B018 - ... building the app does
    monkeypatch.delenv("HELLO_PORT")
    assert module.app is module.app


# --- the real server in a subprocess ---------------------------------------------------

SERVER = textwrap.dedent(
    """
    import asyncio

    from hello.main import create_app
    from hello.server import serve
    from hello.settings import Settings

    settings = Settings()
    app = create_app(settings)


    @app.get("/slow")  # test-only: an in-flight request that takes a while
    async def slow(seconds: float) -> dict[str, float]:
        await asyncio.sleep(seconds)
        return {"slept": seconds}


    serve(app, settings)
    """
)
DRAIN, GRACE = 0.5, 2


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def get(port: int, path: str, timeout: float = 5) -> tuple[int, bytes]:
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        conn.request("GET", path)
        response = conn.getresponse()
        return response.status, response.read()
    finally:
        conn.close()


def wait_for(predicate: object, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if predicate():  # type: ignore[operator]
                return
        except OSError:
            pass
        time.sleep(0.02)
    raise AssertionError(f"timed out after {timeout}s")


@dataclass(frozen=True)
class Live:
    process: subprocess.Popen[bytes]
    port: int
    metrics_port: int


@pytest.fixture
def live_server(tmp_path: Path) -> Iterator[Live]:
    script = tmp_path / "server.py"
    script.write_text(SERVER)
    port, metrics_port = free_port(), free_port()
    env = {
        **os.environ,
        "HELLO_HOST": "127.0.0.1",
        "HELLO_PORT": str(port),
        "HELLO_METRICS_PORT": str(metrics_port),
        "HELLO_DRAIN_SECONDS": str(DRAIN),
        "HELLO_GRACE_PERIOD_SECONDS": str(GRACE),
    }
    log = (tmp_path / "server.log").open("wb")
    process = subprocess.Popen([sys.executable, str(script)], env=env, stdout=log, stderr=log)
    try:
        wait_for(lambda: get(port, "/readyz")[0] == 200, timeout=20)
        yield Live(process, port, metrics_port)
    finally:
        if process.poll() is None:
            process.kill()
        process.wait()
        log.close()


def raw_request(port: int, data: bytes) -> bytes:
    """Send bytes as they are; return the status line of the answer."""
    with socket.create_connection(("127.0.0.1", port), timeout=5) as sock:
        sock.sendall(data)
        return sock.recv(4096).split(b"\r\n", 1)[0]


def exchange(sock: socket.socket) -> bytes:
    """One ``GET /`` on a kept-alive connection; the response head (lower-case), body read."""
    sock.sendall(b"GET / HTTP/1.1\r\nHost: x\r\n\r\n")
    data = b""
    while b"\r\n\r\n" not in data:
        data += sock.recv(4096)
    head, _, body = data.partition(b"\r\n\r\n")
    length = int(head.lower().split(b"content-length: ")[1].split(b"\r\n")[0])
    while len(body) < length:
        body += sock.recv(4096)
    return head.lower()


def test_real_server_rejects_bad_requests_then_drains_on_sigterm(live_server: Live) -> None:
    process, port = live_server.process, live_server.port
    # Malformed or oversized requests get a clean 4xx (one server start serves both checks).
    assert raw_request(port, b"NOT HTTP AT ALL\r\n\r\n").startswith(b"HTTP/1.1 400")
    big = b"POST / HTTP/1.1\r\nHost: x\r\nContent-Length: 99999999\r\n\r\n"
    assert raw_request(port, big) == b"HTTP/1.1 413 Request Entity Too Large"

    # SIGTERM flips readiness while in-flight requests finish, then the process exits.
    results: dict[str, object] = {}

    def request(name: str, seconds: float) -> None:
        try:
            results[name] = get(port, f"/slow?seconds={seconds}", timeout=30)
        except OSError as exc:
            results[name] = exc

    finishing = threading.Thread(target=request, args=("finishing", 1.2))
    hanging = threading.Thread(target=request, args=("hanging", 60.0))
    finishing.start()
    hanging.start()
    # Both are in flight once the gauge counts them (a scrape, on its own port, is not one).
    scrape = live_server.metrics_port
    wait_for(lambda: b"hello_http_requests_in_progress 2.0" in get(scrape, "/metrics")[1], 5)

    keep_alive = socket.create_connection(("127.0.0.1", port), timeout=5)
    assert b"connection: close" not in exchange(keep_alive)

    process.send_signal(signal.SIGTERM)
    terminated = time.monotonic()
    wait_for(lambda: get(port, "/readyz")[0] == 503, timeout=1)
    assert finishing.is_alive(), "readiness must flip before in-flight requests finish"
    assert get(port, "/")[0] == 200  # still serving while draining
    assert get(scrape, "/metrics")[0] == 200  # and still observable
    # A keep-alive connection gets its answer, then the server closes it (the client's next
    # request goes out on a new connection, which a Service routes to a Ready pod).
    answer = exchange(keep_alive)
    assert answer.startswith(b"http/1.1 200") and b"connection: close" in answer
    assert keep_alive.recv(1) == b""  # closed by the server
    keep_alive.close()

    finishing.join(timeout=10)
    assert results["finishing"] == (200, b'{"slept":1.2}')
    process.wait(timeout=DRAIN + GRACE + 5)
    took = time.monotonic() - terminated
    assert process.returncode == 0
    assert took < DRAIN + GRACE + 1.5, f"exit took {took:.1f}s"
    with pytest.raises(OSError):  # the metrics port stopped with the app
        get(scrape, "/metrics", timeout=1)
    hanging.join(timeout=5)
    assert not (isinstance(results["hanging"], tuple) and results["hanging"][0] == 200)


def test_live_metrics_pass_promtool_check_metrics(live_server: Live) -> None:
    """The exposition a real server gives is clean for Prometheus' own linter (the pinned
    promtool, from the same Debian package as the cluster's Prometheus)."""
    from hello_platform.toolchain import resolve

    port = live_server.port
    assert get(port, "/")[0] == 200
    assert get(port, "/metrics")[0] == 404  # the app's port does not serve them
    status, body = get(live_server.metrics_port, "/metrics")
    assert status == 200 and b"hello_http_requests_total" in body
    done = subprocess.run(
        [str(resolve("promtool")), "check", "metrics"],
        input=body,
        capture_output=True,
        timeout=30,
        check=False,
    )
    assert done.returncode == 0, (done.stdout + done.stderr).decode()
    assert done.stdout.strip() == b"" and done.stderr.strip() == b""
