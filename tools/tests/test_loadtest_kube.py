"""Parsing what kubectl prints for the load test: HPA, pods, metrics API, Service."""

from __future__ import annotations

import json

import pytest
from hello_platform.core.errors import PlatformError
from hello_platform.pipeline.loadtest.kube import (
    DEFAULT_SCALE_DOWN_WINDOW_S,
    node_port_url,
    parse_hpa,
    parse_pod_metrics,
    parse_pods,
    parse_time,
    selector_string,
)

# `kubectl get hpa hello -o json` while scaled up (trimmed managedFields/annotations).
HPA_JSON = """
{
  "apiVersion": "autoscaling/v2",
  "kind": "HorizontalPodAutoscaler",
  "metadata": {"name": "hello", "namespace": "hello",
               "labels": {"app.kubernetes.io/instance": "hello"}},
  "spec": {
    "scaleTargetRef": {"apiVersion": "apps/v1", "kind": "Deployment", "name": "hello"},
    "minReplicas": 1,
    "maxReplicas": 5,
    "metrics": [{"type": "Resource", "resource": {"name": "cpu",
                 "target": {"type": "Utilization", "averageUtilization": 50}}}],
    "behavior": {
      "scaleUp": {"stabilizationWindowSeconds": 0, "selectPolicy": "Max",
                  "policies": [{"type": "Percent", "value": 100, "periodSeconds": 15}]},
      "scaleDown": {"stabilizationWindowSeconds": 30, "selectPolicy": "Max",
                    "policies": [{"type": "Percent", "value": 100, "periodSeconds": 15}]}
    }
  },
  "status": {
    "currentReplicas": 2,
    "desiredReplicas": 4,
    "lastScaleTime": "2026-11-30T03:00:15Z",
    "currentMetrics": [{"type": "Resource", "resource": {"name": "cpu",
                        "current": {"averageUtilization": 128, "averageValue": "128m"}}}],
    "conditions": [{"type": "AbleToScale", "status": "True", "reason": "SucceededRescale"}]
  }
}
"""

# A fresh HPA: no metrics yet, no behavior in the spec, no minReplicas (defaults to 1).
HPA_FRESH_JSON = """
{
  "apiVersion": "autoscaling/v2",
  "kind": "HorizontalPodAutoscaler",
  "metadata": {"name": "web"},
  "spec": {"scaleTargetRef": {"kind": "Deployment", "name": "web"}, "maxReplicas": 3,
           "metrics": [{"type": "Resource", "resource": {"name": "cpu",
                        "target": {"type": "Utilization", "averageUtilization": 70}}}]},
  "status": {"currentReplicas": 1, "desiredReplicas": 0,
             "currentMetrics": [{"type": "Resource", "resource": {"name": "cpu",
                                 "current": {"averageValue": "0"}}}]}
}
"""


def test_parse_hpa_scaled_up() -> None:
    hpa = parse_hpa(json.loads(HPA_JSON))
    assert hpa.name == "hello"
    assert (hpa.target_kind, hpa.target_name) == ("Deployment", "hello")
    assert (hpa.min_replicas, hpa.max_replicas) == (1, 5)
    assert (hpa.current_replicas, hpa.desired_replicas) == (2, 4)
    assert hpa.cpu_utilization == 128
    assert hpa.cpu_target == 50
    assert hpa.scale_down_window_s == 30
    assert hpa.last_scale_time == parse_time("2026-11-30T03:00:15Z")


def test_parse_hpa_fresh_uses_defaults() -> None:
    hpa = parse_hpa(json.loads(HPA_FRESH_JSON))
    assert hpa.min_replicas == 1
    assert hpa.cpu_utilization is None
    assert hpa.cpu_target == 70
    assert hpa.scale_down_window_s == DEFAULT_SCALE_DOWN_WINDOW_S
    assert hpa.last_scale_time is None


def test_parse_hpa_rejects_other_kinds() -> None:
    with pytest.raises(ValueError, match="HorizontalPodAutoscaler"):
        parse_hpa({"kind": "Deployment"})


def test_parse_time() -> None:
    assert parse_time("1970-01-01T00:01:00Z") == 60.0
    assert parse_time(None) is None


@pytest.mark.parametrize(
    ("cpu", "millicores"),
    [("250m", 250.0), ("1", 1000.0), ("0.5", 500.0), ("1234567n", 1.234567), ("12u", 0.012)],
)
def test_parse_pod_metrics_cpu_in_millicores(cpu: str, millicores: float) -> None:
    doc = {"items": [{"containers": [{"usage": {"cpu": cpu}}]}]}
    assert parse_pod_metrics(doc)[0].cpu_m == pytest.approx(millicores)


