"""The autoscaling proof's assertions, from samples and load history alone (Unix times)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from hello_platform.pipeline.loadtest.options import Options
from hello_platform.pipeline.loadtest.watcher import LoadPoint, Sample

#: Seconds past the HPA's scale-down stabilization window that the scale-down may take.
SCALE_DOWN_SLACK_S = 30.0


@dataclass(frozen=True)
class Check:
    name: str
    passed: bool
    value: float | None
    limit: float
    unit: str
    detail: str

    def line(self) -> str:
        return f"{'PASS' if self.passed else 'FAIL'}  {self.name}: {self.detail}"


def _with_hpa(samples: Sequence[Sample]) -> list[Sample]:
    return [s for s in samples if s.hpa is not None]


def baseline_replicas(samples: Sequence[Sample], load_start: float) -> int | None:
    """Replicas the HPA had when the load started (last reading before it, else the first)."""
    seen = _with_hpa(samples)
    before = [s for s in seen if s.t <= load_start]
    pick = before[-1] if before else (seen[0] if seen else None)
    return pick.hpa.current_replicas if pick and pick.hpa else None


def scale_up_time(samples: Sequence[Sample], load_start: float) -> float | None:
    """Seconds from load start until the HPA first asked for more replicas than at start."""
    base = baseline_replicas(samples, load_start)
    if base is None:
        return None
    for s in _with_hpa(samples):
        assert s.hpa is not None
        if s.t < load_start or s.hpa.desired_replicas <= base:
            continue
        return _seconds_since(since=load_start, seen=s.t, last_scale=s.hpa.last_scale_time)
    return None


def peak_replicas(samples: Sequence[Sample], load_start: float) -> int | None:
    values = [
        s.hpa.current_replicas
        for s in _with_hpa(samples)
        if s.hpa is not None and s.t >= load_start
    ]
    return max(values) if values else None


def scale_down_time(samples: Sequence[Sample], load_stop: float) -> float | None:
    """Seconds from load stop until the HPA is back at minReplicas (current and desired)."""
    for s in _with_hpa(samples):
        assert s.hpa is not None
        if s.t < load_stop:
            continue
        h = s.hpa
        if h.current_replicas <= h.min_replicas and h.desired_replicas <= h.min_replicas:
            return _seconds_since(since=load_stop, seen=s.t, last_scale=h.last_scale_time)
    return None


def _seconds_since(*, since: float, seen: float, last_scale: float | None) -> float:
    """Dated by the HPA's ``lastScaleTime`` when it falls between ``since`` and ``seen``."""
    when = last_scale if last_scale is not None and since <= last_scale <= seen else seen
    return max(0.0, when - since)


def scale_down_window(samples: Sequence[Sample]) -> int | None:
    seen = _with_hpa(samples)
    last = seen[-1].hpa if seen else None
    return last.scale_down_window_s if last else None


def evaluate(
    samples: Sequence[Sample],
    points: Sequence[LoadPoint],
    *,
    load_start: float,
    load_stop: float,
    p95_hold_ms: float | None,
    limits: Options | None = None,
) -> list[Check]:
    """All assertions, in the order they are printed."""
    lim = limits or Options()
    peak = peak_replicas(samples, load_start)
    return [
        scale_up_check(scale_up_time(samples, load_start), lim),
        peak_check(peak, lim),
        scale_down_check(samples, load_start, load_stop, peak, lim),
        failures_check(points, lim),
        p95_check(p95_hold_ms, lim),
    ]


def scale_up_check(up: float | None, lim: Options) -> Check:
    return Check(
        "scale-up starts",
        up is not None and up <= lim.scale_up_within_s,
        up,
        lim.scale_up_within_s,
        "s",
        f"{up:.0f} s after load start (limit {lim.scale_up_within_s:.0f} s)"
        if up is not None
        else f"no scale-up seen (limit {lim.scale_up_within_s:.0f} s)",
    )


def peak_check(peak: int | None, lim: Options) -> Check:
    return Check(
        "replicas reach",
        peak is not None and peak >= lim.min_peak_replicas,
        float(peak) if peak is not None else None,
        float(lim.min_peak_replicas),
        "replicas",
        f"peak {peak if peak is not None else '?'} replicas (need >= {lim.min_peak_replicas})",
    )


def scale_down_check(
    samples: Sequence[Sample], load_start: float, load_stop: float, peak: int | None, lim: Options
) -> Check:
    window = scale_down_window(samples)
    down_limit = (window if window is not None else 300) + SCALE_DOWN_SLACK_S
    down = scale_down_time(samples, load_stop)
    base = baseline_replicas(samples, load_start)
    scaled = peak is not None and base is not None and peak > base
    if not scaled:
        down_detail = "nothing to scale down: the HPA never scaled up"
    elif down is None:
        down_detail = "not back at minReplicas"
    else:
        down_detail = f"{down:.0f} s after load stop"
    return Check(
        "scale-down to minReplicas",
        scaled and down is not None and down <= down_limit,
        down,
        down_limit,
        "s",
        down_detail + f" (limit {down_limit:.0f} s = stabilization window {window} s"
        f" + {SCALE_DOWN_SLACK_S:.0f} s)",
    )


def failures_check(points: Sequence[LoadPoint], lim: Options) -> Check:
    final = points[-1] if points else None
    requests = final.total_requests if final else 0
    failures = final.total_failures if final else 0
    ratio = failures / requests if requests else None
    return Check(
        "failed requests",
        ratio is not None and ratio <= lim.fail_ratio_max,
        ratio,
        lim.fail_ratio_max,
        "ratio",
        f"{failures} of {requests} ({ratio:.2%}; limit {lim.fail_ratio_max:.0%})"
        if ratio is not None
        else "no requests were made",
    )


def p95_check(p95_hold_ms: float | None, lim: Options) -> Check:
    return Check(
        "p95 latency at hold",
        p95_hold_ms is not None and p95_hold_ms <= lim.p95_max_ms,
        p95_hold_ms,
        lim.p95_max_ms,
        "ms",
        f"{p95_hold_ms:.0f} ms (limit {lim.p95_max_ms:.0f} ms)"
        if p95_hold_ms is not None
        else "no requests during the hold stage",
    )
