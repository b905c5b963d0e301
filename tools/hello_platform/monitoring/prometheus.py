"""Prometheus in namespace ``monitoring``: Debian's pinned binary as a single-layer image.

``render`` fills in deploy/monitoring/prometheus.yaml: the namespaces it may discover pods
in (a RoleBinding in each that exists), the alert rules shipped with the chart, and the
image by digest. ``up`` applies it and waits for the rollout; ``query`` reads the HTTP API
through the NodePort on 127.0.0.1.
"""

from __future__ import annotations

import hashlib
import json
import urllib.parse
import urllib.request
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from hello_platform.cluster import addons, binaries, images
from hello_platform.errors import PlatformError
from hello_platform.paths import REPO_ROOT

MANIFESTS = REPO_ROOT / "deploy" / "monitoring"
#: The alert rules the chart ships (plain Prometheus rule files); Prometheus loads them too.
RULES_DIR = REPO_ROOT / "deploy" / "helm" / "hello" / "files" / "rules"
NAMESPACE = "monitoring"
#: The NodePort of Prometheus' HTTP API on 127.0.0.1.
NODE_PORT = 30090
API = f"http://127.0.0.1:{NODE_PORT}"
#: The in-cluster address KEDA's prometheus trigger queries.
SERVER_ADDRESS = f"http://prometheus.{NAMESPACE}.svc:9090"
#: The requests-mode e2e test's own namespace.
E2E_NAMESPACE = "hello-e2e-requests"
#: The project's namespaces where hello releases live: the only ones Prometheus discovers.
SCRAPE_NAMESPACES = ("hello", "hello-keda", E2E_NAMESPACE)
SCRAPE_INTERVAL = "5s"
RETENTION = "6h"

PROMETHEUS = images.ImageSpec(
    "prometheus",
    lambda: binaries.tool("prometheus"),
    ("/prometheus",),
    ports=("9090/tcp",),
    shared_libs=True,
)


def role_bindings(namespaces: Iterable[str]) -> str:
    """One RoleBinding per namespace to the read-only discovery ClusterRole."""
    docs = []
    for ns in namespaces:
        docs.append(
            f"""---
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata:
  name: hello-platform:prometheus-discovery
  namespace: {ns}
  labels: {{app.kubernetes.io/name: prometheus, app.kubernetes.io/managed-by: hello-platform}}
roleRef:
  apiGroup: rbac.authorization.k8s.io
  kind: ClusterRole
  name: hello-platform:prometheus-discovery
subjects:
  - {{kind: ServiceAccount, name: prometheus, namespace: {NAMESPACE}}}"""
        )
    return "\n".join(docs)


def rule_files(rules_dir: Path = RULES_DIR) -> str:
    """The ConfigMap ``data`` block holding every rule file (indented YAML literals)."""
    lines = []
    for path in sorted(rules_dir.glob("*.yaml")):
        lines.append(f"  {path.name}: |")
        lines += [f"    {line}" if line else "" for line in path.read_text().splitlines()]
    return "\n".join(lines) if lines else "  {}"


def render(image: str, bound_namespaces: Iterable[str]) -> str:
    """The Prometheus manifests; RoleBindings only in ``bound_namespaces`` (existing ones)."""
    rules = rule_files()
    values = {
        "NAMESPACE": NAMESPACE,
        "NODE_PORT": str(NODE_PORT),
        "SCRAPE_INTERVAL": SCRAPE_INTERVAL,
        "RETENTION": RETENTION,
        "SCRAPE_NAMESPACES": ", ".join(SCRAPE_NAMESPACES),
        "ROLE_BINDINGS": role_bindings(bound_namespaces),
        "RULE_FILES": rules,
    }
    values["CONFIG_HASH"] = hashlib.sha256(
        json.dumps([values, image], sort_keys=True).encode()
    ).hexdigest()[:16]
    return addons.render({"prometheus": image}, MANIFESTS, values, "prometheus.yaml")


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
