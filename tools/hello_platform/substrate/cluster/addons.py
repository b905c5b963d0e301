"""The node's add-ons (CoreDNS, metrics-server), declared on the add-on seam."""

from __future__ import annotations

import functools
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


def _node_addon(
    name: str, manifest: str, ports: tuple[str, ...], *conditions: Condition
) -> Declared:
    """An add-on of one Deployment ``name`` running the pinned tool ``name`` as ``/name``."""
    image = ImageSpec(name, functools.partial(binaries.tool, name), (f"/{name}",), ports=ports)
    return register(
        Declared(
            name=name,
            namespace=NAMESPACE,
            pins=(name,),
            images=(image,),
            render=functools.partial(render, pattern=manifest),
            workloads=(Workload("Deployment", name),),
            conditions=conditions,
        )
    )


NODE_ADDONS = (
    _node_addon("coredns", "10-coredns.yaml", ("1053/udp", "1053/tcp")),
    _node_addon(
        "metrics-server",
        "20-metrics-server.yaml",
        ("10250/tcp",),
        Condition("apiregistration.k8s.io/v1", "APIService", "v1beta1.metrics.k8s.io", "Available"),
    ),
)
