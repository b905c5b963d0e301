"""What became of a Rollout, read from its ``status``: promoted, aborted (and why), held for
a person (an inconclusive analysis: too little traffic), or going on."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from hello_platform.clients.kube import Kube, resource

API = "argoproj.io/v1alpha1"
ROLLOUT = resource(API, "Rollout")
#: Pause reasons that wait for a person (a timed canary step resumes by itself).
HELD = ("InconclusiveAnalysisRun",)
#: The states an outcome can be in; the first two are final.
PROMOTED, ABORTED, PAUSED, PROGRESSING, MISSING = (
    "promoted",
    "aborted",
    "paused",
    "progressing",
    "missing",
)


@dataclass(frozen=True)
class Outcome:
    name: str
    state: str
    phase: str
    message: str
    #: The pod-template hash being rolled out, and the one serving as stable.
    current: str
    stable: str

    @property
    def done(self) -> bool:
        return self.state in (PROMOTED, ABORTED)

    def sentence(self) -> str:
        why = f": {self.message}" if self.message else ""
        if self.state == PROMOTED:
            return f"rollout {self.name} promoted revision {self.current} to all pods"
        if self.state == ABORTED:
            return f"rollout {self.name} aborted revision {self.current}{why}"
        if self.state == MISSING:
            return f"rollout {self.name} does not exist"
        if self.state == PAUSED:
            held = f"rollout {self.name} is held at revision {self.current}"
            return f"{held}: its analysis was inconclusive"
        return f"rollout {self.name} is {self.phase or self.state} at {self.current}{why}"


def outcome(rollout: Mapping[str, Any] | None, name: str = "") -> Outcome:
    if rollout is None:
        return Outcome(name, MISSING, "", "", "", "")
    meta, status = rollout.get("metadata") or {}, rollout.get("status") or {}
    name = str(meta.get("name", name))
    phase, message = str(status.get("phase", "")), str(status.get("message", ""))
    current, stable = str(status.get("currentPodHash", "")), str(status.get("stableRS", ""))
    seen = str(status.get("observedGeneration", "")) == str(meta.get("generation", ""))
    if status.get("abort"):
        state = ABORTED
    elif seen and phase == "Healthy" and current and current == stable:
        state = PROMOTED
    elif seen and any(c.get("reason") in HELD for c in status.get("pauseConditions") or []):
        state = PAUSED
    else:
        state = PROGRESSING
    return Outcome(name, state, phase, message, current, stable)


def rollout_outcome(kube: Kube, name: str, namespace: str) -> Outcome:
    return outcome(kube.get(ROLLOUT, name, namespace=namespace), name)
