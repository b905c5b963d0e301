"""What the load test reads from the cluster (the HPA, the pods and their CPU); parsing is pure."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from lightkube.resources.core_v1 import Pod

from hello_platform.clients.kube import Kube, quantity, resource
from hello_platform.core.errors import PlatformError
from hello_platform.pipeline.helm.names import instance_selector

#: Kubernetes' default scale-down stabilization window when spec.behavior does not set one.
DEFAULT_SCALE_DOWN_WINDOW_S = 300


@dataclass(frozen=True)
class HpaStatus:
    name: str
    target_kind: str
    target_name: str
    min_replicas: int
    max_replicas: int
    current_replicas: int
    desired_replicas: int
    #: status.currentMetrics cpu averageUtilization (% of the pods' CPU request), if known yet.
    cpu_utilization: int | None
    #: spec.metrics cpu target averageUtilization (%), if the HPA scales on CPU utilization.
    cpu_target: int | None
    #: spec.behavior.scaleDown.stabilizationWindowSeconds, or Kubernetes' default (300 s).
    scale_down_window_s: int
    last_scale_time: float | None
    #: An External metric (KEDA's request rate): its current averageValue per pod, if known.
    external_value: float | None = None
    #: That metric's target averageValue per pod (KEDA's threshold).
    external_target: float | None = None
    target_api_version: str = "apps/v1"

    @property
    def at_rest(self) -> bool:
        return (
            self.current_replicas <= self.min_replicas
            and self.desired_replicas <= self.min_replicas
        )


@dataclass(frozen=True)
class PodUsage:
    """CPU (millicores) and memory (MiB) one pod used, from the metrics API."""

    name: str
    cpu_m: float
    memory_mib: float


@dataclass(frozen=True)
class PodCounts:
    total: int
    ready: int


def parse_time(value: str | None) -> float | None:
    if not value:
        return None
    return datetime.fromisoformat(value.replace("Z", "+00:00")).timestamp()


def _metric(entries: Sequence[Mapping[str, Any]], section: str, *, cpu: bool) -> Any:
    """The cpu Resource metric's averageUtilization (an int), else the first External
    metric's averageValue (a float), in ``section`` (current or target)."""
    kind = "Resource" if cpu else "External"
    for entry in entries:
        body = entry.get(kind.lower()) or {}
        if entry.get("type") != kind or (cpu and body.get("name") != "cpu"):
            continue
        value = (body.get(section) or {}).get("averageUtilization" if cpu else "averageValue")
        if value is None:
            return None
        return int(value) if cpu else quantity(str(value))
    return None


def parse_hpa(doc: Mapping[str, Any]) -> HpaStatus:
    if doc.get("kind") != "HorizontalPodAutoscaler":
        raise ValueError(f"not a HorizontalPodAutoscaler: kind={doc.get('kind')!r}")
    meta, spec, status = (doc.get(key) or {} for key in ("metadata", "spec", "status"))
    current, wanted = status.get("currentMetrics") or [], spec.get("metrics") or []
    target = spec.get("scaleTargetRef") or {}
    scale_down = (spec.get("behavior") or {}).get("scaleDown") or {}
    window = scale_down.get("stabilizationWindowSeconds")
    return HpaStatus(
        name=str(meta.get("name", "")),
        target_kind=str(target.get("kind", "")) or "Deployment",
        target_api_version=str(target.get("apiVersion", "")) or "apps/v1",
        target_name=str(target.get("name", "")),
        min_replicas=int(spec.get("minReplicas", 1)),
        max_replicas=int(spec["maxReplicas"]),
        current_replicas=int(status.get("currentReplicas", 0)),
        desired_replicas=int(status.get("desiredReplicas", 0)),
        cpu_utilization=_metric(current, "current", cpu=True),
        cpu_target=_metric(wanted, "target", cpu=True),
        scale_down_window_s=int(window) if window is not None else DEFAULT_SCALE_DOWN_WINDOW_S,
        last_scale_time=parse_time(status.get("lastScaleTime")),
        external_value=_metric(current, "current", cpu=False),
        external_target=_metric(wanted, "target", cpu=False),
    )


def parse_pods(doc: Mapping[str, Any]) -> PodCounts:
    """Running pods and how many are Ready; pods being deleted no longer count."""
    total = ready = 0
    for pod in doc.get("items") or []:
        if (pod.get("metadata") or {}).get("deletionTimestamp"):
            continue
        status = pod.get("status") or {}
        if status.get("phase") in ("Succeeded", "Failed"):
            continue
        total += 1
        conditions = status.get("conditions") or []
        if any(c.get("type") == "Ready" and c.get("status") == "True" for c in conditions):
            ready += 1
    return PodCounts(total=total, ready=ready)


def parse_pod_metrics(doc: Mapping[str, Any]) -> list[PodUsage]:
    usages = []
    for item in doc.get("items") or []:
        cpu = memory = 0.0
        for container in item.get("containers") or []:
            usage = container.get("usage") or {}
            cpu += quantity(str(usage.get("cpu", "0"))) * 1000.0  # millicores
            memory += quantity(str(usage.get("memory", "0"))) / 2**20  # MiB
        name = str((item.get("metadata") or {}).get("name", ""))
        usages.append(PodUsage(name=name, cpu_m=cpu, memory_mib=memory))
    return usages


def selector_string(match_labels: Mapping[str, str]) -> str:
    return ",".join(f"{k}={v}" for k, v in sorted(match_labels.items()))


def node_port_url(service: Mapping[str, Any], port_name: str | None = None) -> str:
    spec = service.get("spec") or {}
    name = (service.get("metadata") or {}).get("name", "?")
    if spec.get("type") not in ("NodePort", "LoadBalancer"):
        raise PlatformError(
            f"service '{name}' is of type {spec.get('type', 'ClusterIP')}, not NodePort",
            hint="deploy with the local profile (nox -s deploy), or pass --url to a "
            "port-forward on 127.0.0.1",
        )
    ports = spec.get("ports") or []
    chosen = [p for p in ports if port_name is None or p.get("name") == port_name] or ports
    for port in chosen:
        if port.get("nodePort"):
            return f"http://127.0.0.1:{int(port['nodePort'])}"
    raise PlatformError(f"service '{name}' has no nodePort", hint="pass --url instead")


#: The metrics API's per-pod usage (metrics-server), an aggregated API with no model.
POD_METRICS = resource("metrics.k8s.io/v1beta1", "PodMetrics", plural="pods")


class KubeReader:
    def __init__(self, kube: Kube, namespace: str) -> None:
        self.kube = kube
        self.namespace = namespace

    def object(self, api_version: str, kind: str, name: str) -> dict[str, Any]:
        found = self.kube.get(resource(api_version, kind), name, namespace=self.namespace)
        if found is None:
            raise PlatformError(f"{kind} '{name}' not found in namespace '{self.namespace}'")
        return found

    def labelled(self, api_version: str, kind: str, release: str) -> list[dict[str, Any]]:
        res = resource(api_version, kind)
        return self.kube.find(res, namespace=self.namespace, labels=instance_selector(release))

    def hpa(self, name: str) -> HpaStatus:
        return parse_hpa(self.object("autoscaling/v2", "HorizontalPodAutoscaler", name))

    def pods(self, selector: str) -> PodCounts:
        return parse_pods({"items": self.kube.find(Pod, namespace=self.namespace, labels=selector)})

    def pod_usage(self, selector: str) -> list[PodUsage]:
        items = self.kube.find(POD_METRICS, namespace=self.namespace, labels=selector)
        return parse_pod_metrics({"items": items})
