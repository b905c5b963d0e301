"""KEDA in namespace ``keda``: its ``config/minimal`` from the pinned module, kustomized to
our images, with certificates of its own CA instead of KEDA's self-signed rotation."""

from __future__ import annotations

import base64
import json
import subprocess
from pathlib import Path

from hello_platform.core.errors import PlatformError
from hello_platform.core.paths import state_dir
from hello_platform.core.proc import last_line
from hello_platform.substrate.addons import Condition, Declared, Refs, Workload, register
from hello_platform.substrate.addons.kustomize import kustomize
from hello_platform.substrate.cluster import binaries, images, layout, pki
from hello_platform.toolchain import pins

NAMESPACE = "keda"
#: The Secret KEDA mounts at /certs (its name in config/, not a credential).
CERTS_NAME = "kedaorg-certs"
OPERATOR = images.ImageSpec(
    "keda-operator", lambda: binaries.tool("keda-operator"), ("/keda-operator",)
)
ADAPTER = images.ImageSpec(
    "keda-adapter", lambda: binaries.tool("keda-adapter"), ("/keda-adapter",)
)
UPSTREAM_IMAGES = {
    "ghcr.io/kedacore/keda": OPERATOR,
    "ghcr.io/kedacore/keda-metrics-apiserver": ADAPTER,
}
SMALL = {"requests": {"cpu": "20m", "memory": "64Mi"}, "limits": {"cpu": "1", "memory": "512Mi"}}


def work_dir() -> Path:
    return state_dir() / "keda"


def certificates(pki_dir: Path) -> dict[str, bytes]:
    """ca.crt, tls.crt, tls.key for the Secret KEDA mounts at /certs."""
    names: list[str] = []
    for svc in ("keda-operator", "keda-metrics-apiserver"):
        names += [svc, f"{svc}.{NAMESPACE}", f"{svc}.{NAMESPACE}.svc"]
        names.append(f"{svc}.{NAMESPACE}.svc.{layout.CLUSTER_DOMAIN}")
    leaf = pki.Leaf("keda", "keda-operator", dns=tuple(names), usages=pki.BOTH)
    pki.ensure_pki(pki_dir, [leaf])
    files = {"ca.crt": "ca.crt", "tls.crt": "keda.crt", "tls.key": "keda.key"}
    return {key: (pki_dir / name).read_bytes() for key, name in files.items()}


def module_config_dir(version: str) -> Path:
    """KEDA's ``config/`` tree in the Go module cache."""
    from hello_platform.toolchain.gobuild import find_go, go_env

    mod = f"github.com/kedacore/keda/v2@{version}"
    done = subprocess.run(
        [find_go() or "go", "mod", "download", "-json", mod],
        capture_output=True,
        text=True,
        check=False,
        env=go_env(),
        timeout=600,
    )
    try:
        info = json.loads(done.stdout)
    except ValueError:
        info = {}
    config = Path(info.get("Dir", "")) / "config"
    if done.returncode != 0 or not config.is_dir():
        raise PlatformError(
            f"go mod download {mod} failed: {info.get('Error') or last_line(done.stderr)}",
            hint="check that the Go module proxy is reachable",
        )
    return config


def _deployment_patch(name: str, **container: object) -> dict[str, object]:
    """A strategic-merge patch of KEDA's Deployment ``name``'s container of that name."""
    spec = {"name": name, "imagePullPolicy": "IfNotPresent", "resources": SMALL, **container}
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": name, "namespace": NAMESPACE},
        "spec": {"template": {"spec": {"containers": [spec]}}},
    }


def overlay(refs: Refs, ca_bundle: bytes, version: str) -> dict[str, object]:
    """The kustomization over ``config/minimal``; the version label replaces config/'s "main"."""
    image_entries = []
    for upstream, spec in UPSTREAM_IMAGES.items():
        name_tag, digest = refs[spec.name].split("@", 1)
        image_entries.append(
            {"name": upstream, "newName": name_tag.rsplit(":", 1)[0], "digest": digest}
        )
    operator = _deployment_patch(
        "keda-operator",
        command=["/keda-operator"],
        args=[
            "--leader-elect",
            "--zap-log-level=info",
            "--zap-encoder=console",
            "--zap-time-encoding=rfc3339",
            "--enable-cert-rotation=false",
        ],
    )
    adapter = _deployment_patch("keda-metrics-apiserver")
    namespace = {
        "apiVersion": "v1",
        "kind": "Namespace",
        "metadata": {
            "name": NAMESPACE,
            "labels": {
                "pod-security.kubernetes.io/enforce": "restricted",
                "pod-security.kubernetes.io/enforce-version": "latest",
                "app.kubernetes.io/managed-by": "hello-platform",
            },
        },
    }
    api_service = {
        "apiVersion": "apiregistration.k8s.io/v1",
        "kind": "APIService",
        "metadata": {"name": "v1beta1.external.metrics.k8s.io"},
        "spec": {"caBundle": base64.b64encode(ca_bundle).decode()},
    }
    return {
        "apiVersion": "kustomize.config.k8s.io/v1beta1",
        "kind": "Kustomization",
        "resources": ["../config/minimal"],
        "labels": [
            {
                "pairs": {"app.kubernetes.io/version": version.removeprefix("v")},
                "includeSelectors": False,
            }
        ],
        "images": image_entries,
        "patches": [
            {"patch": json.dumps(doc)} for doc in (operator, adapter, namespace, api_service)
        ],
    }


def secret(certs: dict[str, bytes]) -> dict[str, object]:
    return {
        "apiVersion": "v1",
        "kind": "Secret",
        "metadata": {
            "name": CERTS_NAME,
            "namespace": NAMESPACE,
            "labels": {"app.kubernetes.io/managed-by": "hello-platform"},
        },
        "type": "kubernetes.io/tls",
        "data": {k: base64.b64encode(v).decode() for k, v in sorted(certs.items())},
    }


def render(version: str, refs: Refs, work: Path | None = None) -> str:
    work = work or work_dir()
    certs = certificates(work / "pki")
    files = {"kustomization.yaml": overlay(refs, certs["ca.crt"], version)}
    rendered = kustomize(work, module_config_dir(version), files, what="KEDA's config")
    return rendered.rstrip() + "\n---\n" + json.dumps(secret(certs)) + "\n"


ADDON = register(
    Declared(
        name="keda",
        namespace=NAMESPACE,
        pins=("keda",),
        images=(OPERATOR, ADAPTER),
        render=lambda refs: render(pins.load().tools["keda"].version, refs),
        workloads=(
            Workload("Deployment", "keda-operator"),
            Workload("Deployment", "keda-metrics-apiserver"),
        ),
        conditions=(
            Condition(
                "apiregistration.k8s.io/v1",
                "APIService",
                "v1beta1.external.metrics.k8s.io",
                "Available",
            ),
        ),
        timeout=300,
    )
)
