"""The component table (each daemon's name, argv builder, health check and stop policy),
and starting the daemons and waiting for them (again, if one exits while starting)."""

from __future__ import annotations

import functools
import os
import signal
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from hello_platform.core.errors import PlatformError
from hello_platform.core.proc import last_line
from hello_platform.core.progress import say
from hello_platform.core.wait import until
from hello_platform.substrate import process
from hello_platform.substrate.cluster import binaries, health, layout
from hello_platform.substrate.cluster.health import Health
from hello_platform.substrate.cluster.layout import Layout

Argv = list[str]


@dataclass(frozen=True)
class Component:
    name: str
    argv: Callable[[Layout], Argv]
    health: Callable[[Layout], Health]
    timeout: float = 60.0  # for ``up`` to see it healthy
    stop_timeout: float = 10.0  # for ``down``, after stop_signal
    stop_signal: signal.Signals = signal.SIGTERM
    start_retries: int = 0  # starts again when it exits while starting

    def pidfile(self, lay: Layout) -> Path:
        return lay.pids / f"{self.name}.pid"


def etcd_argv(lay: Layout) -> Argv:
    peer = f"http://127.0.0.1:{layout.ETCD_PEER_PORT}"
    client = f"https://127.0.0.1:{layout.ETCD_CLIENT_PORT}"
    return [
        str(binaries.tool("etcd")),
        "--name=hello",
        f"--data-dir={lay.etcd_data}",
        f"--listen-client-urls={client}",
        f"--advertise-client-urls={client}",
        f"--listen-peer-urls={peer}",
        f"--initial-advertise-peer-urls={peer}",
        f"--initial-cluster=hello={peer}",
        f"--listen-metrics-urls=http://127.0.0.1:{layout.ETCD_METRICS_PORT}",
        f"--cert-file={lay.cert('etcd-server')}",
        f"--key-file={lay.key('etcd-server')}",
        f"--trusted-ca-file={lay.cert('ca')}",
        "--client-cert-auth=true",
        "--snapshot-count=10000",
        "--quota-backend-bytes=2147483648",
        "--log-level=warn",
    ]


def apiserver_argv(lay: Layout) -> Argv:
    pki = lay.pki
    return [
        str(binaries.tool("kube-apiserver")),
        f"--advertise-address={layout.NODE_IP}",
        f"--bind-address={layout.NODE_IP}",
        f"--secure-port={layout.API_PORT}",
        f"--etcd-servers=https://127.0.0.1:{layout.ETCD_CLIENT_PORT}",
        f"--etcd-cafile={lay.cert('ca')}",
        f"--etcd-certfile={lay.cert('apiserver-etcd-client')}",
        f"--etcd-keyfile={lay.key('apiserver-etcd-client')}",
        f"--tls-cert-file={lay.cert('apiserver')}",
        f"--tls-private-key-file={lay.key('apiserver')}",
        f"--client-ca-file={lay.cert('ca')}",
        f"--authentication-config={lay.etc / 'authentication.json'}",
        f"--kubelet-client-certificate={lay.cert('apiserver-kubelet-client')}",
        f"--kubelet-client-key={lay.key('apiserver-kubelet-client')}",
        f"--kubelet-certificate-authority={lay.cert('ca')}",
        "--kubelet-preferred-address-types=InternalIP,Hostname",
        "--authorization-mode=Node,RBAC",
        "--enable-admission-plugins=NodeRestriction",
        "--allow-privileged=true",
        f"--service-cluster-ip-range={layout.SERVICE_CIDR}",
        "--service-node-port-range=30000-32767",
        f"--service-account-issuer=https://kubernetes.default.svc.{layout.CLUSTER_DOMAIN}",
        f"--service-account-key-file={pki / 'sa.pub'}",
        f"--service-account-signing-key-file={pki / 'sa.key'}",
        f"--requestheader-client-ca-file={lay.cert('front-proxy-ca')}",
        "--requestheader-allowed-names=front-proxy-client",
        "--requestheader-username-headers=X-Remote-User",
        "--requestheader-group-headers=X-Remote-Group",
        "--requestheader-extra-headers-prefix=X-Remote-Extra-",
        f"--proxy-client-cert-file={lay.cert('front-proxy-client')}",
        f"--proxy-client-key-file={lay.key('front-proxy-client')}",
        "--enable-aggregator-routing=true",
        "--profiling=false",
        "--event-ttl=1h",
        "--v=1",
    ]


