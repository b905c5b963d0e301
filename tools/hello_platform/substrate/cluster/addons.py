"""Cluster add-ons (CoreDNS, metrics-server, RBAC glue) applied with ``kubectl``.

The manifests live in ``deploy/cluster/addons/*.yaml``; ``${NAME}`` placeholders are
filled in with the locally built image references and the cluster's addresses.
"""

from __future__ import annotations

from pathlib import Path
from string import Template

from hello_platform.core import proc
from hello_platform.core.errors import PlatformError
from hello_platform.core.paths import REPO_ROOT
from hello_platform.substrate.cluster import binaries, layout
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
    kubectl_apply(lay.admin_kubeconfig, out, what="the cluster add-ons")


def kubectl_apply(kubeconfig: Path, manifest: Path, *, what: str, timeout: float = 120) -> None:
    """Server-side apply of the file ``manifest`` (field manager hello-platform)."""
    import subprocess

    kubectl = binaries.tool("kubectl")
    done = subprocess.run(
        [
            str(kubectl),
            f"--kubeconfig={kubeconfig}",
            "apply",
            "--server-side",
            "--force-conflicts",
            "--field-manager=hello-platform",
            "-f",
            str(manifest),
        ],
        capture_output=True,
        text=True,
        check=False,
        timeout=timeout,
    )
    if done.returncode != 0:
        detail = proc.last_line(done.stderr)
        raise PlatformError(
            f"applying {what} failed: {detail}", hint=f"the manifests are in {manifest}"
        )
