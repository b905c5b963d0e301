"""End-to-end checks of the embedded cluster (``nox -s e2e``).

One namespace with a 2-replica echo Deployment (image pushed to the local registry)
is shared by the module; the destructive checks (down/up, killing a component) run last.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import time
import urllib.request
import uuid
from collections.abc import Iterator
from dataclasses import dataclass

import pytest

from e2e.helpers import (
    Kube,
    echo_deployment,
    eventually,
    glue,
    restricted_container,
    service,
)

pytestmark = pytest.mark.e2e


@dataclass(frozen=True)
class App:
    namespace: str
    name: str
    image: str


def _cli(*args: str, timeout: float = 300) -> subprocess.CompletedProcess[str]:
    return glue(*args, timeout=timeout)


def _rollout(kube: Kube, app: App, timeout: int = 120) -> None:
    kube.run(
        "rollout",
        "status",
        f"deployment/{app.name}",
        f"--namespace={app.namespace}",
        f"--timeout={timeout}s",
        timeout=timeout + 10,
    )


def _pod_names(kube: Kube, app: App) -> set[str]:
    pods = kube.get("pods", f"--namespace={app.namespace}", f"--selector=app={app.name}")
    return {p["metadata"]["name"] for p in pods["items"]}


@pytest.fixture(scope="module")
def app(kube: Kube, echo_image: str) -> Iterator[App]:
    ns = f"e2e-echo-{uuid.uuid4().hex[:6]}"
    kube.run("create", "namespace", ns)
    app = App(ns, "echo", echo_image)
    nodeport = service("echo-np", "NodePort")
    nodeport["spec"]["selector"] = {"app": "echo"}
    kube.apply(echo_deployment("echo", echo_image), service("echo"), nodeport, namespace=ns)
    yield app
    kube.run("delete", "namespace", ns, "--wait=false", check=False)


def test_node_is_ready(kube: Kube) -> None:
    nodes = kube.get("nodes")["items"]
    assert len(nodes) == 1
    ready = {c["type"]: c["status"] for c in nodes[0]["status"]["conditions"]}
    assert ready["Ready"] == "True"


def test_two_replica_deployment_from_the_local_registry_becomes_ready(kube: Kube, app: App) -> None:
    assert app.image.startswith("127.0.0.1:5000/")
    _rollout(kube, app)
    dep = kube.get("deployment", app.name, f"--namespace={app.namespace}")
    assert dep["status"]["readyReplicas"] == 2


def _wait_for_service(kube: Kube, app: App, name: str = "echo") -> str:
    """Wait until kube-proxy routes the Service's ClusterIP (probed from this host)."""
    ip = kube.get("service", name, f"--namespace={app.namespace}")["spec"]["clusterIP"]

    def answers() -> bool:
        try:
            with urllib.request.urlopen(f"http://{ip}/healthz", timeout=2) as resp:
                return bool(resp.status == 200)
        except OSError:
            return False

    eventually(answers, timeout=30, interval=0.5, what=f"Service {name} to route")
    return str(ip)


def _wait_for_every_replica(kube: Kube, app: App) -> None:
    """Wait until kube-proxy routes the ClusterIP to every replica: a pod is Ready (and the
    rollout done) before kube-proxy has written its rule, by up to a sync period."""
    ip, pods = _wait_for_service(kube, app), _pod_names(kube, app)
    seen: set[str] = set()

    def every_replica() -> bool:
        try:
            with urllib.request.urlopen(f"http://{ip}/", timeout=2) as resp:
                seen.add(resp.read().decode().strip())
        except OSError:
            return False
        return seen >= pods

    eventually(every_replica, timeout=60, interval=0.2, what=f"the Service to reach {pods}")


def test_cluster_ip_service_resolves_by_dns_and_spreads_over_replicas(kube: Kube, app: App) -> None:
    _rollout(kube, app)
    _wait_for_every_replica(kube, app)
    url = f"http://echo.{app.namespace}.svc.cluster.local/"
    client = {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": "client"},
        "spec": {
            "restartPolicy": "Never",
            "automountServiceAccountToken": False,
            "containers": [
                restricted_container("fetch", app.image, args=["fetch", url, "30"]),
            ],
        },
    }
    client["spec"]["containers"][0]["command"] = ["/echo"]
    kube.apply(client, namespace=app.namespace)

    def finished() -> str:
        pod = kube.get("pod", "client", f"--namespace={app.namespace}")
        phase = str(pod["status"].get("phase", ""))
        return phase if phase in ("Succeeded", "Failed") else ""

    phase = eventually(finished, timeout=90, what="the client pod to finish")
    logs = kube.run("logs", "client", f"--namespace={app.namespace}").stdout
    assert phase == "Succeeded", logs
    answers = logs.split()
    assert len(answers) == 30
    assert set(answers) == _pod_names(kube, app), "requests did not reach both replicas"


