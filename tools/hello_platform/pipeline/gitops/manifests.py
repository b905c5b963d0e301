"""Argo CD's core install, rendered from the pinned module's sha256-checked
``manifests/core-install.yaml``: our images, no ApplicationSet controller nor ``copyutil``
(no config-management plugins), a faster reconciliation (git:// has no webhooks), restricted
Pod Security, the notifications controller, and small requests (2 shared cores).

The notifications controller is upstream's sha256-checked ``base/notification`` without its
Secret (the operator creates it with the webhook URL; an empty one would clash) and with its
ConfigMap's data from ``deploy/argocd/notifications.yaml``.
"""

from __future__ import annotations

import copy
import hashlib
import json
import subprocess
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import yaml

from hello_platform.core.errors import PlatformError
from hello_platform.core.paths import REPO_ROOT

#: sha256 of manifests/core-install.yaml in github.com/argoproj/argo-cd/v3@v3.2.11.
CORE_INSTALL_SHA256 = "a48ce0ab6ff5f7aac90a8bd0374434f4d15edeaa85f774672c8692c9819d2ae8"
#: sha256 of the files manifests/base/notification/kustomization.yaml lists (in its order),
#: in the same module.
NOTIFICATIONS_SHA256 = "4f47624bcb2bb6da14fb1d50758fe52ca804c554945a7faa30ecfadd5a17d1ed"
NOTIFICATIONS_BASE = Path("manifests") / "base" / "notification"
NOTIFICATIONS_CONFIG = REPO_ROOT / "deploy" / "argocd" / "notifications.yaml"
NOTIFICATIONS_CONFIGMAP = "argocd-notifications-cm"
NOTIFICATIONS_SECRET = "argocd-notifications-secret"  # noqa: S105 - a name
NOTIFICATIONS_CONTROLLER = "argocd-notifications-controller"
NAMESPACE = "argocd"
#: How often Argo CD looks at git (and how long the repo-server caches a branch's head).
RECONCILIATION = "10s"
CLUSTER_KINDS = {"CustomResourceDefinition", "ClusterRole", "ClusterRoleBinding", "Namespace"}
CONFIG_ANNOTATION = "hello-platform.dev/argocd-config"
#: What the render sets in upstream's ConfigMaps. The controller hides repo errors (a missing
#: path, a chart that fails to render) for the grace period, by default 3 min, longer than a
#: release; it is a duration despite its name: a bare "15" means the default.
CONFIG = {
    "argocd-cm": {"timeout.reconciliation": RECONCILIATION, "timeout.reconciliation.jitter": "0s"},
    "argocd-cmd-params-cm": {"controller.repo.error.grace.period.seconds": "15s"},
}
DROPPED = {"argocd-applicationset-controller", "argocd-applicationset-controller-network-policy"}
UPSTREAM_IMAGES = ("quay.io/argoproj/argocd", "public.ecr.aws/docker/library/redis")
REQUESTS = {
    "argocd-application-controller": {"cpu": "50m", "memory": "192Mi"},
    "argocd-repo-server": {"cpu": "20m", "memory": "96Mi"},
    "redis": {"cpu": "10m", "memory": "32Mi"},
    NOTIFICATIONS_CONTROLLER: {"cpu": "10m", "memory": "48Mi"},
}


def module_dir(module: str, version: str, *, pinned: str = "") -> Path:
    return Path(str(module_info(module, version, pinned=pinned)["Dir"]))


def module_info(module: str, version: str, *, pinned: str = "") -> dict[str, Any]:
    """``go mod download -json MODULE@VERSION`` (``pinned``: the tool's Go toolchain)."""
    from hello_platform.toolchain.gobuild import find_go, go_env

    done = subprocess.run(
        [find_go() or "go", "mod", "download", "-json", f"{module}@{version}"],
        capture_output=True,
        text=True,
        env=go_env(pinned=pinned),
        check=False,
        timeout=600,
    )
    try:
        info: dict[str, Any] = json.loads(done.stdout)
    except ValueError:
        info = {}
    if done.returncode != 0 or not info.get("Dir"):
        raise PlatformError(
            f"could not download {module}@{version}: {info.get('Error') or done.stderr.strip()}",
            hint="check that the Go module proxy is reachable",
        )
    return info


def _module_root() -> Path:
    from hello_platform.toolchain import pins

    tool = pins.load().tools["argocd"]
    return module_dir(tool.module, tool.module_version)


def upstream_install() -> str:
    return upstream_core_install() + "\n---\n" + upstream_notifications(_module_root())


def _check_sha256(where: Path, data: bytes, pinned: str, name: str) -> None:
    digest = hashlib.sha256(data).hexdigest()
    if digest != pinned:
        raise PlatformError(
            f"{where} has sha256 {digest}, not the pinned {pinned}",
            hint=f"a new Argo CD pin needs {name} in gitops/manifests.py updated",
        )


def upstream_core_install() -> str:
    path = _module_root() / "manifests" / "core-install.yaml"
    data = path.read_bytes()
    _check_sha256(path, data, CORE_INSTALL_SHA256, "CORE_INSTALL_SHA256")
    return data.decode()


