"""Prometheus and KEDA on the embedded cluster, and their readiness (two add-ons)."""

from __future__ import annotations

from pathlib import Path

from hello_platform.clients.kube import Kube
from hello_platform.core.progress import say
from hello_platform.pipeline.monitoring import keda, prometheus
from hello_platform.substrate import addons

ADDONS = (prometheus.ADDON, keda.ADDON)


def up(*, with_keda: bool = True) -> Path:
    from hello_platform.substrate.cluster import ensure_up

    kubeconfig = ensure_up()
    say(f"Prometheus: scraping {', '.join(prometheus.srv_names())}")
    addons.up(Kube(kubeconfig), *(ADDONS if with_keda else ADDONS[:1]))
    return kubeconfig


def status() -> str:
    """One line per workload and condition of both add-ons (the cluster is not started)."""
    from hello_platform.substrate.cluster import require_up

    kube = Kube(require_up("nox -s monitoring -- status"))
    rows = [row for addon in ADDONS for row in addons.status(kube, addon)]
    return "\n".join(
        f"{r.addon} ({addons.get(r.addon).namespace}) {r.part}: {'ok' if r.ok else 'NOT READY'}"
        f" ({r.detail})"
        for r in rows
    )
