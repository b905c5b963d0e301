"""``hello-platform bench``: throughput of the instrumented service against a raw ASGI app.

Both run under the very same uvicorn command line (one worker, httptools, uvloop, no
access log) pinned to one core with ``taskset``; wrk, pinned to the other core, loads
them in turns against 127.0.0.1 only, for a bounded time: a warm-up, then ``--rounds``
rounds of ``--duration`` seconds each, alternating which goes first. The result is a
table (median rps and p99 of the rounds) and the ratio app/raw, which must reach
``--min-ratio`` unless ``--no-assert``. A JSON report goes to ``out/bench/``.

On a busy machine (other builds sharing the cores) neither server may get a whole
core, and then both are limited by the scheduler rather than by their own cost, which
pushes the rps ratio towards 1. So each round also reads the server's CPU time from
``/proc`` and reports requests per CPU-second: its ratio is what the rps ratio would be
on an idle machine. The goal must hold for both ratios.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import re
import socket
import statistics
import subprocess
import sys
import time
from collections.abc import Iterator, Sequence
from contextlib import ExitStack, contextmanager
from dataclasses import asdict, dataclass
from pathlib import Path

from hello_platform.core import cli as shared
from hello_platform.core import paths, proc
from hello_platform.core.errors import PlatformError
from hello_platform.core.progress import say, step
from hello_platform.toolchain import apt as system

#: The baseline the service's app (its catalogue entry's ``app``) is measured against.
RAW_APP = "hello_platform.pipeline.bench_raw:app"
#: The uvicorn flags both targets run with (the service's own server uses the same).
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
#: The goal: the instrumented app reaches at least this share of the raw app's rps.
MIN_RATIO = 0.40
HOST = "127.0.0.1"  # load goes to loopback only

_UNITS = {"us": 1e-3, "ms": 1.0, "s": 1e3, "m": 60e3, "h": 3600e3}
_P99 = re.compile(r"^\s*99(?:\.0+)?%\s+([\d.]+)(us|ms|s|m|h)\s*$", re.MULTILINE)
_RPS = re.compile(r"^Requests/sec:\s+([\d.]+)\s*$", re.MULTILINE)
_TOTAL = re.compile(r"^\s*(\d+) requests in ([\d.]+)(us|ms|s|m|h)", re.MULTILINE)
_NON_2XX = re.compile(r"^\s*Non-2xx or 3xx responses:\s+(\d+)\s*$", re.MULTILINE)
_SOCKET_ERRORS = re.compile(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)")


@dataclass(frozen=True)
class WrkResult:
    """What one wrk run measured."""

    rps: float
    p99_ms: float
    requests: int
    non_2xx: int = 0
    socket_errors: int = 0


def parse_wrk(output: str) -> WrkResult:
    """Parse the report of ``wrk --latency``; a ValueError says what is missing."""
    rps = _RPS.search(output)
    p99 = _P99.search(output)
    total = _TOTAL.search(output)
    missing = [
        name
        for name, m in (("Requests/sec", rps), ("99% latency", p99), ("request count", total))
        if m is None
    ]
    if missing or rps is None or p99 is None or total is None:
        raise ValueError(f"wrk output lacks {', '.join(missing)} (was it run with --latency?)")
    non_2xx = _NON_2XX.search(output)
    errors = _SOCKET_ERRORS.search(output)
    return WrkResult(
        rps=float(rps.group(1)),
        p99_ms=float(p99.group(1)) * _UNITS[p99.group(2)],
        requests=int(total.group(1)),
        non_2xx=int(non_2xx.group(1)) if non_2xx else 0,
        socket_errors=sum(int(g) for g in errors.groups()) if errors else 0,
    )


@dataclass(frozen=True)
class Round:
    """One wrk run against one target, with the CPU time its server used meanwhile."""

    wrk: WrkResult
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


@dataclass(frozen=True)
class Summary:
    """The rounds of one target, and their medians."""

    target: str
    rounds: tuple[Round, ...]

    @property
    def rps(self) -> float:
        return statistics.median(r.rps for r in self.rounds)

    @property
    def p99_ms(self) -> float:
        return statistics.median(r.wrk.p99_ms for r in self.rounds)

    @property
    def per_cpu_second(self) -> float:
        return statistics.median(r.per_cpu_second for r in self.rounds)

    @property
    def cpu_share(self) -> float:
        return statistics.median(r.cpu_share for r in self.rounds)


@dataclass(frozen=True)
class Ratios:
    """The app as a share of the raw app: by rps, and by requests per CPU-second."""

    rps: float
    per_cpu_second: float

    @classmethod
    def of(cls, app: Summary, raw: Summary) -> Ratios:
        return cls(
            rps=app.rps / raw.rps if raw.rps else 0.0,
            per_cpu_second=app.per_cpu_second / raw.per_cpu_second if raw.per_cpu_second else 0.0,
        )

    def meets(self, goal: float) -> bool:
        return self.rps >= goal and self.per_cpu_second >= goal


def render_table(summaries: Sequence[Summary], ratios: Ratios, min_ratio: float) -> str:
    """The result as a plain-text table."""
    lines = [
        f"{'target':<8}{'rps':>9}{'p99':>12}{'req/cpu-s':>11}{'core':>7}   rps per round",
    ]
    for s in summaries:
        rounds = " ".join(f"{r.rps:.0f}" for r in s.rounds)
        lines.append(
            f"{s.target:<8}{s.rps:>9.0f}{s.p99_ms:>9.2f} ms{s.per_cpu_second:>11.0f}"
            f"{s.cpu_share:>6.0%}   {rounds}"
        )
    verdict = "meets" if ratios.meets(min_ratio) else "MISSES"
    lines.append(
        f"ratio app/raw: {ratios.rps:.3f} by rps, {ratios.per_cpu_second:.3f} by requests per "
        f"CPU-second ({verdict} the goal >= {min_ratio:.2f}; medians of the rounds)"
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


def server_command(asgi_app: str, port: int, cpu: int) -> list[str]:
    """The uvicorn command line serving ``asgi_app`` (``module:attr``), pinned to ``cpu``."""
    return [
        "taskset",
        "-c",
        str(cpu),
        sys.executable,
        "-m",
        "uvicorn",
        asgi_app,
        "--host",
        HOST,
        "--port",
        str(port),
        *UVICORN_FLAGS,
    ]


def wrk_command(url: str, *, seconds: int, connections: int, cpu: int) -> list[str]:
    return [
        "taskset",
        "-c",
        str(cpu),
        "wrk",
        "--latency",
        "-t1",
        f"-c{connections}",
        f"-d{seconds}s",
        url,
    ]


def wait_until_serving(
    process: subprocess.Popen[bytes], port: int, path: str, log: Path, timeout: float = 30.0
) -> None:
    """Poll ``GET path`` until it answers 200, or fail naming the log."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise PlatformError(
                f"the benchmark server exited with status {process.returncode}", log=str(log)
            )
        conn = http.client.HTTPConnection(HOST, port, timeout=2)
        try:
            conn.request("GET", path)
            if conn.getresponse().status == 200:
                return
        except OSError:
            pass
        finally:
            conn.close()
        time.sleep(0.2)
    raise PlatformError(
        f"the benchmark server did not answer on port {port} within {timeout:.0f}s", log=str(log)
    )


