"""Canary drills under steady, bounded load on 127.0.0.1 (the drill load and report).

The service's release in namespace ``<namespace>-rollouts`` (named as in its own namespace,
so the embedded Prometheus scrapes its pods and its canary's under the names the analysis
reads; 4 replicas, no HPA, NodePort 30084, ``rollout.strategy=canary``) is deployed with
Prometheus and the Argo Rollouts controller, then:

* ``canary-good``: a new revision (a pod annotation) goes 20 -> 50 -> 100 % judged by the
  analysis: it must be promoted with no failed request;
* ``canary-bad`` / ``canary-slow``: a revision answering 5 % of real requests with 500
  (``faults.errorRate=0.05``) / 400 ms late (``faults.latencyMs``, judged on p95) must be
  aborted by the analysis and the release rolled back:
  the user-visible errors, the seconds from the canary's first answer to the abort, and the
  ready pods of each revision over time (the stable set is never left short: the ready pods
  of both revisions never fall below the replica count);
* ``blue-green``: the strategy switched to blueGreen with a new revision: previewed, judged
  (a Job's traffic to the preview and the analysis on its pods), switched, no failed request;
* ``canary-autoscale`` (last: it leaves the HPA on): the chart's CPU HPA on the Rollout
  (2-5 replicas), then a good canary with 60 s steps while a second bounded load steps the
  rate up by 170 rps for 60 s and back down: promoted, no failed request, and the HPA and
  the Rollout do not fight (counts within the HPA's bounds, the stable set never short of
  its share, at most 2 turns of the desired count).

Each drill's replicas over time (the Rollout's count, the stable and canary ReplicaSets, the
canary weight, the HPA's desired count) and the load's rate and failures are drawn to
``out/drill/<run>/<drill>.png``, next to ``summary.json``.
"""

from __future__ import annotations

import math
from typing import Any

from hello_platform.clients.kube import Kube
from hello_platform.core.catalogue import Service
from hello_platform.core.errors import PlatformError
from hello_platform.pipeline.deploy.release import rollback
from hello_platform.pipeline.drill.drills import Drill, Outcome, Table
from hello_platform.pipeline.drill.load import DEFAULT_RPS, Load
from hello_platform.pipeline.drill.release import Env, base_sets, deploy_env, wait_until
from hello_platform.pipeline.rollouts import addon
from hello_platform.pipeline.rollouts.autoscale import canary_autoscale, promote, revise, upgrade
from hello_platform.pipeline.rollouts.outcome import PROMOTED, ROLLOUT, rollout_outcome
from hello_platform.pipeline.rollouts.timeline import Timeline, plotter
from hello_platform.pipeline.rollouts.watch import settle

SUFFIX = "-rollouts"
NODE_PORT = 30084
REPLICAS = 4
ERROR_RATE = 0.05
#: The slow canary's added latency: above the analysis' p95 bound (0.25 s).
SLOW_MS = 400
#: The analysis must abort a bad canary this soon after the canary's first answer (s).
ABORT_WITHIN_S = 60.0
BASE_SETS = (*base_sets(NODE_PORT, REPLICAS), "rollout.strategy=canary")


def _promoted(env: Env, load: Load, what: str, *sets: str) -> Outcome:
    t = load.mark(f"helm upgrade {what}")
    with Timeline(env, load) as replicas:
        name, revision = revise(env, *sets)
        seconds = promote(env, name, revision)
        promoted = load.mark("promoted to all pods")
    figures = {"seconds_to_promotion": seconds, **replicas.figures()}
    return Outcome({"promoted": True}, promoted - t, figures, plot=plotter(replicas, what))


def canary_good(env: Env, load: Load) -> Outcome:
    """A new revision goes 20 -> 50 -> 100 %, judged by Prometheus: promoted, nothing fails."""
    found = _promoted(env, load, "(new pod annotation): canary 20 -> 50 -> 100 %")
    found.checks["ready pods never below the replicas"] = found.figures["min_ready"] >= REPLICAS
    return found


def blue_green(env: Env, load: Load) -> Outcome:
    """The strategy switched to blueGreen with a new revision: previewed, judged (a Job's
    traffic and the analysis on the preview pods), then switched; nothing fails."""
    strategy = "rollout.strategy=blueGreen"
    # The switch alone first: with no active revision yet, a blue/green Rollout makes the new
    # one active at once (no preview, no analysis); the next revision is then judged.
    promote(env, *upgrade(env, strategy))
    load.mark("switched to blueGreen: the running revision is the active one")
    found = _promoted(env, load, "(new pod annotation) under blueGreen", strategy)
    found.checks["a preview was up before the switch"] = found.figures["max_canary_ready"] >= 1
    return found


