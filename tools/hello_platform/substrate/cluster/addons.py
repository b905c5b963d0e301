"""The node's add-ons (CoreDNS, metrics-server), declared on the add-on seam."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from string import Template

from hello_platform.core.paths import REPO_ROOT
from hello_platform.substrate.addons import Condition, Declared, Workload, register
from hello_platform.substrate.cluster import binaries, layout
from hello_platform.substrate.cluster.images import ImageSpec

ADDONS_DIR = REPO_ROOT / "deploy" / "cluster" / "addons"
NAMESPACE = "kube-system"
GLUE = "00-rbac.yaml"


def render(
    images: Mapping[str, str],
    addons_dir: Path = ADDONS_DIR,
    extra: Mapping[str, str] | None = None,
    pattern: str = "*.yaml",
) -> str:
    """The manifests ``pattern`` as one YAML stream, ``${NAME_IMAGE}`` and ``extra`` filled."""
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


COREDNS_IMAGE = ImageSpec(
    "coredns", lambda: binaries.tool("coredns"), ("/coredns",), ports=("1053/udp", "1053/tcp")
)
METRICS_SERVER_IMAGE = ImageSpec(
    "metrics-server",
    lambda: binaries.tool("metrics-server"),
    ("/metrics-server",),
    ports=("10250/tcp",),
)

COREDNS = register(
    Declared(
        name="coredns",
        namespace=NAMESPACE,
        pins=("coredns",),
        images=(COREDNS_IMAGE,),
        render=lambda refs: render(refs, pattern="10-coredns.yaml"),
        workloads=(Workload("Deployment", "coredns"),),
    )
)
METRICS_SERVER = register(
    Declared(
        name="metrics-server",
        namespace=NAMESPACE,
        pins=("metrics-server",),
        images=(METRICS_SERVER_IMAGE,),
        render=lambda refs: render(refs, pattern="20-metrics-server.yaml"),
        workloads=(Workload("Deployment", "metrics-server"),),
        conditions=(
            Condition(
                "apiregistration.k8s.io/v1", "APIService", "v1beta1.metrics.k8s.io", "Available"
            ),
        ),
    )
)
NODE_ADDONS = (COREDNS, METRICS_SERVER)
