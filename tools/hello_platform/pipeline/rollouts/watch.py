"""The release watches its Rollout: promoted, or aborted and the release rolled back."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import Any

from hello_platform.clients.kube import Kube
from hello_platform.core.errors import PlatformError
from hello_platform.core.progress import say
from hello_platform.core.wait import Check, until
from hello_platform.pipeline.rollouts.outcome import (
    ABORTED,
    PAUSED,
    ROLLOUT,
    Outcome,
    rollout_outcome,
)

#: Seconds a Rollout gets to be promoted or aborted (steps, pauses and analysis included).
TIMEOUT = 600.0


def restore_replicas(api: Kube, objects: Iterable[Mapping[str, Any]], namespace: str) -> list[str]:
    """Set each Rollout that no autoscaler of the release scales back to its manifest's count;
    the names of those that had drifted.

    Helm patches a custom resource from its previous manifest, not from the live object, so
    turning autoscaling off leaves the count the autoscaler last set whenever the chart's
    count did not change (a Deployment gets a three-way patch and is repaired by helm)."""
    objects = list(objects)
    scaled = {
        str(o["spec"]["scaleTargetRef"].get("name"))
        for o in objects
        if o.get("kind") in ("HorizontalPodAutoscaler", "ScaledObject")
        and (o.get("spec") or {}).get("scaleTargetRef")
    }
    restored = []
    for obj in objects:
        name, want = obj["metadata"]["name"], (obj.get("spec") or {}).get("replicas")
        if obj.get("kind") != "Rollout" or want is None or name in scaled:
            continue
        live = api.get(ROLLOUT, name, namespace=namespace)
        if live is not None and live["spec"].get("replicas") != want:
            api.patch(ROLLOUT, name, {"spec": {"replicas": want}}, namespace=namespace)
            restored.append(f"{name} ({live['spec'].get('replicas')} -> {want})")
    return restored


def settle(
    api: Kube,
    name: str,
    namespace: str,
    *,
    rollback: Callable[[], str],
    timeout: float = TIMEOUT,
    interval: float = 2.0,
) -> float:
    """Wait until Rollout ``name`` is promoted (the seconds it took), or aborted (``rollback()``
    is called and a PlatformError says why); one held for a person is not rolled back."""
    seen: list[Outcome] = []

    def check() -> Check:
        now = rollout_outcome(api, name, namespace)
        seen.append(now)
        return Check(now.done or now.state == PAUSED, now.sentence())

    what = f"rollout {name} is not promoted"
    seconds = until(check, what=what, timeout=timeout, interval=interval)
    last = seen[-1]
    if last.state == ABORTED:
        restored = rollback()
        raise PlatformError(
            f"{last.sentence()}; the release was rolled back to {restored}",
            hint=f"kubectl -n {namespace} get analysisruns -l rollouts-pod-template-hash="
            f"{last.current} -o yaml",
        )
    if last.state == PAUSED:
        raise PlatformError(
            f"{last.sentence()} (too little traffic to judge the new revision)",
            hint=f"send it traffic, then promote or abort: kubectl argo rollouts -n {namespace} "
            f"promote {name} (or abort {name})",
        )
    say(f"rollout {name}: revision {last.current} promoted to all pods in {seconds:.0f}s")
    return round(seconds, 1)
