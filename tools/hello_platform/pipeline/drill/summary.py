"""What a drill reports: failures, the longest outage, percentiles, and the run's JSON report."""

from __future__ import annotations

import datetime as dt
import json
import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from hello_platform.core import paths
from hello_platform.pipeline.drill.load import Sample

#: Failed requests listed one by one in a summary.
FIRST_FAILURES = 20


def percentile(values: Sequence[float], q: float) -> float:
    if not values:
        return 0.0
    ordered = sorted(values)
    rank = max(1, min(len(ordered), int(-(-q * len(ordered) // 100))))
    return ordered[rank - 1]


def longest_outage(samples: Sequence[Sample]) -> tuple[float, float | None]:
    """The longest stretch of consecutive failed requests: its seconds and its start."""
    best, best_start = 0.0, None
    start: float | None = None
    last_end = 0.0
    for s in sorted(samples, key=lambda s: s.t):
        if not s.ok:
            if start is None:
                start = s.t
            last_end = s.t + s.ms / 1000
            continue
        if start is not None:
            if s.t - start > best:
                best, best_start = s.t - start, start
            start = None
    if start is not None and last_end - start > best:
        best, best_start = last_end - start, start
    return round(best, 3), best_start


@dataclass
class Summary:
    drill: str
    passed: bool
    sent: int
    failed: int
    skipped: int
    rps: float
    seconds: float
    p50_ms: float
    p99_ms: float
    max_ms: float
    unavailable_s: float
    #: From the disruption until the drill's "back to normal" condition held (s).
    recovery_s: float | None
    statuses: dict[str, int]
    errors: dict[str, int]
    events: dict[str, float]
    checks: dict[str, bool]
    figures: dict[str, Any] = field(default_factory=dict)
    hosts: dict[str, int] = field(default_factory=dict)
    #: The first failed requests: [sent at (s), status, error].
    failures: list[tuple[float, int, str]] = field(default_factory=list)

    def line(self) -> str:
        recovery = f"{self.recovery_s:.1f}s" if self.recovery_s is not None else "-"
        failing = [name for name, ok in self.checks.items() if not ok]
        return (
            f"drill {self.drill}: {'PASS' if self.passed else 'FAIL'}  sent {self.sent}  "
            f"failed {self.failed}  p50 {self.p50_ms:.1f}ms  p99 {self.p99_ms:.1f}ms  "
            f"unavailable {self.unavailable_s:.1f}s  recovery {recovery}  "
            f"pods {len(self.hosts)}  ({self.seconds:.0f}s at {self.rps:g} rps)"
            + (f"  failed checks: {', '.join(failing)}" if failing else "")
        )


def summarize(
    drill: str,
    samples: Sequence[Sample],
    *,
    rps: float,
    skipped: int = 0,
    events: dict[str, float] | None = None,
    checks: dict[str, bool] | None = None,
    recovery_s: float | None = None,
    figures: dict[str, Any] | None = None,
) -> Summary:
    latencies = [s.ms for s in samples if s.ok]
    unavailable, _ = longest_outage(samples)
    checks = dict(checks or {})
    return Summary(
        drill=drill,
        passed=all(checks.values()),
        sent=len(samples),
        failed=sum(1 for s in samples if not s.ok),
        skipped=skipped,
        rps=rps,
        seconds=round(max((s.t for s in samples), default=0.0), 1),
        p50_ms=round(percentile(latencies, 50), 2),
        p99_ms=round(percentile(latencies, 99), 2),
        max_ms=round(max(latencies, default=0.0), 2),
        unavailable_s=unavailable,
        recovery_s=None if recovery_s is None else round(recovery_s, 2),
        statuses={str(k): v for k, v in sorted(Counter(s.status for s in samples).items())},
        errors=dict(Counter(s.error for s in samples if s.error)),
        events=dict(events or {}),
        checks=checks,
        figures=dict(figures or {}),
        hosts=dict(Counter(s.host for s in samples if s.ok and s.host)),
        failures=[(round(s.t, 3), s.status, s.error) for s in samples if not s.ok][:FIRST_FAILURES],
    )


class Report:
    """``out/drill/<run>/summary.json``, rewritten after every drill; ``latest`` links it."""

    def __init__(self, root: Path | None = None, run: str | None = None) -> None:
        self.run = run or dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%SZ")
        self.dir = (root or paths.out_dir() / "drill") / self.run
        self.summaries: list[Summary] = []
        self.started = time.monotonic()

    @property
    def path(self) -> Path:
        return self.dir / "summary.json"

    def add(self, summary: Summary) -> None:
        self.summaries.append(summary)
        self.dir.mkdir(parents=True, exist_ok=True)
        body = {
            "run": self.run,
            "passed": all(s.passed for s in self.summaries),
            "seconds": round(time.monotonic() - self.started, 1),
            "drills": [asdict(s) for s in self.summaries],
        }
        tmp = self.path.with_suffix(".tmp")
        tmp.write_text(json.dumps(body, indent=2) + "\n")
        tmp.replace(self.path)
        paths.link_latest(self.dir)
