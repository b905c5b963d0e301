"""A Rollout's replicas over time (:class:`Timeline`, sampled each second), :func:`judge`:
whether it and its autoscaler fought, and the drill's picture (:func:`plot_drill`)."""

from __future__ import annotations

import itertools
import math
import threading
from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from lightkube.resources.apps_v1 import ReplicaSet
from lightkube.resources.autoscaling_v2 import HorizontalPodAutoscaler

from hello_platform.core.errors import PlatformError
from hello_platform.pipeline.deploy.release import rollouts
from hello_platform.pipeline.drill.drills import Plot, percentile
from hello_platform.pipeline.drill.load import Load, Sample
from hello_platform.pipeline.drill.release import Env
from hello_platform.pipeline.helm.names import instance_selector
from hello_platform.pipeline.loadtest.watcher import LoadPoint
from hello_platform.pipeline.rollouts.outcome import ROLLOUT

HASH_LABEL = "rollouts-pod-template-hash"
#: Direction changes of the HPA's desired replicas a drill may see (up, then down: one).
MAX_REVERSALS = 2
#: How long the controller may take to pass a new desired count on to the ReplicaSets (s).
LAG_S = 10.0


@dataclass(frozen=True)
class Point:
    t: float
    #: The canary's weight in % (0: no canary running; 100: its last step is done).
    weight: int
    #: The Rollout's spec.replicas (what the HPA set) and its ready pods (both revisions).
    spec: int
    ready: int
    stable: int
    stable_ready: int
    canary: int
    canary_ready: int
    desired: int | None = None
    low: int | None = None
    high: int | None = None


def weight(rollout: Mapping[str, Any]) -> int:
    """The canary weight the current step sets (0 with no canary running, or an aborted one)."""
    status = rollout.get("status") or {}
    current, stable = status.get("currentPodHash"), status.get("stableRS")
    if not current or current == stable or status.get("abort"):
        return 0
    steps = ((rollout.get("spec") or {}).get("strategy") or {}).get("canary", {}).get("steps")
    index = int(status.get("currentStepIndex", 0))
    if not steps or index >= len(steps):
        return 100
    weights = [int(s["setWeight"]) for s in steps[: index + 1] if "setWeight" in s]
    return weights[-1] if weights else 0


def point(
    t: float,
    rollout: Mapping[str, Any],
    replicasets: Sequence[Mapping[str, Any]],
    hpa: Mapping[str, Any] | None,
    canary: str = "",
) -> Point:
    """One sample. The canary is the revision being rolled out, else ``canary`` (after an abort
    its pods still serve until gone) unless it has become the stable."""
    spec, status = rollout.get("spec") or {}, rollout.get("status") or {}
    stable, current = status.get("stableRS", ""), status.get("currentPodHash", "")
    by_hash = {(rs["metadata"].get("labels") or {}).get(HASH_LABEL): rs for rs in replicasets}

    def counts(pod_hash: str) -> tuple[int, int]:
        rs = by_hash.get(pod_hash, {}) if pod_hash else {}
        ready = (rs.get("status") or {}).get("readyReplicas", 0)
        return int((rs.get("spec") or {}).get("replicas", 0)), int(ready)

    canary_hash = current if current != stable else canary
    canary_counts = counts(canary_hash) if canary_hash != stable else (0, 0)
    hpa_spec, hpa_status = (hpa or {}).get("spec") or {}, (hpa or {}).get("status") or {}
    return Point(
        t=round(t, 1),
        weight=weight(rollout),
        spec=int(spec.get("replicas", 1)),
        ready=int(status.get("readyReplicas", 0)),
        stable=counts(stable)[0],
        stable_ready=counts(stable)[1],
        canary=canary_counts[0],
        canary_ready=canary_counts[1],
        desired=int(hpa_status["desiredReplicas"]) if "desiredReplicas" in hpa_status else None,
        low=int(hpa_spec.get("minReplicas", 1)) if hpa else None,
        high=int(hpa_spec["maxReplicas"]) if hpa else None,
    )


