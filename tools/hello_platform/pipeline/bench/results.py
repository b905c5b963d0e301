"""The benchmark's figures: wrk's report, the pairs, runs, rounds, their ratios, the table."""

from __future__ import annotations

import os
import re
import statistics
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path

from hello_platform.core import proc
from hello_platform.core.errors import PlatformError

_UNITS = {"us": 1e-3, "ms": 1.0, "s": 1e3, "m": 60e3, "h": 3600e3}
_P99 = re.compile(r"^\s*99(?:\.0+)?%\s+([\d.]+)(us|ms|s|m|h)\s*$", re.MULTILINE)
_RPS = re.compile(r"^Requests/sec:\s+([\d.]+)\s*$", re.MULTILINE)
_TOTAL = re.compile(r"^\s*(\d+) requests in ([\d.]+)(us|ms|s|m|h)", re.MULTILINE)
_NON_2XX = re.compile(r"^\s*Non-2xx or 3xx responses:\s+(\d+)\s*$", re.MULTILINE)
_SOCKET_ERRORS = re.compile(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)")


@dataclass(frozen=True)
class WrkResult:
    rps: float
    p99_ms: float
    requests: int
    non_2xx: int = 0
    socket_errors: int = 0


def parse_wrk(output: str) -> WrkResult:
    """Parse the report of ``wrk --latency``; a ValueError says what is missing."""
    rps, p99, total = _RPS.search(output), _P99.search(output), _TOTAL.search(output)
    if rps is None or p99 is None or total is None:
        found = {"Requests/sec": rps, "99% latency": p99, "request count": total}
        missing = ", ".join(name for name, m in found.items() if m is None)
        raise ValueError(f"wrk output lacks {missing} (was it run with --latency?)")
    non_2xx = _NON_2XX.search(output)
    errors = _SOCKET_ERRORS.search(output)
    return WrkResult(
        rps=float(rps.group(1)),
        p99_ms=float(p99.group(1)) * _UNITS[p99.group(2)],
        requests=int(total.group(1)),
        non_2xx=int(non_2xx.group(1)) if non_2xx else 0,
        socket_errors=sum(int(g) for g in errors.groups()) if errors else 0,
    )


def wrk_command(url: str, *, seconds: int, connections: int, cpu: int) -> list[str]:
    return [
        *("taskset", "-c", str(cpu), "wrk", "--latency", "-t1"),
        *(f"-c{connections}", f"-d{seconds}s", url),
    ]


def run_wrk(url: str, *, seconds: int, connections: int, cpu: int, log: Path) -> WrkResult:
    """One bounded wrk run, its report appended to ``log``; a non-2xx/3xx answer fails it."""
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
            f"{url} answered {result.non_2xx} of {result.requests} requests with an error",
            hint="run the app by hand and look at its answers",
            log=str(log),
        )
    return result


@dataclass(frozen=True)
class Pair:
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
    wrk: WrkResult
    seconds: float
    cpu_seconds: float

    @property
    def per_cpu_second(self) -> float:
        return self.wrk.requests / self.cpu_seconds if self.cpu_seconds > 0 else 0.0

    @property
    def cpu_share(self) -> float:
        return self.cpu_seconds / self.seconds if self.seconds > 0 else 0.0


def _ratio(app: float, baseline: float) -> float:
    return app / baseline if baseline else 0.0


@dataclass(frozen=True)
class Round:
    baseline: Run
    service: Run

    @property
    def rps_ratio(self) -> float:
        return _ratio(self.service.wrk.rps, self.baseline.wrk.rps)

    @property
    def cpu_ratio(self) -> float:
        return _ratio(self.service.per_cpu_second, self.baseline.per_cpu_second)


@dataclass(frozen=True)
class Outcome:
    pair: Pair
    rounds: tuple[Round, ...]

    @property
    def cpu_ratio(self) -> float:
        return statistics.median(r.cpu_ratio for r in self.rounds)

    @property
    def rps_ratio(self) -> float:
        return statistics.median(r.rps_ratio for r in self.rounds)

    @property
    def meets(self) -> bool:
        return self.cpu_ratio >= self.pair.goal

    def runs(self, side: str) -> list[Run]:
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
    lambda r: r.wrk.rps,
    lambda r: r.wrk.p99_ms,
    lambda r: r.per_cpu_second,
    lambda r: r.cpu_share,
)


def render_table(outcomes: Sequence[Outcome]) -> str:
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
    stat = Path(f"/proc/{pid}/stat").read_text()
    fields = stat[stat.rindex(")") + 2 :].split()  # the fields after "pid (comm)"
    utime, stime = int(fields[11]), int(fields[12])  # fields 14 and 15 of proc(5)
    return (utime + stime) / os.sysconf("SC_CLK_TCK")
