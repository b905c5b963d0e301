"""``hello-platform bench``: what the service's stack costs, measured in two pairs side by side.

* ``static``: ``GET /`` of the service (a static route: its response, rendered once by
  FastAPI, is served by the middleware) against a raw ASGI app. Goal: >= 0.70x.
* ``route``: ``GET /version`` of the service (an ordinary FastAPI route, through all of
  the service's middleware) against the same route on the same FastAPI app without the
  middleware. Goal: >= 0.90x.

The service is ``--service``'s (its catalogue entry's ``app``); the baselines live in its
folder's ``bench/baselines.py``, outside its package.
All three servers run under the very same uvicorn command line (one worker, httptools,
uvloop, no access log) pinned to one core with ``taskset``; wrk, pinned to the other core,
loads them against 127.0.0.1 only, for a bounded time: a warm-up, then ``--rounds``
rounds of ``--duration`` seconds per pair, in which the two sides of the pair are loaded
side by side (two wrk at once, the two servers sharing their core).

So whatever else the machine does (other builds sharing the cores) weighs on both sides
alike. Each run also reads the server's CPU time from ``/proc``: requests per CPU-second
is what a server does with one core, and the ratio of a pair by it is what the goal is
checked on (the median of the rounds' ratios); the rps ratio is shown too. A JSON report
goes to ``out/bench/``; the run fails when a pair misses its goal, unless ``--no-assert``.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import socket
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack, contextmanager
from dataclasses import asdict, dataclass
from pathlib import Path

from hello_platform.core import cli as shared
from hello_platform.core import paths, proc
from hello_platform.core.catalogue import Service
from hello_platform.core.errors import PlatformError
from hello_platform.core.progress import say, step
from hello_platform.core.wait import Check, until
from hello_platform.pipeline import wrk
from hello_platform.toolchain import apt as system

#: Where a service's baselines are, in its folder (run with ``uvicorn --app-dir``; not in
#: the service's package).
BASELINES = "bench"
#: The uvicorn flags every target runs with (the service's own server uses the same).
UVICORN_FLAGS = (
    "--workers",
    "1",
    "--http",
    "httptools",
    "--loop",
    "uvloop",
    "--no-access-log",
    "--log-level",
    "warning",
    "--lifespan",
    "on",
)
HOST = "127.0.0.1"  # load goes to loopback only


@dataclass(frozen=True)
class Pair:
    """The service against a baseline, on one path, with the goal for their ratio."""

    name: str
    path: str
    baseline: str
    goal: float
    what: str


PAIRS = (
    Pair("static", "/", "baselines:raw", 0.70, "static route vs a raw ASGI app"),
    Pair("route", "/version", "baselines:bare", 0.90, "FastAPI route vs it without middleware"),
)


@dataclass(frozen=True)
class Run:
    """One wrk run against one server, with the CPU time the server used meanwhile."""

    wrk: wrk.Result
    seconds: float
    cpu_seconds: float

    @property
    def rps(self) -> float:
        return self.wrk.rps

    @property
    def per_cpu_second(self) -> float:
        """Requests served per second of server CPU time."""
        return self.wrk.requests / self.cpu_seconds if self.cpu_seconds > 0 else 0.0

    @property
    def cpu_share(self) -> float:
        """How much of one core the server got (1.0 = saturated)."""
        return self.cpu_seconds / self.seconds if self.seconds > 0 else 0.0


def _ratio(app: float, baseline: float) -> float:
    return app / baseline if baseline else 0.0


@dataclass(frozen=True)
class Round:
    """One round of a pair: the baseline's run and the service's, back to back."""

    baseline: Run
    service: Run

    @property
    def rps_ratio(self) -> float:
        return _ratio(self.service.rps, self.baseline.rps)

    @property
    def cpu_ratio(self) -> float:
        """The service's requests per CPU-second as a share of the baseline's."""
        return _ratio(self.service.per_cpu_second, self.baseline.per_cpu_second)


@dataclass(frozen=True)
class Outcome:
    """All rounds of one pair, their medians and the verdict."""

    pair: Pair
    rounds: tuple[Round, ...]

    @property
    def cpu_ratio(self) -> float:
        """The median of the rounds' ratios by requests per CPU-second: the verdict's."""
        return statistics.median(r.cpu_ratio for r in self.rounds)

    @property
    def rps_ratio(self) -> float:
        return statistics.median(r.rps_ratio for r in self.rounds)

    @property
    def meets(self) -> bool:
        return self.cpu_ratio >= self.pair.goal

    def runs(self, side: str) -> list[Run]:
        """The runs of one side: ``baseline`` or ``service``."""
        return [r.service if side == "service" else r.baseline for r in self.rounds]

    def report(self) -> dict[str, object]:
        return {
            "path": self.pair.path,
            "baseline": self.pair.baseline,
            "goal": self.pair.goal,
            "cpu_ratio": self.cpu_ratio,
            "rps_ratio": self.rps_ratio,
            "meets": self.meets,
            "rounds": [
                {**asdict(r), "cpu_ratio": r.cpu_ratio, "rps_ratio": r.rps_ratio}
                for r in self.rounds
            ],
        }


#: The columns of the table, medians of each side's runs: rps, p99, req/cpu-s, core.
_COLUMNS: tuple[Callable[[Run], float], ...] = (
    lambda r: r.rps,
    lambda r: r.wrk.p99_ms,
    lambda r: r.per_cpu_second,
    lambda r: r.cpu_share,
)


def render_table(outcomes: Sequence[Outcome]) -> str:
    """The result as a plain-text table: medians per side, ratios per round and overall."""
    lines = [f"{'pair':<8}{'side':<10}{'rps':>8}{'p99':>11}{'req/cpu-s':>11}{'core':>6}"]
    for o in outcomes:
        for side in ("baseline", "service"):
            runs = o.runs(side)
            medians = [statistics.median(f(r) for r in runs) for f in _COLUMNS]
            lines.append(
                f"{o.pair.name:<8}{side:<10}{medians[0]:>8.0f}{medians[1]:>8.2f} ms"
                f"{medians[2]:>11.0f}{medians[3]:>6.0%}"
            )
    for o in outcomes:
        rounds = " ".join(f"{r.cpu_ratio:.3f}" for r in o.rounds)
        verdict = "meets" if o.meets else "MISSES"
        lines.append(
            f"{o.pair.name} ({o.pair.what}): {o.cpu_ratio:.3f}x by requests per CPU-second "
            f"(rounds: {rounds}), {o.rps_ratio:.3f}x by rps; {verdict} the goal "
            f">= {o.pair.goal:.2f}x"
        )
    return "\n".join(lines)


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of process ``pid`` so far, from ``/proc/PID/stat``."""
    stat = Path(f"/proc/{pid}/stat").read_text()
    fields = stat[stat.rindex(")") + 2 :].split()  # the fields after "pid (comm)"
    utime, stime = int(fields[11]), int(fields[12])  # fields 14 and 15 of proc(5)
    return (utime + stime) / os.sysconf("SC_CLK_TCK")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        port: int = sock.getsockname()[1]
        return port


