"""Where the cluster's programs come from: the pinned toolchain and Debian packages."""

from __future__ import annotations

import os
from pathlib import Path

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
    from hello_platform.toolchain import resolve

    return resolve(name)


DAEMON_TOOLS = (
    "etcd",
    "kube-apiserver",
    "kube-controller-manager",
    "kube-scheduler",
    "kubelet",
    "kube-proxy",
)
TOOLS = (*DAEMON_TOOLS, "kubectl", "coredns", "metrics-server", "docker-registry")


def cached_daemons() -> dict[str, str]:
    """Path -> name of each daemon's pinned binary in the tool cache (nothing is built)."""
    from hello_platform.toolchain import load
    from hello_platform.toolchain.resolver import version_dir

    pins = load()
    found = {}
    for name in DAEMON_TOOLS:
        tool, _ = pins.find(name)
        found[os.path.realpath(version_dir(tool) / "bin" / name)] = name
    return found


def provision() -> None:
    """Resolve every program up front, one after the other (never two Go builds at once)."""
    for name in TOOLS:
        tool(name)
