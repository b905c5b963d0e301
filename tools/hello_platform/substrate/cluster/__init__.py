"""The embedded single-node Kubernetes cluster (real upstream components, run locally)."""

from __future__ import annotations

from pathlib import Path

__all__ = ["ensure_up", "kubeconfig_path", "require_up"]


def kubeconfig_path() -> Path:
    from hello_platform.substrate.cluster.layout import Layout

    return Layout.default().admin_kubeconfig


def _running() -> Path | None:
    from hello_platform.substrate.cluster import node
    from hello_platform.substrate.cluster.layout import Layout

    lay = Layout.default()
    return lay.admin_kubeconfig if lay.admin_kubeconfig.exists() and node.is_up(lay) else None


def ensure_up() -> Path:
    """Start the local cluster unless it is up already; return the admin kubeconfig path."""
    from hello_platform.substrate.cluster import node

    return _running() or node.up()


def require_up(what: str) -> Path:
    """The running cluster's admin kubeconfig, for commands that only look or tear down:
    starting a cluster to answer them would change the host for nothing."""
    from hello_platform.core.errors import PlatformError

    found = _running()
    if found is None:
        raise PlatformError(
            f"{what} needs the embedded cluster, and it is not running",
            hint="start it with `nox -s cluster -- up`, or give --kubeconfig for another cluster",
        )
    return found
