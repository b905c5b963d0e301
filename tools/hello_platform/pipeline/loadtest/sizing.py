"""Sizing advice from a load test (printed, never applied).

CPU per request = (pods' CPU at hold - idle CPU) / rps. CPU request: that load spread over
maxReplicas - 1 pods at the target, rounded up to 10m, at least 4x a pod's idle use; limit
4x (no throttling on bursts). Memory: the peak +25 % rounded up to 16Mi; limit 2x. HPA
target: 70 % when the hold's p95 stayed within half its budget, 60 % within it, else 50 %.
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Sequence
from dataclasses import dataclass

from hello_platform.pipeline.loadtest.watcher import LoadPoint, Sample


@dataclass(frozen=True)
class Sizing:
    hold_rps: float | None
    hold_pod_cpu_m: float | None
    idle_pod_cpu_m: float | None
    cpu_ms_per_request: float | None
    pod_cpu_p90_m: float | None
    pod_memory_max_mib: float | None
    cpu_request_m: int | None
    cpu_limit_m: int | None
    memory_request_mib: int | None
    memory_limit_mib: int | None
    hpa_target_percent: int
    rps_per_pod_at_target: float | None

    def lines(self) -> list[str]:
        out = []
        if self.cpu_ms_per_request is not None and self.hold_rps is not None:
            out.append(
                f"measured: {self.cpu_ms_per_request:.2f} ms of CPU per request at "
                f"{self.hold_rps:.0f} rps (pods {self.hold_pod_cpu_m or 0:.0f}m in total,"
                f" idle {self.idle_pod_cpu_m or 0:.0f}m per pod)"
            )
        else:
            out.append("measured: no pod CPU figures (metrics API gave none during the hold)")
        if self.cpu_request_m is not None:
            out.append(
                f"resources.requests.cpu: {self.cpu_request_m}m, "
                f"resources.limits.cpu: {self.cpu_limit_m}m"
            )
        if self.memory_request_mib is not None:
            out.append(
                f"resources.requests.memory: {self.memory_request_mib}Mi, "
                f"resources.limits.memory: {self.memory_limit_mib}Mi"
            )
        out.append(f"autoscaling.targetCPUUtilizationPercentage: {self.hpa_target_percent}")
        if self.rps_per_pod_at_target is not None:
            out.append(
                f"capacity: about {self.rps_per_pod_at_target:.0f} rps per pod at that "
                "request and target"
            )
        return out


def _round_up(value: float, step: int) -> int:
    return max(step, math.ceil(value / step) * step)


def _percentile(values: Sequence[float], fraction: float) -> float:
    ordered = sorted(values)
    rank = max(0, math.ceil(fraction * len(ordered)) - 1)
    return ordered[rank]


def cpu_target(p95_hold_ms: float | None, p95_budget_ms: float) -> int:
    if p95_hold_ms is not None and p95_hold_ms <= p95_budget_ms / 2:
        return 70
    if p95_hold_ms is not None and p95_hold_ms <= p95_budget_ms:
        return 60
    return 50


def _pods_for_load(samples: Sequence[Sample], pods_at_hold: float | None) -> float:
    """The pods that should carry the held load: one fewer than maxReplicas (headroom)."""
    max_replicas = next((s.hpa.max_replicas for s in reversed(samples) if s.hpa), None)
    if max_replicas is not None and max_replicas > 1:
        return float(max_replicas - 1)
    return max(1.0, round(pods_at_hold or 1.0))


def advise(
    samples: Sequence[Sample],
    points: Sequence[LoadPoint],
    *,
    hold_start: float,
    load_start: float,
    load_stop: float,
    p95_hold_ms: float | None,
    p95_budget_ms: float,
) -> Sizing:
    """Sizing from the hold's and the idle samples; hold samples start 15 s into the hold (or
    half-way through a shorter one): the metrics API averages over a window."""
    settle = min(15.0, max(0.0, load_stop - hold_start) / 2)
    hold = [s for s in samples if hold_start + settle <= s.t <= load_stop and s.usage]
    idle = [s for s in samples if (s.t < load_start or s.t > load_stop + 60) and s.usage]
    hold_points = [p for p in points if hold_start <= p.t <= load_stop and p.users > 0]
    hold_rps = statistics.fmean(p.rps for p in hold_points) if hold_points else None
    hold_cpu = statistics.fmean(sum(u.cpu_m for u in s.usage or ()) for s in hold) if hold else None
    idle_per_pod = min(u.cpu_m for s in idle for u in s.usage or ()) if idle else None
    pods_at_hold = statistics.fmean(len(s.usage or ()) for s in hold) if hold else None
    per_request = None
    if hold_cpu is not None and hold_rps and pods_at_hold:
        busy = max(0.0, hold_cpu - (idle_per_pod or 0.0) * pods_at_hold)
        per_request = busy / hold_rps
    per_pod = [u.cpu_m for s in hold for u in s.usage or ()]
    pod_p90 = _percentile(per_pod, 0.9) if per_pod else None
    memory = [u.memory_mib for s in samples for u in s.usage or ()]
    mem_max = max(memory) if memory else None
    target = cpu_target(p95_hold_ms, p95_budget_ms)
    pods_for_load = _pods_for_load(samples, pods_at_hold)
    cpu_request = None
    if per_request is not None and hold_rps:
        needed = per_request * hold_rps / (pods_for_load * target / 100)
        cpu_request = _round_up(max(needed, 4 * (idle_per_pod or 0.0)), 10)
    mem_request = _round_up(mem_max * 1.25, 16) if mem_max is not None else None
    capacity = None
    if cpu_request is not None and per_request:
        capacity = cpu_request * target / 100 / per_request
    return Sizing(
        hold_rps=hold_rps,
        hold_pod_cpu_m=hold_cpu,
        idle_pod_cpu_m=idle_per_pod,
        cpu_ms_per_request=per_request,
        pod_cpu_p90_m=pod_p90,
        pod_memory_max_mib=mem_max,
        cpu_request_m=cpu_request,
        cpu_limit_m=cpu_request * 4 if cpu_request is not None else None,
        memory_request_mib=mem_request,
        memory_limit_mib=mem_request * 2 if mem_request is not None else None,
        hpa_target_percent=target,
        rps_per_pod_at_target=capacity,
    )
