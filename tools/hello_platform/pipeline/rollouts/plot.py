"""A rollouts drill's picture in the load test's style: rate, failures, p95, replicas of each
revision against the HPA, and the canary weight."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from hello_platform.pipeline.drill.drills import Plot
from hello_platform.pipeline.drill.load import Sample
from hello_platform.pipeline.drill.summary import percentile
from hello_platform.pipeline.loadtest.history import LoadPoint
from hello_platform.pipeline.rollouts.timeline import Point, Timeline


def per_second(samples: Sequence[Sample]) -> list[LoadPoint]:
    buckets: dict[int, list[Sample]] = defaultdict(list)
    for s in samples:
        buckets[int(s.t)].append(s)
    points, sent, failed = [], 0, 0
    for second in range(max(buckets, default=-1) + 1):
        got = buckets.get(second, [])
        fails = sum(1 for s in got if not s.ok)
        sent, failed = sent + len(got), failed + fails
        answered = [s.ms for s in got if s.ok]
        p95 = percentile(answered, 95) if answered else None
        points.append(LoadPoint(second + 0.5, 0, len(got), fails, p95, sent, failed))
    return points


def plot_drill(
    path: Path,
    samples: Sequence[Sample],
    points: Sequence[Point],
    *,
    title: str,
    events: Mapping[str, float] | None = None,
) -> Path:
    from hello_platform.pipeline.loadtest import plot  # matplotlib is slow to import

    fig, axes = plot.panels(4)
    ax_rps, ax_p95, ax_rep, ax_weight = axes
    plot.plot_load(ax_rps, ax_p95, per_second(samples), 0.0, users=False)
    _replicas(ax_rep, points)
    xs = [p.t for p in points]
    ax_weight.step(xs, [p.weight for p in points], where="post", color="tab:orange")
    ax_weight.set_ylabel("canary weight (%)")
    ax_weight.set_ylim(-5, 105)
    return plot.save(fig, path, title=title, marks=events)


def plotter(timeline: Timeline, title: str, extra: Sequence[Sample] = ()) -> Plot:
    """The drill's plot hook: ``timeline``'s samples, with ``extra`` (another load's records)."""

    def draw(samples: Sequence[Sample], events: Mapping[str, float], path: Path) -> Path:
        merged = sorted([*samples, *extra], key=lambda s: s.t)
        return plot_drill(path, merged, timeline.points, title=title, events=events)

    return draw


def _replicas(ax: Any, points: Sequence[Point]) -> None:
    xs = [p.t for p in points]
    lines: list[tuple[str, list[int], str, str]] = [
        ("rollout spec", [p.spec for p in points], "tab:gray", "-"),
        ("stable", [p.stable for p in points], "tab:blue", "-"),
        ("stable ready", [p.stable_ready for p in points], "tab:blue", ":"),
        ("canary", [p.canary for p in points], "tab:orange", "-"),
        ("canary ready", [p.canary_ready for p in points], "tab:orange", ":"),
    ]
    for label, ys, color, style in lines:
        ax.step(xs, ys, where="post", color=color, linestyle=style, label=label)
    with_hpa = [p for p in points if p.desired is not None]
    if with_hpa:
        ax.step(
            [p.t for p in with_hpa],
            [p.desired for p in with_hpa],
            where="post",
            color="tab:green",
            linestyle="--",
            label="HPA desired",
        )
        for bound in {with_hpa[-1].low, with_hpa[-1].high} - {None}:
            ax.axhline(bound, color="tab:red", linestyle=":", alpha=0.6)
    ax.set_ylabel("replicas")
    ax.legend(loc="upper left", fontsize="small", ncol=3)
