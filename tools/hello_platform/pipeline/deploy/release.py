"""helm and the Kubernetes client on one cluster, and the Helm release: upgrade (rolled back on
failure), helm test, the pull Secret, the Service's node port."""

from __future__ import annotations

import base64
import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from lightkube.resources.core_v1 import Service

from hello_platform.clients import kube as client
from hello_platform.clients import oci, ocicreds
from hello_platform.clients.helm import Helm, helm_failure
from hello_platform.core import paths
from hello_platform.core.errors import PlatformError
from hello_platform.pipeline import helm
from hello_platform.pipeline.deploy.inputs import Image, Options
from hello_platform.pipeline.helm.chart import values_args
from hello_platform.pipeline.helm.names import test_pods


@dataclass
class Kube:
    """helm and the one Kubernetes client (``api``) pointed at one cluster (kubeconfig +
    optional context). ``kubectl`` is named only in the commands printed for people."""

    helm: Path
    kubectl: Path
    kubeconfig: Path
    context: str | None = None
    log: Path = field(default_factory=lambda: paths.out_dir() / "deploy" / "deploy.log")
    api: client.Kube = field(default=None)  # type: ignore[assignment]

    def __post_init__(self) -> None:
        if self.api is None:
            self.api = client.Kube(self.kubeconfig, self.context)

    @property
    def helm_client(self) -> Helm:
        return Helm(self.helm, self.kubeconfig, self.context, log=self.log)


def apply_pull_secret(
    api: client.Kube, namespace: str, name: str, address: str, credentials: oci.Credentials
) -> None:
    """The ``kubernetes.io/dockerconfigjson`` Secret the pods pull ``address``'s images with
    (server-side apply: a new password replaces the old one)."""
    config = ocicreds.docker_config_json(address, credentials)
    api.apply(
        {
            "apiVersion": "v1",
            "kind": "Secret",
            "metadata": {"name": name, "namespace": namespace},
            "type": "kubernetes.io/dockerconfigjson",
            "data": {".dockerconfigjson": base64.b64encode(config.encode()).decode()},
        },
        namespace=namespace,
    )


def release_status(kube: Kube, release: str, namespace: str) -> dict[str, Any] | None:
    """``helm status -o json`` of the release, or None when it does not exist."""
    status_args = ["status", release, "--namespace", namespace, "--output", "json"]
    done = kube.helm_client.run(*status_args, what="helm status", check=False)
    if done.returncode != 0:
        return None
    try:
        status: dict[str, Any] = json.loads(done.stdout)
    except ValueError:
        return None
    return status


def image_values(image: Image) -> dict[str, Any]:
    return {
        "image": {
            "repository": "/".join(p for p in (image.registry, image.repository) if p),
            "tag": image.tag,
            "digest": image.digest or "",
        }
    }


def upgrade(
    kube: Kube, opts: Options, values_files: Sequence[Path], *, flag: str
) -> dict[str, Any]:
    """``helm upgrade --install --wait`` + rollback on failure; returns the new status."""
    before = release_status(kube, opts.release, opts.namespace)
    release = ["upgrade", "--install", opts.release, str(opts.service.chart)]
    values = ["--namespace", opts.namespace, *values_args(values_files, opts.sets)]
    wait = ["--wait", flag, "--timeout", f"{opts.timeout}s", "--history-max", "10"]
    done = kube.helm_client.run(
        *release,
        *values,
        *wait,
        what="helm upgrade",
        timeout=opts.timeout * 2 + 60,
        check=False,
    )
    if done.returncode == 0:
        after = release_status(kube, opts.release, opts.namespace)
        if after is None:
            raise PlatformError(
                "helm upgrade succeeded but the release has no status", log=str(kube.log)
            )
        return after
    why = helm_failure(done.stdout, done.stderr)
    raise upgrade_failure(kube, opts, why, before=before)


