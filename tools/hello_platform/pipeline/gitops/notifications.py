"""Argo CD's notifications controller, part of the local Argo CD install.

The controller is a name of the one Argo CD binary (``argocd-notifications``: the image
links it). Its manifests are upstream's ``manifests/base/notification`` of the pinned
module, read unmodified (the files its kustomization lists, checked against
:data:`SHA256`), with two changes:

* no ``argocd-notifications-secret``: it holds the chat's webhook URL, created by the
  operator (``kubectl create secret``), and an empty one applied here would clash with it;
* ``argocd-notifications-cm`` gets its data from ``deploy/argocd/notifications.yaml``: the
  Slack-compatible webhook service ``chat`` (URL: ``$webhook-url``, the Secret's key the
  release loop reads too) and the triggers and templates the Applications subscribe to.

:func:`..manifests.render` then treats these documents like the core install's (namespace,
our image by digest, small requests, restricted Pod Security).
"""

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
    """The base's files as one YAML stream, checked against :data:`SHA256`."""
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
    """``argocd-notifications-cm``'s data: the chat service, triggers and templates."""
    doc = yaml.safe_load(CONFIG.read_text())
    return {str(k): str(v) for k, v in (doc.get("data") or {}).items()}


def configure(doc: dict[str, Any]) -> dict[str, Any] | None:
    """One upstream document as installed here: the Secret left out (None), the
    ConfigMap filled in, the rest as is."""
    name = doc.get("metadata", {}).get("name")
    if doc.get("kind") == "Secret" and name == SECRET:
        return None
    if doc.get("kind") == "ConfigMap" and name == CONFIGMAP:
        doc["data"] = config()
    return doc
