"""Drill ``canary-autoscale``: a good canary under the chart's CPU HPA while the load steps
up and back down; promoted, nothing fails, and the HPA and the Rollout do not fight."""

from __future__ import annotations

import dataclasses
import time

from hello_platform.core.errors import PlatformError
from hello_platform.pipeline.deploy.release import rollback, rollouts
from hello_platform.pipeline.drill.drills import Outcome
from hello_platform.pipeline.drill.load import Load, Sample
from hello_platform.pipeline.drill.release import Env, wait_until
from hello_platform.pipeline.rollouts.outcome import ROLLOUT
from hello_platform.pipeline.rollouts.timeline import Timeline, judge, plotter
from hello_platform.pipeline.rollouts.watch import settle

LOW, HIGH = 2, 5
#: % of the pods' CPU request (50m locally): idle pods (~5m) stay under it, the peak
#: (~0.35 ms of CPU a request) goes well over it on LOW pods.
TARGET_CPU = 30
#: The step up: this many more requests a second, for this long (s).
PEAK_RPS = 170.0
PEAK_S = 60.0
#: Each canary weight is held this long, so the load change falls inside the canary.
PAUSE_S = 60
SETS = (
    "autoscaling.enabled=true",
    "autoscaling.mode=cpu",
    f"autoscaling.minReplicas={LOW}",
    f"autoscaling.maxReplicas={HIGH}",
    f"autoscaling.targetCPUUtilizationPercentage={TARGET_CPU}",
    f"rollout.canary.pauseSeconds={PAUSE_S}",
)
ANNOTATION = "drill-rollout"
#: How long the HPA gets to take the count over, and to scale back in after the load (s).
HANDOVER_S = 90.0
SCALE_IN_S = 120.0


def upgrade(env: Env, *sets: str) -> tuple[str, int]:
    (name,) = rollouts(env.kube, env.opts)
    return name, int(env.upgrade(*sets)["version"])


def revise(env: Env, *sets: str) -> tuple[str, int]:
    """Upgrade with ``sets`` and a new pod annotation (a new revision)."""
    return upgrade(env, *sets, f"podAnnotations.{ANNOTATION}=r{int(time.time())}")


def promote(env: Env, name: str, revision: int) -> float:
    return settle(
        env.kube.api,
        name,
        env.opts.namespace,
        rollback=lambda: rollback(env.kube, env.opts, revision),
    )


def canary_autoscale(env: Env, load: Load) -> Outcome:
    """A good canary while the load steps up and down: promoted, nothing fails, and the HPA
    and the Rollout do not fight."""
    with Timeline(env, load) as timeline:
        _hand_over(env, load, timeline)
        t = load.mark("helm upgrade (new pod annotation) under the HPA: canary 20 -> 50 -> 100 %")
        name, revision = revise(env, *SETS)
        peak = _step(env, load)
        settle_s = promote(env, name, revision)
        promoted = load.mark("promoted to all pods")
        scaled_in = _scaled_in(load, timeline)
    checks, figures = judge([p for p in timeline.points if p.t >= t], low=LOW, high=HIGH)
    # Turning the HPA on drops spec.replicas from the manifest; the chart keeps the live count.
    switch_on = [p.spec for p in timeline.points if p.t < t]
    checks[f"switching the HPA on never took the Rollout below {LOW} replicas"] = (
        bool(switch_on) and min(switch_on) >= LOW
    )
    figures["replicas_min_at_switch_on"] = min(switch_on, default=None)
    checks["no request of the step up failed"] = all(s.ok for s in peak)
    checks["the HPA scaled back in after the load"] = scaled_in
    return Outcome(
        checks,
        promoted - t,
        {
            "seconds_to_promotion": round(promoted - t, 1),
            "settle_s": settle_s,
            "peak_requests": len(peak),
            "peak_failed": sum(1 for s in peak if not s.ok),
            **figures,
            **timeline.figures(),
        },
        plot=plotter(timeline, "canary-autoscale: a canary while the load steps up and down", peak),
    )


def _hand_over(env: Env, load: Load, timeline: Timeline) -> None:
    """Switch the HPA on with the running revision (its annotation kept: no canary) and wait
    until it owns the count."""
    keep = _annotation(env, timeline)
    load.mark(f"helm upgrade: the HPA on ({LOW}-{HIGH} replicas at {TARGET_CPU}% CPU)")
    upgrade(env, *SETS, *([f"podAnnotations.{ANNOTATION}={keep}"] if keep else []))

    def owned() -> bool:
        p = timeline.read()
        return p.desired is not None and p.spec == p.desired == p.ready and not p.canary

    wait_until(owned, timeout=HANDOVER_S, what="the HPA to own the Rollout's replicas")
    load.mark("the HPA owns the replica count")


def _annotation(env: Env, timeline: Timeline) -> str:
    """The running revision's drill annotation (helm drops what an upgrade does not set)."""
    found = env.kube.api.get(ROLLOUT, timeline.rollout, namespace=env.opts.namespace) or {}
    meta = ((found.get("spec") or {}).get("template") or {}).get("metadata") or {}
    return str((meta.get("annotations") or {}).get(ANNOTATION, ""))


def _step(env: Env, load: Load) -> list[Sample]:
    offset = load.mark(f"load steps up by {PEAK_RPS:g} rps for {PEAK_S:.0f}s")
    with Load(env.url + "/", rps=PEAK_RPS, max_seconds=PEAK_S) as extra:
        time.sleep(PEAK_S)
        samples = extra.stop()
    load.mark(f"load steps back down to {env.rps:g} rps")
    return [dataclasses.replace(s, t=s.t + offset) for s in samples]


def _scaled_in(load: Load, timeline: Timeline) -> bool:
    top = max((p.desired or 0 for p in timeline.points), default=0)

    def lower() -> bool:
        return bool(timeline.points) and (timeline.points[-1].desired or top) < top

    try:
        wait_until(lower, timeout=SCALE_IN_S, what="the HPA to scale back in")
    except PlatformError:
        return False
    load.mark("the HPA scaled back in")
    return True