def apiserver_loopback_argv(lay: Layout) -> Argv:
    """127.0.0.1:6443 -> the API server (on the node IP only), for the admin kubeconfig:
    127.0.0.1 refuses while the cluster is down, where the node IP would route off-host."""
    return [
        str(binaries.SOCAT),
        f"TCP-LISTEN:{layout.API_PORT},bind=127.0.0.1,reuseaddr,fork",
        f"TCP:{layout.NODE_IP}:{layout.API_PORT}",
    ]


def _local_control_plane_args(lay: Layout, name: str, port: int) -> Argv:
    kubeconfig = lay.kubeconfig(name)
    return [
        f"--kubeconfig={kubeconfig}",
        f"--authentication-kubeconfig={kubeconfig}",
        f"--authorization-kubeconfig={kubeconfig}",
        "--bind-address=127.0.0.1",
        f"--secure-port={port}",
        f"--cert-dir={lay.run / f'{name}-certs'}",
    ]


def controller_manager_argv(lay: Layout) -> Argv:
    return [
        str(binaries.tool("kube-controller-manager")),
        *_local_control_plane_args(lay, "controller-manager", layout.CONTROLLER_MANAGER_PORT),
        f"--client-ca-file={lay.cert('ca')}",
        f"--requestheader-client-ca-file={lay.cert('front-proxy-ca')}",
        f"--cluster-signing-cert-file={lay.cert('ca')}",
        f"--cluster-signing-key-file={lay.key('ca')}",
        f"--root-ca-file={lay.cert('ca')}",
        f"--service-account-private-key-file={lay.pki / 'sa.key'}",
        "--use-service-account-credentials=true",
        "--controllers=*,bootstrapsigner,tokencleaner",
        f"--cluster-cidr={layout.POD_CIDR}",
        f"--service-cluster-ip-range={layout.SERVICE_CIDR}",
        "--allocate-node-cidrs=false",
        "--leader-elect=false",
        # 5 s (upstream 15 s): the load test's scaling checks stay well inside their limits.
        "--horizontal-pod-autoscaler-sync-period=5s",
        "--profiling=false",
        "--v=1",
    ]


def scheduler_argv(lay: Layout) -> Argv:
    return [
        str(binaries.tool("kube-scheduler")),
        *_local_control_plane_args(lay, "scheduler", layout.SCHEDULER_PORT),
        "--leader-elect=false",
        "--profiling=false",
        "--v=1",
    ]


def containerd_argv(lay: Layout) -> Argv:
    return [str(binaries.CONTAINERD), f"--config={lay.etc / 'containerd.toml'}"]


def kubelet_argv(lay: Layout) -> Argv:
    return [
        str(binaries.tool("kubelet")),
        f"--config={lay.etc / 'kubelet.json'}",
        f"--kubeconfig={lay.kubeconfig('kubelet')}",
        f"--root-dir={lay.kubelet_root}",
        f"--cert-dir={lay.run / 'kubelet-certs'}",
        f"--hostname-override={layout.NODE_NAME}",
        f"--node-ip={layout.NODE_IP}",
        # CPU stats every 5 s (default 10 s): the HPA sees a load stop sooner (load test).
        "--housekeeping-interval=5s",
        "--v=1",
    ]


def kube_proxy_argv(lay: Layout) -> Argv:
    return [
        str(binaries.tool("kube-proxy")),
        f"--config={lay.etc / 'kube-proxy.json'}",
        "--v=1",
    ]