@contextmanager
def running_server(
    asgi_app: str, port: int, cpu: int, log: Path, path: str
) -> Iterator[subprocess.Popen[bytes]]:
    """Start uvicorn for ``asgi_app``, wait until it serves, stop it (by its pid) afterwards."""
    log.parent.mkdir(parents=True, exist_ok=True)
    env = {**os.environ, "HELLO_ACCESS_LOG": "false", "HELLO_LOG_LEVEL": "warning"}
    with log.open("wb") as fh:
        process = subprocess.Popen(
            server_command(asgi_app, port, cpu), stdout=fh, stderr=subprocess.STDOUT, env=env
        )
    try:
        wait_until_serving(process, port, path, log)
        yield process
    finally:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def measure(
    server: subprocess.Popen[bytes],
    url: str,
    *,
    seconds: int,
    connections: int,
    cpu: int,
    log: Path,
) -> Round:
    """One wrk run against ``server``, with the CPU time the server used meanwhile."""
    cpu_before, wall_before = cpu_seconds(server.pid), time.monotonic()
    result = load(url, seconds=seconds, connections=connections, cpu=cpu, log=log)
    wall = time.monotonic() - wall_before
    return Round(result, seconds=wall, cpu_seconds=cpu_seconds(server.pid) - cpu_before)


def load(url: str, *, seconds: int, connections: int, cpu: int, log: Path) -> WrkResult:
    """One wrk run; its report is appended to ``log``."""
    output = proc.run(
        wrk_command(url, seconds=seconds, connections=connections, cpu=cpu),
        what="wrk",
        capture=True,
        timeout=seconds + 60,
        hint="see that the benchmark servers are running and wrk works",
    )
    with log.open("a") as fh:
        fh.write(output + "\n")
    try:
        result = parse_wrk(output)
    except ValueError as err:
        raise PlatformError(f"could not read wrk's report: {err}", log=str(log)) from err
    if result.requests == 0 or result.non_2xx:
        raise PlatformError(
            f"{url} answered {result.non_2xx} of {result.requests} requests with an error status",
            hint="run the app by hand and look at its answers",
            log=str(log),
        )
    return result


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


