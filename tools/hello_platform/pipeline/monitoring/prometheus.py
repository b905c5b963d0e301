"""Prometheus in namespace ``monitoring``: Debian's pinned binary as a single-layer image.

Debian's 2.42 is built without Kubernetes service discovery, so the hello pods are found
through DNS: the SRV records of each release's headless ``<fullname>-pods`` Service (the
chart's ``metrics.podsService``), for the project's releases only (``RELEASES``). That
needs no API access: no RBAC, no token. ``render`` fills in
deploy/monitoring/prometheus.yaml with those names, the alert rules shipped with the
chart and the image by digest; ``query`` reads the HTTP API through the NodePort on
127.0.0.1.
"""

from __future__ import annotations

import hashlib
import json
import urllib.parse
import urllib.request
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from hello_platform.core.errors import PlatformError
from hello_platform.core.paths import REPO_ROOT
from hello_platform.substrate.addons import Declared, Workload, register
from hello_platform.substrate.cluster import addons, binaries, images, layout

MANIFESTS = REPO_ROOT / "deploy" / "monitoring"
#: The alert rules the chart ships (plain Prometheus rule files); Prometheus loads them too.
RULES_DIR = REPO_ROOT / "deploy" / "helm" / "hello" / "files" / "rules"
NAMESPACE = "monitoring"
#: The NodePort of Prometheus' HTTP API on 127.0.0.1.
NODE_PORT = 30090
API = f"http://127.0.0.1:{NODE_PORT}"
#: The requests-mode e2e test's own namespace.
E2E_NAMESPACE = "hello-e2e-requests"
#: The project's hello releases (namespace, fullname): the only pods Prometheus scrapes.
RELEASES = (("hello", "hello"), ("hello-keda", "hello"), (E2E_NAMESPACE, "hello"))
SCRAPE_INTERVAL = "5s"
RETENTION = "6h"

PROMETHEUS = images.ImageSpec(
    "prometheus",
    lambda: binaries.tool("prometheus"),
    ("/prometheus",),
    ports=("9090/tcp",),
    extra=images.with_shared_libraries(lambda: binaries.tool("prometheus")),
)


def srv_names(releases: Iterable[tuple[str, str]] = RELEASES) -> list[str]:
    """The SRV names of the releases' headless pod Services (port ``http``)."""
    return [f"_http._tcp.{name}-pods.{ns}.svc.{layout.CLUSTER_DOMAIN}" for ns, name in releases]


def rule_files(rules_dir: Path = RULES_DIR) -> str:
    """The ConfigMap ``data`` block holding every rule file (indented YAML literals)."""
    lines = []
    for path in sorted(rules_dir.glob("*.yaml")):
        lines.append(f"  {path.name}: |")
        lines += [f"    {line}" if line else "" for line in path.read_text().splitlines()]
    return "\n".join(lines) if lines else "  {}"


def render(image: str) -> str:
    """The Prometheus manifests, ready to apply."""
    rules = rule_files()
    values = {
        "NAMESPACE": NAMESPACE,
        "NODE_PORT": str(NODE_PORT),
        "SCRAPE_INTERVAL": SCRAPE_INTERVAL,
        "RETENTION": RETENTION,
        "SRV_NAMES": ", ".join(srv_names()),
        "RULE_FILES": rules,
    }
    values["CONFIG_HASH"] = hashlib.sha256(
        json.dumps([values, image], sort_keys=True).encode()
    ).hexdigest()[:16]
    return addons.render({"prometheus": image}, MANIFESTS, values, "prometheus.yaml")


ADDON = register(
    Declared(
        name="prometheus",
        namespace=NAMESPACE,
        pins=("prometheus",),
        images=(PROMETHEUS,),
        render=lambda refs: render(refs[PROMETHEUS.name]),
        workloads=(Workload("Deployment", "prometheus"),),
    )
)


def query(promql: str, *, api: str = API, timeout: float = 5.0) -> list[dict[str, Any]]:
    """The result vector of an instant query (``/api/v1/query``)."""
    url = f"{api}/api/v1/query?" + urllib.parse.urlencode({"query": promql})
    try:
        with urllib.request.urlopen(url, timeout=timeout) as resp:  # noqa: S310 (loopback only)
            doc = json.load(resp)
    except (OSError, ValueError) as err:
        raise PlatformError(
            f"Prometheus at {api} did not answer ({err})",
            hint="run: nox -s monitoring -- up",
        ) from err
    if doc.get("status") != "success":
        raise PlatformError(f"Prometheus refused the query {promql!r}: {doc.get('error')}")
    result = doc.get("data", {}).get("result", [])
    return result if isinstance(result, list) else []


def scalar(promql: str, *, api: str = API) -> float | None:
    """The first sample's value of an instant query, or None when the result is empty."""
    result = query(promql, api=api)
    if not result:
        return None
    try:
        return float(result[0]["value"][1])
    except (KeyError, IndexError, TypeError, ValueError):
        return None
