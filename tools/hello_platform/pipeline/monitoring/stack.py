"""Prometheus and KEDA brought up on the embedded cluster, and their readiness."""

from __future__ import annotations

import subprocess
import time
from pathlib import Path

from hello_platform.core.errors import PlatformError
from hello_platform.core.proc import last_line
from hello_platform.core.progress import say
from hello_platform.pipeline.monitoring import keda, prometheus
from hello_platform.substrate.cluster import addons, binaries, images


def kubectl(kubeconfig: Path, *args: str, timeout: float = 60, check: bool = True) -> str:
    done = subprocess.run(
        [str(binaries.tool("kubectl")), f"--kubeconfig={kubeconfig}", *args],
        capture_output=True,
        text=True,
        check=False,
        timeout=timeout,
    )
    if check and done.returncode != 0:
        raise PlatformError(f"kubectl {' '.join(args[:3])} failed: {last_line(done.stderr)}")
    return done.stdout


def rollout(kubeconfig: Path, namespace: str, name: str, timeout: int = 180) -> None:
    kubectl(
        kubeconfig,
        "-n",
        namespace,
        "rollout",
        "status",
        f"deployment/{name}",
        f"--timeout={timeout}s",
        timeout=timeout + 10,
    )


def up_prometheus(kubeconfig: Path) -> str:
    """Apply Prometheus and wait for it; return the image reference."""
    ref = images.ensure_image(prometheus.PROMETHEUS)
    out = kubeconfig.parent / "monitoring-prometheus.yaml"
    out.write_text(prometheus.render(ref))
    addons.apply_manifest(kubeconfig, out, what="Prometheus")
    say(f"Prometheus: scraping {', '.join(prometheus.srv_names())}; waiting")
    rollout(kubeconfig, prometheus.NAMESPACE, "prometheus")
    return ref


def up_keda(kubeconfig: Path) -> dict[str, str]:
    """Apply KEDA and wait for the operator and the metrics API; return the image refs."""
    from hello_platform.toolchain import load

    version = load().tools["keda"].version
    refs = {spec.name: images.ensure_image(spec) for spec in (keda.OPERATOR, keda.ADAPTER)}
    out = kubeconfig.parent / "monitoring-keda.yaml"
    out.write_text(keda.render(version, refs))
    addons.apply_manifest(kubeconfig, out, what="KEDA")
    say(f"KEDA {version}: waiting for the operator and the metrics API server")
    rollout(kubeconfig, keda.NAMESPACE, "keda-operator")
    rollout(kubeconfig, keda.NAMESPACE, "keda-metrics-apiserver")
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        status = kubectl(
            kubeconfig,
            "get",
            "apiservice",
            "v1beta1.external.metrics.k8s.io",
            "-o",
            "jsonpath={.status.conditions[?(@.type=='Available')].status}",
            check=False,
        )
        if status.strip() == "True":
            return refs
        time.sleep(2)
    raise PlatformError(
        "KEDA's external metrics API (v1beta1.external.metrics.k8s.io) is not Available",
        hint="kubectl -n keda logs deploy/keda-metrics-apiserver",
    )


def up(*, with_keda: bool = True) -> Path:
    """Prometheus (and KEDA) on the embedded cluster, started if needed; the kubeconfig."""
    from hello_platform.substrate.cluster import ensure_up

    kubeconfig = ensure_up()
    up_prometheus(kubeconfig)
    if with_keda:
        up_keda(kubeconfig)
    return kubeconfig


def status() -> str:
    """The Deployments of both namespaces as ``kubectl get`` prints them; a PlatformError
    when the embedded cluster is not running (it is not started to answer)."""
    from hello_platform.substrate.cluster import require_up

    kubeconfig = require_up("nox -s monitoring -- status")
    tables = [
        kubectl(kubeconfig, "-n", ns, "get", "deployments", check=False).rstrip()
        for ns in (prometheus.NAMESPACE, keda.NAMESPACE)
    ]
    return "\n".join(tables)
