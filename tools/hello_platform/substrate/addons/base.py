"""An add-on as data, and the registry of every add-on."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass

from hello_platform.clients.kube import Kube
from hello_platform.core.errors import PlatformError
from hello_platform.substrate.cluster.images import ImageSpec

#: Image references by ImageSpec name (``REPO:TAG@sha256:...``).
Refs = Mapping[str, str]


@dataclass(frozen=True)
class Workload:
    kind: str
    name: str


@dataclass(frozen=True)
class Condition:
    """A condition that must be True on an API object (``namespace`` None: cluster-scoped)."""

    api_version: str
    kind: str
    name: str
    type: str
    namespace: str | None = None

    @property
    def label(self) -> str:
        return f"{self.kind.lower()}/{self.name}"


@dataclass(frozen=True)
class Row:
    addon: str
    part: str
    ok: bool
    detail: str


@dataclass(frozen=True)
class Declared:
    """An add-on as data: ``render(refs)`` gives its manifests; ``teardown(kube)`` is the
    optional hook run before ``down`` deletes its objects."""

    name: str
    namespace: str
    render: Callable[[Refs], str]
    pins: tuple[str, ...] = ()
    images: tuple[ImageSpec, ...] = ()
    workloads: tuple[Workload, ...] = ()
    conditions: tuple[Condition, ...] = ()
    teardown: Callable[[Kube], None] | None = None
    timeout: float = 180.0

    def manifests(self, refs: Refs) -> str:
        return self.render(refs)

    def before_down(self, kube: Kube) -> None:
        if self.teardown is not None:
            self.teardown(kube)


#: The driver's view of an add-on: :class:`Declared` is the one implementation.
Addon = Declared
REGISTRY: dict[str, Addon] = {}


def register(addon: Addon) -> Addon:
    known = REGISTRY.get(addon.name)
    if known is not None and known is not addon:
        raise PlatformError(f"two add-ons are named {addon.name}")
    REGISTRY[addon.name] = addon
    return addon


def get(name: str) -> Addon:
    try:
        return REGISTRY[name]
    except KeyError:
        raise PlatformError(
            f"there is no add-on named {name}", hint=f"known: {', '.join(sorted(REGISTRY))}"
        ) from None
