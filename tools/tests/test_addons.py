"""The add-on seam: one driver against a fake API server, a new add-on as one declaration,
and every add-on of the platform registered with manifests that render."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx2 as httpx
import pytest
import yaml
from hello_platform.clients.kube import Kube
from hello_platform.core.errors import PlatformError
from hello_platform.substrate import addons
from hello_platform.substrate.addons import Condition, Declared, Workload

KUBECONFIG = """\
apiVersion: v1
kind: Config
clusters: [{name: c, cluster: {server: "https://k8s.test:6443", insecure-skip-tls-verify: true}}]
users: [{name: u, user: {token: t}}]
contexts: [{name: main, context: {cluster: c, user: u}}]
current-context: main
"""

TINY = """\
apiVersion: v1
kind: Namespace
metadata: {name: tiny}
---
apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata: {name: gadgets.example.com}
spec:
  group: example.com
  scope: Namespaced
  names: {kind: Gadget, plural: gadgets, singular: gadget}
  versions: [{name: v1, served: true, storage: true}]
---
apiVersion: v1
kind: ConfigMap
metadata: {name: tiny-config}
data: {image: ${IMAGE}}
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: tiny}
spec:
  replicas: 2
  selector: {matchLabels: {app: tiny}}
  template:
    metadata: {labels: {app: tiny}}
    spec: {containers: [{name: tiny, image: ${IMAGE}}]}
