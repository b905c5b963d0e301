"""What a run measures: a bounded background thread that samples the HPA, the pods and their
CPU (a failed reading is recorded in the sample and the loop goes on), and Locust's
``Aggregated`` rows of ``<prefix>_stats_history.csv``."""

from __future__ import annotations

import csv
import json
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Protocol

from hello_platform.core.errors import PlatformError
from hello_platform.pipeline.loadtest.kube import HpaStatus, PodCounts, PodUsage


@dataclass(frozen=True)
class Sample:
    t: float
    hpa: HpaStatus | None = None
    pods: PodCounts | None = None
    usage: tuple[PodUsage, ...] | None = None
    errors: tuple[str, ...] = field(default_factory=tuple)


class ClusterReader(Protocol):
    def hpa(self, name: str) -> HpaStatus: ...
    def pods(self, selector: str) -> PodCounts: ...
    def pod_usage(self, selector: str) -> list[PodUsage]: ...


def take_sample(
    reader: ClusterReader, hpa_name: str, selector: str, clock: Callable[[], float] = time.time
) -> Sample:
    t = clock()
    errors: list[str] = []
    hpa: HpaStatus | None = None
    pods: PodCounts | None = None
    usage: tuple[PodUsage, ...] | None = None
    try:
        hpa = reader.hpa(hpa_name)
    except (PlatformError, ValueError, KeyError) as err:
        errors.append(f"hpa: {err}")
    try:
        pods = reader.pods(selector)
    except (PlatformError, ValueError, KeyError) as err:
        errors.append(f"pods: {err}")
    try:
        usage = tuple(reader.pod_usage(selector))
    except (PlatformError, ValueError, KeyError) as err:
        errors.append(f"metrics: {err}")
    return Sample(t=t, hpa=hpa, pods=pods, usage=usage, errors=tuple(errors))


class HpaWatcher(threading.Thread):
    """Samples every ``interval_s`` seconds for at most ``max_duration_s`` seconds."""

    def __init__(
        self,
        reader: ClusterReader,
        hpa_name: str,
        selector: str,
        *,
        interval_s: float = 3.0,
        max_duration_s: float = 600.0,
        log: Path | None = None,
    ) -> None:
        super().__init__(name="hpa-watcher", daemon=True)
        self.reader = reader
        self.hpa_name = hpa_name
        self.selector = selector
        self.interval_s = interval_s
        self.max_duration_s = max_duration_s
        self.log = log
        self.samples: list[Sample] = []
        self._lock = threading.Lock()
        self._stop_event = threading.Event()

    def run(self) -> None:
        # A sampler on a fixed cadence until stopped, not a wait for a state (core.wait.until).
        deadline = time.monotonic() + self.max_duration_s
        while not self._stop_event.is_set() and time.monotonic() < deadline:
            started = time.monotonic()
            sample = take_sample(self.reader, self.hpa_name, self.selector)
            with self._lock:
                self.samples.append(sample)
            if self.log is not None:
                with self.log.open("a") as fh:
                    fh.write(json.dumps(asdict(sample)) + "\n")
            spent = time.monotonic() - started
            self._stop_event.wait(max(0.0, self.interval_s - spent))

    def snapshot(self) -> list[Sample]:
        with self._lock:
            return list(self.samples)

    def latest(self) -> Sample | None:
        with self._lock:
            return self.samples[-1] if self.samples else None

    def stop(self, timeout: float = 15.0) -> None:
        self._stop_event.set()
        if self.is_alive():
            self.join(timeout)

    def __enter__(self) -> HpaWatcher:
        self.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self.stop()


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
