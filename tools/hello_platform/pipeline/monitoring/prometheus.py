"""Prometheus in namespace ``monitoring``: Debian's pinned binary as a single-layer image.

Debian's build lacks Kubernetes service discovery, so pods are found through the DNS SRV
records of each release's headless pods Service (its only port is the metrics port): no RBAC.
"""

from __future__ import annotations

import hashlib
import json
import urllib.parse
import urllib.request
from collections.abc import Iterable
from pathlib import Path
from typing import Any, NamedTuple

from hello_platform.core import catalogue
from hello_platform.core.errors import PlatformError
from hello_platform.core.paths import REPO_ROOT
from hello_platform.substrate.addons import Declared, Workload, register
from hello_platform.substrate.cluster import addons, binaries, images, layout

MANIFESTS = REPO_ROOT / "deploy" / "monitoring"
NAMESPACE = "monitoring"
NODE_PORT = 30090
API = f"http://127.0.0.1:{NODE_PORT}"
#: The namespaces of a service's releases scraped besides its own: the load test's, the
#: requests e2e test's, the canary drills' and the local GitOps environment's.
EXTRA_NAMESPACES = ("{ns}-keda", "{ns}-e2e-requests", "{ns}-rollouts", "{ns}-gitops")
SCRAPE_INTERVAL = "5s"
#: With a canary strategy the chart also renders the new revision's pods Service, which
#: Argo Rollouts' analysis reads.
NEW_PODS = ("rollout.strategy=canary",)
RETENTION = "6h"

PROMETHEUS = images.ImageSpec(
    "prometheus",
    lambda: binaries.tool("prometheus"),
    ("/prometheus",),
    ports=("9090/tcp",),
    extra=images.with_shared_libraries(lambda: binaries.tool("prometheus")),
)


class PodsService(NamedTuple):
    namespace: str
    name: str
    port: str


def releases() -> list[PodsService]:
    """The headless pods Services of every release scraped, read from each chart rendered
    with the local profile (which turns them on)."""
    from hello_platform.pipeline import helm

    out = []
    helm_bin = helm.helm_binary()
    for svc in catalogue.load().services.values():
        files = helm.profile_files(svc, "local") if "local" in svc.profiles else []
        for ns in (svc.namespace, *(n.format(ns=svc.namespace) for n in EXTRA_NAMESPACES)):
            docs = helm.documents(
                helm.render(helm_bin, svc, values_files=files, namespace=ns, sets=NEW_PODS)
            )
            for d in docs:
                if d["kind"] == "Service" and (d.get("spec") or {}).get("clusterIP") == "None":
                    ports = d["spec"].get("ports") or []
                    out += [PodsService(ns, d["metadata"]["name"], p["name"]) for p in ports]
    return out


def srv_names(pods_services: Iterable[PodsService] | None = None) -> list[str]:
    found = releases() if pods_services is None else pods_services
    domain = layout.CLUSTER_DOMAIN
    return [f"_{s.port}._tcp.{s.name}.{s.namespace}.svc.{domain}" for s in found]


def rule_files(rules_dir: Path | None = None) -> str:
    lines = []
    if rules_dir is None:
        found = {svc.chart / "files" / "rules" for svc in catalogue.load().services.values()}
        dirs = sorted(d for d in found if d.is_dir())
    else:
        dirs = [rules_dir]
    for path in sorted(p for d in dirs for p in d.glob("*.yaml")):
        lines.append(f"  {path.name}: |")
        lines += [f"    {line}" if line else "" for line in path.read_text().splitlines()]
    return "\n".join(lines) if lines else "  {}"


def render(image: str) -> str:
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
    result = query(promql, api=api)
    if not result:
        return None
    try:
        return float(result[0]["value"][1])
    except (KeyError, IndexError, TypeError, ValueError):
        return None
