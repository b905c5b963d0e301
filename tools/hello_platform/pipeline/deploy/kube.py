"""helm and the one Kubernetes client pointed at one cluster, and the cluster-side checks a
deploy makes."""

from __future__ import annotations

import base64
import json
import os
import subprocess
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from hello_platform.clients import kube as client
from hello_platform.clients import oci, ocicreds
from hello_platform.core import paths
from hello_platform.core.errors import PlatformError
from hello_platform.pipeline import helm


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

    def _run(
        self, argv: Sequence[str], *, what: str, timeout: float, stdin: str | None = None
    ) -> subprocess.CompletedProcess[str]:
        self.log.parent.mkdir(parents=True, exist_ok=True)
        env = {**os.environ, "KUBECONFIG": str(self.kubeconfig)}
        try:
            done = subprocess.run(
                list(argv),
                input=stdin,
                capture_output=True,
                text=True,
                env=env,
                timeout=timeout,
                check=False,
            )
        except subprocess.TimeoutExpired as exc:
            raise PlatformError(
                f"{what} did not finish within {timeout:.0f}s", log=str(self.log)
            ) from exc
        except FileNotFoundError as exc:
            raise PlatformError(
                f"{what} failed: '{argv[0]}' does not exist",
                hint="run 'nox -s tools' to provision the pinned tools",
            ) from exc
        with self.log.open("a") as fh:
            fh.write(f"$ {' '.join(argv)}\n{done.stdout}{done.stderr}(exit {done.returncode})\n")
        return done

    def helm_cmd(
        self, *args: str, what: str, timeout: float = 120, check: bool = True
    ) -> subprocess.CompletedProcess[str]:
        argv = [str(self.helm), *args, "--kubeconfig", str(self.kubeconfig)]
        if self.context:
            argv += ["--kube-context", self.context]
        done = self._run(argv, what=what, timeout=timeout)
        if check and done.returncode != 0:
            raise PlatformError(
                f"{what} failed: {helm.helm_failure(done.stdout, done.stderr)}", log=str(self.log)
            )
        return done


def rollback_flag(helm_bin: Path) -> str:
    """``--rollback-on-failure`` where helm has it (Helm 4), else ``--atomic`` (Helm 3)."""
    done = subprocess.run(
        [str(helm_bin), "upgrade", "--help"],
        capture_output=True,
        text=True,
        check=False,
        timeout=30,
    )
    return "--rollback-on-failure" if "--rollback-on-failure" in done.stdout else "--atomic"


def ensure_namespace(kube: Kube, namespace: str) -> None:
    """Create or update the namespace with the Pod Security ``restricted`` labels."""
    kube.api.ensure_namespace(namespace)


def apply_pull_secret(api: client.Kube, namespace: str, name: str, registry: oci.Registry) -> None:
    """The ``kubernetes.io/dockerconfigjson`` Secret the pods pull ``registry``'s images with
    (server-side apply: a new password replaces the old one)."""
    if registry.credentials is None:
        raise PlatformError(f"no login for {registry.address} to make the pull Secret {name} of")
    config = ocicreds.docker_config_json(registry.address, registry.credentials)
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
    done = kube.helm_cmd(
        "status",
        release,
        "--namespace",
        namespace,
        "--output",
        "json",
        what="helm status",
        check=False,
    )
    if done.returncode != 0:
        return None
    try:
        status: dict[str, Any] = json.loads(done.stdout)
    except ValueError:
        return None
    return status
