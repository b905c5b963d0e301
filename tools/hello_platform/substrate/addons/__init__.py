"""The add-on seam: everything the platform installs into a cluster besides the release.

An add-on (CoreDNS, metrics-server, Prometheus, KEDA, Argo CD, ...) is declared once, as
data: its name and namespace, the pinned tools it comes from (toolchain.toml), the images
built here (:class:`ImageSpec`), its manifests given the image references, and what "ready"
means (Deployments/StatefulSets rolled out, conditions such as an APIService Available).
One generic driver (:mod:`.driver`) builds, applies (Namespaces and CRDs first, then waits
for the CRDs to be Established), waits, reports and removes every add-on the same way,
through the one Kubernetes client and the one wait helper::

    ADDON = register(Declared(
        name="rollouts", namespace="argo-rollouts", pins=("argo-rollouts",),
        images=(ROLLOUTS_IMAGE,), render=lambda refs: render(refs["argo-rollouts"]),
        workloads=(Workload("Deployment", "argo-rollouts"),),
    ))
    addons.up(Kube(kubeconfig), ADDON)        # build, apply, wait; then status(), down()

An add-on module registers itself when imported (:func:`register`); every feature's
``cli.py`` imports its add-ons, so the ``hello-platform`` command knows them all and
``cluster status`` lists every installed one.
"""

from __future__ import annotations

from hello_platform.substrate.addons.base import (
    REGISTRY,
    Addon,
    Condition,
    Declared,
    Refs,
    Row,
    Workload,
    get,
    register,
)
from hello_platform.substrate.addons.driver import (
    build,
    down,
    install,
    installed,
    status,
    status_of_installed,
    up,
    wait_ready,
)

__all__ = [
    "REGISTRY",
    "Addon",
    "Condition",
    "Declared",
    "Refs",
    "Row",
    "Workload",
    "build",
    "down",
    "get",
    "install",
    "installed",
    "register",
    "status",
    "status_of_installed",
    "up",
    "wait_ready",
]
