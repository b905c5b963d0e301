"""The component table: each daemon's name, argv builder, health check and stop policy."""

from __future__ import annotations

import signal
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

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
    for comp in COMPONENTS:
        if comp.name == name:
            return comp
    raise KeyError(name)
