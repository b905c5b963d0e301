"""The autoscaling proof's assertions, from samples and load history alone (Unix times)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from hello_platform.pipeline.loadtest.kube import DEFAULT_SCALE_DOWN_WINDOW_S, HpaStatus
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


def _hpas(samples: Sequence[Sample]) -> list[tuple[float, HpaStatus]]:
    return [(s.t, s.hpa) for s in samples if s.hpa is not None]


def baseline_replicas(samples: Sequence[Sample], load_start: float) -> int | None:
    """Replicas the HPA had when the load started (last reading before it, else the first)."""
    seen = _hpas(samples)
    before = [hpa for t, hpa in seen if t <= load_start] or [hpa for _, hpa in seen[:1]]
    return before[-1].current_replicas if before else None


def scale_up_time(samples: Sequence[Sample], load_start: float) -> float | None:
    """Seconds from load start until the HPA first asked for more replicas than at start."""
    base = baseline_replicas(samples, load_start)
    for t, hpa in _hpas(samples):
        if base is not None and t >= load_start and hpa.desired_replicas > base:
            return _seconds_since(since=load_start, seen=t, last_scale=hpa.last_scale_time)
    return None


def peak_replicas(samples: Sequence[Sample], load_start: float) -> int | None:
    return max((hpa.current_replicas for t, hpa in _hpas(samples) if t >= load_start), default=None)


def scale_down_time(samples: Sequence[Sample], load_stop: float) -> float | None:
    """Seconds from load stop until the HPA is back at minReplicas (current and desired)."""
    for t, hpa in _hpas(samples):
        if t >= load_stop and hpa.at_rest:
            return _seconds_since(since=load_stop, seen=t, last_scale=hpa.last_scale_time)
    return None


def _seconds_since(*, since: float, seen: float, last_scale: float | None) -> float:
    """Dated by the HPA's ``lastScaleTime`` when it falls between ``since`` and ``seen``."""
    when = last_scale if last_scale is not None and since <= last_scale <= seen else seen
    return max(0.0, when - since)


def scale_down_window(samples: Sequence[Sample]) -> int | None:
    seen = _hpas(samples)
    return seen[-1][1].scale_down_window_s if seen else None


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
    final = points[-1] if points else None
    requests = final.total_requests if final else 0
    failures = final.total_failures if final else 0
    up_limit = f"(limit {lim.scale_up_within_s:.0f} s)"
    need = f"(need >= {lim.min_peak_replicas})"
    return [
        _bounded(
            ("scale-up starts", "s"),
            scale_up_time(samples, load_start),
            lim.scale_up_within_s,
            shown="{:.0f} s after load start " + up_limit,
            missing="no scale-up seen " + up_limit,
        ),
        _bounded(
            ("replicas reach", "replicas"),
            float(peak) if peak is not None else None,
            float(lim.min_peak_replicas),
            shown="peak {:.0f} replicas " + need,
            missing="peak ? replicas " + need,
            at_least=True,
        ),
        scale_down_check(samples, load_start, load_stop, peak),
        _bounded(
            ("failed requests", "ratio"),
            failures / requests if requests else None,
            lim.fail_ratio_max,
            shown=f"{failures} of {requests} ({{:.2%}}; limit {lim.fail_ratio_max:.0%})",
            missing="no requests were made",
        ),
        _bounded(
            ("p95 latency at hold", "ms"),
            p95_hold_ms,
            lim.p95_max_ms,
            shown=f"{{:.0f}} ms (limit {lim.p95_max_ms:.0f} ms)",
            missing="no requests during the hold stage",
        ),
    ]


def _bounded(
    what: tuple[str, str],
    value: float | None,
    limit: float,
    *,
    shown: str,
    missing: str,
    at_least: bool = False,
) -> Check:
    """``value`` at most (or ``at_least``) ``limit``; ``shown`` formats it, ``missing`` says
    there is none (a failure)."""
    name, unit = what
    if value is None:
        return Check(name, False, None, limit, unit, missing)
    passed = value >= limit if at_least else value <= limit
    return Check(name, passed, value, limit, unit, shown.format(value))


def scale_down_check(
    samples: Sequence[Sample], load_start: float, load_stop: float, peak: int | None
) -> Check:
    window = scale_down_window(samples)
    down_limit = (DEFAULT_SCALE_DOWN_WINDOW_S if window is None else window) + SCALE_DOWN_SLACK_S
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
