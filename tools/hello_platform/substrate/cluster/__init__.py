"""The embedded single-node Kubernetes cluster (real upstream components, run locally).

For other modules::

    from hello_platform.substrate.cluster import ensure_up, kubeconfig_path
    kubeconfig = ensure_up()   # starts (or repairs) the cluster; returns the kubeconfig path
"""

from __future__ import annotations

from pathlib import Path

__all__ = ["ensure_up", "kubeconfig_path", "register"]


def kubeconfig_path() -> Path:
    """Where the admin kubeconfig of the local cluster is (written by ``up``)."""
    from hello_platform.substrate.cluster.layout import Layout

    return Layout.default().admin_kubeconfig


def ensure_up() -> Path:
    """Start the local cluster unless it is up already; return the admin kubeconfig path."""
    from hello_platform.substrate.cluster import node
    from hello_platform.substrate.cluster.layout import Layout

    lay = Layout.default()
    if lay.admin_kubeconfig.exists() and node.is_up(lay):
        return lay.admin_kubeconfig
    return node.up(lay)


def require_up(what: str) -> Path:
    """The admin kubeconfig of the running local cluster; a PlatformError when it is not
    up. For commands that only look or tear down (``status``, ``down``): starting a cluster
    to answer them would change the host for nothing."""
    from hello_platform.core.errors import PlatformError
    from hello_platform.substrate.cluster import node
    from hello_platform.substrate.cluster.layout import Layout

    lay = Layout.default()
    if lay.admin_kubeconfig.exists() and node.is_up(lay):
        return lay.admin_kubeconfig
    raise PlatformError(
        f"{what} needs the embedded cluster, and it is not running",
        hint="start it with `nox -s cluster -- up`, or give --kubeconfig for another cluster",
    )


def register(subparsers: object) -> None:
    from hello_platform.substrate.cluster.cli import register as _register

    _register(subparsers)