COMPONENTS: tuple[Component, ...] = (
    Component("etcd", etcd_argv, health.etcd, timeout=30),
    Component("containerd", containerd_argv, health.containerd, timeout=20),
    # SIGKILL: a graceful stop takes it out of the `kubernetes` Service's endpoints, and
    # pods started after the next `up` get "connection refused" from 10.96.0.1 until its
    # lease reconciler puts it back. Killed, its lease stays for the new one to renew.
    Component(
        "kube-apiserver",
        apiserver_argv,
        health.apiserver,
        timeout=90,
        stop_timeout=15,
        stop_signal=signal.SIGKILL,
    ),
    Component("apiserver-loopback", apiserver_loopback_argv, health.apiserver_loopback),
    # Both exit when the API server is not healthy within their own bound (slow host).
    Component(
        "kube-controller-manager",
        controller_manager_argv,
        health.controller_manager,
        start_retries=5,
    ),
    Component("kube-scheduler", scheduler_argv, health.scheduler, start_retries=5),
    # Its pods are killed right after it anyway. It exits at once while containerd's CRI
    # plugin is still recovering the pods' sandboxes after a restart.
    Component("kubelet", kubelet_argv, health.kubelet, stop_timeout=3, start_retries=15),
    Component("kube-proxy", kube_proxy_argv, health.kube_proxy),
)


def by_name(name: str) -> Component:
    return {comp.name: comp for comp in COMPONENTS}[name]


#: A full PATH (runc, iptables, mount, the CNI plugins' tools).
DAEMON_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"
POLL = 0.1
#: Total steps shown as [n/TOTAL]: the registry, each daemon, the add-ons.
TOTAL = len(COMPONENTS) + 2


def _daemon_env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("VIRTUAL_ENV", "NOX"))}
    env["PATH"] = DAEMON_PATH
    return env


def wait_for(
    label: str,
    check: Callable[[], Health],
    *,
    timeout: float,
    step: int,
    pidfile: Path | None = None,
    log: Path | None = None,
) -> float:
    """Poll ``check`` until healthy (or ``pidfile``'s daemon ends); return seconds waited."""

    def exited() -> str | None:
        how = process.ended(pidfile) if pidfile is not None else None
        if how is None:
            return None
        said = f": {_last_log_line(log)}" if log is not None else ""
        return f"{label} {how} while starting{said}"

    return until(
        check,
        what=f"{label} is not healthy",
        timeout=timeout,
        interval=POLL,
        progress=lambda s, detail: say(f"[{step}/{TOTAL}] {label}: waiting ({detail}) ({s:.1f}s)"),
        abort=exited,
        hint="see its log",
        log=str(log) if log else None,
    )


def _last_log_line(log: Path, tail: int = 4096) -> str:
    try:
        with log.open("rb") as fh:
            fh.seek(max(0, log.stat().st_size - tail))
            text = fh.read().decode(errors="replace")
    except OSError:
        return "no log"
    return last_line(text)[:300]


def start_component(lay: Layout, comp: Component) -> int | None:
    """Start ``comp`` unless its recorded process may still run; return the new pid."""
    if not process.vacant(comp.pidfile(lay)):
        _note_doubt(comp.name, comp.pidfile(lay))
        return None
    return process.start(
        comp.argv(lay),
        pidfile=comp.pidfile(lay),
        log=lay.log(comp.name),
        env=_daemon_env(),
        cwd=lay.root,
    )


def _note_doubt(name: str, pidfile: Path) -> None:
    record = process.read_pidfile(pidfile)
    if record is not None and not process.alive(record):
        say(
            f"{name} (pid {record.pid}) may still run but does not look as recorded "
            f"(start time {process.start_time(record.pid)} vs {record.start_time}, "
            f"executable {process.exe_of(record.pid)} vs {record.exe}); not starting another"
        )


def scaled(timeout: float, slowest: float) -> float:
    """``timeout``, or twice the slowest start seen so far on this (maybe slow) host."""
    return max(timeout, 2.0 * slowest)


def wait_started(lay: Layout, comp: Component, step: int, *, slowest: float = 0.0) -> float:
    """Wait until ``comp`` is healthy, starting it again (up to ``start_retries`` times) when
    it exits while starting; return the seconds the last start took."""
    tries = 0
    while True:
        try:
            return wait_for(
                comp.name,
                functools.partial(comp.health, lay),
                timeout=scaled(comp.timeout, slowest),
                step=step,
                pidfile=comp.pidfile(lay),
                log=lay.log(comp.name),
            )
        except PlatformError:
            if tries >= comp.start_retries or not process.vacant(comp.pidfile(lay)):
                raise  # out of retries, or it may run on: never start a second one
            tries += 1
            say(
                f"[{step}/{TOTAL}] {comp.name} exited while starting; starting it again "
                f"({tries}/{comp.start_retries})"
            )
            time.sleep(1.0)
            start_component(lay, comp)
