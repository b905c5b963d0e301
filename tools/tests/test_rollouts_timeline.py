"""The rollouts drills' replicas over time: reading a sample, judging whether the HPA and
the Rollout fought, and the PNG."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from hello_platform.pipeline.drill.load import Sample
from hello_platform.pipeline.rollouts.timeline import (
    Point,
    judge,
    per_second,
    plot_drill,
    point,
    reversals,
    weight,
)

STEPS = [{"setWeight": 20}, {"pause": {"duration": "60s"}}, {"setWeight": 50}, {"pause": {}}]


def rollout(index: int, current: str = "new", **status: Any) -> dict[str, Any]:
    return {
        "metadata": {"name": "hello"},
        "spec": {"replicas": 5, "strategy": {"canary": {"steps": STEPS}}},
        "status": {
            "currentPodHash": current,
            "stableRS": "old",
            "currentStepIndex": index,
            "readyReplicas": 6,
            **status,
        },
    }


def replicaset(pod_hash: str, replicas: int, ready: int) -> dict[str, Any]:
    labels = {"rollouts-pod-template-hash": pod_hash}
    return {
        "metadata": {"labels": labels},
        "spec": {"replicas": replicas},
        "status": {"readyReplicas": ready},
    }


@pytest.mark.parametrize(
    ("obj", "expected"),
    [
        (rollout(0), 20),
        (rollout(1), 20),
        (rollout(2), 50),
        (rollout(4), 100),
        (rollout(2, current="old"), 0),
        (rollout(2, abort=True), 0),
    ],
)
def test_the_weight_is_the_current_steps(obj: dict[str, Any], expected: int) -> None:
    assert weight(obj) == expected


def test_a_sample_reads_both_replicasets_and_the_hpa() -> None:
    hpa = {
        "spec": {"minReplicas": 2, "maxReplicas": 5},
        "status": {"desiredReplicas": 5},
    }
    sets = [replicaset("old", 3, 3), replicaset("new", 3, 2), replicaset("older", 0, 0)]
    assert point(7.04, rollout(2), sets, hpa) == Point(
        t=7.0,
        weight=50,
        spec=5,
        ready=6,
        stable=3,
        stable_ready=3,
        canary=3,
        canary_ready=2,
        desired=5,
        low=2,
        high=5,
    )
    alone = point(1.0, rollout(0, current="old"), sets, None)
    assert (alone.canary, alone.desired, alone.low) == (0, None, None)
    # After an abort and the rollback the aborted canary's pods serve until they are gone;
    # once promoted, the canary is the stable set and is not counted twice.
    rolled_back = point(2.0, rollout(0, current="old"), sets, None, canary="new")
    assert (rolled_back.canary, rolled_back.canary_ready, rolled_back.weight) == (3, 2, 0)
    promoted = point(3.0, rollout(4, current="new", stableRS="new"), sets, None, canary="new")
    assert (promoted.stable, promoted.canary) == (3, 0)


@pytest.mark.parametrize(
    ("values", "turns"),
    [([], 0), ([2, 2, 2], 0), ([2, 3, 5, 5, 3, 2], 1), ([2, 4, 2, 4, 2], 3), ([5, 5, 2, 2, 5], 1)],
)
def test_reversals_count_turns_not_flat_stretches(values: list[int], turns: int) -> None:
    assert reversals(values) == turns


def series(desired: list[int], weights: list[int] | None = None) -> list[Point]:
    """A recorded drill: the Rollout follows its HPA one sample later, the stable set keeps
    its share of the weight (the controller's rounding: the canary rounded up)."""
    points, spec = [], desired[0]
    for n, (want, w) in enumerate(zip(desired, weights or [20] * len(desired), strict=True)):
        canary = -(-spec * w // 100)
        stable = spec - canary if 0 < w < 100 else spec
        points.append(Point(n * 2.0, w, spec, spec, stable, stable, canary, canary, want, 2, 5))
        spec = want
    return points


def test_a_steady_scale_out_and_in_passes() -> None:
    checks, figures = judge(series([2, 2, 4, 5, 5, 5, 5, 3, 2, 2]), low=2, high=5)
    assert all(checks.values()), checks
    assert (figures["min_replicas"], figures["max_replicas"], figures["hpa_reversals"]) == (2, 5, 1)


def test_a_flapping_hpa_fails() -> None:
    checks, figures = judge(series([2, 4, 2, 4, 2, 4, 2]), low=2, high=5)
    assert figures["hpa_reversals"] == 5
    assert not checks["at most 2 turns of the HPA's count"]
    assert not checks["at most 2 turns of the Rollout's count"]


def test_replicas_out_of_bounds_fail() -> None:
    checks, _ = judge(series([2, 4, 6, 6]), low=2, high=5)
    assert not checks["replicas within [2, 5]"]


def test_a_stable_set_scaled_below_its_share_fails() -> None:
    points = series([5] * 10, [50] * 10)
    points[6] = Point(12.0, 50, 5, 5, 1, 1, 4, 4, 5, 2, 5)  # the Rollout gave the canary 4 of 5
    checks, figures = judge(points, low=2, high=5)
    assert not checks["the stable set never below its share of the HPA's count"]
    assert figures["stable_short_at_s"] == [12.0]


def test_no_scale_out_fails_the_drill() -> None:
    checks, _ = judge(series([2] * 6), low=2, high=5)
    assert not checks["the HPA scaled out under the load"]


def test_per_second_buckets_the_load_records() -> None:
    samples = [Sample(0.1, 200, 4.0), Sample(0.6, 500, 1.0), Sample(2.2, 200, 8.0)]
    points = per_second(samples)
    assert [(p.rps, p.fail_per_s, p.total_requests) for p in points] == [
        (2, 1, 2),
        (0, 0, 2),
        (1, 0, 3),
    ]
    assert (points[0].p95_ms, points[1].p95_ms) == (4.0, None)


def test_the_drill_plot_is_a_png(tmp_path: Path) -> None:
    samples = [Sample(i / 10, 200 if i % 50 else 500, 5.0 + i % 7) for i in range(600)]
    path = plot_drill(
        tmp_path / "canary-autoscale.png",
        samples,
        series([2, 2, 4, 5, 5, 5, 3, 2], [20, 20, 20, 50, 50, 50, 100, 0]),
        title="t",
        events={"step up": 3.0, "step down": 9.0},
    )
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert path.stat().st_size > 20_000
