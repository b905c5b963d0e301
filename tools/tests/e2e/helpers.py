"""Helpers for end-to-end tests: kubectl, polling, restricted pod specs, echo manifests.

Run by ``nox -s e2e`` (which brings the local cluster up first). Every test here is
marked ``e2e`` and sends traffic only to 127.0.0.1 or the cluster's own pod/service IPs,
bounded in count and time.
"""

from __future__ import annotations

import json
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any


@dataclass(frozen=True)
class Kube:
    """kubectl bound to one kubeconfig."""

    kubectl: Path
    kubeconfig: Path

    def run(
        self, *args: str, stdin: str | None = None, check: bool = True, timeout: float = 120
    ) -> subprocess.CompletedProcess[str]:
        done = subprocess.run(
            [str(self.kubectl), f"--kubeconfig={self.kubeconfig}", *args],
            input=stdin,
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )
        if check and done.returncode != 0:
            raise AssertionError(f"kubectl {' '.join(args)} failed: {done.stderr.strip()}")
        return done

    def apply(self, *docs: dict[str, Any], namespace: str | None = None) -> None:
        ns = [f"--namespace={namespace}"] if namespace else []
        body = json.dumps({"apiVersion": "v1", "kind": "List", "items": list(docs)})
        self.run("apply", *ns, "-f", "-", stdin=body)

    def get(self, *args: str) -> Any:
        return json.loads(self.run("get", *args, "-o", "json").stdout)


def glue(
    *args: str, timeout: float = 300, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    """``hello-platform ARGS`` as a user runs it (a child process: exit code, stderr)."""
    return subprocess.run(
        [sys.executable, "-m", "hello_platform.cli", *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
        env=env,
    )


def eventually(
    check: Callable[[], Any], *, timeout: float, interval: float = 1.0, what: str = "condition"
) -> Any:
    """Call ``check`` until it returns a truthy value (returned) or ``timeout`` passes."""
    deadline = time.monotonic() + timeout
    last: Any = None
    error: Exception | None = None
    while time.monotonic() < deadline:
        try:
            last = check()
            error = None
            if last:
                return last
        except (AssertionError, subprocess.SubprocessError, ValueError, KeyError) as exc:
            error = exc
        time.sleep(interval)
    raise AssertionError(f"{what} not reached in {timeout:.0f}s (last: {error or last!r})")


def restricted_container(name: str, image: str, **extra: Any) -> dict[str, Any]:
    """A container spec that Pod Security ``restricted`` admits."""
    return {
        "name": name,
        "image": image,
        "securityContext": {
            "allowPrivilegeEscalation": False,
            "readOnlyRootFilesystem": True,
            "runAsNonRoot": True,
            "capabilities": {"drop": ["ALL"]},
            "seccompProfile": {"type": "RuntimeDefault"},
        },
        **extra,
    }


def echo_deployment(name: str, image: str, replicas: int = 2) -> dict[str, Any]:
    labels = {"app": name}
    container = restricted_container(
        "echo",
        image,
        ports=[{"containerPort": 8080, "name": "http"}],
        readinessProbe={"httpGet": {"path": "/healthz", "port": 8080}, "periodSeconds": 1},
        resources={"requests": {"cpu": "20m", "memory": "16Mi"}, "limits": {"memory": "64Mi"}},
    )
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": name, "labels": labels},
        "spec": {
            "replicas": replicas,
            "selector": {"matchLabels": labels},
            "template": {
                "metadata": {"labels": labels},
                "spec": {
                    "automountServiceAccountToken": False,
                    "terminationGracePeriodSeconds": 2,
                    "containers": [container],
                },
            },
        },
    }


def service(name: str, kind: str = "ClusterIP") -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": {"name": name},
        "spec": {
            "type": kind,
            "selector": {"app": name},
            "ports": [{"port": 80, "targetPort": 8080, "name": "http"}],
        },
    }


def run_loadtest(out: Path, *args: str, timeout: float = 540) -> dict[str, Any]:
    """``hello-platform loadtest --out OUT ARGS``, which must pass; its summary.json, checked
    for the proof's limits (scale-up <= 45 s, >= 3 replicas, no failed request, a plot)."""
    import sys

    done = subprocess.run(
        [sys.executable, "-m", "hello_platform.cli", "loadtest", "--out", str(out), *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    print(done.stdout)
    print(done.stderr, file=sys.stderr)
    assert done.returncode == 0, done.stderr.strip().splitlines()[-1:]
    summary: dict[str, Any] = json.loads((out / "latest" / "summary.json").read_text())
    assert summary["passed"] is True
    checks = {c["name"]: c for c in summary["checks"]}
    assert checks["scale-up starts"]["value"] <= 45
    assert checks["replicas reach"]["value"] >= 3
    assert checks["failed requests"]["value"] <= 0.01
    assert Path(summary["files"]["plot"]).read_bytes()[:4] == b"\x89PNG"
    for name in checks:
        assert f"PASS  {name}" in done.stdout
    return summary