def baselines_dir(service: Service) -> Path:
    """The folder of the service's baseline apps (``<folder>/bench``)."""
    return service.folder / BASELINES


def server_command(asgi_app: str, port: int, cpu: int, app_dir: Path) -> list[str]:
    """The uvicorn command line serving ``asgi_app`` (``module:attr``), pinned to ``cpu``."""
    return [
        *("taskset", "-c", str(cpu), sys.executable, "-m", "uvicorn", asgi_app),
        *("--app-dir", str(app_dir), "--host", HOST, "--port", str(port)),
        *UVICORN_FLAGS,
    ]


def wait_until_serving(
    process: subprocess.Popen[bytes], port: int, path: str, log: Path, timeout: float = 30.0
) -> None:
    """Poll ``GET path`` until it answers 200, or fail naming the log."""

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
    """A running uvicorn and its base URL."""

    process: subprocess.Popen[bytes]
    url: str


@contextmanager
def running_server(asgi_app: str, cpu: int, log: Path, app_dir: Path) -> Iterator[Server]:
    """Start uvicorn for ``asgi_app``, wait until it serves, stop it (by its pid) afterwards."""
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
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


@dataclass(frozen=True)
class Load:
    """How to load a server: seconds per run, wrk connections and the core wrk runs on."""

    seconds: int
    connections: int
    cpu: int
    log: Path

    def run(self, url: str) -> wrk.Result:
        """One wrk run (its report is appended to the log)."""
        return wrk.run(
            url,
            seconds=self.seconds,
            connections=self.connections,
            cpu=self.cpu,
            log=self.log,
        )

    def measure(self, servers: Sequence[Server], path: str) -> list[Run]:
        """One wrk run against each server, all at the same time, with the CPU time each
        server used meanwhile: they share the server core, and whatever else the machine
        does then weighs on all of them alike."""
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


