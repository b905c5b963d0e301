"""The add-on seam: everything installed into a cluster besides the release, declared as data
(:class:`Declared`) and built, applied, waited for, reported and removed by one driver.
An add-on module registers itself when imported."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import yaml
from lightkube.core.resource import NamespacedResource, Resource
from lightkube.resources.apps_v1 import Deployment, StatefulSet
from lightkube.resources.core_v1 import Pod

from hello_platform.clients.kube import Kube, resource
from hello_platform.core.errors import PlatformError
from hello_platform.core.progress import say
from hello_platform.core.wait import Check, until
from hello_platform.substrate import registry
from hello_platform.substrate.cluster import health, images
from hello_platform.substrate.cluster.images import ImageSpec
from hello_platform.toolchain import pins as toolchain_pins

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


REGISTRY: dict[str, Declared] = {}


def register(addon: Declared) -> Declared:
    known = REGISTRY.get(addon.name)
    if known is not None and known is not addon:
        raise PlatformError(f"two add-ons are named {addon.name}")
    REGISTRY[addon.name] = addon
    return addon


def get(name: str) -> Declared:
    try:
        return REGISTRY[name]
    except KeyError:
        raise PlatformError(
            f"there is no add-on named {name}", hint=f"known: {', '.join(sorted(REGISTRY))}"
        ) from None


WORKLOAD_KINDS: dict[str, type[Resource]] = {"Deployment": Deployment, "StatefulSet": StatefulSet}
FIRST_KINDS = ("Namespace", "CustomResourceDefinition")
CRD_API = "apiextensions.k8s.io/v1"
#: ``down`` renders the manifests with this digest, building nothing.
NO_DIGEST = "sha256:" + "0" * 64


def pins(addon: Declared) -> str:
    tools = toolchain_pins.load().tools
    return ", ".join(f"{name} {tools[name].version}" for name in addon.pins)


def build(addon: Declared) -> dict[str, str]:
    if not addon.images:
        return {}
    registry.ensure_running()
    return {spec.name: images.ensure_image(spec) for spec in addon.images}


def documents(text: str) -> list[dict[str, Any]]:
    try:
        return [doc for doc in yaml.safe_load_all(text) if doc]
    except yaml.YAMLError as err:
        raise PlatformError(f"a manifest could not be read: {err}") from err


def _apply(kube: Kube, addon: Declared, docs: Iterable[dict[str, Any]]) -> None:
    for doc in docs:
        try:
            kube.apply(doc, namespace=addon.namespace)
        except PlatformError as err:
            raise PlatformError(f"installing {addon.name} failed: {err.message}") from err


def install(kube: Kube, addon: Declared, refs: Refs) -> None:
    """Apply Namespaces and CRDs, wait for the CRDs to be Established, then the rest."""
    docs = documents(addon.render(refs))
    first = [d for d in docs if d.get("kind") in FIRST_KINDS]
    _apply(kube, addon, first)
    crds = [
        Condition(CRD_API, d["kind"], d["metadata"]["name"], "Established")
        for d in first
        if d.get("kind") == "CustomResourceDefinition"
    ]
    if crds:
        what = "the CRDs of {} are not Established"
        _wait(kube, addon, what, lambda: [condition_row(kube, addon.name, c) for c in crds])
    _apply(kube, addon, [d for d in docs if d.get("kind") not in FIRST_KINDS])


def up(
    kube: Kube, *addons: Declared, refs: Refs | None = None, since: dt.datetime | None = None
) -> dict[str, str]:
    """Build (unless ``refs`` are given), install, then wait for every add-on; the refs used."""
    used: dict[str, str] = dict(refs) if refs is not None else {}
    for addon in addons:
        if refs is None:
            used.update(build(addon))
        install(kube, addon, used)
        say(f"{addon.name} ({pins(addon) or 'no pins'}): applied in namespace {addon.namespace}")
    for addon in addons:
        waited = wait_ready(kube, addon, since=since)
        say(f"{addon.name}: ready ({waited:.1f}s)")
    return used


def wait_ready(kube: Kube, addon: Declared, *, since: dt.datetime | None = None) -> float:
    return _wait(kube, addon, "{} is not ready", lambda: status(kube, addon, since=since))


def _wait(kube: Kube, addon: Declared, what: str, rows: Callable[[], Sequence[Row]]) -> float:
    def check() -> Check:
        pending = [r for r in rows() if not r.ok]
        return Check(not pending, "; ".join(f"{r.part}: {r.detail}" for r in pending))

    return until(
        check,
        what=what.format(addon.name),
        timeout=addon.timeout,
        progress=lambda s, detail: say(f"{addon.name}: waiting ({detail}) ({s:.0f}s)"),
        every=10.0,
        hint=f"see its pods: kubectl --kubeconfig {kube.kubeconfig} -n {addon.namespace} get pods",
    )


def workload_row(
    kube: Kube, addon: Declared, workload: Workload, since: dt.datetime | None = None
) -> Row:
    def row(check: Check) -> Row:
        return Row(addon.name, workload.name, check.ok, check.detail)

    try:
        obj = kube.get(WORKLOAD_KINDS[workload.kind], workload.name, namespace=addon.namespace)
        if obj is None:
            return row(Check(False, "not deployed"))
        observed = (obj.get("status") or {}).get("observedGeneration", 0)
        if observed < obj.get("metadata", {}).get("generation", 0):
            return row(Check(False, "the new spec is not observed yet"))
        rollout = health.deployment_ready(obj)
        if since is None or not rollout.ok:
            return row(Check(rollout.ok, rollout.detail))
        labels = obj["spec"]["selector"].get("matchLabels", {})
        pods = kube.find(Pod, namespace=addon.namespace, labels=labels)
    except PlatformError as err:
        return row(Check(False, f"API not reachable ({err.message})"))
    fresh = health.pods_ready(pods, obj["spec"].get("replicas", 1), since)
    return row(Check(fresh.ok, fresh.detail))


def condition_row(kube: Kube, addon: str, cond: Condition) -> Row:
    res = resource(cond.api_version, cond.kind, namespaced=cond.namespace is not None)
    try:
        obj = kube.get(res, cond.name, namespace=cond.namespace)
    except PlatformError as err:
        return Row(addon, cond.label, False, f"API not reachable ({err.message})")
    if obj is None:
        return Row(addon, cond.label, False, "not found")
    for c in (obj.get("status") or {}).get("conditions") or []:
        if c.get("type") == cond.type:
            ok = c.get("status") == "True"
            said = " ".join(str(c.get("message") or "").split())
            return Row(addon, cond.label, ok, cond.type if ok else f"not {cond.type}: {said}")
    return Row(addon, cond.label, False, "not reported yet")


def status(kube: Kube, addon: Declared, *, since: dt.datetime | None = None) -> list[Row]:
    rows = [workload_row(kube, addon, w, since) for w in addon.workloads]
    return rows + [condition_row(kube, addon.name, c) for c in addon.conditions]


def installed(kube: Kube, addon: Declared) -> bool:
    return any(
        kube.get(WORKLOAD_KINDS[w.kind], w.name, namespace=addon.namespace) is not None
        for w in addon.workloads
    )


def status_of_installed(kube: Kube, *, skip: Iterable[str] = ()) -> list[Row]:
    left_out = set(skip)
    rows: list[Row] = []
    for name, addon in sorted(REGISTRY.items()):
        if name not in left_out and installed(kube, addon):
            rows += status(kube, addon)
    return rows


def placeholder_refs(addon: Declared) -> dict[str, str]:
    return {s.name: f"{images.reference(s, 'none')}@{NO_DIGEST}" for s in addon.images}


def down(kube: Kube, addon: Declared) -> int:
    """Run ``teardown``, then delete every object, the last first; how many there were."""
    if addon.teardown is not None:
        addon.teardown(kube)
    deleted = 0
    for doc in reversed(documents(addon.render(placeholder_refs(addon)))):
        res = resource(doc["apiVersion"], doc["kind"])
        namespace = None
        if issubclass(res, NamespacedResource):
            namespace = doc["metadata"].get("namespace") or addon.namespace
        deleted += kube.delete(res, doc["metadata"]["name"], namespace=namespace)
    return deleted
