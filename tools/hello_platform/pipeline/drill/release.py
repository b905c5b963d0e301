"""The drill release (``<release>-drill``: 2 replicas, no HPA, own node port), how to reach it."""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Any

from lightkube.resources.core_v1 import Pod

from hello_platform.core import paths
from hello_platform.core.catalogue import Service
from hello_platform.core.errors import PlatformError
from hello_platform.core.wait import Check, until
from hello_platform.pipeline import deploy, helm
from hello_platform.pipeline.drill.load import DEFAULT_RPS

#: The drill release (the service's namespace and release + SUFFIX): 2 replicas, no HPA.
SUFFIX = "-drill"
NODE_PORT = 30083
REPLICAS = 2


def base_sets(node_port: int, replicas: int) -> tuple[str, ...]:
    """A release of ``replicas`` pods on ``node_port``, no autoscaler."""
    return (
        f"service.nodePort={node_port}",
        "autoscaling.enabled=false",
        f"replicaCount={replicas}",
    )


BASE_SETS = base_sets(NODE_PORT, REPLICAS)


@dataclass
class Env:
    kube: deploy.Kube
    opts: deploy.Options
    url: str
    rps: float = DEFAULT_RPS

    @property
    def files(self) -> list[Path]:
        """The values files ``deploy`` gave the release: its profile's, then the image's."""
        image = paths.out_dir() / "deploy" / "image-values.json"
        return [*helm.profile_files(self.opts.service, self.opts.profile), image]

    def options(self, *sets: str, timeout: int = 120) -> deploy.Options:
        """The release's options with ``sets`` on top (helm resets what is not given)."""
        sets = (*self.opts.sets, *sets)
        return dataclasses.replace(self.opts, sets=sets, timeout=timeout, run_tests=False)

    def upgrade(self, *sets: str, timeout: int = 120) -> dict[str, Any]:
        opts = self.options(*sets, timeout=timeout)
        return deploy.upgrade(
            self.kube, opts, self.files, flag=self.kube.helm_client.rollback_flag()
        )

    def status(self) -> dict[str, Any]:
        status = deploy.release_status(self.kube, self.opts.release, self.opts.namespace)
        if status is None:
            raise PlatformError(f"release {self.opts.release} has no status")
        return status

    @cached_property
    def deployment(self) -> str:
        names = helm.named(deploy.release_objects(self.kube, self.opts), "Deployment")
        if len(names) != 1:
            raise PlatformError(f"release {self.opts.release} has {len(names)} Deployments")
        return names[0]

    def pods(self) -> list[dict[str, Any]]:
        selector = helm.instance_selector(self.opts.release)
        return self.kube.api.find(Pod, namespace=self.opts.namespace, labels=selector)

    def settled(self, since: dt.datetime | None = None) -> bool:
        """Rolled out with every replica Ready (since ``since``) and no other pod left."""
        from hello_platform.substrate.cluster import health
        from hello_platform.substrate.cluster.layout import Layout

        name = self.deployment
        if not health.deployment(Layout.default(), self.opts.namespace, name, since).ok:
            return False
        try:
            return len(self.pods()) == REPLICAS
        except PlatformError:
            return False


def deploy_env(
    service: Service, rps: float, sets: tuple[str, ...], *, namespace: str, release: str, what: str
) -> Env:
    """Deploy ``release`` of ``service`` in ``namespace`` with ``sets``: the ``what`` release."""
    opts = deploy.Options(
        service=service,
        profile="local",
        sets=sets,
        namespace=namespace,
        release=release,
        timeout=300,
        run_tests=False,
    )
    result = deploy.deploy(opts)
    if not result.url:
        raise PlatformError(f"the {what} release has no node port on 127.0.0.1")
    return Env(deploy.Kube(result.helm, result.kubectl, result.kubeconfig), opts, result.url, rps)


def setup(service: Service, rps: float = DEFAULT_RPS) -> Env:
    namespace, release = service.namespace + SUFFIX, service.release + SUFFIX
    env = deploy_env(service, rps, BASE_SETS, namespace=namespace, release=release, what="drill")
    wait_until(env.settled, timeout=120, what="the drill release to settle")
    return env


def wait_until(check: Callable[[], bool], *, timeout: float, what: str) -> float:
    """Poll ``check`` until true; a look that fails (API server restarting) counts as not yet."""

    def look() -> Check:
        try:
            return Check(bool(check()))
        except (OSError, ValueError, PlatformError) as err:
            return Check(False, str(err))

    return until(look, what=f"timed out waiting for {what}", timeout=timeout, interval=0.5)
