"""Locust load for the hello service: mostly ``GET /``, a little ``/healthz``.

Run headless and bounded, e.g. (``nox -s loadtest`` does this for you)::

    locust -f loadtests/locustfile.py --headless -u 40 -r 4 --run-time 4m --stop-timeout 5 \\
        --host http://127.0.0.1:30080 --hold-time 120 --csv out/loadtest/x/locust \\
        --csv-full-history --html out/loadtest/x/locust.html

The shape (``shape.py``) ramps, holds and stops. At exit a ``quitting`` listener applies
the thresholds: failure ratio (``--fail-ratio-max``) and p95 latency of the requests made
during the hold stage (``--p95-max-ms``); a breach sets the process exit code to 1.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import locust.stats
from locust import FastHttpUser, constant_throughput, events, task
from shape import RampHoldShape

__all__ = ["HelloUser", "RampHoldShape"]

# Flush the CSV history every second so the runner's progress lines are current.
locust.stats.CSV_STATS_FLUSH_INTERVAL_SEC = 1


@events.init_command_line_parser.add_listener
def _add_arguments(parser: Any) -> None:
    group = parser.add_argument_group("hello-platform load test")
    group.add_argument(
        "--hold-time",
        type=float,
        default=120.0,
        help="seconds to hold the peak user count after the ramp",
    )
    group.add_argument(
        "--user-rps",
        type=float,
        default=5.0,
        help="requests per second each user aims at (constant throughput)",
    )
    group.add_argument(
        "--p95-max-ms",
        type=float,
        default=1000.0,
        help="p95 latency limit (ms) for the requests of the hold stage",
    )
    group.add_argument(
        "--fail-ratio-max",
        type=float,
        default=0.01,
        help="largest acceptable share of failed requests (0.01 = 1%%)",
    )
    group.add_argument(
        "--verdict-file", default="", help="write the threshold verdict as JSON to this file"
    )


class HoldLatency:
    """Response times (ms, rounded like Locust does) of the requests made while holding."""

    def __init__(self) -> None:
        self.counts: dict[int, int] = {}
        self.total = 0

    def add(self, response_time_ms: float) -> None:
        key = round(response_time_ms) if response_time_ms < 100 else round(response_time_ms, -1)
        self.counts[int(key)] = self.counts.get(int(key), 0) + 1
        self.total += 1

    def percentile(self, fraction: float) -> float | None:
        if not self.total:
            return None
        rank = math.ceil(self.total * fraction)
        seen = 0
        for value in sorted(self.counts):
            seen += self.counts[value]
            if seen >= rank:
                return float(value)
        return float(max(self.counts))


HOLD = HoldLatency()


def violations(
    *, requests: int, failures: int, p95_ms: float | None, fail_ratio_max: float, p95_max_ms: float
) -> list[str]:
    """The thresholds breached; an empty list passes."""
    found = []
    if requests == 0:
        found.append("no requests were made")
    elif failures / requests > fail_ratio_max:
        found.append(f"failure ratio {failures / requests:.2%} > {fail_ratio_max:.2%}")
    if p95_ms is not None and p95_ms > p95_max_ms:
        found.append(f"p95 latency during hold {p95_ms:.0f} ms > {p95_max_ms:.0f} ms")
    return found


_shape: RampHoldShape | None = None


@events.request.add_listener
def _record_hold(response_time: float, exception: Any, **_: Any) -> None:
    if exception is None and _shape is not None and _shape.stage == "hold":
        HOLD.add(response_time)


@events.init.add_listener
def _remember_shape(environment: Any, **_: Any) -> None:
    global _shape
    shape = environment.shape_class
    _shape = shape if isinstance(shape, RampHoldShape) else None


@events.quitting.add_listener
def _apply_thresholds(environment: Any, **_: Any) -> None:
    opts = environment.parsed_options
    total = environment.stats.total
    p95_total = float(total.get_response_time_percentile(0.95)) if total.num_requests else None
    p95 = HOLD.percentile(0.95)
    if p95 is None and total.num_requests:  # no hold stage (shape not used): whole run
        p95 = p95_total
    found = violations(
        requests=total.num_requests,
        failures=total.num_failures,
        p95_ms=p95,
        fail_ratio_max=opts.fail_ratio_max,
        p95_max_ms=opts.p95_max_ms,
    )
    for message in found:
        print(f"threshold breached: {message}", flush=True)
    if found:
        environment.process_exit_code = 1
    if opts.verdict_file:
        Path(opts.verdict_file).write_text(
            json.dumps(
                {
                    "requests": total.num_requests,
                    "failures": total.num_failures,
                    "fail_ratio": total.fail_ratio,
                    "p95_hold_ms": HOLD.percentile(0.95),
                    "hold_requests": HOLD.total,
                    "p95_total_ms": p95_total,
                    "fail_ratio_max": opts.fail_ratio_max,
                    "p95_max_ms": opts.p95_max_ms,
                    "violations": found,
                },
                indent=2,
            )
            + "\n"
        )


class HelloUser(FastHttpUser):
    """A client of the hello service; each user aims at ``--user-rps`` requests per second."""

    def wait_time(self) -> float:
        rps = float(getattr(self.environment.parsed_options, "user_rps", 5.0) or 5.0)
        return float(constant_throughput(rps)(self))

    @task(20)
    def greeting(self) -> None:
        with self.client.get("/", name="GET /", catch_response=True) as response:
            if response.status_code != 200:
                response.failure(f"status {response.status_code}")
                return
            try:
                body = response.json()
            except ValueError:
                response.failure("body is not JSON")
                return
            if not isinstance(body, dict) or not body:
                response.failure("greeting is not a JSON object")

    @task(1)
    def health(self) -> None:
        with self.client.get("/healthz", name="GET /healthz", catch_response=True) as response:
            if response.status_code != 200:
                response.failure(f"status {response.status_code}")
