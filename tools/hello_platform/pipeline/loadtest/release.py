"""The release under load (its HPA, pods and URL, found by its instance label), deployed
first when it is missing."""

from __future__ import annotations

import urllib.error
import urllib.request
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from hello_platform.core.errors import PlatformError
from hello_platform.core.net import is_loopback
from hello_platform.core.progress import say
from hello_platform.core.wait import Check, until
from hello_platform.pipeline import helm
from hello_platform.pipeline.loadtest.kube import (
    HpaStatus,
    KubeReader,
    node_port_url,
    selector_string,
)
from hello_platform.pipeline.loadtest.options import REQUESTS_NODE_PORT, Options


@dataclass(frozen=True)
class Target:
    hpa: HpaStatus
    service: str
    selector: str
    url: str


class NotDeployedError(PlatformError):
    """The release's HPA is not in the cluster."""


def _one(objects: list[dict[str, Any]], kind: str, opts: Options) -> dict[str, Any]:
    if len(objects) != 1:
        raise NotDeployedError(
            f"release '{opts.release}' has {len(objects)} {kind}s in namespace "
            f"'{opts.namespace}', not one",
            hint="deploy first with nox -s deploy, or pass --namespace/--release/--mode",
        )
    return objects[0]


def hpa_name(kube: KubeReader, opts: Options) -> str:
    """The chart's HPA, or the one KEDA made for the release's ScaledObject."""
    if opts.mode != "requests":
        hpas = kube.labelled("autoscaling/v2", "HorizontalPodAutoscaler", opts.release)
        return str(_one(hpas, "HorizontalPodAutoscaler", opts)["metadata"]["name"])
    scaled = _one(kube.labelled(SCALED_OBJECT, "ScaledObject", opts.release), "ScaledObject", opts)
    name = (scaled.get("status") or {}).get("hpaName")
    if not name:
        raise NotDeployedError(
            f"KEDA has not made the HPA of ScaledObject '{scaled['metadata']['name']}' yet",
            hint="is KEDA running? (nox -s monitoring -- status)",
        )
    return str(name)


SCALED_OBJECT = "keda.sh/v1alpha1"


def find_target(kube: KubeReader, opts: Options) -> Target:
    try:
        hpa = kube.hpa(hpa_name(kube, opts))
    except NotDeployedError:
        raise
    except PlatformError as err:  # the named HPA is gone, or cannot be read
        raise NotDeployedError(
            f"the HPA of release '{opts.release}' in namespace '{opts.namespace}' cannot be "
            f"read ({err.message})",
            hint="deploy first with nox -s deploy, or pass --namespace/--release/--mode",
        ) from err
    name = helm.front_service(kube.labelled("v1", "Service", opts.release), opts.release)
    workload = kube.object(hpa.target_api_version, hpa.target_kind, hpa.target_name)
    labels = ((workload.get("spec") or {}).get("selector") or {}).get("matchLabels") or {}
    if not labels:
        raise PlatformError(f"{hpa.target_kind} '{hpa.target_name}' has no matchLabels selector")
    url = validate_url(opts.url or node_port_url(kube.object("v1", "Service", name), "http"))
    return Target(hpa=hpa, service=name, selector=selector_string(labels), url=url)


def ensure_deployed(kube: KubeReader, opts: Options, *, may_deploy: bool) -> Target:
    """The target; on the embedded cluster, deploy the service first if it is not there."""
    try:
        return find_target(kube, opts)
    except NotDeployedError:
        if not may_deploy:
            raise
    from hello_platform.pipeline import deploy

    say(f"release '{opts.release}' is not deployed; deploying it first (as nox -s deploy does)")
    deploy.deploy(
        deploy.Options(
            service=opts.service,
            namespace=opts.namespace,
            release=opts.release,
            run_tests=False,
            sets=deploy_sets(opts),
        )
    )
    if opts.mode == "requests":
        wait_until(
            lambda: _has_hpa(kube, opts),
            timeout_s=60,
            report_line=lambda: "waiting for KEDA to create the HPA of the ScaledObject",
        )
    return find_target(kube, opts)


