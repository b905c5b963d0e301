"""Where the embedded cluster keeps its files, and the fixed addresses it uses.

Everything lives under ``state_dir()/cluster``:

    pki/          certificates and keys the project generates (kept across down/up)
    etc/          rendered configs: kubeconfigs, kubelet/kube-proxy/containerd/CNI configs
    etcd/         etcd's data (kept across down/up; removed by ``down --purge``)
    containerd/   the dedicated containerd's root: images, snapshots (kept)
    kubelet/      the kubelet's root dir (kept; its mounts are removed by ``down``)
    logs/         one log file per component, plus pod logs
    run/          pidfiles, sockets and runtime state (wiped by ``down``, like /run at reboot)
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from hello_platform.core.paths import state_dir

#: The node's name (fixed, so certificates and state do not depend on the hostname).
NODE_NAME = "hello-node"
#: The CNI bridge the project creates; its address is the node's (and the API server's) IP.
#: A bridge with no ports is a stable local address that pods reach directly.
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
#: Name of the kubeconfig context (and cluster/user entries) written for the admin.
CONTEXT = "hello-platform"


@dataclass(frozen=True)
class Layout:
    """All paths of one cluster instance, rooted at ``root``."""

    root: Path

    @classmethod
    def default(cls) -> Layout:
        return cls(state_dir() / "cluster")

    @property
    def pki(self) -> Path:
        return self.root / "pki"

    @property
    def etc(self) -> Path:
        return self.root / "etc"

    @property
    def etcd_data(self) -> Path:
        return self.root / "etcd"

    @property
    def containerd_root(self) -> Path:
        return self.root / "containerd"

    @property
    def kubelet_root(self) -> Path:
        return self.root / "kubelet"

    @property
    def logs(self) -> Path:
        return self.root / "logs"

    @property
    def pod_logs(self) -> Path:
        return self.logs / "pods"

    @property
    def run(self) -> Path:
        return self.root / "run"

    @property
    def pids(self) -> Path:
        return self.run / "pids"

    @property
    def containerd_state(self) -> Path:
        return self.run / "containerd"

    @property
    def containerd_socket(self) -> Path:
        return self.run / "containerd.sock"

    @property
    def cni_conf_dir(self) -> Path:
        return self.etc / "cni"

    @property
    def cni_ipam_dir(self) -> Path:
        return self.run / "cni-ipam"

    @property
    def registry_hosts_dir(self) -> Path:
        return self.etc / "containerd-certs.d"

    @property
    def admin_kubeconfig(self) -> Path:
        return self.root / "admin.kubeconfig"

    def kubeconfig(self, component: str) -> Path:
        return self.etc / f"{component}.kubeconfig"

    def log(self, component: str) -> Path:
        return self.logs / f"{component}.log"

    def cert(self, name: str) -> Path:
        return self.pki / f"{name}.crt"

    def key(self, name: str) -> Path:
        return self.pki / f"{name}.key"
