"""A bounded background thread that samples the HPA, the pods and their CPU; a failed
reading is recorded in the sample and the loop goes on."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable
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

    @property
    def pod_cpu_m(self) -> float | None:
        return sum(u.cpu_m for u in self.usage) if self.usage else None


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
