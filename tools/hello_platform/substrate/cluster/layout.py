"""Where the embedded cluster keeps its files (under ``state_dir()/cluster``; ``run/`` is
wiped by ``down``, the rest only by ``down --purge``) and the fixed addresses it uses."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from hello_platform.core.paths import state_dir

NODE_NAME = "hello-node"
#: The CNI bridge; its address is the node's (and the API server's) stable IP.
BRIDGE = "hello0"
NODE_IP = "10.244.0.1"
POD_CIDR = "10.244.0.0/16"
NODE_POD_SUBNET = "10.244.0.0/24"
SERVICE_CIDR = "10.96.0.0/16"
KUBERNETES_SERVICE_IP = "10.96.0.1"
DNS_SERVICE_IP = "10.96.0.10"
CLUSTER_DOMAIN = "cluster.local"
API_PORT = 6443
ETCD_CLIENT_PORT = 2379
ETCD_PEER_PORT = 2380
ETCD_METRICS_PORT = 2381
CONTROLLER_MANAGER_PORT = 10257
SCHEDULER_PORT = 10259
KUBELET_PORT = 10250
KUBELET_HEALTHZ_PORT = 10248
KUBE_PROXY_HEALTHZ_PORT = 10256
CONTEXT = "hello-platform"


class _Under:
    """A path below the layout's root, read as an attribute (``lay.pki``)."""

    def __init__(self, *parts: str) -> None:
        self.parts = parts

    def __get__(self, lay: Layout, owner: type[Layout]) -> Path:
        return lay.root.joinpath(*self.parts)


@dataclass(frozen=True)
class Layout:
    root: Path

    pki = _Under("pki")
    etc = _Under("etc")
    etcd_data = _Under("etcd")
    containerd_root = _Under("containerd")
    kubelet_root = _Under("kubelet")
    logs = _Under("logs")
    pod_logs = _Under("logs", "pods")
    run = _Under("run")
    pids = _Under("run", "pids")
    containerd_state = _Under("run", "containerd")
    containerd_socket = _Under("run", "containerd.sock")
    cni_conf_dir = _Under("etc", "cni")
    cni_ipam_dir = _Under("run", "cni-ipam")
    registry_hosts_dir = _Under("etc", "containerd-certs.d")
    admin_kubeconfig = _Under("admin.kubeconfig")
    host_state = _Under("host.json")  # original sysctls and what the node owns on the host

    @classmethod
    def default(cls) -> Layout:
        return cls(state_dir() / "cluster")

    def kubeconfig(self, component: str) -> Path:
        return self.etc / f"{component}.kubeconfig"

    def log(self, component: str) -> Path:
        return self.logs / f"{component}.log"

    def cert(self, name: str) -> Path:
        return self.pki / f"{name}.crt"

    def key(self, name: str) -> Path:
        return self.pki / f"{name}.key"
