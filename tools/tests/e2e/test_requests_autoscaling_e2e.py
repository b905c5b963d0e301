"""Request-rate autoscaling on the embedded cluster: Prometheus + KEDA, proven end to end.

Its own release (``hello``) in its own namespace (``hello-e2e-requests``, NodePort picked
by Kubernetes) with ``autoscaling.mode=requests``:

1. ``hello-platform loadtest --mode requests`` must pass the same proof as the CPU mode
   (first scale-up <= 45 s after the load starts, >= 3 replicas, back to min within the
   window + 30 s, no failed request), its plot showing rps per pod against the target;
2. a missing metric: with the release scaled up under load, Prometheus is scaled to 0;
   KEDA's fallback (``currentReplicasIfHigher``) must hold the replicas, through the end of
   the load and past the scale-down window, and the ScaledObject must say Fallback; with
   Prometheus back the release returns to its minimum.

Load goes only to 127.0.0.1 (the NodePort), bounded in time. About 6-7 minutes.
"""

from __future__ import annotations

import http.client
import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest
from hello_platform.core import catalogue, paths
from hello_platform.pipeline import deploy
from hello_platform.pipeline.loadtest.kube import node_port_url
from hello_platform.pipeline.monitoring import prometheus
from hello_platform.pipeline.monitoring.stack import up as monitoring_up

from e2e.helpers import Kube, eventually, run_loadtest

pytestmark = pytest.mark.e2e

#: The test's own namespace, one Prometheus scrapes (``<namespace>-e2e-requests``).
NAMESPACE = prometheus.EXTRA_NAMESPACES[1].format(ns=catalogue.service().namespace)
HPA = "keda-hpa-hello"


@pytest.fixture(scope="module")
def release(kube: Kube) -> Iterator[str]:
    """Prometheus and KEDA up, then the release deployed in requests mode; its URL."""
    monitoring_up()
    kube.run("delete", "namespace", NAMESPACE, "--ignore-not-found", "--wait=true", timeout=180)
    opts = deploy.Options(
        profile="local",
        namespace=NAMESPACE,
        sets=("autoscaling.mode=requests", "service.nodePort=0"),
        timeout=300,
        run_tests=False,
    )
    deploy.deploy(opts)
    eventually(
        lambda: kube.run("-n", NAMESPACE, "get", "hpa", HPA, check=False).returncode == 0,
        timeout=60,
        what="KEDA's HPA",
    )
    yield node_port_url(kube.get("-n", NAMESPACE, "service", "hello"), "http")
    kube.run("-n", prometheus.NAMESPACE, "scale", "deployment/prometheus", "--replicas=1")
    kube.run("delete", "namespace", NAMESPACE, "--wait=false", check=False)


def hpa(kube: Kube) -> dict[str, Any]:
    doc: dict[str, Any] = kube.get("-n", NAMESPACE, "hpa", HPA)
    return doc


def replicas(kube: Kube) -> int:
    return int(hpa(kube).get("status", {}).get("currentReplicas", 0))


def test_prometheus_scrapes_the_release(release: str) -> None:
    up = eventually(
        lambda: prometheus.query(f'up{{job="hello",namespace="{NAMESPACE}"}}'),
        timeout=150,  # DNS SRV discovery; CoreDNS caches the earlier "no such name" for 30 s
        what="a scraped hello pod",
    )
    assert all(r["value"][1] == "1" for r in up)


def test_loadtest_requests_mode_scales_up_and_back_down(release: str) -> None:
    out = paths.out_dir() / "loadtest-requests"
    summary = run_loadtest(out, "--mode", "requests", "--namespace", NAMESPACE)
    assert summary["settings"]["mode"] == "requests"
    figures = summary["figures"]
    assert figures["target_rps_per_pod"] == 100
    assert figures["peak_rps_per_pod"] > figures["target_rps_per_pod"]


