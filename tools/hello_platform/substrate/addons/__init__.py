"""The add-on seam: everything installed into a cluster besides the release, declared as data
(:class:`Declared`) and built, applied, waited for, reported and removed by one driver.
An add-on module registers itself when imported."""

from __future__ import annotations

from hello_platform.substrate.addons.base import (
    REGISTRY,
    Condition,
    Declared,
    Refs,
    Row,
    Workload,
    get,
    register,
)
from hello_platform.substrate.addons.driver import (
    build,
    down,
    install,
    installed,
    status,
    status_of_installed,
    up,
    wait_ready,
)

__all__ = [
    "REGISTRY",
    "Condition",
    "Declared",
    "Refs",
    "Row",
    "Workload",
    "build",
    "down",
    "get",
    "install",
    "installed",
    "register",
    "status",
    "status_of_installed",
    "up",
    "wait_ready",
]
