"""Cluster add-ons (CoreDNS, metrics-server, RBAC glue), applied server-side.

The manifests live in ``deploy/cluster/addons/*.yaml``; ``${NAME}`` placeholders are
filled in with the locally built image references and the cluster's addresses.
"""

from __future__ import annotations

from pathlib import Path
from string import Template

from hello_platform.clients.kube import Kube
from hello_platform.core.errors import PlatformError
from hello_platform.core.paths import REPO_ROOT
from hello_platform.substrate.cluster import layout
from hello_platform.substrate.cluster.layout import Layout

ADDONS_DIR = REPO_ROOT / "deploy" / "cluster" / "addons"
#: (namespace, deployment) pairs that must be Ready for the cluster to be complete.
DEPLOYMENTS = (("kube-system", "coredns"), ("kube-system", "metrics-server"))


def render(
    images: dict[str, str],
    addons_dir: Path = ADDONS_DIR,
    extra: dict[str, str] | None = None,
    pattern: str = "*.yaml",
) -> str:
    """All add-on manifests (``pattern`` in ``addons_dir``) as one multi-document YAML
    stream; ``extra`` adds placeholders."""
    values = {
        "DNS_SERVICE_IP": layout.DNS_SERVICE_IP,
        "CLUSTER_DOMAIN": layout.CLUSTER_DOMAIN,
        **{f"{name.upper().replace('-', '_')}_IMAGE": ref for name, ref in images.items()},
        **(extra or {}),
    }
    docs = []
    for path in sorted(addons_dir.glob(pattern)):
        text = Template(path.read_text()).substitute(values)
        docs.append(f"# Source: {path.name}\n{text.strip()}\n")
    return "---\n".join(docs)


def apply(lay: Layout, images: dict[str, str]) -> None:
    """Server-side apply of the add-ons as the admin."""
    out = lay.etc / "addons.yaml"
    out.write_text(render(images))
    apply_manifest(lay.admin_kubeconfig, out, what="the cluster add-ons")


def apply_manifest(kubeconfig: Path, manifest: Path, *, what: str, timeout: float = 120) -> None:
    """Server-side apply of every object in the file ``manifest`` (field manager
    hello-platform), through the one Kubernetes client."""
    try:
        Kube(kubeconfig, timeout=timeout).apply_yaml(manifest.read_text())
    except PlatformError as err:
        raise PlatformError(
            f"applying {what} failed: {err.message}", hint=f"the manifests are in {manifest}"
        ) from err