class Load(threading.Thread):
    """Keep-alive GETs of / from a few threads until stopped or ``limit_s`` passes."""

    def __init__(self, url: str, threads: int = 6, limit_s: float = 240) -> None:
        super().__init__(daemon=True)
        host, port = url.removeprefix("http://").split(":")
        assert host == "127.0.0.1"
        self.port, self.threads, self.limit_s = int(port), threads, limit_s
        self.stop_event = threading.Event()
        self.sent = self.failed = 0

    def _worker(self) -> None:
        deadline = time.monotonic() + self.limit_s
        conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=5)
        while not self.stop_event.is_set() and time.monotonic() < deadline:
            try:
                conn.request("GET", "/")
                ok = conn.getresponse().read() and True
                self.sent += 1
                if not ok:
                    self.failed += 1
            except (OSError, http.client.HTTPException):
                self.failed += 1
                conn.close()
                conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=5)
        conn.close()

    def run(self) -> None:
        workers = [threading.Thread(target=self._worker, daemon=True) for _ in range(self.threads)]
        for w in workers:
            w.start()
        for w in workers:
            w.join()


def sample_replicas(kube: Kube, *, seconds: float, every: float = 3.0) -> list[int]:
    seen = []
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        seen.append(replicas(kube))
        time.sleep(every)
    return seen


def fallback_condition(kube: Kube) -> bool:
    so = kube.get("-n", NAMESPACE, "scaledobject", "hello")
    conditions = {c["type"]: c["status"] for c in so.get("status", {}).get("conditions", [])}
    return conditions.get("Fallback") == "True"


def fallback_diagnostics(kube: Kube) -> str:
    """The Prometheus Service's endpoints, KEDA's last errors and a query via the node port."""
    parts = []
    for args in (
        ("-n", prometheus.NAMESPACE, "get", "endpointslices,pods", "-o", "wide"),
        ("-n", "keda", "logs", "deploy/keda-operator", "--tail=400"),
    ):
        done = kube.run(*args, check=False)
        text = done.stdout + done.stderr
        if "logs" in args:
            text = "\n".join(line[:300] for line in text.splitlines() if "ERROR" in line)[-3000:]
        parts.append(f"$ kubectl {' '.join(args)}\n{text}")
    try:
        value = prometheus.query("sum(rate(hello_http_requests_total[20s]))")
        parts.append(f"query via the node port: {value}")
    except Exception as exc:  # diagnostics only: any failure is itself the answer
        parts.append(f"query via the node port failed: {exc}")
    return "\n".join(parts)


def test_missing_metric_holds_replicas_at_fallback(release: str, kube: Kube) -> None:
    eventually(lambda: replicas(kube) == 1, timeout=120, what="the release resting at 1 replica")
    load = Load(release)
    load.start()
    try:
        eventually(lambda: replicas(kube) >= 3, timeout=90, what=">= 3 replicas under load")
        print(f"under load: {replicas(kube)} replicas; stopping Prometheus")
        kube.run("-n", prometheus.NAMESPACE, "scale", "deployment/prometheus", "--replicas=0")
        stopped = time.monotonic()
        eventually(
            lambda: fallback_condition(kube),
            timeout=60,
            interval=2,
            what="the ScaledObject's Fallback condition",
        )
        at_fallback = replicas(kube)
        print(f"fallback after {time.monotonic() - stopped:.0f}s at {at_fallback} replicas")
        held = sample_replicas(kube, seconds=20)
    finally:
        load.stop_event.set()
        load.join(15)
    # Load gone, metric still missing: past the 30 s scale-down window nothing drops.
    after = sample_replicas(kube, seconds=45)
    print(f"held under load {held}, after the load {after}; sent {load.sent} failed {load.failed}")
    assert at_fallback >= 3
    assert min(held + after) >= at_fallback  # currentReplicasIfHigher: held, not dropped
    assert load.sent > 0 and load.failed <= load.sent * 0.01
    # Prometheus back: the metric (0 rps) returns and the release goes back to 1.
    kube.run("-n", prometheus.NAMESPACE, "scale", "deployment/prometheus", "--replicas=1")
    kube.run(
        "-n",
        prometheus.NAMESPACE,
        "rollout",
        "status",
        "deployment/prometheus",
        "--timeout=120s",
        timeout=130,
    )
    try:
        eventually(
            lambda: not fallback_condition(kube),
            timeout=90,
            interval=3,
            what="the Fallback condition clearing",
        )
    except AssertionError as err:
        # Seen once in CI: KEDA got HTTP 404 from the Prometheus Service for > 90 s while a
        # query through the node port answered 200. Keep what would tell why.
        raise AssertionError(f"{err}\n{fallback_diagnostics(kube)}") from None
    eventually(lambda: replicas(kube) == 1, timeout=120, interval=3, what="back to 1 replica")
