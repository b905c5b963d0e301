"""Argo CD's notifications controller: upstream's sha256-checked ``base/notification``
without its Secret (the operator creates it with the webhook URL; an empty one would clash)
and with its ConfigMap's data from ``deploy/argocd/notifications.yaml``."""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

import yaml

from hello_platform.core.errors import PlatformError
from hello_platform.core.paths import REPO_ROOT

#: sha256 of the files manifests/base/notification/kustomization.yaml lists (in its order),
#: in github.com/argoproj/argo-cd/v3@v3.2.11.
SHA256 = "4f47624bcb2bb6da14fb1d50758fe52ca804c554945a7faa30ecfadd5a17d1ed"
BASE = Path("manifests") / "base" / "notification"
CONFIG = REPO_ROOT / "deploy" / "argocd" / "notifications.yaml"
CONFIGMAP = "argocd-notifications-cm"
SECRET = "argocd-notifications-secret"  # noqa: S105 - a name
CONTROLLER = "argocd-notifications-controller"


def upstream(module_root: Path) -> str:
    base = module_root / BASE
    listed = yaml.safe_load((base / "kustomization.yaml").read_text())["resources"]
    data = b"".join((base / name).read_bytes() for name in ["kustomization.yaml", *listed])
    digest = hashlib.sha256(data).hexdigest()
    if digest != SHA256:
        raise PlatformError(
            f"{base} has sha256 {digest}, not the pinned {SHA256}",
            hint="a new Argo CD pin needs SHA256 in gitops/notifications.py updated",
        )
    return "\n---\n".join((base / name).read_text() for name in listed)


def config() -> dict[str, str]:
    doc = yaml.safe_load(CONFIG.read_text())
    return {str(k): str(v) for k, v in (doc.get("data") or {}).items()}


def configure(doc: dict[str, Any]) -> dict[str, Any] | None:
    name = doc.get("metadata", {}).get("name")
    if doc.get("kind") == "Secret" and name == SECRET:
        return None
    if doc.get("kind") == "ConfigMap" and name == CONFIGMAP:
        doc["data"] = config()
    return doc
