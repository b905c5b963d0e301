"""The whole runner against a local hello process and a fake API server (marker ``slow``).

The fake API server plays an HPA that asks for 3 replicas while Locust has users running
(it reads the run's own stats history) and 1 otherwise, with a 5 s scale-down window.
Real Locust, real HTTP on 127.0.0.1, no cluster.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx2 as httpx
import pytest
from hello_platform.clients.kube import Kube
from hello_platform.pipeline.loadtest import runner
from hello_platform.pipeline.loadtest.options import Options

KUBECONFIG = """\
apiVersion: v1
kind: Config
clusters: [{name: c, cluster: {server: "https://k8s.test", insecure-skip-tls-verify: true}}]
users: [{name: u, user: {token: t}}]
contexts: [{name: c, context: {cluster: c, user: u}}]
current-context: c
"""


class FakeCluster:
    """An API server that plays an HPA asking for 3 replicas while Locust has users
    running (it reads the run's own stats history) and 1 otherwise, with a 5 s
    scale-down window; the pods, their CPU and a NodePort Service follow."""

    def __init__(self, out: Path, port: int) -> None:
        self.out, self.port = out, port
        self.replicas, self.changed_at = 1, 0.0

    def loaded(self) -> bool:
        now = time.time()
        loaded = False
        for path in sorted(self.out.glob("*/locust_stats_history.csv")):
            rows = [r.split(",") for r in path.read_text().splitlines() if ",Aggregated," in r]
            fresh = now - path.stat().st_mtime < 2.0  # Locust flushes it every second
            loaded = bool(rows) and rows[-1][1] != "0" and fresh
        return loaded

    def __call__(self, request: httpx.Request) -> httpx.Response:
        loaded = self.loaded()
        want = 3 if loaded else 1
        if want != self.replicas:
            self.replicas, self.changed_at = want, time.time()
        cpu = 150 if loaded else 4
        path = request.url.path
        # The runner lists the release's HPA and Services by its label, then gets by name.
        for plural in ("horizontalpodautoscalers", "services"):
            if path.endswith(f"/{plural}"):
                item = self.doc(f"{path}/hello", cpu)
                item["metadata"]["labels"] = {"app.kubernetes.io/instance": "hello"}
                return httpx.Response(200, json={"kind": f"{item['kind']}List", "items": [item]})
        return httpx.Response(200, json=self.doc(path, cpu))

    def doc(self, path: str, cpu: int) -> dict[str, Any]:
        stamp = (
            datetime.fromtimestamp(self.changed_at, UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
            if self.changed_at
            else None
        )
        names = [f"hello-{i}" for i in range(self.replicas)]
        ready = [{"type": "Ready", "status": "True"}]
        if "/horizontalpodautoscalers/" in path:
            return {
                "apiVersion": "autoscaling/v2",
                "kind": "HorizontalPodAutoscaler",
                "metadata": {"name": "hello"},
                "spec": {
                    "scaleTargetRef": {
                        "apiVersion": "apps/v1",
                        "kind": "Deployment",
                        "name": "hello",
                    },
                    "minReplicas": 1,
                    "maxReplicas": 5,
                    "metrics": [
                        {
                            "type": "Resource",
                            "resource": {
                                "name": "cpu",
                                "target": {"type": "Utilization", "averageUtilization": 50},
                            },
                        }
                    ],
                    "behavior": {"scaleDown": {"stabilizationWindowSeconds": 5}},
                },
                "status": {
                    "currentReplicas": self.replicas,
                    "desiredReplicas": self.replicas,
                    "lastScaleTime": stamp,
                    "currentMetrics": [
                        {
                            "type": "Resource",
                            "resource": {"name": "cpu", "current": {"averageUtilization": cpu}},
                        }
                    ],
                },
            }
        if "/deployments/" in path:
            return {
                "apiVersion": "apps/v1",
                "kind": "Deployment",
                "metadata": {"name": "hello"},
                "spec": {"selector": {"matchLabels": {"app": "hello"}}, "template": {}},
            }
        if "/services/" in path:
            return {
                "apiVersion": "v1",
                "kind": "Service",
                "metadata": {"name": "hello"},
                "spec": {
                    "type": "NodePort",
                    "ports": [{"name": "http", "port": 80, "nodePort": self.port}],
                },
            }
        if path.startswith("/apis/metrics.k8s.io/"):
            return {
                "kind": "PodMetricsList",
                "metadata": {},
                "items": [
                    {
                        "metadata": {"name": n},
                        "containers": [{"usage": {"cpu": f"{cpu}m", "memory": "50Mi"}}],
                    }
                    for n in names
                ],
            }
        return {
            "kind": "PodList",
            "metadata": {},
            "items": [
                {"metadata": {"name": n}, "status": {"phase": "Running", "conditions": ready}}
                for n in names
            ],
        }


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
        return port


@pytest.fixture
def hello_port() -> Iterator[int]:
    port = _free_port()
    env = {**os.environ, "HELLO_HOST": "127.0.0.1", "HELLO_PORT": str(port)}
    proc = subprocess.Popen(
        [sys.executable, "-m", "hello"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        yield port
    finally:
        proc.terminate()
        proc.wait(15)


@pytest.mark.slow
def test_runner_end_to_end_with_fake_cluster(
    tmp_path: Path,
    hello_port: int,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    kubeconfig = tmp_path / "kubeconfig"
    kubeconfig.write_text(KUBECONFIG)
    out = tmp_path / "out"
    transport = httpx.MockTransport(FakeCluster(out, hello_port))
    monkeypatch.setattr(runner, "_kube", lambda path: Kube(path, transport=transport))

    opts = Options(
        kubeconfig=kubeconfig,
        users=5,
        spawn_rate=5,
        user_rps=5,
        hold_s=8,
        interval_s=1,
        out=out,
        min_peak_replicas=3,
    )
    started = time.monotonic()
    assert runner.run(opts) == 0
    assert time.monotonic() - started < 90

    printed = capsys.readouterr().out
    for name in (
        "scale-up starts",
        "replicas reach",
        "scale-down to minReplicas",
        "failed requests",
        "p95 latency at hold",
    ):
        assert f"PASS  {name}" in printed
    (run_dir,) = [p for p in out.iterdir() if not p.is_symlink()]
    summary = json.loads((run_dir / "summary.json").read_text())
    assert summary["passed"] is True
    assert summary["figures"]["peak_replicas"] == 3
    assert summary["figures"]["failures"] == 0
    assert summary["figures"]["requests"] > 20
    assert summary["sizing"]["cpu_ms_per_request"] is not None
    assert (run_dir / "timeline.png").read_bytes()[:4] == b"\x89PNG"
    assert (run_dir / "locust.html").exists()
    assert "## Sizing advice" in (run_dir / "report.md").read_text()
    assert (out / "latest").resolve() == run_dir.resolve()
