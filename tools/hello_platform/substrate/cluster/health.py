"""Health probes: HTTP(S) endpoints, the containerd socket, and API objects."""

from __future__ import annotations

import datetime as dt
import functools
import json
import socket
import ssl
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable
from pathlib import Path
from typing import Any

from lightkube.resources.apps_v1 import Deployment
from lightkube.resources.core_v1 import Node, Pod

from hello_platform.clients.kube import Kube
from hello_platform.core.errors import PlatformError
from hello_platform.core.wait import Check
from hello_platform.substrate.cluster import layout
from hello_platform.substrate.cluster.layout import Layout

#: A probe's result: healthy or not, and what was seen (what core.wait.until polls).
Health = Check


def _insecure() -> ssl.SSLContext:
    # Components' own self-signed serving certs on 127.0.0.1 (controller-manager, scheduler).
    ctx = ssl.create_default_context()
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE
    return ctx


def is_local_address(ip: str) -> bool:
    """True if ``ip`` belongs to this host (binding to it works)."""
    family = socket.AF_INET6 if ":" in ip else socket.AF_INET
    with socket.socket(family, socket.SOCK_DGRAM) as sock:
        try:
            sock.bind((ip, 0))
        except OSError:
            return False
    return True


def http(url: str, *, context: ssl.SSLContext | None = None, timeout: float = 1.0) -> Health:
    """GET ``url``: healthy on 200. Only this host's addresses are probed: without the
    bridge, the node IP would route off the machine."""
    host = urllib.parse.urlsplit(url).hostname or ""
    if not is_local_address(host):
        return Health(False, f"{host} is not up on this host")
    if context is None and url.startswith("https:"):
        context = _insecure()
    try:
        with urllib.request.urlopen(url, timeout=timeout, context=context) as resp:  # noqa: S310
            body = resp.read(200).decode(errors="replace").strip()
            return Health(resp.status == 200, body or f"HTTP {resp.status}")
    except urllib.error.HTTPError as err:
        return Health(False, f"HTTP {err.code}")
    except (OSError, urllib.error.URLError) as err:
        reason = getattr(err, "reason", err)
        return Health(False, f"no answer ({reason})")


def etcd(lay: Layout) -> Health:
    h = http(f"http://127.0.0.1:{layout.ETCD_METRICS_PORT}/health")
    if h.ok:
        try:
            healthy = json.loads(h.detail).get("health") == "true"
        except ValueError:
            healthy = False
        return Health(healthy, "healthy" if healthy else h.detail)
    return h


def api_readyz(lay: Layout, host: str) -> Health:
    if not lay.cert("ca").exists():
        return Health(False, "no certificates yet")
    ctx = ssl.create_default_context(cafile=str(lay.cert("ca")))
    return http(f"https://{host}:{layout.API_PORT}/readyz", context=ctx)


def healthz(url: str) -> Callable[[Layout], Health]:
    """A component's probe of its ``/healthz`` (its body is "ok" when healthy)."""

    def probe(lay: Layout) -> Health:
        h = http(url)
        return Health(h.ok, "ok" if h.ok else h.detail)

    return probe


apiserver = functools.partial(api_readyz, host=layout.NODE_IP)
apiserver_loopback = functools.partial(api_readyz, host="127.0.0.1")
controller_manager = healthz(f"https://127.0.0.1:{layout.CONTROLLER_MANAGER_PORT}/healthz")
scheduler = healthz(f"https://127.0.0.1:{layout.SCHEDULER_PORT}/healthz")
kubelet = healthz(f"http://127.0.0.1:{layout.KUBELET_HEALTHZ_PORT}/healthz")
kube_proxy = healthz(f"http://127.0.0.1:{layout.KUBE_PROXY_HEALTHZ_PORT}/healthz")


def unix_socket(path: Path) -> Health:
    if not path.exists():
        return Health(False, f"no socket at {path}")
    with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as sock:
        sock.settimeout(1.0)
        try:
            sock.connect(str(path))
        except OSError as err:
            return Health(False, f"socket does not answer ({err})")
    return Health(True, "socket answers")


def containerd(lay: Layout) -> Health:
    return unix_socket(lay.containerd_socket)


def admin(lay: Layout) -> Kube:
    """The cluster as its admin; a PlatformError when the node IP is not up on this host."""
    if not is_local_address(layout.NODE_IP):
        raise PlatformError(f"the node address {layout.NODE_IP} is not up on this host")
    return Kube(lay.admin_kubeconfig, timeout=3.0)


def node_ready(node: dict[str, Any], since: dt.datetime | None = None) -> Health:
    """A Node's Ready condition; with ``since``, only a heartbeat since then counts (etcd
    keeps the Ready of before a restart)."""
    for cond in node.get("status", {}).get("conditions", []):
        if cond.get("type") == "Ready":
            ok = cond.get("status") == "True"
            if ok and since is not None:
                beat = _time(cond.get("lastHeartbeatTime"))
                if beat < since.replace(microsecond=0):
                    return Health(False, "Ready (not yet confirmed by the kubelet)")
            return Health(ok, "Ready" if ok else f"NotReady: {cond.get('message', '')}".strip())
    return Health(False, "no Ready condition yet")


def deployment_ready(dep: dict[str, Any]) -> Health:
    want = dep.get("spec", {}).get("replicas", 1)
    status = dep.get("status", {})
    ready = status.get("readyReplicas", 0)
    ok = ready >= want and status.get("updatedReplicas", 0) >= want
    return Health(ok, f"{ready}/{want} ready")


def _time(text: str | None) -> dt.datetime:
    return dt.datetime.fromisoformat(text or "1970-01-01T00:00:00Z")


def pods_ready(pods: list[dict[str, Any]], want: int, since: dt.datetime | None) -> Health:
    """``want`` pods Ready (with ``since``: Ready again since then)."""
    fresh = 0
    for pod in pods:
        if pod.get("metadata", {}).get("deletionTimestamp"):
            continue
        for cond in pod.get("status", {}).get("conditions", []):
            if cond.get("type") != "Ready" or cond.get("status") != "True":
                continue
            if since is None or _time(cond.get("lastTransitionTime")) >= since.replace(
                microsecond=0
            ):
                fresh += 1
    return Health(fresh >= want, f"{fresh}/{want} ready")


def node(lay: Layout, since: dt.datetime | None = None) -> Health:
    try:
        found = admin(lay).get(Node, layout.NODE_NAME)
    except PlatformError as err:
        return Health(False, f"API not reachable ({err.message})")
    return Health(False, "not registered yet") if found is None else node_ready(found, since)


def deployment(lay: Layout, namespace: str, name: str, since: dt.datetime | None = None) -> Health:
    try:
        kube = admin(lay)
        dep = kube.get(Deployment, name, namespace=namespace)
        if dep is None:
            return Health(False, "not deployed")
        rollout = deployment_ready(dep)
        if since is None or not rollout.ok:
            return rollout
        labels = dep["spec"]["selector"].get("matchLabels", {})
        pods = kube.find(Pod, namespace=namespace, labels=labels)
    except PlatformError as err:
        return Health(False, f"API not reachable ({err.message})")
    return pods_ready(pods, dep["spec"].get("replicas", 1), since)