class Timeline:
    """Samples the Rollout every second while entered, on the load's clock."""

    def __init__(self, env: Env, load: Load) -> None:
        (self.rollout,) = rollouts(env.kube, env.opts)
        self.env, self.clock = env, load.now
        self.points: list[Point] = []
        self.canary = ""
        self._stop = threading.Event()

    def __enter__(self) -> Timeline:
        self._thread = threading.Thread(target=self._run, name="rollout-timeline", daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(timeout=10)

    def _run(self) -> None:
        # A sampler on a fixed cadence until stopped, not a wait for a state (core.wait.until).
        while not self._stop.wait(1.0):
            try:
                self.points.append(self.read())
            except PlatformError:
                continue

    def read(self) -> Point:
        t = self.clock()
        api, namespace = self.env.kube.api, self.env.opts.namespace
        labels = instance_selector(self.env.opts.release)
        found = api.get(ROLLOUT, self.rollout, namespace=namespace) or {}
        sets = api.find(ReplicaSet, namespace=namespace, labels=labels)
        hpas = api.find(HorizontalPodAutoscaler, namespace=namespace, labels=labels)
        hpa = next((h for h in hpas if h["spec"]["scaleTargetRef"]["kind"] == "Rollout"), None)
        status = found.get("status") or {}
        current, stable = str(status.get("currentPodHash", "")), str(status.get("stableRS", ""))
        if current and current != stable:
            self.canary = current
        return point(t, found, sets, hpa, self.canary)

    def figures(self) -> dict[str, Any]:
        return {
            "min_stable_ready": min((p.stable_ready for p in self.points), default=0),
            "max_canary_ready": max((p.canary_ready for p in self.points), default=0),
            "min_ready": min((p.stable_ready + p.canary_ready for p in self.points), default=0),
            "replicas_over_time": [asdict(p) for p in self.points],
        }


def reversals(values: Sequence[int]) -> int:
    """How many times ``values`` turn (up to down or down to up); flat stretches do not."""
    turns, last = 0, 0
    for before, after in itertools.pairwise(values):
        step = (after > before) - (after < before)
        if step and last and step != last:
            turns += 1
        last = step or last
    return turns


def judge(
    points: Sequence[Point], *, low: int, high: int, surge: int = 1
) -> tuple[dict[str, bool], dict[str, Any]]:
    """Replicas within [low, high] (ready within high + surge), the stable set never below its
    share of the HPA's count (the least over :data:`LAG_S`) under a canary, and no flapping."""
    desired = [p.desired for p in points if p.desired is not None]
    short = [p.t for p in points if 0 < p.weight < 100 and p.stable < _share(points, p)]
    figures: dict[str, Any] = {
        "min_replicas": min((p.spec for p in points), default=0),
        "max_replicas": max((p.spec for p in points), default=0),
        "min_ready_replicas": min((p.ready for p in points), default=0),
        "max_ready_replicas": max((p.ready for p in points), default=0),
        "min_desired": min(desired, default=0),
        "max_desired": max(desired, default=0),
        "hpa_reversals": reversals(desired),
        "replica_reversals": reversals([p.spec for p in points]),
        "stable_short_at_s": short[:10],
    }
    checks = {
        f"replicas within [{low}, {high}]": bool(points)
        and low <= figures["min_replicas"] <= figures["max_replicas"] <= high,
        f"ready pods within [{low}, {high}+{surge}]": bool(points)
        and low <= figures["min_ready_replicas"] <= figures["max_ready_replicas"] <= high + surge,
        "the stable set never below its share of the HPA's count": not short,
        f"at most {MAX_REVERSALS} turns of the HPA's count": figures["hpa_reversals"]
        <= MAX_REVERSALS,
        f"at most {MAX_REVERSALS} turns of the Rollout's count": figures["replica_reversals"]
        <= MAX_REVERSALS,
        "the HPA scaled out under the load": figures["max_desired"] > low,
    }
    return checks, figures


def _share(points: Sequence[Point], now: Point) -> int:
    asked = [p.desired for p in points if now.t - LAG_S <= p.t <= now.t and p.desired is not None]
    least = min(asked, default=now.spec)
    return math.floor(least * (100 - now.weight) / 100)


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

    fig, (ax_rps, ax_p95, ax_rep, ax_weight) = plot.panels(4)
    plot.plot_load(ax_rps, ax_p95, per_second(samples), 0.0, users=False)
    xs = [p.t for p in points]
    lines: list[tuple[str, list[int], str, str]] = [
        ("rollout spec", [p.spec for p in points], "tab:gray", "-"),
        ("stable", [p.stable for p in points], "tab:blue", "-"),
        ("stable ready", [p.stable_ready for p in points], "tab:blue", ":"),
        ("canary", [p.canary for p in points], "tab:orange", "-"),
        ("canary ready", [p.canary_ready for p in points], "tab:orange", ":"),
    ]
    for label, ys, color, style in lines:
        ax_rep.step(xs, ys, where="post", color=color, linestyle=style, label=label)
    with_hpa = [p for p in points if p.desired is not None]
    if with_hpa:
        ax_rep.step(
            [p.t for p in with_hpa],
            [p.desired for p in with_hpa],
            where="post",
            color="tab:green",
            linestyle="--",
            label="HPA desired",
        )
        for bound in {with_hpa[-1].low, with_hpa[-1].high} - {None}:
            ax_rep.axhline(bound, color="tab:red", linestyle=":", alpha=0.6)
    ax_rep.set_ylabel("replicas")
    ax_rep.legend(loc="upper left", fontsize="small", ncol=3)
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
