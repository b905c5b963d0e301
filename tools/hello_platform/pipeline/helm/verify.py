"""The chart check: every values variant linted, rendered, validated (and dry-run on a cluster)."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from hello_platform.clients.kube import Kube
from hello_platform.core.catalogue import Service
from hello_platform.core.errors import PlatformError
from hello_platform.core.progress import step
from hello_platform.pipeline.helm.chart import (
    CRD_KINDS,
    FEATURES_SETS,
    check_files,
    helm_binary,
    kubeconform_binary,
    kubernetes_version,
    lint,
    profile_files,
    profiles,
    render,
)
from hello_platform.pipeline.helm.names import documents
from hello_platform.pipeline.helm.schemas import PINNED_KINDS, ensure_schemas, validate


@dataclass(frozen=True)
class Variant:
    name: str
    values_files: tuple[Path, ...]
    sets: tuple[str, ...] = ()


#: The variants of the local profile checked on top of a service's profiles: request-rate
#: autoscaling (a KEDA ScaledObject), and the progressive strategies (an Argo Rollouts Rollout).
LOCAL_VARIANTS: dict[str, tuple[str, ...]] = {
    "requests": ("autoscaling.mode=requests",),
    "canary": ("rollout.strategy=canary",),
    "blueGreen": ("rollout.strategy=blueGreen",),
}


def variant_names(service: Service) -> list[str]:
    """The service's profiles, ``features``, and :data:`LOCAL_VARIANTS` if it has ``local``."""
    local = list(LOCAL_VARIANTS) if "local" in service.profiles else []
    return [*profiles(service), "features", *local]


def variants(service: Service, names: Sequence[str] | None = None) -> list[Variant]:
    out = []
    for name in names or variant_names(service):
        if name == "features":
            out.append(Variant(name, (), FEATURES_SETS))
        elif name in LOCAL_VARIANTS:
            local = tuple(profile_files(service, "local"))
            out.append(Variant(name, local, LOCAL_VARIANTS[name]))
        else:
            files = (*profile_files(service, name), *check_files(service, name))
            out.append(Variant(name, files))
    return out


def check(
    service: Service, names: Sequence[str] | None = None, *, server: Path | None = None
) -> list[str]:
    """Lint, render and validate each variant (and dry-run it on the cluster of kubeconfig
    ``server``); one summary line per variant."""
    version = kubernetes_version()
    helm, kubeconform = helm_binary(), kubeconform_binary()
    ensure_schemas(version)
    lines = []
    for v in variants(service, names):
        what = f"profile '{v.name}'"
        with step(f"chart profile '{v.name}': lint --strict, render, kubeconform"):
            lint(helm, service.chart, v.values_files, v.sets)
            manifests = render(
                helm, service, values_files=v.values_files, sets=v.sets, kube_version=version
            )
            result = validate(kubeconform, manifests, version=version, what=what)
            if server is not None:
                namespace = f"{service.namespace}-dryrun"
                accepted = _dry_run(server, manifests, namespace=namespace, what=what)
        kinds = sorted(set(re.findall(r"(?m)^kind: (\S+)", manifests)))
        lines.append(
            f"{v.name}: lint ok; {result.summary} against Kubernetes {version} ({', '.join(kinds)})"
        )
        if server is not None:
            lines[-1] += f"; server-side dry run: {accepted} accepted"
    return lines


def _dry_run(kubeconfig: Path, manifests: str, *, namespace: str, what: str) -> int:
    """Server-side apply with ``dryRun`` of every rendered object into a Pod Security
    ``restricted`` namespace: the API server's own validation and admission (a Pod
    Security violation, even one that is only a warning for a Deployment, fails). Returns
    how many objects passed."""
    kube = Kube(kubeconfig)
    kube.ensure_namespace(namespace)
    docs = dry_run_objects(manifests)
    problems = []
    for doc in docs:
        try:
            kube.apply(doc, namespace=namespace, dry_run=True)
        except PlatformError as err:
            problems.append(err.message)
    problems += [w for w in kube.warnings if "would violate PodSecurity" in w]
    if problems:
        raise PlatformError(
            f"the cluster rejects {what}: {'; '.join(problems)}",
            hint="fix the template or values it names",
        )
    return len(docs)


def dry_run_objects(manifests: str) -> list[dict[str, Any]]:
    """The rendered objects a dry run sends: no custom kinds the cluster may lack, and no
    fixed node port (node ports are cluster-wide and the deployed release holds it)."""
    docs = [d for d in documents(manifests) if d["kind"] not in {*CRD_KINDS, *PINNED_KINDS}]
    for doc in docs:
        if doc["kind"] == "Service":
            for port in doc.get("spec", {}).get("ports", []):
                port.pop("nodePort", None)
    return docs


def running_cluster(kubeconfig: Path | None) -> Path:
    """``kubeconfig``, or the embedded cluster's when it is up (it is not started here)."""
    if kubeconfig is not None:
        if not kubeconfig.is_file():
            raise PlatformError(f"--kubeconfig {kubeconfig} is not a file")
        return kubeconfig
    from hello_platform.substrate.cluster import kubeconfig_path, node
    from hello_platform.substrate.cluster.layout import Layout

    if not node.is_up(Layout.default()):
        raise PlatformError(
            "--server needs a running cluster, and the embedded one is not up",
            hint="start it with 'nox -s cluster' (or deploy), or pass --kubeconfig PATH",
        )
    return kubeconfig_path()
