"""Sizing arithmetic: CPU per request and the suggested requests/limits/target."""

from __future__ import annotations

from dataclasses import replace

import pytest
from hello_platform.pipeline.loadtest.kube import HpaStatus, PodUsage
from hello_platform.pipeline.loadtest.sizing import advise
from hello_platform.pipeline.loadtest.watcher import LoadPoint, Sample

T0 = 1_000.0


def usage(*cpu: float, memory: float = 40.0) -> tuple[PodUsage, ...]:
    return tuple(PodUsage(f"p{i}", c, memory) for i, c in enumerate(cpu))


def run(p95: float | None = 20.0) -> tuple[list[Sample], list[LoadPoint]]:
    samples = [Sample(t=T0 - 5, usage=usage(3.0))]  # idle: 3m
    # hold from T0+10 to T0+130: 3 pods at 103m each = 309m for 200 rps
    samples += [
        Sample(t=T0 + t, usage=usage(103.0, 103.0, 103.0, memory=60.0)) for t in range(30, 131, 5)
    ]
    samples.append(Sample(t=T0 + 131 + 60 + 1, usage=usage(2.0)))  # idle again
    points = [
        LoadPoint(
            t=T0 + i,
            users=40,
            rps=200.0,
            fail_per_s=0.0,
            p95_ms=p95,
            total_requests=200 * i,
            total_failures=0,
        )
        for i in range(131)
    ]
    return samples, points


def test_cpu_per_request_and_advice() -> None:
    samples, points = run()
    s = advise(
        samples,
        points,
        hold_start=T0 + 10,
        load_start=T0,
        load_stop=T0 + 130,
        p95_hold_ms=20.0,
        p95_budget_ms=1000.0,
    )
    assert s.hold_rps == pytest.approx(200.0)
    assert s.hold_pod_cpu_m == pytest.approx(309.0)
    assert s.idle_pod_cpu_m == pytest.approx(2.0)
    # (309 - 3 pods * 2m idle) / 200 rps = 1.515 ms of CPU per request
    assert s.cpu_ms_per_request == pytest.approx(1.515)
    assert s.pod_cpu_p90_m == pytest.approx(103.0)
    # 303m of work over 3 pods (no HPA reading: the pods seen) at 70 % = 144.3 -> 150m
    assert (s.cpu_request_m, s.cpu_limit_m) == (150, 600)
    # 60 MiB * 1.25 = 75 -> 80Mi; limit twice that
    assert (s.memory_request_mib, s.memory_limit_mib) == (80, 160)
    assert s.hpa_target_percent == 70
    # 150m * 70 % / 1.515 ms per request
    assert s.rps_per_pod_at_target == pytest.approx(150 * 0.7 / 1.515)
    text = "\n".join(s.lines())
    assert "1.51 ms of CPU per request" in text
    assert "resources.requests.cpu: 150m" in text
    assert "targetCPUUtilizationPercentage: 70" in text


@pytest.mark.parametrize(("p95", "target"), [(400.0, 70), (700.0, 60), (1500.0, 50), (None, 50)])
def test_target_follows_latency_headroom(p95: float | None, target: int) -> None:
    samples, points = run()
    s = advise(
        samples,
        points,
        hold_start=T0 + 10,
        load_start=T0,
        load_stop=T0 + 130,
        p95_hold_ms=p95,
        p95_budget_ms=1000.0,
    )
    assert s.hpa_target_percent == target


def test_request_spreads_the_load_over_max_replicas_minus_one() -> None:
    samples, points = run()
    hpa = HpaStatus("hello", "Deployment", "hello", 1, 5, 3, 3, 60, 50, 30, None)
    samples = [replace(s, hpa=hpa) for s in samples]
    s = advise(
        samples,
        points,
        hold_start=T0 + 10,
        load_start=T0,
        load_stop=T0 + 130,
        p95_hold_ms=20.0,
        p95_budget_ms=1000.0,
    )
    # 303m over 4 pods at 70 % = 108.2 -> 110m
    assert s.cpu_request_m == 110


def test_small_usage_still_gets_a_floor() -> None:
    samples = [Sample(t=T0 + 40, usage=usage(1.0))]
    points = [
        LoadPoint(
            t=T0 + 40,
            users=1,
            rps=1.0,
            fail_per_s=0.0,
            p95_ms=1.0,
            total_requests=1,
            total_failures=0,
        )
    ]
    s = advise(
        samples,
        points,
        hold_start=T0,
        load_start=T0,
        load_stop=T0 + 60,
        p95_hold_ms=1.0,
        p95_budget_ms=1000.0,
    )
    assert s.cpu_request_m == 10
    assert s.memory_request_mib == 64


def test_without_metrics_there_is_no_cpu_advice() -> None:
    _, points = run()
    s = advise(
        [],
        points,
        hold_start=T0 + 10,
        load_start=T0,
        load_stop=T0 + 130,
        p95_hold_ms=20.0,
        p95_budget_ms=1000.0,
    )
    assert s.cpu_ms_per_request is None and s.cpu_request_m is None
    assert "no pod CPU figures" in s.lines()[0]