def measure_pairs(
    pairs: Sequence[Pair], servers: dict[str, Server], load: Load, rounds: int, app: str
) -> list[Outcome]:
    """``rounds`` rounds; in each, the two sides of every pair (the service is ``app``) are
    loaded side by side."""
    runs: dict[str, list[Round]] = {p.name: [] for p in pairs}
    for n in range(rounds):
        for pair in pairs:
            baseline, service = load.measure([servers[pair.baseline], servers[app]], pair.path)
            result = Round(baseline, service)
            runs[pair.name].append(result)
            say(
                f"round {n + 1}/{rounds} {pair.name}: service {service.rps:.0f} rps, "
                f"baseline {baseline.rps:.0f} rps; {result.cpu_ratio:.3f}x by requests per "
                f"CPU-second (servers got {service.cpu_share:.0%} and {baseline.cpu_share:.0%} "
                "of a core)"
            )
    return [Outcome(p, tuple(runs[p.name])) for p in pairs]


def run(args: argparse.Namespace) -> int:
    check_host(args.server_cpu, args.client_cpu)
    out = paths.out_dir() / "bench"
    out.mkdir(parents=True, exist_ok=True)
    load = Load(args.duration, args.connections, args.client_cpu, out / "wrk.log")
    load.log.write_text("")
    pairs = [p for p in PAIRS if args.pair is None or p.name in args.pair]
    service = shared.service(args)
    targets = [service.app, *(p.baseline for p in pairs)]
    say(
        f"benchmark: {', '.join(p.name for p in pairs)}; {args.rounds} rounds x "
        f"{args.duration}s per side, {args.connections} connections (logs: {out})"
    )
    app_dir = baselines_dir(service)
    with ExitStack() as stack:
        with step("starting uvicorn for " + " and ".join(targets)):
            servers = {
                t: stack.enter_context(
                    running_server(t, args.server_cpu, out / f"{t.replace(':', '-')}.log", app_dir)
                )
                for t in targets
            }
        if args.warmup:
            with step(f"warming up ({args.warmup}s per pair)"):
                for pair in pairs:
                    warm = Load(args.warmup, args.connections, args.client_cpu, load.log)
                    warm.measure([servers[pair.baseline], servers[service.app]], pair.path)
        outcomes = measure_pairs(pairs, servers, load, args.rounds, service.app)
    print(render_table(outcomes))
    report = {
        "settings": {k: v for k, v in vars(args).items() if k != "func"},
        "pairs": {o.pair.name: o.report() for o in outcomes},
    }
    (out / "bench.json").write_text(json.dumps(report, indent=2) + "\n")
    missed = [o for o in outcomes if not o.meets]
    if missed and not args.no_assert:
        raise PlatformError(
            "below the goal: "
            + "; ".join(f"{o.pair.name} {o.cpu_ratio:.2f}x < {o.pair.goal:.2f}x" for o in missed),
            hint=f"profile the middleware of {service.app} ({service.folder}), or pass "
            "--no-assert to only measure",
        )
    return 0


def _positive_int(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, not {value}")
    return value


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser(
        "bench",
        help="what the service's stack costs: two pairs of servers side by side",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    shared.add_service(parser)
    parser.add_argument("--duration", type=_positive_int, default=5, help="seconds per run")
    parser.add_argument("--rounds", type=_positive_int, default=5, help="rounds per pair")
    parser.add_argument("--warmup", type=int, default=2, help="warm-up seconds per side")
    parser.add_argument("--connections", type=_positive_int, default=64, help="wrk connections")
    parser.add_argument(
        "--pair",
        action="append",
        choices=[p.name for p in PAIRS],
        help="measure only this pair (repeatable; default: all)",
    )
    parser.add_argument("--no-assert", action="store_true", help="report, never fail on a goal")
    parser.add_argument("--server-cpu", type=int, default=1, help="core for uvicorn (default: 1)")
    parser.add_argument("--client-cpu", type=int, default=0, help="core for wrk (default: 0)")
    parser.set_defaults(func=run)