def run(args: argparse.Namespace) -> int:
    check_host(args.server_cpu, args.client_cpu)
    out = paths.out_dir() / "bench"
    out.mkdir(parents=True, exist_ok=True)
    wrk_log = out / "wrk.log"
    wrk_log.write_text("")
    service = shared.service(args)
    targets = {"raw": RAW_APP, "app": args.app or service.app}
    results: dict[str, list[Round]] = {t: [] for t in targets}
    total = args.warmup * 2 + args.rounds * args.duration * 2
    say(
        f"benchmark: {args.rounds} rounds x {args.duration}s per target, "
        f"{args.connections} connections, about {total}s of load (logs: {out})"
    )
    with ExitStack() as stack:
        urls, servers = {}, {}
        with step("starting uvicorn for " + " and ".join(targets.values())):
            for target, asgi_app in targets.items():
                port = free_port()
                log = out / f"{target}.log"
                servers[target] = stack.enter_context(
                    running_server(asgi_app, port, args.server_cpu, log, args.path)
                )
                urls[target] = f"http://{HOST}:{port}{args.path}"
        if args.warmup:
            with step(f"warming up ({args.warmup}s each)"):
                for target in targets:
                    load(
                        urls[target],
                        seconds=args.warmup,
                        connections=args.connections,
                        cpu=args.client_cpu,
                        log=wrk_log,
                    )
        for n in range(args.rounds):
            order = list(targets) if n % 2 == 0 else list(reversed(targets))
            for target in order:
                result = measure(
                    servers[target],
                    urls[target],
                    seconds=args.duration,
                    connections=args.connections,
                    cpu=args.client_cpu,
                    log=wrk_log,
                )
                results[target].append(result)
                say(
                    f"round {n + 1}/{args.rounds} {target}: {result.rps:.0f} rps, "
                    f"p99 {result.wrk.p99_ms:.2f} ms, server used {result.cpu_share:.0%} of a core"
                )
    summaries = [Summary(t, tuple(results[t])) for t in targets]
    ratios = Ratios.of(summaries[1], summaries[0])
    print(render_table(summaries, ratios, args.min_ratio))
    report = {
        "ratio": asdict(ratios),
        "min_ratio": args.min_ratio,
        "settings": {k: v for k, v in vars(args).items() if k != "func"},
        "targets": {
            s.target: {
                "rps": s.rps,
                "p99_ms": s.p99_ms,
                "per_cpu_second": s.per_cpu_second,
                "cpu_share": s.cpu_share,
                "rounds": [asdict(r) for r in s.rounds],
            }
            for s in summaries
        },
    }
    (out / "bench.json").write_text(json.dumps(report, indent=2) + "\n")
    if not ratios.meets(args.min_ratio) and not args.no_assert:
        raise PlatformError(
            f"the instrumented app reached {ratios.rps:.2f}x the raw app's rps and "
            f"{ratios.per_cpu_second:.2f}x its requests per CPU-second, below the goal of "
            f"{args.min_ratio:.2f}x",
            hint=f"profile the hot path of {service.app} ({service.folder}), or pass --no-assert "
            "to only measure",
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
        help="throughput of the service against a raw ASGI app",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--duration", type=_positive_int, default=10, help="seconds per round")
    parser.add_argument("--rounds", type=_positive_int, default=3, help="rounds per target")
    parser.add_argument("--warmup", type=int, default=3, help="warm-up seconds per target")
    parser.add_argument("--connections", type=_positive_int, default=64, help="wrk connections")
    parser.add_argument("--path", default="/", help="the path to load (default: /)")
    shared.add_service(parser)
    parser.add_argument(
        "--app",
        help="the ASGI app to compare with the raw one (default: the service's app; "
        "its .api attribute, where it has one, is FastAPI alone, without a fast path)",
    )
    parser.add_argument(
        "--min-ratio",
        type=float,
        default=MIN_RATIO,
        help=f"goal for app rps / raw rps (default: {MIN_RATIO})",
    )
    parser.add_argument("--no-assert", action="store_true", help="report, never fail on the ratio")
    parser.add_argument("--server-cpu", type=int, default=1, help="core for uvicorn (default: 1)")
    parser.add_argument("--client-cpu", type=int, default=0, help="core for wrk (default: 0)")
    parser.set_defaults(func=run)