"""
AVAILABLE = Condition("apiregistration.k8s.io/v1", "APIService", "v1.tiny.example.com", "Available")


class FakeApi:
    """An API server that stores what is applied and plays the controllers: a Deployment
    is rolled out, a CRD Established, an APIService Available (unless ``stuck``)."""

    def __init__(self, *, stuck: bool = False) -> None:
        self.stuck = stuck
        self.objects: dict[str, dict[str, Any]] = {}
        self.calls: list[tuple[str, str]] = []
        #: The list paths that exist (a collection of a kind the server serves).
        self.collections: set[str] = set()

    def __call__(self, request: httpx.Request) -> httpx.Response:
        path, method = request.url.path, request.method
        self.calls.append((method, path))
        if method == "PATCH" and "merge-patch" in request.headers["content-type"]:
            doc = merged(self.objects[path], json.loads(request.content))
            self.objects[path] = doc
            return httpx.Response(200, json=doc)
        if method == "PATCH":
            doc = self.controlled(json.loads(request.content))
            self.objects[path] = doc
            return httpx.Response(200, json=doc)
        if method == "DELETE" and path in self.objects:
            return httpx.Response(200, json=self.objects.pop(path))
        if method == "GET" and path in self.objects:
            return httpx.Response(200, json=self.objects[path])
        if method == "GET" and path in self.collections:
            items = [o for p, o in self.objects.items() if p.rsplit("/", 1)[0] == path]
            return httpx.Response(200, json={"kind": "List", "metadata": {}, "items": items})
        return httpx.Response(404, json={"kind": "Status", "reason": "NotFound", "code": 404})

    def controlled(self, doc: dict[str, Any]) -> dict[str, Any]:
        if self.stuck:
            return doc
        kind = doc["kind"]
        if kind == "Deployment":
            want = doc["spec"]["replicas"]
            doc["metadata"]["generation"] = 1
            doc["status"] = {
                "observedGeneration": 1,
                "readyReplicas": want,
                "updatedReplicas": want,
            }
        elif kind in ("CustomResourceDefinition", "APIService"):
            kind_of = "Established" if kind == "CustomResourceDefinition" else "Available"
            doc["status"] = {"conditions": [{"type": kind_of, "status": "True"}]}
        return doc

    def applied(self) -> list[str]:
        return [p.rsplit("/", 2)[-2] for m, p in self.calls if m == "PATCH"]


def merged(into: dict[str, Any], patch: dict[str, Any]) -> dict[str, Any]:
    """A JSON merge patch (RFC 7386) of maps."""
    out = dict(into)
    for key, value in patch.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = merged(out[key], value)
        else:
            out[key] = value
    return out


def tiny(timeout: float = 5.0) -> Declared:
    """A whole add-on in one declaration: what the next add-on module looks like."""
    return Declared(
        name="tiny",
        namespace="tiny",
        pins=(),
        render=lambda refs: TINY.replace("${IMAGE}", refs.get("tiny", "r/tiny:1")),
        workloads=(Workload("Deployment", "tiny"),),
        conditions=(AVAILABLE,),
        timeout=timeout,
    )


def kube_of(tmp_path: Path, api: FakeApi) -> Kube:
    path = tmp_path / "kubeconfig"
    path.write_text(KUBECONFIG)
    return Kube(path, transport=httpx.MockTransport(api))


@pytest.fixture
def registered() -> Iterator[None]:
    saved = dict(addons.REGISTRY)
    yield
    addons.REGISTRY.clear()
    addons.REGISTRY.update(saved)


def test_a_new_addon_is_one_declaration_driven_up_status_down(
    tmp_path: Path, registered: None
) -> None:
    api = FakeApi()
    kube = kube_of(tmp_path, api)
    addon = addons.register(tiny())
    assert addons.get("tiny") is addon
    api.objects["/apis/apiregistration.k8s.io/v1/apiservices/v1.tiny.example.com"] = api.controlled(
        {"kind": "APIService", "metadata": {"name": "v1.tiny.example.com"}}
    )

    addons.up(kube, addon, refs={"tiny": "r/tiny:2@sha256:ab"})

    # Namespaces and CRDs first, the rest after the CRD is Established.
    assert api.applied() == ["namespaces", "customresourcedefinitions", "configmaps", "deployments"]
    config = api.objects["/api/v1/namespaces/tiny/configmaps/tiny-config"]
    assert config["data"]["image"] == "r/tiny:2@sha256:ab"
    rows = addons.status(kube, addon)
    assert [(r.part, r.ok, r.detail) for r in rows] == [
        ("tiny", True, "2/2 ready"),
        ("apiservice/v1.tiny.example.com", True, "Available"),
    ]
    assert addons.installed(kube, addon)
    assert [r.addon for r in addons.status_of_installed(kube)] == ["tiny", "tiny"]

    assert addons.down(kube, addon) == 4
    deletes = [p for m, p in api.calls if m == "DELETE"]
    assert deletes[-1] == "/api/v1/namespaces/tiny"  # the Namespace goes last
    assert not addons.installed(kube, addon)
    assert addons.status_of_installed(kube) == []


def test_an_addon_that_never_gets_ready_is_named_with_what_is_missing(tmp_path: Path) -> None:
    kube = kube_of(tmp_path, FakeApi(stuck=True))
    addon = tiny(timeout=1.0)
    with pytest.raises(
        PlatformError,
        match=r"the CRDs of tiny are not Established after 1s: customresourcedefinition/gadgets",
    ):
        addons.up(kube, addon, refs={})  # the CRD is never Established


def test_status_rows_say_why(tmp_path: Path) -> None:
    api = FakeApi(stuck=True)
    kube = kube_of(tmp_path, api)
    api.objects["/apis/apps/v1/namespaces/tiny/deployments/tiny"] = {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": "tiny", "generation": 3},
        "spec": {"replicas": 1, "selector": {}, "template": {}},
        "status": {"observedGeneration": 2, "readyReplicas": 1, "updatedReplicas": 1},
    }
    api.objects["/apis/apiregistration.k8s.io/v1/apiservices/v1.tiny.example.com"] = {
        "kind": "APIService",
        "metadata": {"name": "v1.tiny.example.com"},
        "status": {
            "conditions": [{"type": "Available", "status": "False", "message": "no\n  endpoints"}]
        },
    }
    rows = addons.status(kube, tiny())
    assert [(r.ok, r.detail) for r in rows] == [
        (False, "the new spec is not observed yet"),
        (False, "not Available: no endpoints"),
    ]


def test_a_second_addon_of_the_same_name_is_refused(registered: None) -> None:
    addons.register(tiny())
    with pytest.raises(PlatformError, match="two add-ons are named tiny"):
        addons.register(tiny())
    with pytest.raises(PlatformError, match="no add-on named nope"):
        addons.get("nope")


def test_the_command_knows_every_addon_of_the_platform() -> None:
    from hello_platform.cli import build_parser

    build_parser()  # imports every feature's cli, and so every add-on module
    assert {"coredns", "metrics-server", "prometheus", "keda", "argocd"} <= set(addons.REGISTRY)
    for addon in addons.REGISTRY.values():
        assert addon.workloads, addon.name
        assert addons.pins(addon), addon.name  # each pin is in toolchain.toml
        assert {s.name for s in addon.images} <= set(addons.placeholder_refs(addon))


@pytest.mark.parametrize("name", ["coredns", "metrics-server", "prometheus"])
def test_addon_manifests_render_in_their_namespace_with_our_images(name: str) -> None:
    from hello_platform.cli import build_parser

    build_parser()
    addon = addons.get(name)
    refs = addons.placeholder_refs(addon)
    docs = addons.documents(addon.render(refs))
    kinds = {(d["kind"], d["metadata"]["name"]) for d in docs}
    assert {(w.kind, w.name) for w in addon.workloads} <= kinds
    text = json.dumps(docs)
    assert not re.search(r"\$\{", text)
    for ref in refs.values():
        assert ref in text
    namespaced = [d for d in docs if d["metadata"].get("namespace")]
    assert {d["metadata"]["namespace"] for d in namespaced} == {addon.namespace}
    assert yaml.safe_dump_all(docs)


ARGO = "/apis/argoproj.io/v1alpha1/namespaces/argocd"


def app(name: str, sync: str = "Synced") -> dict[str, Any]:
    status = {"sync": {"status": sync, "revision": "abc"}, "health": {"status": "Healthy"}}
    meta = {"name": name, "namespace": "argocd"}
    return {
        "apiVersion": "argoproj.io/v1alpha1",
        "kind": "Application",
        "metadata": meta,
        "status": status,
    }


@pytest.fixture
def argo_api() -> FakeApi:
    api = FakeApi()
    api.collections |= {f"{ARGO}/applications", f"{ARGO}/appprojects"}
    api.objects[
        "/apis/apiextensions.k8s.io/v1/customresourcedefinitions/applications.argoproj.io"
    ] = {
        "apiVersion": "apiextensions.k8s.io/v1",
        "kind": "CustomResourceDefinition",
        "metadata": {"name": "applications.argoproj.io"},
        "spec": {
            "group": "argoproj.io",
            "names": {"kind": "Application", "plural": "applications"},
            "scope": "Namespaced",
            "versions": [],
        },
    }
    for name in ("hello-platform-root", "hello-local"):
        api.objects[f"{ARGO}/applications/{name}"] = app(name)
    api.objects[f"{ARGO}/appprojects/hello"] = {"kind": "AppProject", "metadata": {"name": "hello"}}
    return api


def test_argo_cd_applications_are_read_and_refreshed_through_the_client(
    tmp_path: Path, argo_api: FakeApi
) -> None:
    from hello_platform.pipeline.gitops import argo

    kube = kube_of(tmp_path, argo_api)
    assert [(a.name, a.ok) for a in argo.applications(kube)] == [
        ("hello-local", True),
        ("hello-platform-root", True),
    ]
    argo.refresh(kube, ["hello-platform-root", "not-created-yet"])
    patches = [p for m, p in argo_api.calls if m == "PATCH"]
    assert patches == [f"{ARGO}/applications/hello-platform-root"]
    root = argo_api.objects[patches[0]]
    assert root["metadata"]["annotations"] == {"argocd.argoproj.io/refresh": "normal"}


def test_argo_cd_teardown_deletes_the_root_app_first_then_the_rest(
    tmp_path: Path, argo_api: FakeApi
) -> None:
    from hello_platform.pipeline.gitops import argo

    kube = kube_of(tmp_path, argo_api)
    argo.remove_applications(kube, timeout=2)
    deletes = [p for m, p in argo_api.calls if m == "DELETE"]
    assert deletes == [
        f"{ARGO}/applications/hello-platform-root",
        f"{ARGO}/applications/hello-local",
        f"{ARGO}/appprojects/hello",
        "/api/v1/namespaces/hello-gitops",
    ]


def test_argo_cd_not_installed_is_one_sentence(tmp_path: Path) -> None:
    from hello_platform.pipeline.gitops import argo

    kube = kube_of(tmp_path, FakeApi())
    with pytest.raises(PlatformError, match="Argo CD is not installed in this cluster"):
        argo.applications(kube)
    assert argo.pod_memory(kube) == {}  # no metrics API: nothing to show
