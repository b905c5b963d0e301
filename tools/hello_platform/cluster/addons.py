"""Cluster add-ons (CoreDNS, metrics-server, RBAC glue) applied with ``kubectl``.

The manifests live in ``deploy/cluster/addons/*.yaml``; ``${NAME}`` placeholders are
filled in with the locally built image references and the cluster's addresses.
"""

from __future__ import annotations

from pathlib import Path
from string import Template

from hello_platform import proc
from hello_platform.cluster import binaries, layout
from hello_platform.cluster.layout import Layout
from hello_platform.errors import PlatformError
from hello_platform.paths import REPO_ROOT

ADDONS_DIR = REPO_ROOT / "deploy" / "cluster" / "addons"
#: (namespace, deployment) pairs that must be Ready for the cluster to be complete.
DEPLOYMENTS = (("kube-system", "coredns"), ("kube-system", "metrics-server"))


def render(images: dict[str, str], addons_dir: Path = ADDONS_DIR) -> str:
    """All add-on manifests as one multi-document YAML stream."""
    values = {
        "DNS_SERVICE_IP": layout.DNS_SERVICE_IP,
        "CLUSTER_DOMAIN": layout.CLUSTER_DOMAIN,
        **{f"{name.upper().replace('-', '_')}_IMAGE": ref for name, ref in images.items()},
    }
    docs = []
    for path in sorted(addons_dir.glob("*.yaml")):
        text = Template(path.read_text()).substitute(values)
        docs.append(f"# Source: {path.name}\n{text.strip()}\n")
    return "---\n".join(docs)


def apply(lay: Layout, images: dict[str, str]) -> None:
    """Server-side apply of the add-ons as the admin."""
    import subprocess

    manifest = render(images)
    out = lay.etc / "addons.yaml"
    out.write_text(manifest)
    kubectl = binaries.tool("kubectl")
    done = subprocess.run(
        [
            str(kubectl),
            f"--kubeconfig={lay.admin_kubeconfig}",
            "apply",
            "--server-side",
            "--force-conflicts",
            "--field-manager=hello-platform",
            "-f",
            str(out),
        ],
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )
    if done.returncode != 0:
        detail = proc.last_line(done.stderr)
        raise PlatformError(
            f"applying the cluster add-ons failed: {detail}", hint=f"the manifests are in {out}"
        )
