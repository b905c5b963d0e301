"""The one Kubernetes client against a fake API server (an in-process HTTP transport)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import httpx2 as httpx
import pytest
from hello_platform.clients.kube import Kube, quantity, resource
from hello_platform.core.errors import PlatformError
from lightkube.resources.apps_v1 import Deployment
from lightkube.resources.core_v1 import Pod

KUBECONFIG = """\
apiVersion: v1
kind: Config
clusters: [{name: c, cluster: {server: "https://k8s.test:6443", insecure-skip-tls-verify: true}}]
users: [{name: u, user: {token: secret}}]
contexts:
- {name: main, context: {cluster: c, user: u, namespace: default}}
- {name: other, context: {cluster: c, user: u, namespace: other}}
current-context: main
"""


class FakeApi:
    """Answers a few API paths and records every request."""

    def __init__(self) -> None:
        self.requests: list[httpx.Request] = []
        self.objects: dict[str, dict[str, Any]] = {}

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        path = request.url.path
        if path == "/version":
            return httpx.Response(200, json={"gitVersion": "v1.34.4"})
        if request.method == "PATCH":
            doc = json.loads(request.content)
            self.objects[path] = doc
            return httpx.Response(200, json=doc)
        if path in self.objects:
            return httpx.Response(200, json=self.objects[path])
        if path.endswith("/pods"):
            item = {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p1"}}
            return httpx.Response(200, json={"kind": "PodList", "metadata": {}, "items": [item]})
        if "/forbidden/" in path:
            status = {"kind": "Status", "message": "nope", "reason": "Forbidden", "code": 403}
            return httpx.Response(403, json=status)
        return httpx.Response(404, json={"kind": "Status", "reason": "NotFound", "code": 404})


@pytest.fixture
def api() -> FakeApi:
    return FakeApi()


@pytest.fixture
def kube(tmp_path: Path, api: FakeApi) -> Kube:
    path = tmp_path / "kubeconfig"
    path.write_text(KUBECONFIG)
    return Kube(path, transport=httpx.MockTransport(api))


def test_version_and_bearer_token(kube: Kube, api: FakeApi) -> None:
    assert kube.version() == "v1.34.4"
    assert api.requests[0].headers["authorization"] == "Bearer secret"


def test_get_returns_a_dict_or_none(kube: Kube, api: FakeApi) -> None:
    assert kube.get(Deployment, "hello", namespace="web") is None
    api.objects["/apis/apps/v1/namespaces/web/deployments/hello"] = {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": "hello", "namespace": "web"},
        "spec": {"replicas": 2, "selector": {}, "template": {}},
    }
    dep = kube.get(Deployment, "hello", namespace="web")
    assert dep is not None and dep["spec"]["replicas"] == 2


def test_find_passes_the_label_selector(kube: Kube, api: FakeApi) -> None:
    pods = kube.find(Pod, namespace="web", labels="app=hello,tier=web")
    assert [p["metadata"]["name"] for p in pods] == ["p1"]
    assert api.requests[-1].url.params["labelSelector"] == "app=hello,tier=web"


def test_apply_yaml_is_server_side_with_one_field_manager(kube: Kube, api: FakeApi) -> None:
    stream = """\
apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata: {name: widgets.example.com}
spec:
  group: example.com
  scope: Namespaced
  names: {kind: Widget, plural: widgets, singular: widget}
  versions: [{name: v1, served: true, storage: true}]
---
apiVersion: example.com/v1
kind: Widget
metadata: {name: w, namespace: web}
"""
    kube.apply_yaml(stream)
    patches = [r for r in api.requests if r.method == "PATCH"]
    assert [r.url.path for r in patches] == [
        "/apis/apiextensions.k8s.io/v1/customresourcedefinitions/widgets.example.com",
        "/apis/example.com/v1/namespaces/web/widgets/w",
    ]
    for r in patches:
        assert r.headers["content-type"] == "application/apply-patch+yaml"
        assert r.url.params["fieldManager"] == "hello-platform"
        assert r.url.params["force"] == "true"


def test_api_errors_are_one_sentence(kube: Kube) -> None:
    res = resource("example.com/v1", "Forbidden", plural="forbidden")
    with pytest.raises(PlatformError, match=r"reading Forbidden x failed: nope \(HTTP 403\)"):
        kube.get(res, "x", namespace="web")


def test_an_unusable_kubeconfig_is_named(tmp_path: Path) -> None:
    kube = Kube(tmp_path / "missing", context="nope")
    with pytest.raises(PlatformError, match=r"kubeconfig .*missing cannot be used"):
        kube.version()


def test_a_context_is_chosen_by_name(tmp_path: Path, api: FakeApi) -> None:
    path = tmp_path / "kubeconfig"
    path.write_text(KUBECONFIG)
    kube = Kube(path, context="other", transport=httpx.MockTransport(api))
    assert kube.client.namespace == "other"
    with pytest.raises(PlatformError, match="cannot be used"):
        Kube(path, context="absent").version()


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("123500m", 123.5),
        ("42", 42.0),
        ("2k", 2000.0),
        ("1500u", 0.0015),
        ("1234567n", 0.001234567),
        ("1024Ki", 2**20),
        ("3Mi", 3 * 2**20),
        ("1G", 1e9),
        (" 0.5 ", 0.5),
    ],
)
def test_quantities_of_every_suffix(text: str, value: float) -> None:
    assert quantity(text) == pytest.approx(value)


def test_a_bad_quantity_is_a_value_error() -> None:
    with pytest.raises(ValueError, match="suffix"):
        quantity("12Qi")


def test_delete_says_whether_the_object_existed(kube: Kube, api: FakeApi) -> None:
    assert kube.delete(Deployment, "hello", namespace="web") is False
    api.objects["/apis/apps/v1/namespaces/web/deployments/hello"] = {"kind": "Status"}
    assert kube.delete(Deployment, "hello", namespace="web") is True
    with pytest.raises(PlatformError, match="deleting Deployment x failed: nope"):
        kube.delete(Deployment, "x", namespace="forbidden")
