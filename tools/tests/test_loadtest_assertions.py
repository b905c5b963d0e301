"""The proof's assertions over synthetic HPA samples and Locust history."""

from __future__ import annotations

from dataclasses import replace

import pytest
from hello_platform.pipeline.loadtest.assertions import (
    evaluate,
    peak_replicas,
    scale_down_time,
    scale_up_time,
)
from hello_platform.pipeline.loadtest.options import Options
from hello_platform.pipeline.loadtest.watcher import LoadPoint, Sample
from loadtest_data import IDLE_HPA as HPA

T0 = 1_800_000_000.0  # load start
STOP = T0 + 130.0  # load stop


def timeline(
    *,
    up_at: float | None = 20.0,
    peak: int = 4,
    down_after_stop: float | None = 45.0,
    step: float = 3.0,
) -> list[Sample]:
    """Samples from 10 s before the load until 90 s after it, every ``step`` seconds."""
    samples = []
    t = T0 - 10
    while t <= STOP + 90:
        current = desired = 1
        last = None
        if up_at is not None and T0 + up_at <= t:
            desired = peak
            current = 2 if t < T0 + up_at + 15 else peak
            last = T0 + up_at
        if down_after_stop is not None and t >= STOP + down_after_stop:
            current = desired = 1
            last = STOP + down_after_stop
        samples.append(
            Sample(
                t=t,
                hpa=replace(
                    HPA, current_replicas=current, desired_replicas=desired, last_scale_time=last
                ),
            )
        )
        t += step
    return samples


def points(requests: int = 10_000, failures: int = 0) -> list[LoadPoint]:
    return [
        LoadPoint(
            t=T0 + i,
            users=40 if i < 130 else 0,
            rps=80.0,
            fail_per_s=0.0,
            p95_ms=12.0,
            total_requests=requests * i // 130,
            total_failures=failures * i // 130,
        )
        for i in range(131)
    ]


def by_name(checks: list, name: str):  # type: ignore[no-untyped-def]
    return next(c for c in checks if c.name == name)


def test_all_pass() -> None:
    checks = evaluate(timeline(), points(), load_start=T0, load_stop=STOP, p95_hold_ms=20.0)
    assert all(c.passed for c in checks), [c.line() for c in checks]
    assert [c.name for c in checks] == [
        "scale-up starts",
        "replicas reach",
        "scale-down to minReplicas",
        "failed requests",
        "p95 latency at hold",
    ]


def test_scale_up_uses_last_scale_time_between_samples() -> None:
    # lastScaleTime (T0+20) falls between samples (T0+17 and T0+20 on a 3 s grid shifted by 1).
    samples = [replace(s, t=s.t + 1) for s in timeline(up_at=20.0)]
    assert scale_up_time(samples, T0) == pytest.approx(20.0)


def test_scale_up_too_late_fails() -> None:
    checks = evaluate(
        timeline(up_at=50.0), points(), load_start=T0, load_stop=STOP, p95_hold_ms=20.0
    )
    check = by_name(checks, "scale-up starts")
    assert not check.passed
    assert check.value == pytest.approx(50.0)


def test_no_scale_up_fails() -> None:
    checks = evaluate(
        timeline(up_at=None, down_after_stop=None),
        points(),
        load_start=T0,
        load_stop=STOP,
        p95_hold_ms=20.0,
    )
    assert not by_name(checks, "scale-up starts").passed
    assert "no scale-up" in by_name(checks, "scale-up starts").detail
    assert not by_name(checks, "replicas reach").passed


def test_scale_up_is_relative_to_replicas_at_load_start() -> None:
    # Still at 2 replicas from an earlier run: asking for 2 is no scale-up, 3 is.
    samples = [
        replace(s, hpa=replace(HPA, current_replicas=2, desired_replicas=2))
        for s in timeline(up_at=None, down_after_stop=None)
    ]
    assert scale_up_time(samples, T0) is None
    samples[10] = replace(samples[10], hpa=replace(HPA, current_replicas=2, desired_replicas=3))
    assert scale_up_time(samples, T0) == pytest.approx(samples[10].t - T0)


def test_peak_below_three_fails() -> None:
    checks = evaluate(timeline(peak=2), points(), load_start=T0, load_stop=STOP, p95_hold_ms=20.0)
    check = by_name(checks, "replicas reach")
    assert not check.passed
    assert check.value == 2
    assert peak_replicas(timeline(peak=5), T0) == 5


def test_scale_down_late_fails() -> None:
    # Window 30 s + 30 s slack = 60 s.
    checks = evaluate(
        timeline(down_after_stop=75.0), points(), load_start=T0, load_stop=STOP, p95_hold_ms=20.0
    )
    check = by_name(checks, "scale-down to minReplicas")
    assert not check.passed
    assert check.limit == 60.0
    assert check.value == pytest.approx(75.0)


def test_scale_down_never_fails() -> None:
    samples = timeline(down_after_stop=None)
    assert scale_down_time(samples, STOP) is None
    checks = evaluate(samples, points(), load_start=T0, load_stop=STOP, p95_hold_ms=20.0)
    assert "not back at minReplicas" in by_name(checks, "scale-down to minReplicas").detail


def test_scale_down_limit_follows_the_hpa_window() -> None:
    samples = [
        replace(s, hpa=replace(s.hpa, scale_down_window_s=60)) if s.hpa else s
        for s in timeline(down_after_stop=75.0)
    ]
    checks = evaluate(samples, points(), load_start=T0, load_stop=STOP, p95_hold_ms=20.0)
    check = by_name(checks, "scale-down to minReplicas")
    assert check.passed
    assert check.limit == 90.0


def test_failures_over_one_percent_fail() -> None:
    ok = evaluate(timeline(), points(10_000, 100), load_start=T0, load_stop=STOP, p95_hold_ms=20.0)
    assert by_name(ok, "failed requests").passed
    bad = evaluate(timeline(), points(10_000, 101), load_start=T0, load_stop=STOP, p95_hold_ms=20.0)
    assert not by_name(bad, "failed requests").passed


def test_no_requests_fails() -> None:
    checks = evaluate(timeline(), [], load_start=T0, load_stop=STOP, p95_hold_ms=None)
    assert not by_name(checks, "failed requests").passed
    assert not by_name(checks, "p95 latency at hold").passed


def test_p95_over_limit_fails() -> None:
    limits = Options(p95_max_ms=250.0)
    checks = evaluate(
        timeline(), points(), load_start=T0, load_stop=STOP, p95_hold_ms=251.0, limits=limits
    )
    assert not by_name(checks, "p95 latency at hold").passed
    assert by_name(checks, "p95 latency at hold").line().startswith("FAIL")


def test_unreadable_samples_are_ignored() -> None:
    samples = timeline()
    samples.insert(5, Sample(t=T0 + 1, errors=("hpa: timeout",)))
    checks = evaluate(samples, points(), load_start=T0, load_stop=STOP, p95_hold_ms=20.0)
    assert all(c.passed for c in checks)


def test_scale_down_without_scale_up_does_not_pass() -> None:
    checks = evaluate(
        timeline(up_at=None, down_after_stop=None),
        points(),
        load_start=T0,
        load_stop=STOP,
        p95_hold_ms=20.0,
    )
    check = by_name(checks, "scale-down to minReplicas")
    assert not check.passed
    assert "never scaled up" in check.detail