def aborted(fault: str, error_rate: float) -> Drill:
    """A drill: a revision with ``fault`` must be aborted by the analysis and rolled back."""

    def run(env: Env, load: Load) -> Outcome:
        return _aborted(env, load, fault, error_rate)

    run.__doc__ = f"A canary with {fault} is aborted by the analysis and rolled back."
    return run


def _aborted(env: Env, load: Load, fault: str, error_rate: float) -> Outcome:
    t = load.mark(f"helm upgrade {fault}: a bad canary")
    marks: dict[str, float] = {}
    with Timeline(env, load) as replicas:
        name, revision = upgrade(env, fault)

        def abort_seen() -> str:
            marks["abort"] = load.mark("aborted by the analysis: helm rollback")
            return rollback(env.kube, env.opts, revision)

        try:
            settle(env.kube.api, name, env.opts.namespace, rollback=abort_seen)
            message = "the bad canary was promoted"
            # Rolled back all the same, so that the next drill starts from a good revision.
            rollback(env.kube, env.opts, revision)
        except PlatformError as err:
            message = err.message
        load.mark(message[:160])
        wait_until(
            lambda: rollout_outcome(env.kube.api, name, env.opts.namespace).state == PROMOTED,
            timeout=240,  # after a promoted bad canary, the rollback is itself a canary
            what="the stable revision to serve alone again",
        )
        recovered = load.mark("stable revision alone again")
    errors = _errors(load, replicas.canary, marks.get("abort"), error_rate)
    figures = {**replicas.figures(), **errors}
    first, abort = figures["first_canary_answer_s"], marks.get("abort")
    return Outcome(
        {
            "aborted by the analysis and rolled back": "aborted" in message
            and "rolled back to revision" in message,
            f"abort within {ABORT_WITHIN_S:.0f}s of the canary's first answer": first is not None
            and abort is not None
            and abort - first <= ABORT_WITHIN_S,
            "errors within the canary's budget": figures["errors"] <= figures["error_budget"],
            "ready pods never below the replicas": figures["min_ready"] >= REPLICAS,
        },
        recovered - t,
        {**figures, "message": message},
        plot=plotter(replicas, f"a bad canary ({fault}): aborted and rolled back"),
    )


def _errors(load: Load, canary: str, abort: float | None, error_rate: float) -> dict[str, Any]:
    """The canary's first answer, the errors users saw, and their budget: the canary's share
    x the error rate x the requests while it served (x2, +3 for chance)."""
    samples = sorted(load.samples, key=lambda s: s.t)
    first = next((s.t for s in samples if canary and f"-{canary}-" in s.host), None)
    end = abort if abort is not None else load.now()
    during = [s for s in samples if first is not None and first <= s.t <= end]
    share = 1 / REPLICAS  # 20 % of 4 replicas is 1 pod (50 % is 2: then the share doubles)
    budget = math.ceil(2 * share * error_rate * len(during)) + 3
    return {
        "first_canary_answer_s": first,
        "abort_after_first_answer_s": round(end - first, 1) if first is not None else None,
        "requests_during_canary": len(during),
        "errors": sum(1 for s in samples if not s.ok),
        "error_budget": budget,
    }


DRILLS: Table = {
    "canary-good": (canary_good, True),
    "canary-bad": (aborted(f"faults.errorRate={ERROR_RATE}", ERROR_RATE), False),
    "canary-slow": (aborted(f"faults.latencyMs={SLOW_MS}", 0.0), False),
    "blue-green": (blue_green, True),
    # Last: it leaves the HPA on (the next run's setup turns it off again).
    "canary-autoscale": (canary_autoscale, True),
}
NAMES = tuple(DRILLS)


def _available(kube: Kube, namespace: str) -> bool:
    found = kube.find(ROLLOUT, namespace=namespace)
    return bool(found) and all(
        (r.get("status") or {}).get("availableReplicas") == REPLICAS for r in found
    )


def setup(service: Service, rps: float = DEFAULT_RPS) -> Env:
    """Prometheus and the controller up, then the canary release under load."""
    from hello_platform.pipeline.monitoring import stack
    from hello_platform.substrate import addons

    kube = Kube(stack.up(with_keda=False))
    addons.up(kube, addon.ADDON)
    # Under load: an existing release's upgrade is itself a canary, judged on its traffic
    # (without any it would be held as inconclusive, rightly).
    with Load(f"http://127.0.0.1:{NODE_PORT}/", rps=rps):
        namespace = service.namespace + SUFFIX
        env = deploy_env(
            service, rps, BASE_SETS, namespace=namespace, release=service.release, what="canary"
        )
    # deploy sets a count an earlier drill's HPA left back to REPLICAS; wait for them all.
    wait_until(lambda: _available(kube, namespace), timeout=120, what=f"{REPLICAS} replicas")
    return env
