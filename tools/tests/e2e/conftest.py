"""Fixtures for end-to-end tests: a running cluster, kubectl, namespaces, test images.

Run by ``nox -s e2e`` (which brings the local cluster up first). Every test here is
marked ``e2e`` and sends traffic only to 127.0.0.1 or the cluster's own pod/service IPs,
bounded in count and time. Shared helpers live in ``e2e/helpers.py``.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pytest

from e2e.helpers import Kube


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """The host-safety tests first: they start from ``down --purge`` (a node that never
    ran) and leave a fresh cluster for everything after them. The drills last: they kill
    daemons and restart the node under everything else."""

    def order(item: pytest.Item) -> int:
        if "test_host_safety_e2e" in item.nodeid:
            return 0
        return 2 if "test_drill_e2e" in item.nodeid else 1

    items.sort(key=order)


@pytest.fixture(scope="session")
def kube() -> Kube:
    """The local cluster, started if needed (``nox -s e2e`` has brought it up already)."""
    from hello_platform.substrate.cluster import ensure_up
    from hello_platform.toolchain import resolve

    return Kube(resolve("kubectl"), ensure_up())


@pytest.fixture(scope="session")
def echo_image(kube: Kube) -> str:
    """The e2e echo server image, built and pushed to the local registry."""
    from hello_platform.substrate.cluster import images

    return images.ensure_image(images.ECHO)


@pytest.fixture
def namespace(kube: Kube) -> Iterator[str]:
    """A fresh namespace for one test, deleted afterwards (without waiting)."""
    name = f"e2e-{uuid.uuid4().hex[:8]}"
    kube.run("create", "namespace", name)
    yield name
    kube.run("delete", "namespace", name, "--wait=false", check=False)