def upgrade_failure(
    kube: Kube, opts: Options, why: str, *, before: dict[str, Any] | None
) -> PlatformError:
    """The one sentence for a failed upgrade: removed, rolled back, or stuck at a revision."""
    after = release_status(kube, opts.release, opts.namespace)
    on = f"pods -l {helm.instance_selector(opts.release)}"
    pods = f"kubectl -n {opts.namespace} get {on}; kubectl -n {opts.namespace} describe {on}"
    history = f"helm history {opts.release} -n {opts.namespace}"
    if before is None:
        message = f"the first install failed ({why}) and was removed"
        hint = f"see why the pods did not become Ready: {pods}"
    elif after is None:
        message = (
            f"the upgrade failed ({why}), and the release's state could not be read afterwards"
        )
        hint = f"check that the cluster is reachable, then: {history}"
    elif after["info"]["status"] == "deployed" and after["version"] > before["version"]:
        message = (
            f"the release failed ({why}) and was rolled back: revision {after['version']} "
            f"({after['info']['status']}) keeps serving"
        )
        hint = f"see why the new pods did not become Ready: {pods}"
    else:
        message = (
            f"the upgrade failed ({why}); the release is at revision {after['version']} "
            f"({after['info']['status']})"
        )
        hint = f"{history}; {pods}"
    return PlatformError(message, hint=hint, log=str(kube.log))


def run_tests(kube: Kube, opts: Options) -> None:
    """``helm test``; a failed test pod is kept and its log shown. No ``--logs``: the pod is
    deleted once it succeeds, and helm then fails to fetch them."""
    test = ["test", opts.release, "--namespace", opts.namespace, "--timeout", "120s"]
    done = kube.helm_client.run(*test, what="helm test", timeout=300, check=False)
    if done.returncode != 0:
        pods = test_pods(release_objects(kube, opts, "hooks"))
        logs = [_pod_log(kube, opts, pod) for pod in pods]
        shown = " | ".join(line for log in logs for line in log.splitlines())
        raise PlatformError(
            f"helm test failed: {helm_failure(done.stdout, done.stderr)}"
            + (f" (test pod log: {shown})" if shown else ""),
            hint=f"kubectl -n {opts.namespace} logs {' '.join(pods) or 'POD'} "
            "(a failed test pod is kept)",
            log=str(kube.log),
        )


def _pod_log(kube: Kube, opts: Options, pod: str) -> str:
    try:
        return kube.api.logs(pod, namespace=opts.namespace, tail=5).strip()
    except PlatformError:
        return ""


def release_objects(kube: Kube, opts: Options, part: str = "manifest") -> list[dict[str, Any]]:
    """The objects the release installed (``helm get manifest``) or its hooks (``hooks``)."""
    done = kube.helm_client.run(
        "get", part, opts.release, "--namespace", opts.namespace, what=f"helm get {part}"
    )
    return helm.documents(done.stdout)


def rollback(kube: Kube, opts: Options, revision: int) -> str:
    """``helm rollback`` to the revision before ``revision``; what now serves, in words."""
    if revision <= 1:
        return "nothing: it was the first revision, which stays installed"
    back = ["rollback", opts.release, str(revision - 1), "--namespace", opts.namespace]
    wait = ["--wait", "--timeout", f"{opts.timeout}s"]
    kube.helm_client.run(*back, *wait, what="helm rollback", timeout=opts.timeout + 60)
    return f"revision {revision - 1}"


def rollouts(kube: Kube, opts: Options) -> list[str]:
    """The release's Argo Rollouts (a canary or blue/green strategy), as installed."""
    return helm.named(release_objects(kube, opts), "Rollout")


def node_port(kube: Kube, opts: Options, service: str) -> int | None:
    """The node port of the release's Service ``service``, or None when it has none."""
    svc = kube.api.get(Service, service, namespace=opts.namespace)
    if svc is None:
        raise PlatformError(f"the release has no Service {service}")
    if svc["spec"].get("type") not in ("NodePort", "LoadBalancer"):
        return None
    port = svc["spec"]["ports"][0].get("nodePort")
    return int(port) if port else None
