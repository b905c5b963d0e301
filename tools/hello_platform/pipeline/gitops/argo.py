"""Argo CD on a cluster: the add-on, the bootstrap, and the Applications read back from
their CRDs (no argocd-server, no API token)."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any

import yaml
from lightkube.resources.core_v1 import Namespace

from hello_platform.clients.kube import Kube, quantity, resource
from hello_platform.core.errors import PlatformError
from hello_platform.core.paths import REPO_ROOT
from hello_platform.core.progress import say
from hello_platform.core.wait import Check, until
from hello_platform.pipeline.gitops import (
    envs,
    gitserver,
    images,
    manifests,
    release,
)
from hello_platform.substrate.addons import Declared, Refs, Workload, register

NAMESPACE = manifests.NAMESPACE
BOOTSTRAP = REPO_ROOT / "deploy" / "argocd" / "bootstrap"
ROOT_APP = "hello-platform-root"
ARGO_API = "argoproj.io/v1alpha1"
APPLICATION = resource(ARGO_API, "Application")
APP_PROJECT = resource(ARGO_API, "AppProject")
APPLICATIONS_CRD = "applications.argoproj.io"
CRD = resource("apiextensions.k8s.io/v1", "CustomResourceDefinition", namespaced=False)
POD_METRICS = resource("metrics.k8s.io/v1beta1", "PodMetrics", plural="pods")


def render(refs: Refs) -> str:
    chosen = {"argocd": refs[images.ARGOCD.name], "redis": refs[images.REDIS.name]}
    return manifests.to_yaml(manifests.render(manifests.upstream_install(), chosen))


def render_upstream(refs: Refs) -> str:
    del refs  # upstream's images: nothing is built here
    return manifests.to_yaml(manifests.render(manifests.upstream_install(), None))


def _installed(kube: Kube) -> bool:
    return kube.get(CRD, APPLICATIONS_CRD) is not None


def _gone(kube: Kube, what: str, timeout: float, name: str | None = None) -> None:
    """Wait for the Application ``name`` (else all) to go; on timeout say so and go on
    (the controller may be gone)."""

    def left() -> Check:
        apps = kube.find(APPLICATION, namespace=NAMESPACE)
        names = [a["metadata"]["name"] for a in apps if name in (None, a["metadata"]["name"])]
        return Check(not names, f"left: {', '.join(names)}")

    try:
        until(left, what=f"{what} not deleted", timeout=timeout)
    except PlatformError as err:
        say(f"{err.message}; removing Argo CD anyway")


def remove_applications(kube: Kube, timeout: float = 180) -> None:
    """The root app first (its finalizer cascades), then what is left, then the apps'
    namespaces (CreateNamespace=true)."""
    if _installed(kube):
        kube.delete(APPLICATION, ROOT_APP, namespace=NAMESPACE)
        _gone(kube, "the root Application is", timeout, name=ROOT_APP)
        for res in (APPLICATION, APP_PROJECT):
            for obj in kube.find(res, namespace=NAMESPACE):
                kube.delete(res, obj["metadata"]["name"], namespace=NAMESPACE)
        _gone(kube, "the Applications are", timeout)
    for namespace in sorted({app.namespace for app in release.env_apps()}):
        kube.delete(Namespace, namespace)


ADDON = register(
    Declared(
        name="argocd",
        namespace=NAMESPACE,
        pins=("argocd",),
        images=(images.ARGOCD, images.REDIS),
        render=render,
        workloads=(
            Workload("Deployment", "argocd-redis"),
            Workload("Deployment", "argocd-repo-server"),
            Workload("StatefulSet", "argocd-application-controller"),
            Workload("Deployment", manifests.NOTIFICATIONS_CONTROLLER),
        ),
        teardown=remove_applications,
        timeout=300,
    )
)


#: For a cluster that pulls upstream's images (EKS); not registered: `down` uses ADDON.
UPSTREAM_ADDON = replace(ADDON, images=(), render=render_upstream)


def bootstrap_docs(env: str, repo_url: str, *, optional: bool = False) -> list[dict[str, Any]]:
    """The AppProject and root Application of ``env`` at ``repo_url``; ``optional``: the
    root recurses into the apps' subfolders."""
    docs = []
    where = BOOTSTRAP if env == envs.LOCAL else envs.env_dir(env) / "bootstrap"
    for path in sorted(where.glob("*.yaml")):
        for doc in yaml.safe_load_all(path.read_text()):
            if not doc:
                continue
            if doc["kind"] == "AppProject":
                doc["spec"]["sourceRepos"][0] = repo_url
            elif doc["kind"] == "Application":
                doc["spec"]["source"]["repoURL"] = repo_url
                if optional:
                    doc["spec"]["source"].setdefault("directory", {})["recurse"] = True
            docs.append(doc)
    return docs


