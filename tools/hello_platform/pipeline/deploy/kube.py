"""helm and the one Kubernetes client pointed at one cluster, and the deploy's pull Secret."""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from hello_platform.clients import kube as client
from hello_platform.clients import oci, ocicreds
from hello_platform.clients.helm import Helm
from hello_platform.core import paths
from hello_platform.core.errors import PlatformError


@dataclass
class Kube:
    """helm and the one Kubernetes client (``api``) pointed at one cluster (kubeconfig +
    optional context). ``kubectl`` is named only in the commands printed for people."""

    helm: Path
    kubectl: Path
    kubeconfig: Path
    context: str | None = None
    log: Path = field(default_factory=lambda: paths.out_dir() / "deploy" / "deploy.log")
    api: client.Kube = field(default=None)  # type: ignore[assignment]

    def __post_init__(self) -> None:
        if self.api is None:
            self.api = client.Kube(self.kubeconfig, self.context)

    @property
    def helm_client(self) -> Helm:
        return Helm(self.helm, self.kubeconfig, self.context, log=self.log)


def apply_pull_secret(api: client.Kube, namespace: str, name: str, registry: oci.Registry) -> None:
    """The ``kubernetes.io/dockerconfigjson`` Secret the pods pull ``registry``'s images with
    (server-side apply: a new password replaces the old one)."""
    if registry.credentials is None:
        raise PlatformError(f"no login for {registry.address} to make the pull Secret {name} of")
    config = ocicreds.docker_config_json(registry.address, registry.credentials)
    api.apply(
        {
            "apiVersion": "v1",
            "kind": "Secret",
            "metadata": {"name": name, "namespace": namespace},
            "type": "kubernetes.io/dockerconfigjson",
            "data": {".dockerconfigjson": base64.b64encode(config.encode()).decode()},
        },
        namespace=namespace,
    )


def release_status(kube: Kube, release: str, namespace: str) -> dict[str, Any] | None:
    """``helm status -o json`` of the release, or None when it does not exist."""
    status_args = ["status", release, "--namespace", namespace, "--output", "json"]
    done = kube.helm_client.run(*status_args, what="helm status", check=False)
    if done.returncode != 0:
        return None
    try:
        status: dict[str, Any] = json.loads(done.stdout)
    except ValueError:
        return None
    return status
