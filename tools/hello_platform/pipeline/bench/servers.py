"""The benchmark's servers and load: uvicorn and wrk pinned to a core each, on 127.0.0.1."""

from __future__ import annotations

import http.client
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from hello_platform.core import proc
from hello_platform.core.catalogue import Service
from hello_platform.core.errors import PlatformError
from hello_platform.core.wait import Check, until
from hello_platform.pipeline.bench import wrk
from hello_platform.pipeline.bench.results import Run, cpu_seconds
from hello_platform.toolchain import apt as system

#: The baselines' folder in the service's folder (``uvicorn --app-dir``).
BASELINES = "bench"
#: The uvicorn flags every target runs with (the service's own server uses the same).
UVICORN_FLAGS: tuple[str, ...] = ("--workers", "1", "--http", "httptools", "--loop", "uvloop")
UVICORN_FLAGS += ("--no-access-log", "--log-level", "warning", "--lifespan", "on")
HOST = "127.0.0.1"  # load goes to loopback only


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        port: int = sock.getsockname()[1]
        return port


def baselines_dir(service: Service) -> Path:
    return service.folder / BASELINES


def server_command(asgi_app: str, port: int, cpu: int, app_dir: Path) -> list[str]:
    return [
        *("taskset", "-c", str(cpu), sys.executable, "-m", "uvicorn", asgi_app),
        *("--app-dir", str(app_dir), "--host", HOST, "--port", str(port)),
        *UVICORN_FLAGS,
    ]


def wait_until_serving(
    process: subprocess.Popen[bytes], port: int, path: str, log: Path, timeout: float = 30.0
) -> None:
    def answers() -> Check:
        conn = http.client.HTTPConnection(HOST, port, timeout=2)
        try:
            conn.request("GET", path)
            status = conn.getresponse().status
        except OSError as err:
            return Check(False, str(err))
        finally:
            conn.close()
        return Check(status == 200, f"status {status}")

    def exited() -> str | None:
        if process.poll() is None:
            return None
        return f"the benchmark server exited with status {process.returncode}"

    until(
        answers,
        what=f"the benchmark server does not answer on port {port}",
        timeout=timeout,
        interval=0.2,
        abort=exited,
        log=str(log),
    )


@dataclass(frozen=True)
class Server:
    process: subprocess.Popen[bytes]
    url: str


@contextmanager
def running_server(asgi_app: str, cpu: int, log: Path, app_dir: Path) -> Iterator[Server]:
    log.parent.mkdir(parents=True, exist_ok=True)
    env = {**os.environ, "HELLO_ACCESS_LOG": "false", "HELLO_LOG_LEVEL": "warning"}
    port = free_port()
    with log.open("wb") as fh:
        process = subprocess.Popen(
            server_command(asgi_app, port, cpu, app_dir),
            stdout=fh,
            stderr=subprocess.STDOUT,
            env=env,
        )
    try:
        wait_until_serving(process, port, "/", log)
        yield Server(process, f"http://{HOST}:{port}")
    finally:
        proc.end(process, timeout=15)


@dataclass(frozen=True)
class Load:
    seconds: int
    connections: int
    cpu: int
    log: Path

    def run(self, url: str) -> wrk.Result:
        return wrk.run(
            url,
            seconds=self.seconds,
            connections=self.connections,
            cpu=self.cpu,
            log=self.log,
        )

    def measure(self, servers: Sequence[Server], path: str) -> list[Run]:
        """One wrk run against each server at once, with the CPU time each used meanwhile
        (sharing the core, whatever else the machine does weighs on all alike)."""
        pids = [server.process.pid for server in servers]
        before, started = [cpu_seconds(pid) for pid in pids], time.monotonic()
        with ThreadPoolExecutor(max_workers=len(servers)) as pool:
            results = list(pool.map(lambda server: self.run(server.url + path), servers))
        wall = time.monotonic() - started
        return [
            Run(result, seconds=wall, cpu_seconds=cpu_seconds(pid) - cpu)
            for result, pid, cpu in zip(results, pids, before, strict=True)
        ]


def check_host(server_cpu: int, client_cpu: int) -> None:
    if not sys.platform.startswith("linux"):
        raise PlatformError("the benchmark needs Linux (it pins processes with taskset)")
    cpus = os.sched_getaffinity(0)
    if server_cpu == client_cpu or not {server_cpu, client_cpu} <= cpus:
        raise PlatformError(
            f"the benchmark needs two distinct usable CPUs, and --server-cpu {server_cpu} / "
            f"--client-cpu {client_cpu} are not (usable: {sorted(cpus)})",
            hint="pass --server-cpu and --client-cpu",
        )
    proc.which("taskset", hint="install util-linux")
    system.ensure_debian_packages(["wrk"], why="the benchmark")