#: How long a fresh release may take to appear in Prometheus: its pods are found through
#: DNS SRV records, and CoreDNS caches the "no such name" from before the release for 30 s.
SCRAPE_WAIT_S = 150.0


def wait_scraped(opts: Options, target: Target, *, timeout_s: float = SCRAPE_WAIT_S) -> None:
    """Wait until Prometheus scrapes the release: without its metric KEDA sees 0 rps."""
    from hello_platform.pipeline.monitoring import prometheus

    up = f'count(up{{namespace="{opts.namespace}",service="{target.service}"}} == 1)'

    def scraped() -> bool:
        try:
            return (prometheus.scalar(up) or 0) >= 1
        except PlatformError:
            return False

    if not wait_until(
        scraped,
        timeout_s=timeout_s,
        report_line=lambda: f"waiting for Prometheus to scrape {opts.namespace}/{opts.release}",
        poll_s=2.0,
    ):
        raise PlatformError(
            f"Prometheus does not scrape release '{opts.release}' in '{opts.namespace}' after "
            f"{timeout_s:.0f}s",
            hint="is metrics.podsService on, and the namespace in "
            "prometheus.releases() (nox -s monitoring -- status)?",
        )


def deploy_sets(opts: Options) -> tuple[str, ...]:
    if opts.mode != "requests":
        return ()
    return ("autoscaling.mode=requests", f"service.nodePort={REQUESTS_NODE_PORT}")


def _has_hpa(kube: KubeReader, opts: Options) -> bool:
    try:
        kube.hpa(hpa_name(kube, opts))
    except PlatformError:
        return False
    return True


def wait_until(
    done: Callable[[], bool],
    *,
    timeout_s: float,
    every_s: float = 10.0,
    report_line: Callable[[], str],
    poll_s: float = 1.0,
) -> bool:
    """Poll ``done`` until true or ``timeout_s``, printing ``report_line()`` every ``every_s``."""
    try:
        until(
            done,
            what="not done",
            timeout=timeout_s,
            interval=poll_s,
            progress=lambda _s, _d: say(report_line()),
            first_note=every_s,
            every=every_s,
        )
    except PlatformError:
        return False
    return True


def validate_url(url: str) -> str:
    """``url`` without a trailing slash, if it is http(s) on a loopback address (a name other
    than ``localhost`` could resolve anywhere)."""
    parts = urlsplit(url.strip())
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise PlatformError(
            f"--url {url!r} is not an http(s) URL", hint="use e.g. --url http://127.0.0.1:30080"
        )
    host = parts.hostname
    if not is_loopback(host):
        raise PlatformError(
            f"refusing to send load to {host}: the load test only targets loopback "
            "(127.0.0.0/8, ::1 or localhost)",
            hint="use the NodePort on 127.0.0.1 or a kubectl port-forward",
        )
    try:
        _ = parts.port
    except ValueError as exc:
        raise PlatformError(f"--url {url!r} has an invalid port") from exc
    if parts.path not in ("", "/") or parts.query or parts.fragment:
        raise PlatformError(f"--url {url!r} must be the service's root (scheme://host:port)")
    return f"{parts.scheme}://{parts.netloc}"


def wait_ready(url: str, *, timeout_s: float = 60.0, path: str = "/readyz") -> None:
    def answers() -> Check:
        try:
            with urllib.request.urlopen(url + path, timeout=3) as response:  # noqa: S310
                return Check(response.status == 200, f"status {response.status}")
        except urllib.error.HTTPError as err:
            return Check(False, f"status {err.code}")
        except (urllib.error.URLError, OSError) as err:
            return Check(False, str(getattr(err, "reason", err)))

    until(
        answers,
        what=f"the service at {url} is not ready",
        timeout=timeout_s,
        interval=2,
        hint="check the deploy (nox -s deploy) or the --url",
    )
