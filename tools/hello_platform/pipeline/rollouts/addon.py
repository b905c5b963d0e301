"""The Argo Rollouts controller in ``argo-rollouts``: upstream's cluster install rendered
through a kustomize overlay with our image by digest and a restricted namespace."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from hello_platform.clients.kube import RESTRICTED
from hello_platform.core.paths import state_dir
from hello_platform.substrate.addons import Declared, Refs, Workload, register
from hello_platform.substrate.addons.kustomize import kustomize
from hello_platform.substrate.cluster import binaries, images

NAMESPACE = "argo-rollouts"
CONTROLLER = "argo-rollouts"
TOOL = "argo-rollouts"
IMAGE = images.ImageSpec(
    "argo-rollouts", lambda: binaries.tool("rollouts-controller"), ("/rollouts-controller",)
)
UPSTREAM_IMAGE = "quay.io/argoproj/argo-rollouts"
RESOURCES = {
    "requests": {"cpu": "20m", "memory": "64Mi"},
    "limits": {"cpu": "1", "memory": "512Mi"},
}


def overlay(ref: str, version: str) -> dict[str, Any]:
    name_tag, digest = ref.split("@", 1)
    container = {"name": CONTROLLER, "imagePullPolicy": "IfNotPresent", "resources": RESOURCES}
    controller = {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": CONTROLLER},
        "spec": {"template": {"spec": {"containers": [container]}}},
    }
    version_label = {"app.kubernetes.io/version": version.removeprefix("v")}
    image = {"name": UPSTREAM_IMAGE, "newName": name_tag.rsplit(":", 1)[0], "digest": digest}
    return {
        "apiVersion": "kustomize.config.k8s.io/v1beta1",
        "kind": "Kustomization",
        "namespace": NAMESPACE,
        "resources": ["namespace.json", "../manifests/cluster-install"],
        "labels": [{"pairs": version_label, "includeSelectors": False}],
        "images": [image],
        "patches": [{"patch": json.dumps(controller)}],
    }


def render(version: str, ref: str, work: Path | None = None) -> str:
    from hello_platform.pipeline.gitops.manifests import module_dir
    from hello_platform.toolchain import pins

    tool = pins.load().tools[TOOL]
    upstream = module_dir(tool.module, version, pinned=tool.go_toolchain) / "manifests"
    labels = {**RESTRICTED, "app.kubernetes.io/managed-by": "hello-platform"}
    metadata = {"name": NAMESPACE, "labels": labels}
    namespace = {"apiVersion": "v1", "kind": "Namespace", "metadata": metadata}
    files = {"namespace.json": namespace, "kustomization.yaml": overlay(ref, version)}
    work = work or state_dir() / "argo-rollouts"
    return kustomize(work, upstream, files, what="Argo Rollouts")


def pinned_render(refs: Refs) -> str:
    from hello_platform.toolchain import pins

    return render(pins.load().tools[TOOL].version, refs[IMAGE.name])


ADDON = register(
    Declared(
        name="argo-rollouts",
        namespace=NAMESPACE,
        pins=(TOOL,),
        images=(IMAGE,),
        render=pinned_render,
        workloads=(Workload("Deployment", CONTROLLER),),
        timeout=300,
    )
)