def check_repo(apps: Sequence[Mapping[str, Any]], repo_url: str) -> None:
    """Every unpinned git source of the children is ``repo_url``, the root's."""
    pins = envs.load_pins()
    other = sorted(
        {
            f"{a['metadata']['name']} ({s['repoURL']})"
            for a in apps
            for s in envs.sources(a)
            if envs.pin_of(s, pins) is None and "chart" not in s and s.get("repoURL") != repo_url
        }
    )
    if other:
        raise PlatformError(
            f"these Applications read another repository than {repo_url}: {', '.join(other)}",
            hint="give the repository they name as --repo-url, or change their repoURL in git",
        )


def bootstrap(
    kube: Kube, env: str = envs.LOCAL, repo_url: str | None = None, *, optional: bool = False
) -> None:
    docs = bootstrap_docs(env, repo_url or gitserver.URL, optional=optional)
    kube.apply_yaml(manifests.to_yaml(docs))


@dataclass(frozen=True)
class AppStatus:
    name: str
    sync: str
    health: str
    revision: str
    target: str
    path: str
    conditions: tuple[str, ...] = ()
    operation: str = ""
    health_message: str = ""
    history: tuple[tuple[str, str], ...] = ()  # (deployedAt, revision)
    images: tuple[str, ...] = ()
    operation_phase: str = ""
    operation_revision: str = ""

    @property
    def ok(self) -> bool:
        return self.sync == "Synced" and self.health == "Healthy" and not self.conditions

    @property
    def reason(self) -> str:
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
        images=tuple(str(i) for i in (status.get("summary") or {}).get("images") or []),
        operation_phase=str(op.get("phase") or ""),
        operation_revision=str((op.get("syncResult") or {}).get("revision") or ""),
    )


def applications(kube: Kube) -> list[AppStatus]:
    try:
        items = kube.find(APPLICATION, namespace=NAMESPACE)
    except PlatformError:
        if not _installed(kube):
            raise PlatformError(
                "Argo CD is not installed in this cluster", hint="run `nox -s gitops -- up`"
            ) from None
        raise
    return sorted((parse_app(i) for i in items), key=lambda a: a.name)


def refresh(kube: Kube, names: Sequence[str]) -> None:
    """Ask Argo CD to look at git now (git:// has no webhooks); missing apps are skipped."""
    patch = {"metadata": {"annotations": {"argocd.argoproj.io/refresh": "normal"}}}
    for name in names:
        if kube.get(APPLICATION, name, namespace=NAMESPACE) is not None:
            kube.patch(APPLICATION, name, patch, namespace=NAMESPACE)


def wait_for(
    kube: Kube,
    done: Callable[[list[AppStatus]], bool],
    *,
    what: str,
    timeout: float,
) -> list[AppStatus]:
    apps: list[AppStatus] = []

    def check() -> Check:
        apps[:] = applications(kube)
        states = "; ".join(f"{a.name} {a.sync}/{a.health} {a.reason}".strip() for a in apps)
        return Check(done(apps), states or "no Applications")

    until(
        check,
        what=f"{what} did not happen",
        timeout=timeout,
        interval=1.0,
        every=10.0,
        first_note=10.0,
        progress=lambda s, states: say(f"{what}: {s:.0f}s, {states}"),
        hint="run `nox -s gitops -- status` for the reasons",
    )
    return apps


def all_ok(
    names: Sequence[str], revision: str | Callable[[], str | None] = ""
) -> Callable[[list[AppStatus]], bool]:
    """Each of ``names`` Synced/Healthy, at ``revision`` if given (a callable is asked on
    every poll: others may move the branch meanwhile)."""

    def check(apps: list[AppStatus]) -> bool:
        want = revision() if callable(revision) else revision
        by = {a.name: a for a in apps}
        return all(n in by and by[n].ok and (not want or by[n].revision == want) for n in names)

    return check


def pod_memory(kube: Kube) -> dict[str, int]:
    """Working-set bytes per Argo CD pod; empty when the metrics API does not answer."""
    try:
        items = kube.find(POD_METRICS, namespace=NAMESPACE)
    except PlatformError:
        return {}
    out: dict[str, int] = {}
    for item in items:
        total = sum(
            int(quantity(c.get("usage", {}).get("memory") or "0"))
            for c in item.get("containers", [])
        )
        out[str(item["metadata"]["name"])] = total
    return out