def test_node_port_answers_on_loopback(kube: Kube, app: App) -> None:
    _rollout(kube, app)
    _wait_for_service(kube, app, "echo-np")
    svc = kube.get("service", "echo-np", f"--namespace={app.namespace}")
    port = svc["spec"]["ports"][0]["nodePort"]
    seen = set()
    for _ in range(10):  # bounded: 10 requests to 127.0.0.1 only
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=3) as resp:
            seen.add(resp.read().decode().strip())
    assert seen <= _pod_names(kube, app) and seen


def test_top_pods_and_hpa_see_real_cpu_utilization(kube: Kube, app: App) -> None:
    _rollout(kube, app)
    hpa = {
        "apiVersion": "autoscaling/v2",
        "kind": "HorizontalPodAutoscaler",
        "metadata": {"name": "echo"},
        "spec": {
            "scaleTargetRef": {"apiVersion": "apps/v1", "kind": "Deployment", "name": "echo"},
            "minReplicas": 2,
            "maxReplicas": 3,
            "metrics": [
                {
                    "type": "Resource",
                    "resource": {
                        "name": "cpu",
                        "target": {"type": "Utilization", "averageUtilization": 80},
                    },
                }
            ],
        },
    }
    kube.apply(hpa, namespace=app.namespace)

    def top() -> str:
        done = kube.run("top", "pods", f"--namespace={app.namespace}", check=False)
        return done.returncode == 0 and "echo-" in done.stdout and done.stdout

    table = eventually(top, timeout=150, interval=3, what="kubectl top pods")
    assert "CPU" in table

    def utilization() -> int | None:
        status = kube.get("hpa", "echo", f"--namespace={app.namespace}")["status"]
        for metric in status.get("currentMetrics") or []:
            value = metric.get("resource", {}).get("current", {}).get("averageUtilization")
            if value is not None:
                return int(value) + 1  # truthy even at 0%
        return None

    assert eventually(utilization, timeout=120, interval=3, what="HPA CPU utilization") >= 1


def test_restricted_namespace_rejects_a_privileged_pod(
    kube: Kube, namespace: str, echo_image: str
) -> None:
    kube.run("label", "namespace", namespace, "pod-security.kubernetes.io/enforce=restricted")
    privileged = {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": "privileged"},
        "spec": {
            "containers": [
                {"name": "c", "image": echo_image, "securityContext": {"privileged": True}}
            ]
        },
    }
    body = json.dumps(privileged)
    done = kube.run("apply", f"--namespace={namespace}", "-f", "-", stdin=body, check=False)
    assert done.returncode != 0
    assert "violates PodSecurity" in done.stderr and "restricted" in done.stderr
    # The same namespace admits a pod that follows the restricted profile.
    compliant = {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": "compliant"},
        "spec": {"containers": [restricted_container("c", echo_image)]},
    }
    kube.run(
        "apply",
        f"--namespace={namespace}",
        "--dry-run=server",
        "-f",
        "-",
        stdin=json.dumps(compliant),
    )


def test_down_then_up_keeps_the_deployment(kube: Kube, app: App) -> None:
    _rollout(kube, app)
    start = time.monotonic()
    down = _cli("cluster", "down")
    assert down.returncode == 0, down.stderr
    down_seconds = time.monotonic() - start
    status = _cli("cluster", "status")
    assert status.returncode != 0  # everything is reported down
    up = _cli("cluster", "up")
    assert up.returncode == 0, up.stderr
    _rollout(kube, app, timeout=180)
    assert down_seconds < 30


def test_a_killed_component_is_reported_and_repaired_by_up(kube: Kube) -> None:
    from hello_platform.substrate import process
    from hello_platform.substrate.cluster.components import by_name
    from hello_platform.substrate.cluster.layout import Layout

    pidfile = by_name("kube-scheduler").pidfile(Layout.default())
    pid = process.running(pidfile)
    assert pid is not None
    os.kill(pid, signal.SIGKILL)
    eventually(
        lambda: process.running(pidfile) is None,
        timeout=10,
        interval=0.1,
        what="the scheduler to die",
    )
    status = _cli("cluster", "status")
    assert status.returncode != 0
    line = next(x for x in status.stdout.splitlines() if x.startswith("kube-scheduler"))
    assert "FAIL" in line and "not running" in line
    up = _cli("cluster", "up")
    assert up.returncode == 0, up.stderr
    status = _cli("cluster", "status")
    assert status.returncode == 0, status.stdout
    assert process.running(pidfile) not in (None, pid)
