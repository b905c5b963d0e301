"""Argo CD in the cluster, driven with kubectl: install, bootstrap, read Applications.

Argo CD's state is in its CRDs (``applications.argoproj.io``), so ``kubectl get
applications -o json`` is all ``status`` needs: no argocd-server, no API token.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from hello_platform.core.errors import PlatformError
from hello_platform.core.paths import REPO_ROOT
from hello_platform.core.progress import say
from hello_platform.pipeline.deploy import Kube
from hello_platform.pipeline.gitops import manifests, release

NAMESPACE = manifests.NAMESPACE
BOOTSTRAP = REPO_ROOT / "deploy" / "argocd" / "bootstrap"
ROOT_APP = "hello-platform-root"
WORKLOADS = (
    ("deployment", "argocd-redis"),
    ("deployment", "argocd-repo-server"),
    ("statefulset", "argocd-application-controller"),
)
FIELD_MANAGER = "hello-platform-gitops"
#: Namespaces the Applications create (CreateNamespace=true); ``down`` removes them.


def make_kube(kubeconfig: Path) -> Kube:
    from hello_platform.toolchain import resolve

    return Kube(helm=resolve("helm"), kubectl=resolve("kubectl"), kubeconfig=kubeconfig)


def apply(kube: Kube, text: str, *, what: str, timeout: float = 180) -> None:
    kube.kubectl_cmd(
        "apply",
        "--server-side",
        "--force-conflicts",
        f"--field-manager={FIELD_MANAGER}",
        "-f",
        "-",
        what=what,
        stdin=text,
        timeout=timeout,
    )


def install(kube: Kube, images: Mapping[str, str], *, timeout: float = 300) -> None:
    """Apply the rendered core install and wait for its three workloads to be ready."""
    docs = manifests.render(manifests.upstream_core_install(), images)
    crds = [d for d in docs if d["kind"] in ("Namespace", "CustomResourceDefinition")]
    rest = [d for d in docs if d not in crds]
    apply(kube, manifests.to_yaml(crds), what="applying Argo CD's namespace and CRDs")
    wait_established(kube, ("applications.argoproj.io", "appprojects.argoproj.io"))
    apply(kube, manifests.to_yaml(rest), what="applying Argo CD's core install")
    for kind, name in WORKLOADS:
        say(f"waiting for {kind}/{name} in {NAMESPACE}")
        kube.kubectl_cmd(
            "-n",
            NAMESPACE,
            "rollout",
            "status",
            f"{kind}/{name}",
            f"--timeout={int(timeout)}s",
            what=f"rollout of {name}",
            timeout=timeout + 30,
        )


def wait_established(kube: Kube, crds: Sequence[str], timeout: float = 60) -> None:
    """Until each CRD is Established (a new CRD has no status for a moment: kubectl wait
    would fail on it)."""
    deadline = time.monotonic() + timeout
    for crd in crds:
        while True:
            done = kube.kubectl_cmd(
                "get",
                f"crd/{crd}",
                "-o",
                "jsonpath={.status.conditions[?(@.type=='Established')].status}",
                what=f"reading crd/{crd}",
                check=False,
            )
            if done.stdout.strip() == "True":
                break
            if time.monotonic() > deadline:
                raise PlatformError(f"the CRD {crd} was not Established within {timeout:.0f}s")
            time.sleep(0.5)


def bootstrap(kube: Kube) -> None:
    """Apply the AppProject and the root Application (everything else comes from git)."""
    text = "\n---\n".join(p.read_text() for p in sorted(BOOTSTRAP.glob("*.yaml")))
    apply(kube, text, what="applying the AppProject and the root Application")


def uninstall(kube: Kube, images: Mapping[str, str], *, timeout: float = 180) -> None:
    """Delete the root app (cascading to its children and their resources), then Argo CD."""
    # The root app first (its finalizer cascades to the children and their resources),
    # then whatever Applications are left, then the project.
    for what, target in (
        ("the root Application", ("application", ROOT_APP)),
        ("the Applications", ("applications", "--all")),
        ("the AppProject", ("appprojects", "--all")),
    ):
        kube.kubectl_cmd(
            "-n",
            NAMESPACE,
            "delete",
            *target,
            "--ignore-not-found",
            f"--timeout={int(timeout)}s",
            what=f"deleting {what}",
            timeout=timeout + 30,
            check=False,
        )
    for namespace in sorted({app.namespace for app in release.env_apps()}):
        kube.kubectl_cmd(
            "delete",
            "namespace",
            namespace,
            "--ignore-not-found",
            "--wait=false",
            what=f"deleting namespace {namespace}",
            timeout=60,
            check=False,
        )
    docs = manifests.render(manifests.upstream_core_install(), images)
    kube.kubectl_cmd(
        "delete",
        "--ignore-not-found",
        "--wait=false",
        "-f",
        "-",
        what="deleting Argo CD",
        stdin=manifests.to_yaml(docs),
        timeout=timeout,
    )


@dataclass(frozen=True)
class AppStatus:
    """What ``status`` shows of one Application."""

    name: str
    sync: str
    health: str
    revision: str
    target: str
    path: str
    conditions: tuple[str, ...] = ()
    operation: str = ""
    health_message: str = ""
    history: tuple[tuple[str, str], ...] = field(default=())  # (deployedAt, revision)

    @property
    def ok(self) -> bool:
        return self.sync == "Synced" and self.health == "Healthy" and not self.conditions

    @property
    def reason(self) -> str:
        """Why it is not Synced/Healthy: conditions, the last operation, the health message."""
        parts = [*self.conditions]
        if self.operation:
            parts.append(self.operation)
        if self.health_message:
            parts.append(f"health: {self.health_message}")
        return "; ".join(parts)


def parse_app(doc: Mapping[str, Any]) -> AppStatus:
    status = doc.get("status") or {}
    spec = doc.get("spec") or {}
    source = spec.get("source") or {}
    conditions = tuple(
        f"{c.get('type')}: {' '.join(str(c.get('message', '')).split())}"
        for c in status.get("conditions") or []
    )
    op = status.get("operationState") or {}
    operation = ""
    if op and op.get("phase") not in (None, "Succeeded"):
        operation = f"last sync {op.get('phase')}: {' '.join(str(op.get('message', '')).split())}"
    health = status.get("health") or {}
    history = tuple(
        (str(h.get("deployedAt", "")), str(h.get("revision", "")))
        for h in status.get("history") or []
    )
    return AppStatus(
        name=str(doc.get("metadata", {}).get("name", "")),
        sync=str((status.get("sync") or {}).get("status") or "Unknown"),
        health=str(health.get("status") or "Unknown"),
        revision=str((status.get("sync") or {}).get("revision") or ""),
        target=str(source.get("targetRevision", "")),
        path=str(source.get("path", "")),
        conditions=conditions,
        operation=operation,
        health_message=" ".join(str(health.get("message") or "").split()),
        history=history,
    )


def applications(kube: Kube) -> list[AppStatus]:
    done = kube.kubectl_cmd(
        "-n",
        NAMESPACE,
        "get",
        "applications.argoproj.io",
        "-o",
        "json",
        what="listing Argo CD Applications",
        check=False,
    )
    if done.returncode != 0:
        if "the server doesn't have a resource type" in done.stderr:
            raise PlatformError(
                "Argo CD is not installed in this cluster", hint="run `nox -s gitops -- up`"
            )
        raise PlatformError(f"listing Applications failed: {done.stderr.strip()[-200:]}")
    items: Iterable[Mapping[str, Any]] = json.loads(done.stdout).get("items", [])
    return sorted((parse_app(i) for i in items), key=lambda a: a.name)


def refresh(kube: Kube, names: Sequence[str]) -> None:
    """Ask Argo CD to look at git now (what a webhook would do; git:// has none)."""
    for name in names:
        kube.kubectl_cmd(
            "-n",
            NAMESPACE,
            "annotate",
            "--overwrite",
            f"application/{name}",
            "argocd.argoproj.io/refresh=normal",
            what=f"refreshing {name}",
            check=False,
        )


def wait_for(
    kube: Kube,
    done: Callable[[list[AppStatus]], bool],
    *,
    what: str,
    timeout: float,
    poll: float = 1.0,
    heartbeat: float = 10.0,
) -> list[AppStatus]:
    """Poll the Applications until ``done(apps)``; progress every ``heartbeat`` seconds."""
    start = time.monotonic()
    last = start
    apps: list[AppStatus] = []
    while True:
        apps = applications(kube)
        if done(apps):
            return apps
        now = time.monotonic()
        if now - start > timeout:
            summary = "; ".join(f"{a.name} {a.sync}/{a.health} {a.reason}".strip() for a in apps)
            raise PlatformError(
                f"{what} did not happen within {timeout:.0f}s ({summary or 'no Applications'})",
                hint="run `nox -s gitops -- status` for the reasons",
            )
        if now - last >= heartbeat:
            last = now
            states = ", ".join(f"{a.name} {a.sync}/{a.health}" for a in apps) or "none yet"
            say(f"{what}: {now - start:.0f}s, {states}")
        time.sleep(poll)


def all_ok(
    names: Sequence[str], revision: str | Callable[[], str | None] = ""
) -> Callable[[list[AppStatus]], bool]:
    """Each of ``names`` Synced and Healthy (at ``revision``, when given; a callable is
    asked on every poll, e.g. for the branch's head, which others may move meanwhile)."""

    def check(apps: list[AppStatus]) -> bool:
        want = revision() if callable(revision) else revision
        by = {a.name: a for a in apps}
        return all(n in by and by[n].ok and (not want or by[n].revision == want) for n in names)

    return check


def pod_memory(kube: Kube, namespace: str = NAMESPACE) -> dict[str, int]:
    """Working-set memory (bytes) of each pod in ``namespace`` (metrics-server)."""
    done = kube.kubectl_cmd(
        "get",
        "--raw",
        f"/apis/metrics.k8s.io/v1beta1/namespaces/{namespace}/pods",
        what="reading pod metrics",
        check=False,
    )
    if done.returncode != 0:
        return {}
    out: dict[str, int] = {}
    for item in json.loads(done.stdout).get("items", []):
        total = sum(
            _bytes(c.get("usage", {}).get("memory", "0")) for c in item.get("containers", [])
        )
        out[str(item["metadata"]["name"])] = total
    return out


def _bytes(quantity: str) -> int:
    units = {"Ki": 2**10, "Mi": 2**20, "Gi": 2**30, "k": 10**3, "M": 10**6, "G": 10**9}
    for suffix, factor in units.items():
        if quantity.endswith(suffix):
            return int(float(quantity[: -len(suffix)]) * factor)
    return int(float(quantity or 0))