def upstream_notifications(module_root: Path) -> str:
    base = module_root / NOTIFICATIONS_BASE
    listed = yaml.safe_load((base / "kustomization.yaml").read_text())["resources"]
    data = b"".join((base / name).read_bytes() for name in ["kustomization.yaml", *listed])
    _check_sha256(base, data, NOTIFICATIONS_SHA256, "NOTIFICATIONS_SHA256")
    return "\n---\n".join((base / name).read_text() for name in listed)


def notifications_config() -> dict[str, str]:
    doc = yaml.safe_load(NOTIFICATIONS_CONFIG.read_text())
    return {str(k): str(v) for k, v in (doc.get("data") or {}).items()}


def _containers(doc: Mapping[str, Any]) -> Iterable[dict[str, Any]]:
    spec = doc.get("spec", {}).get("template", {}).get("spec", {})
    yield from spec.get("initContainers", []) or []
    yield from spec.get("containers", []) or []


def namespace_doc(name: str) -> dict[str, Any]:
    labels = {f"pod-security.kubernetes.io/{m}": "restricted" for m in ("enforce", "warn")}
    labels["pod-security.kubernetes.io/enforce-version"] = "latest"
    return {"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name, "labels": labels}}


def render(upstream: str, images: Mapping[str, str] | None) -> list[dict[str, Any]]:
    """The install's documents with ``images`` (``argocd``, ``redis``); None: upstream's."""
    out: list[dict[str, Any]] = [namespace_doc(NAMESPACE)]
    for raw in yaml.safe_load_all(upstream):
        if not raw:
            continue
        doc = copy.deepcopy(raw)
        name = doc.get("metadata", {}).get("name", "")
        if doc.get("kind") == "Secret" and name == NOTIFICATIONS_SECRET:
            continue
        if doc.get("kind") == "ConfigMap" and name == NOTIFICATIONS_CONFIGMAP:
            doc["data"] = notifications_config()
        if doc.get("kind") != "CustomResourceDefinition" and name in DROPPED:
            continue
        if doc.get("kind") not in CLUSTER_KINDS:
            doc["metadata"]["namespace"] = NAMESPACE
        if doc.get("kind") == "ConfigMap" and name in CONFIG:
            doc["data"] = {**(doc.get("data") or {}), **CONFIG[name]}
        if doc.get("kind") in ("Deployment", "StatefulSet"):
            _patch_workload(doc, images)
        out.append(doc)
    # Env vars come from these ConfigMaps at start: a change must roll the pods.
    config = [
        d.get("data") for d in out if d["kind"] == "ConfigMap" and d["metadata"]["name"] in CONFIG
    ]
    digest = hashlib.sha256(json.dumps(config, sort_keys=True).encode()).hexdigest()[:16]
    for doc in out:
        if doc["kind"] in ("Deployment", "StatefulSet"):
            meta = doc["spec"]["template"].setdefault("metadata", {})
            meta.setdefault("annotations", {})[CONFIG_ANNOTATION] = digest
    _same_version(out)
    return out


def _same_version(docs: list[dict[str, Any]]) -> None:
    """Upstream's bases name ``argocd:latest``: run the core install's version instead."""
    pinned = {
        str(c["image"])
        for d in docs
        for c in _containers(d)
        if str(c.get("image", "")).startswith(UPSTREAM_IMAGES[0] + ":v")
    }
    for doc in docs:
        for c in _containers(doc):
            if pinned and c.get("image") == UPSTREAM_IMAGES[0] + ":latest":
                c["image"] = min(pinned)


def _patch_workload(doc: dict[str, Any], images: Mapping[str, str] | None) -> None:
    pod = doc["spec"]["template"]["spec"]
    pod["initContainers"] = [
        c for c in pod.get("initContainers", []) or [] if c.get("name") != "copyutil"
    ] or None
    if pod["initContainers"] is None:
        del pod["initContainers"]
    for c in _containers(doc):
        if images is not None:
            _our_image(c, images)
        c["imagePullPolicy"] = "IfNotPresent"
        if c["name"] in REQUESTS:
            c["resources"] = {"requests": REQUESTS[c["name"]]}
        if c["name"] == "argocd-repo-server":
            env = [e for e in c.get("env", []) if e.get("name") != "ARGOCD_GPG_ENABLED"]
            c["env"] = [*env, {"name": "ARGOCD_GPG_ENABLED", "value": "false"}]


def _our_image(c: dict[str, Any], images: Mapping[str, str]) -> None:
    image = str(c.get("image", ""))
    if image.startswith(UPSTREAM_IMAGES[0]):
        c["image"] = images["argocd"]
    elif image.startswith(UPSTREAM_IMAGES[1]):
        c["image"] = images["redis"]
        c["args"] = ["--addr=:6379"]
    else:
        raise PlatformError(f"unexpected image {image} in the upstream core install")


def to_yaml(docs: Iterable[Mapping[str, Any]]) -> str:
    return "---\n".join(yaml.safe_dump(dict(d), sort_keys=False) for d in docs)
