"""wrk, the HTTP load generator of ``hello-platform bench``: its command line and its report."""

from __future__ import annotations

import re
from dataclasses import dataclass
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
class Result:
    rps: float
    p99_ms: float
    requests: int
    non_2xx: int = 0
    socket_errors: int = 0


def parse(output: str) -> Result:
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
    return Result(
        rps=float(rps.group(1)),
        p99_ms=float(p99.group(1)) * _UNITS[p99.group(2)],
        requests=int(total.group(1)),
        non_2xx=int(non_2xx.group(1)) if non_2xx else 0,
        socket_errors=sum(int(g) for g in errors.groups()) if errors else 0,
    )


def command(url: str, *, seconds: int, connections: int, cpu: int) -> list[str]:
    return [
        *("taskset", "-c", str(cpu), "wrk", "--latency", "-t1"),
        *(f"-c{connections}", f"-d{seconds}s", url),
    ]


def run(url: str, *, seconds: int, connections: int, cpu: int, log: Path) -> Result:
    """One bounded wrk run, its report appended to ``log``; a non-2xx/3xx answer fails it."""
    output = proc.run(
        command(url, seconds=seconds, connections=connections, cpu=cpu),
        what="wrk",
        capture=True,
        timeout=seconds + 60,
        hint="see that the benchmark servers are running and wrk works",
    )
    with log.open("a") as fh:
        fh.write(output + "\n")
    try:
        result = parse(output)
    except ValueError as err:
        raise PlatformError(f"could not read wrk's report: {err}", log=str(log)) from err
    if result.requests == 0 or result.non_2xx:
        raise PlatformError(
            f"{url} answered {result.non_2xx} of {result.requests} requests with an error",
            hint="run the app by hand and look at its answers",
            log=str(log),
        )
    return result
