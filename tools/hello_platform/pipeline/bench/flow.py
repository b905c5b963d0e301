"""A benchmark run: uvicorn and wrk pinned to a core each on 127.0.0.1, a warm-up, the pairs
round by round, the report, the verdict."""

from __future__ import annotations

import functools
import http.client
import json
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack, contextmanager
from dataclasses import asdict, dataclass
from pathlib import Path

from hello_platform.core import paths, proc
from hello_platform.core.catalogue import Service
from hello_platform.core.errors import PlatformError
from hello_platform.core.progress import say, step
from hello_platform.core.wait import Check, until
from hello_platform.pipeline.bench.results import (
    PAIRS,
    Outcome,
    Pair,
    Round,
    Run,
    cpu_seconds,
    render_table,
    run_wrk,
)
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
        return int(sock.getsockname()[1])


def baselines_dir(service: Service) -> Path:
    return service.folder / BASELINES


def server_command(asgi_app: str, port: int, cpu: int, app_dir: Path) -> list[str]:
    return [
        *("taskset", "-c", str(cpu), sys.executable, "-m", "uvicorn", asgi_app),
        *("--app-dir", str(app_dir), "--host", HOST, "--port", str(port)),
        *UVICORN_FLAGS,
    ]


def wait_until_serving(process: subprocess.Popen[bytes], port: int, log: Path) -> None:
    def answers() -> Check:
        conn = http.client.HTTPConnection(HOST, port, timeout=2)
        try:
            conn.request("GET", "/")
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
        timeout=30.0,
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
        wait_until_serving(process, port, log)
        yield Server(process, f"http://{HOST}:{port}")
    finally:
        proc.end(process, timeout=15)


def measure(
    servers: Sequence[Server], path: str, seconds: int, settings: Settings, log: Path
) -> list[Run]:
    """One wrk run against each server at once, with the CPU time each used meanwhile
    (sharing the core, whatever else the machine does weighs on all alike)."""
    pids = [server.process.pid for server in servers]
    before, started = [cpu_seconds(pid) for pid in pids], time.monotonic()
    wrk = functools.partial(
        run_wrk, seconds=seconds, connections=settings.connections, cpu=settings.client_cpu, log=log
    )
    with ThreadPoolExecutor(max_workers=len(servers)) as pool:
        results = list(pool.map(wrk, [server.url + path for server in servers]))
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


@dataclass(frozen=True)
class Settings:
    duration: int = 5
    rounds: int = 5
    warmup: int = 2
    connections: int = 64
    pair: Sequence[str] | None = None
    no_assert: bool = False
    server_cpu: int = 1
    client_cpu: int = 0


def measure_pairs(
    pairs: Sequence[Pair], servers: dict[str, Server], settings: Settings, app: str, log: Path
) -> list[Outcome]:
    runs: dict[str, list[Round]] = {p.name: [] for p in pairs}
    rounds = settings.rounds
    for n in range(rounds):
        for pair in pairs:
            sides = [servers[pair.baseline], servers[app]]
            baseline, service = measure(sides, pair.path, settings.duration, settings, log)
            result = Round(baseline, service)
            runs[pair.name].append(result)
            say(
                f"round {n + 1}/{rounds} {pair.name}: service {service.wrk.rps:.0f} rps, "
                f"baseline {baseline.wrk.rps:.0f} rps; {result.cpu_ratio:.3f}x by requests per "
                f"CPU-second (servers got {service.cpu_share:.0%} and {baseline.cpu_share:.0%} "
                "of a core)"
            )
    return [Outcome(p, tuple(runs[p.name])) for p in pairs]


def bench(service: Service, settings: Settings) -> list[Outcome]:
    check_host(settings.server_cpu, settings.client_cpu)
    out = paths.out_dir() / "bench"
    out.mkdir(parents=True, exist_ok=True)
    log = out / "wrk.log"
    log.write_text("")
    pairs = [p for p in PAIRS if settings.pair is None or p.name in settings.pair]
    targets = [service.app, *(p.baseline for p in pairs)]
    say(
        f"benchmark: {', '.join(p.name for p in pairs)}; {settings.rounds} rounds x "
        f"{settings.duration}s per side, {settings.connections} connections (logs: {out})"
    )
    with ExitStack() as stack:
        servers = _start(stack, targets, settings.server_cpu, out, baselines_dir(service))
        if settings.warmup:
            with step(f"warming up ({settings.warmup}s per pair)"):
                for pair in pairs:
                    sides = [servers[pair.baseline], servers[service.app]]
                    measure(sides, pair.path, settings.warmup, settings, log)
        outcomes = measure_pairs(pairs, servers, settings, service.app, log)
    print(render_table(outcomes))
    report = {
        "settings": {"service": service.name, **asdict(settings)},
        "pairs": {o.pair.name: o.report() for o in outcomes},
    }
    (out / "bench.json").write_text(json.dumps(report, indent=2) + "\n")
    judge(outcomes, service, settings.no_assert)
    return outcomes


def _start(
    stack: ExitStack, targets: Sequence[str], cpu: int, out: Path, app_dir: Path
) -> dict[str, Server]:
    with step("starting uvicorn for " + " and ".join(targets)):
        return {
            t: stack.enter_context(
                running_server(t, cpu, out / f"{t.replace(':', '-')}.log", app_dir)
            )
            for t in targets
        }


def judge(outcomes: Sequence[Outcome], service: Service, no_assert: bool) -> None:
    missed = [o for o in outcomes if not o.meets]
    if missed and not no_assert:
        raise PlatformError(
            "below the goal: "
            + "; ".join(f"{o.pair.name} {o.cpu_ratio:.2f}x < {o.pair.goal:.2f}x" for o in missed),
            hint=f"profile the middleware of {service.app} ({service.folder}), or pass "
            "--no-assert to only measure",
        )
