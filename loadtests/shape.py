"""The load shape of the autoscaling proof: ramp up, hold, stop.

``-u`` (peak users), ``-r`` (spawn rate) and ``--run-time`` keep their usual meaning
(``use_common_options``): the shape ramps to ``-u`` users at ``-r`` users/s, holds them for
``--hold-time`` seconds (longer than the HPA takes to react), then returns ``None``, which
stops the test. ``--run-time`` stays a hard upper bound on top of that.

The stage arithmetic is plain Python (``plan``/``stage_at``) so it is unit-tested without
starting Locust.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from locust import LoadTestShape

#: Used when the command line does not give a hold time (seconds).
DEFAULT_HOLD_S = 120.0


@dataclass(frozen=True)
class Stage:
    """One stage: until ``end_s`` (seconds since start) run ``users`` spawned at ``rate``/s."""

    name: str
    end_s: float
    users: int
    rate: float


def plan(users: int, spawn_rate: float, hold_s: float) -> list[Stage]:
    """The stages for a ramp to ``users`` at ``spawn_rate``/s held for ``hold_s`` seconds."""
    if users < 1 or spawn_rate <= 0 or hold_s < 0:
        raise ValueError("need users >= 1, spawn rate > 0 and hold time >= 0")
    ramp_s = math.ceil(users / spawn_rate)
    return [
        Stage("ramp", float(ramp_s), users, spawn_rate),
        Stage("hold", float(ramp_s) + hold_s, users, spawn_rate),
    ]


def stage_at(stages: list[Stage], t: float) -> Stage | None:
    """The stage running ``t`` seconds after the start, or ``None`` once all have ended."""
    for stage in stages:
        if t < stage.end_s:
            return stage
    return None


class RampHoldShape(LoadTestShape):
    """Ramp to ``-u`` users at ``-r``/s, hold for ``--hold-time`` seconds, stop."""

    use_common_options = True

    def __init__(self) -> None:
        super().__init__()
        self.stage: str = "init"
        self._stages: list[Stage] | None = None

    def stages(self) -> list[Stage]:
        if self._stages is None:
            opts = self.runner.environment.parsed_options if self.runner else None
            users = int(getattr(opts, "num_users", None) or 1)
            rate = float(getattr(opts, "spawn_rate", None) or 1.0)
            hold = float(getattr(opts, "hold_time", None) or DEFAULT_HOLD_S)
            self._stages = plan(users, rate, hold)
        return self._stages

    def tick(self) -> tuple[int, float] | None:
        current = stage_at(self.stages(), self.get_run_time())
        self.stage = current.name if current else "stop"
        return (current.users, current.rate) if current else None
