"""Reading the ``Aggregated`` rows of Locust's ``<prefix>_stats_history.csv``."""

from __future__ import annotations

import csv
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class LoadPoint:
    t: float
    users: int
    rps: float
    fail_per_s: float
    #: current p95 response time (ms); ``None`` while there are no recent requests.
    p95_ms: float | None
    total_requests: int
    total_failures: int


def _number(value: str | None) -> float | None:
    if value is None or value.strip() in ("", "N/A"):
        return None
    return float(value)


def parse_history(lines: Iterable[str]) -> list[LoadPoint]:
    """The Aggregated rows in time order; a last line cut short mid-write is skipped."""
    points = []
    for row in csv.DictReader(lines):
        if row.get("Name") != "Aggregated":
            continue
        try:
            points.append(
                LoadPoint(
                    t=float(row["Timestamp"]),
                    users=int(row["User Count"]),
                    rps=_number(row.get("Requests/s")) or 0.0,
                    fail_per_s=_number(row.get("Failures/s")) or 0.0,
                    p95_ms=_number(row.get("95%")),
                    total_requests=int(row["Total Request Count"]),
                    total_failures=int(row["Total Failure Count"]),
                )
            )
        except (KeyError, TypeError, ValueError):
            continue
    return points


def read_history(path: Path) -> list[LoadPoint]:
    if not path.exists():
        return []
    with path.open(newline="") as fh:
        return parse_history(fh.read().splitlines())


def load_window(points: list[LoadPoint]) -> tuple[float, float] | None:
    active = [p.t for p in points if p.users > 0]
    return (active[0], active[-1]) if active else None
