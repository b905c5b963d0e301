"""Where the cluster's programs come from.

Kubernetes, etcd, CoreDNS and metrics-server come from the project's toolchain
(``hello_platform.toolchain.resolve``: pinned, built from source once, cached).
containerd, runc and the CNI plugins come from Debian packages (or Docker CE's
containerd.io, when that is what the host has: see ``system.SUBSTITUTES``); the registry
is unpacked from Debian's .deb into the cache, never installed.
"""

from __future__ import annotations

import os
from pathlib import Path

from hello_platform.toolchain.apt import ensure_debian_packages

#: Debian packages the node needs (installed on demand when missing, as root).
DEBIAN_PACKAGES = (
    "containerd",
    "runc",
    "containernetworking-plugins",
    "iptables",
    "conntrack",
    "socat",
    "iproute2",
    "util-linux",
    "gcc",
    "libc6-dev",
)
CNI_BIN_DIR = Path("/usr/lib/cni")
CONTAINERD = Path("/usr/bin/containerd")
SOCAT = Path("/usr/bin/socat")


def tool(name: str) -> Path:
    """The path of toolchain program ``name`` (kube-apiserver, etcd, coredns, ...)."""
    from hello_platform.toolchain import resolve

    return resolve(name)


#: The toolchain programs the node runs as daemons (containerd and socat come from Debian).
DAEMON_TOOLS = (
    "etcd",
    "kube-apiserver",
    "kube-controller-manager",
    "kube-scheduler",
    "kubelet",
    "kube-proxy",
)
#: Every toolchain program the cluster runs or packages into an image.
TOOLS = (*DAEMON_TOOLS, "kubectl", "coredns", "metrics-server", "docker-registry")


def cached_daemons() -> dict[str, str]:
    """Path -> name of each daemon's pinned binary in the project's tool cache, whether it
    is built or not (nothing is resolved or built here)."""
    from hello_platform.toolchain import load
    from hello_platform.toolchain.resolver import version_dir

    pins = load()
    found = {}
    for name in DAEMON_TOOLS:
        tool, _ = pins.find(name)
        found[os.path.realpath(version_dir(tool) / "bin" / name)] = name
    return found


def provision() -> None:
    """Resolve every toolchain program up front, one after the other: on a fresh machine
    that builds them one at a time (never two Go builds at once on a small machine)."""
    for name in TOOLS:
        tool(name)


def ensure_host_packages() -> None:
    ensure_debian_packages(DEBIAN_PACKAGES, why="the local Kubernetes node")
