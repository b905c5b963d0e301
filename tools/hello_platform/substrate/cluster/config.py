"""Every config file the cluster's components read (Kubernetes' own as JSON, valid YAML)."""

from __future__ import annotations

import base64
import contextlib
import json
from pathlib import Path
from typing import Any

from hello_platform.substrate.cluster import binaries, cgroups, layout
from hello_platform.substrate.cluster.layout import Layout


def write(path: Path, text: str, mode: int = 0o644) -> bool:
    """Write ``text`` to ``path`` only if it differs (kube-proxy exits when its config
    changes); return True if it changed."""
    with contextlib.suppress(OSError):
        if path.read_text() == text:
            return False
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.touch(mode=mode, exist_ok=True)
    tmp.chmod(mode)
    tmp.write_text(text)
    tmp.replace(path)
    return True


def _b64(path: Path) -> str:
    return base64.b64encode(path.read_bytes()).decode()


def _json(doc: dict[str, Any]) -> str:
    return json.dumps(doc, indent=2) + "\n"


def kubeconfig(lay: Layout, cert: str, *, server: str | None = None) -> str:
    """A kubeconfig that authenticates with the client certificate ``cert`` (data embedded)."""
    doc: dict[str, Any] = {
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": [
            {
                "name": layout.CONTEXT,
                "cluster": {
                    "server": server or f"https://{layout.NODE_IP}:{layout.API_PORT}",
                    "certificate-authority-data": _b64(lay.cert("ca")),
                },
            }
        ],
        "users": [
            {
                "name": cert,
                "user": {
                    "client-certificate-data": _b64(lay.cert(cert)),
                    "client-key-data": _b64(lay.key(cert)),
                },
            }
        ],
        "contexts": [
            {"name": layout.CONTEXT, "context": {"cluster": layout.CONTEXT, "user": cert}}
        ],
        "current-context": layout.CONTEXT,
    }
    return _json(doc)


def host_resolv_conf(
    etc: Path = Path("/etc/resolv.conf"),
    resolved: Path = Path("/run/systemd/resolve/resolv.conf"),
) -> str:
    """The resolv.conf for pods with ``dnsPolicy: Default`` (CoreDNS): a loopback-only one
    (systemd-resolved's 127.0.0.53) would make CoreDNS forward to itself."""
    try:
        servers = [
            line.split()[1]
            for line in etc.read_text().splitlines()
            if line.startswith("nameserver") and len(line.split()) > 1
        ]
    except OSError:
        return str(etc)
    if servers and all(s.startswith("127.") or s == "::1" for s in servers) and resolved.exists():
        return str(resolved)
    return str(etc)


def kubelet_config(lay: Layout) -> str:
    doc = {
        "apiVersion": "kubelet.config.k8s.io/v1beta1",
        "kind": "KubeletConfiguration",
        "address": layout.NODE_IP,
        "port": layout.KUBELET_PORT,
        "readOnlyPort": 0,
        "healthzBindAddress": "127.0.0.1",
        "healthzPort": layout.KUBELET_HEALTHZ_PORT,
        "tlsCertFile": str(lay.cert("kubelet-server")),
        "tlsPrivateKeyFile": str(lay.key("kubelet-server")),
        "authentication": {
            "anonymous": {"enabled": False},
            "webhook": {"enabled": True},
            "x509": {"clientCAFile": str(lay.cert("ca"))},
        },
        "authorization": {"mode": "Webhook"},
        "containerRuntimeEndpoint": f"unix://{lay.containerd_socket}",
        "cgroupDriver": "cgroupfs",
        # Our own: `down` removes what lives below it, never another runtime's /kubepods.
        "cgroupRoot": f"/{cgroups.POD_CGROUP}",
        "failCgroupV1": False,
        "failSwapOn": False,
        "clusterDomain": layout.CLUSTER_DOMAIN,
        "clusterDNS": [layout.DNS_SERVICE_IP],
        "resolvConf": host_resolv_conf(),
        "podLogsDir": str(lay.pod_logs),
        "serializeImagePulls": False,
        "rotateCertificates": False,
        "serverTLSBootstrap": False,
        "registerNode": True,
        "maxPods": 110,
        # The disk is shared with builds: evict only when it is really full.
        "evictionHard": {
            "memory.available": "100Mi",
            "nodefs.available": "2%",
            "nodefs.inodesFree": "2%",
            "imagefs.available": "2%",
        },
        "imageGCHighThresholdPercent": 98,
        "imageGCLowThresholdPercent": 95,
        "containerLogMaxSize": "10Mi",
        "containerLogMaxFiles": 3,
        "nodeStatusUpdateFrequency": "5s",
        "syncFrequency": "20s",
        "fileCheckFrequency": "20s",
        "shutdownGracePeriod": "0s",
    }
    return _json(doc)


