"""The whole runner against a local hello process and a fake kubectl (marker ``slow``).

The fake kubectl plays an HPA that asks for 3 replicas while Locust has users running
(it reads the run's own stats history) and 1 otherwise, with a 5 s scale-down window.
Real Locust, real HTTP on 127.0.0.1, no cluster.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import textwrap
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from hello_platform.pipeline.loadtest import runner

FAKE_KUBECTL = textwrap.dedent(
    """
    import glob, json, os, sys, time
    from datetime import datetime, timezone

    args = sys.argv[1:]
    out, state_path = os.environ["FAKE_OUT"], os.environ["FAKE_STATE"]
    now = time.time()
    loaded = False
    for path in sorted(glob.glob(os.path.join(out, "*", "locust_stats_history.csv"))):
        rows = [r.split(",") for r in open(path).read().splitlines() if ",Aggregated," in r]
        fresh = now - os.path.getmtime(path) < 2.0  # Locust flushes it every second
        loaded = bool(rows) and rows[-1][1] != "0" and fresh
    state = json.load(open(state_path)) if os.path.exists(state_path) else {"r": 1, "at": None}
    want = 3 if loaded else 1
    if want != state["r"]:
        state = {"r": want, "at": now}
    json.dump(state, open(state_path, "w"))
    stamp = (datetime.fromtimestamp(state["at"], timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
             if state["at"] else None)
    cpu = 150 if loaded else 4
    what = args[args.index("get") + 1]
    if what == "hpa":
        doc = {"kind": "HorizontalPodAutoscaler", "metadata": {"name": "hello"},
               "spec": {"scaleTargetRef": {"kind": "Deployment", "name": "hello"},
                        "minReplicas": 1, "maxReplicas": 5,
                        "metrics": [{"type": "Resource", "resource": {"name": "cpu",
                                     "target": {"averageUtilization": 50}}}],
                        "behavior": {"scaleDown": {"stabilizationWindowSeconds": 5}}},
               "status": {"currentReplicas": state["r"], "desiredReplicas": state["r"],
                          "lastScaleTime": stamp,
                          "currentMetrics": [{"type": "Resource", "resource": {
                              "name": "cpu", "current": {"averageUtilization": cpu}}}]}}
    elif what == "deployment":
        doc = {"spec": {"selector": {"matchLabels": {"app": "hello"}}}}
    elif what == "service":
        doc = {"metadata": {"name": "hello"}, "spec": {"type": "NodePort", "ports": [
            {"name": "http", "port": 80, "nodePort": int(os.environ["FAKE_PORT"])}]}}
    elif what == "pods":
        ready = [{"type": "Ready", "status": "True"}]
        doc = {"items": [{"metadata": {"name": f"hello-{i}"},
                          "status": {"phase": "Running", "conditions": ready}}
                         for i in range(state["r"])]}
    elif what == "--raw":
        doc = {"items": [{"metadata": {"name": f"hello-{i}"}, "containers": [
            {"usage": {"cpu": f"{cpu}m", "memory": "50Mi"}}]} for i in range(state["r"])]}
    else:
        sys.exit(f"fake kubectl: unexpected {args}")
    print(json.dumps(doc))
    """
)


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
    kubectl = tmp_path / "kubectl"
    kubectl.write_text(f"#!{sys.executable}\n{FAKE_KUBECTL}")
    kubectl.chmod(0o755)
    kubeconfig = tmp_path / "kubeconfig"
    kubeconfig.write_text("{}")
    out = tmp_path / "out"
    monkeypatch.setenv("FAKE_OUT", str(out))
    monkeypatch.setenv("FAKE_STATE", str(tmp_path / "state.json"))
    monkeypatch.setenv("FAKE_PORT", str(hello_port))
    monkeypatch.setattr(runner, "_kubectl_binary", lambda: kubectl)

    opts = runner.Options(
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