@pytest.mark.parametrize(
    ("memory", "mib"),
    [("65536Ki", 64.0), ("64Mi", 64.0), ("1Gi", 1024.0), ("1048576", 1.0), ("1M", 0.953674)],
)
def test_parse_pod_metrics_memory_in_mib(memory: str, mib: float) -> None:
    doc = {"items": [{"containers": [{"usage": {"memory": memory}}]}]}
    assert parse_pod_metrics(doc)[0].memory_mib == pytest.approx(mib, rel=1e-5)


def test_parse_pods_counts_ready_and_skips_terminating() -> None:
    def pod(ready: str, *, deleting: bool = False, phase: str = "Running") -> dict[str, object]:
        meta: dict[str, object] = {"name": "p"}
        if deleting:
            meta["deletionTimestamp"] = "2026-11-30T03:00:00Z"
        return {
            "metadata": meta,
            "status": {"phase": phase, "conditions": [{"type": "Ready", "status": ready}]},
        }

    doc = {
        "kind": "List",
        "items": [
            pod("True"),
            pod("False"),
            pod("True", deleting=True),
            pod("False", phase="Succeeded"),
        ],
    }
    counts = parse_pods(doc)
    assert (counts.total, counts.ready) == (2, 1)


def test_parse_pod_metrics_sums_containers() -> None:
    doc = {
        "kind": "PodMetricsList",
        "items": [
            {
                "metadata": {"name": "hello-1"},
                "containers": [
                    {"name": "hello", "usage": {"cpu": "120000000n", "memory": "40960Ki"}},
                    {"name": "sidecar", "usage": {"cpu": "5m", "memory": "8Mi"}},
                ],
            },
            {
                "metadata": {"name": "hello-2"},
                "containers": [{"name": "hello", "usage": {"cpu": "30m", "memory": "41Mi"}}],
            },
        ],
    }
    usage = parse_pod_metrics(doc)
    assert [u.name for u in usage] == ["hello-1", "hello-2"]
    assert usage[0].cpu_m == pytest.approx(125.0)
    assert usage[0].memory_mib == pytest.approx(48.0)
    assert usage[1].cpu_m == pytest.approx(30.0)


def test_selector_string_is_sorted() -> None:
    labels = {"app.kubernetes.io/name": "hello", "app.kubernetes.io/instance": "hello"}
    assert selector_string(labels) == (
        "app.kubernetes.io/instance=hello,app.kubernetes.io/name=hello"
    )


def test_node_port_url() -> None:
    svc = {
        "metadata": {"name": "hello"},
        "spec": {
            "type": "NodePort",
            "ports": [
                {"name": "metrics", "port": 9100, "nodePort": 31000},
                {"name": "http", "port": 80, "nodePort": 30080},
            ],
        },
    }
    assert node_port_url(svc, "http") == "http://127.0.0.1:30080"


def test_node_port_url_refuses_cluster_ip() -> None:
    svc = {"metadata": {"name": "hello"}, "spec": {"type": "ClusterIP", "ports": [{"port": 80}]}}
    with pytest.raises(PlatformError, match="not NodePort"):
        node_port_url(svc)


KEDA_HPA = {
    "kind": "HorizontalPodAutoscaler",
    "metadata": {"name": "keda-hpa-hello"},
    "spec": {
        "scaleTargetRef": {"kind": "Deployment", "name": "hello"},
        "minReplicas": 1,
        "maxReplicas": 5,
        "metrics": [
            {
                "type": "External",
                "external": {
                    "metric": {"name": "s0-prometheus"},
                    "target": {"type": "AverageValue", "averageValue": "100"},
                },
            }
        ],
    },
    "status": {
        "currentReplicas": 3,
        "desiredReplicas": 4,
        "currentMetrics": [
            {
                "type": "External",
                "external": {
                    "metric": {"name": "s0-prometheus"},
                    "current": {"averageValue": "123500m"},
                },
            }
        ],
    },
}


def test_parse_hpa_reads_kedas_external_metric() -> None:
    hpa = parse_hpa(KEDA_HPA)
    assert (hpa.external_value, hpa.external_target) == (123.5, 100.0)
    assert hpa.cpu_utilization is None and hpa.cpu_target is None


def test_a_cpu_hpa_has_no_external_metric() -> None:
    hpa = parse_hpa(json.loads(HPA_JSON))
    assert (hpa.external_value, hpa.external_target) == (None, None)