ANONYMOUS_PATHS = ("/livez", "/readyz", "/healthz")


def authentication_config() -> str:
    """The API server's AuthenticationConfiguration: anonymous only for the health checks,
    whatever RBAC says about ``system:anonymous`` (KEP-4633)."""
    doc = {
        "apiVersion": "apiserver.config.k8s.io/v1beta1",
        "kind": "AuthenticationConfiguration",
        "jwt": [],
        "anonymous": {"enabled": True, "conditions": [{"path": p} for p in ANONYMOUS_PATHS]},
    }
    return _json(doc)


def kube_proxy_config(lay: Layout) -> str:
    doc = {
        "apiVersion": "kubeproxy.config.k8s.io/v1alpha1",
        "kind": "KubeProxyConfiguration",
        "clientConnection": {"kubeconfig": str(lay.kubeconfig("kube-proxy"))},
        "mode": "iptables",
        "hostnameOverride": layout.NODE_NAME,
        "clusterCIDR": layout.POD_CIDR,
        "bindAddress": "127.0.0.1",
        "healthzBindAddress": f"127.0.0.1:{layout.KUBE_PROXY_HEALTHZ_PORT}",
        "metricsBindAddress": "127.0.0.1:10249",
        # 127.0.0.0/8 makes `curl 127.0.0.1:NODEPORT` work (kube-proxy sets route_localnet).
        "nodePortAddresses": ["127.0.0.0/8", f"{layout.NODE_IP}/32"],
        "iptables": {"localhostNodePorts": True, "syncPeriod": "30s", "minSyncPeriod": "1s"},
        # Leave the host's conntrack sysctls alone (maxPerCore 0 = do not touch).
        "conntrack": {"maxPerCore": 0, "min": 0},
        # Lowering oom_score_adj needs CAP_SYS_RESOURCE; leave it alone.
        "oomScoreAdj": 0,
    }
    return _json(doc)


def cni_conflist(lay: Layout) -> str:
    """bridge + host-local only: ipMasq, portmap and firewall would write CNI-* chains shared
    with the host's other CNI users; ours are HELLO-* rules (``hostnet``). No hostPorts."""
    doc = {
        "cniVersion": "1.0.0",
        "name": "hello-platform",
        "plugins": [
            {
                "type": "bridge",
                "bridge": layout.BRIDGE,
                "isGateway": True,
                "ipMasq": False,
                "hairpinMode": True,
                "ipam": {
                    "type": "host-local",
                    "ranges": [[{"subnet": layout.NODE_POD_SUBNET, "gateway": layout.NODE_IP}]],
                    "routes": [{"dst": "0.0.0.0/0"}],
                    "dataDir": str(lay.cni_ipam_dir),
                },
            },
        ],
    }
    return _json(doc)


def containerd_config(lay: Layout, *, sandbox_image: str) -> str:
    """config.toml of the cluster's own containerd: own root, state and socket."""
    return f"""\
# Rendered by hello-platform; the cluster's dedicated containerd.
version = 2
root = "{lay.containerd_root}"
state = "{lay.containerd_state}"

[grpc]
  address = "{lay.containerd_socket}"

[ttrpc]
  address = "{lay.containerd_socket}.ttrpc"

[debug]
  address = ""

[metrics]
  address = ""

[plugins."io.containerd.grpc.v1.cri"]
  sandbox_image = "{sandbox_image}"
  stream_server_address = "127.0.0.1"
  stream_server_port = "0"
  enable_selinux = false
  # Never ask for an oom_score_adj below containerd's own: lowering it needs
  # CAP_SYS_RESOURCE, which sandboxed hosts (VMs, CI runners) often lack.
  restrict_oom_score_adj = true
  max_container_log_line_size = 16384

  [plugins."io.containerd.grpc.v1.cri".containerd]
    snapshotter = "overlayfs"
    default_runtime_name = "runc"

    [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc]
      runtime_type = "io.containerd.runc.v2"

      [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc.options]
        SystemdCgroup = false
        Root = "{lay.run / "runc"}"

  [plugins."io.containerd.grpc.v1.cri".cni]
    bin_dir = "{binaries.CNI_BIN_DIR}"
    conf_dir = "{lay.cni_conf_dir}"
    max_conf_num = 1

  [plugins."io.containerd.grpc.v1.cri".registry]
    config_path = "{lay.registry_hosts_dir}"
"""


def registry_hosts_toml(registry: str, ca: Path | None = None) -> str:
    """hosts.toml to pull from ``registry`` (host:port) over HTTP, or with ``ca`` over TLS."""
    scheme = "https" if ca else "http"
    trust = f'  ca = "{ca}"\n' if ca else ""
    return f"""\
server = "{scheme}://{registry}"

[host."{scheme}://{registry}"]
  capabilities = ["pull", "resolve"]
{trust}"""
