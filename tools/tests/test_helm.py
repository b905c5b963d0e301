"""``hello_platform.pipeline.helm`` without helm: the OpenAPI -> JSON schema conversion, its cache,
the helm error extraction and argument handling."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from hello_platform.clients.helm import helm_failure
from hello_platform.core import catalogue
from hello_platform.core.errors import PlatformError
from hello_platform.pipeline import helm
from hello_platform.pipeline.helm.chart import parse_set, profiles, values_args
from hello_platform.pipeline.helm.schemas import (
    SCHEMA_FORMAT,
    kind_suffix,
    openapi_document,
    openapi_to_schemas,
)

SWAGGER: dict[str, Any] = {
    "definitions": {
        "io.k8s.api.apps.v1.Deployment": {
            "description": "Deployment enables declarative updates.",
            "type": "object",
            "properties": {
                "apiVersion": {"type": "string", "description": "APIVersion"},
                "kind": {"type": "string"},
                "metadata": {"$ref": "#/definitions/io.k8s.meta.ObjectMeta"},
                "spec": {"$ref": "#/definitions/io.k8s.api.apps.v1.DeploymentSpec"},
            },
            "x-kubernetes-group-version-kind": [
                {"group": "apps", "kind": "Deployment", "version": "v1"}
            ],
        },
        "io.k8s.api.apps.v1.DeploymentList": {
            "type": "object",
            "properties": {"items": {"type": "array"}},
            "x-kubernetes-group-version-kind": [
                {"group": "apps", "kind": "DeploymentList", "version": "v1"}
            ],
        },
        "io.k8s.api.apps.v1.DeploymentSpec": {
            "type": "object",
            "properties": {
                "replicas": {"type": "integer", "format": "int32"},
                "maxSurge": {
                    "$ref": "#/definitions/io.k8s.apimachinery.pkg.util.intstr.IntOrString"
                },
                "cpu": {"$ref": "#/definitions/io.k8s.apimachinery.pkg.api.resource.Quantity"},
                "selector": {"$ref": "#/definitions/io.k8s.meta.LabelSelector"},
                "labels": {"type": "object", "additionalProperties": {"type": "string"}},
            },
            "required": ["selector"],
        },
        "io.k8s.meta.ObjectMeta": {
            "type": "object",
            "properties": {"name": {"type": "string"}},
        },
        "io.k8s.meta.LabelSelector": {
            "type": "object",
            "properties": {
                "matchExpressions": {
                    "type": "array",
                    "items": {"$ref": "#/definitions/io.k8s.meta.LabelSelector"},
                }
            },
            "x-kubernetes-map-type": "atomic",
        },
        "io.k8s.apimachinery.pkg.util.intstr.IntOrString": {
            "type": "string",
            "format": "int-or-string",
        },
        "io.k8s.apimachinery.pkg.api.resource.Quantity": {"type": "string"},
        "io.k8s.api.networking.v1.Ingress": {
            "type": "object",
            "properties": {"kind": {"type": "string"}},
            "x-kubernetes-group-version-kind": [
                {"group": "networking.k8s.io", "kind": "Ingress", "version": "v1"}
            ],
        },
        "io.k8s.api.core.v1.Service": {
            "type": "object",
            "properties": {"kind": {"type": "string"}},
            "x-kubernetes-group-version-kind": [{"group": "", "kind": "Service", "version": "v1"}],
        },
    }
}


def test_files_are_named_as_kubeconform_looks_them_up() -> None:
    files = openapi_to_schemas(SWAGGER)
    assert set(files) == {
        "deployment-apps-v1.json",
        "ingress-networking-v1.json",
        "service-v1.json",
    }  # no *List kinds
    assert kind_suffix("", "v1") == "-v1"
    assert kind_suffix("autoscaling", "v2") == "-autoscaling-v2"
    assert kind_suffix("policy", "v1") == "-policy-v1"


def test_schemas_are_standalone_strict_and_plain_json_schema() -> None:
    schema = openapi_to_schemas(SWAGGER)["deployment-apps-v1.json"]
    text = json.dumps(schema)
    assert "description" not in text and "x-kubernetes" not in text and "format" not in text
    assert schema["additionalProperties"] is False
    defs = schema["definitions"]
    # Exactly the transitive closure, including the self-recursive LabelSelector.
    assert set(defs) == {
        "io.k8s.meta.ObjectMeta",
        "io.k8s.api.apps.v1.DeploymentSpec",
        "io.k8s.meta.LabelSelector",
        "io.k8s.apimachinery.pkg.util.intstr.IntOrString",
        "io.k8s.apimachinery.pkg.api.resource.Quantity",
    }
    spec = defs["io.k8s.api.apps.v1.DeploymentSpec"]
    assert spec["additionalProperties"] is False and spec["required"] == ["selector"]
    # A map keeps its value schema instead of becoming strict.
    assert spec["properties"]["labels"]["additionalProperties"] == {"type": "string"}
    assert defs["io.k8s.apimachinery.pkg.util.intstr.IntOrString"] == {
        "anyOf": [{"type": "string"}, {"type": "integer"}]
    }
    assert defs["io.k8s.apimachinery.pkg.api.resource.Quantity"] == {
        "anyOf": [{"type": "string"}, {"type": "number"}]
    }


def test_non_strict_conversion_leaves_objects_open() -> None:
    schema = openapi_to_schemas(SWAGGER, strict=False)["deployment-apps-v1.json"]
    assert "additionalProperties" not in schema


def test_schemas_are_generated_once_and_cached(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("HELLO_PLATFORM_CACHE", str(tmp_path / "cache"))
    spec = tmp_path / "swagger.json"
    spec.write_text(json.dumps(SWAGGER))
    target = helm.ensure_schemas("1.34.4", spec=spec)
    assert target == tmp_path / "cache" / "kube-schemas" / "v1.34.4-standalone-strict"
    assert json.loads((target / "service-v1.json").read_text())["additionalProperties"] is False
    spec.unlink()  # a warm call never reads the document again
    assert helm.ensure_schemas("1.34.4") == target
    (target / ".complete").write_text("0\n")  # an older conversion is regenerated
    spec.write_text(json.dumps(SWAGGER))
    assert helm.ensure_schemas("1.34.4", spec=spec) == target
    assert (target / ".complete").read_text().strip() == SCHEMA_FORMAT


@pytest.mark.slow
def test_the_real_openapi_document_converts() -> None:
    """The pinned Kubernetes OpenAPI document (``go mod download``-ed) converts fully."""
    spec = openapi_document(helm.kubernetes_version())
    files = openapi_to_schemas(json.loads(spec.read_text()))
    for name in (
        "deployment-apps-v1.json",
        "service-v1.json",
        "horizontalpodautoscaler-autoscaling-v2.json",
        "poddisruptionbudget-policy-v1.json",
        "networkpolicy-networking-v1.json",
        "ingress-networking-v1.json",
        "serviceaccount-v1.json",
        "pod-v1.json",
    ):
        assert name in files, name
    assert "horizontalpodautoscaler-autoscaling-v2beta2.json" not in files  # removed in 1.26


def test_helm_failure_keeps_the_error_and_the_schema_findings() -> None:
    stderr = (
        "Error: values don't meet the specifications of the schema(s) in the following "
        "chart(s):\nhello:\n- at '/replicaCount': got string, want integer\n\n"
        "Use --debug flag to render out invalid YAML\n"
    )
    assert helm_failure("", stderr) == (
        "values don't meet the specifications of the schema(s) in the following chart(s): "
        "hello: - at '/replicaCount': got string, want integer"
    )


def test_helm_failure_reports_lint_findings_from_stdout() -> None:
    stdout = (
        "==> Linting deploy/helm/hello\n[INFO] Chart.yaml: icon is recommended\n"
        '[ERROR] templates/: template: hello/templates/x.yaml:3: function "nope" not defined\n'
    )
    out = helm_failure(stdout, "Error: 1 chart(s) linted, 1 chart(s) failed\n")
    assert out.startswith("1 chart(s) linted, 1 chart(s) failed")
    assert '[ERROR] templates/: template: hello/templates/x.yaml:3: function "nope"' in out
    assert "[INFO]" not in out
    assert helm_failure("", "") == "no output"


@pytest.mark.parametrize("item", ["novalue", "=x", "a b=c"])
def test_bad_set_items_are_named(item: str) -> None:
    with pytest.raises(PlatformError, match="is not of the form key=value"):
        parse_set(item)


def test_values_args_keep_the_order_helm_applies() -> None:
    args = values_args(
        [Path("a.yaml"), Path("b.yaml")], ["x.y=1", "list[0]=z"], {"image.tag": "007"}
    )
    assert args == [
        "--values", "a.yaml", "--values", "b.yaml",
        "--set", "x.y=1", "--set", "list[0]=z",
        "--set-string", "image.tag=007",
    ]  # fmt: skip


def test_profiles_and_variants_come_from_the_catalogue() -> None:
    svc = catalogue.service()
    assert profiles(svc) == ("default", *svc.profiles)
    assert helm.profile_files(svc, "default") == []
    assert helm.profile_files(svc, "local") == [svc.chart / "values-local.yaml"]
    assert all(f.is_file() for p in profiles(svc) for f in helm.profile_files(svc, p))
    with pytest.raises(PlatformError, match="service 'hello' has no values profile 'prod'"):
        helm.profile_files(svc, "prod")
    names = [v.name for v in helm.variants(svc)]
    assert names == ["default", "local", "eks", "features", "requests", "canary", "blueGreen"]
    (features,) = [v for v in helm.variants(svc) if v.name == "features"]
    assert "networkPolicy.enabled=true" in features.sets


def test_the_kubernetes_version_comes_from_the_toolchain_pins() -> None:
    from hello_platform.toolchain import load

    assert "v" + helm.kubernetes_version() == load().tools["kubernetes"].version


# ------------------------------------------------------------------- server-side dry run

DRY_RUN_MANIFESTS = """\
---
# Source: hello/templates/service.yaml
apiVersion: v1
kind: Service
metadata: {name: hello}
spec:
  ports:
    - port: 80
      nodePort: 30080
---
apiVersion: monitoring.coreos.com/v1
kind: ServiceMonitor
metadata: {name: hello}
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: hello}
spec: {selector: {}, template: {}}
"""

DRY_RUN_KUBECONFIG = """\
apiVersion: v1
kind: Config
clusters: [{name: c, cluster: {server: "https://k8s.test", insecure-skip-tls-verify: true}}]
users: [{name: u, user: {token: t}}]
contexts: [{name: c, context: {cluster: c, user: u}}]
current-context: c
"""


def _dry_run_api(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, warning: str | None
) -> list[tuple[str, str, dict[str, Any]]]:
    """A fake API server for the dry run; returns the log of (path, dryRun, body)."""
    import httpx2 as httpx
    from hello_platform.clients import kube as client
    from hello_platform.pipeline.helm import verify

    seen: list[tuple[str, str, dict[str, Any]]] = []

    def handler(request: httpx.Request) -> httpx.Response:
        body = json.loads(request.content or b"{}")
        seen.append((request.url.path, request.url.params.get("dryRun", ""), body))
        headers = {"Warning": f'299 - "{warning}"'} if warning and body.get("kind") else {}
        return httpx.Response(200, json=body, headers=headers)

    real = client.Kube
    monkeypatch.setattr(
        verify, "Kube", lambda path: real(path, transport=httpx.MockTransport(handler))
    )
    (tmp_path / "kubeconfig").write_text(DRY_RUN_KUBECONFIG)
    return seen


def test_server_dry_run_applies_into_a_restricted_namespace(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from hello_platform.pipeline.helm import verify

    seen = _dry_run_api(tmp_path, monkeypatch, None)
    assert (
        verify._dry_run(
            tmp_path / "kubeconfig", DRY_RUN_MANIFESTS, namespace="hello-dryrun", what="x"
        )
        == 2
    )
    namespace, service, deployment = seen
    assert namespace[0] == "/api/v1/namespaces/hello-dryrun" and namespace[1] == ""
    labels = namespace[2]["metadata"]["labels"]
    assert labels["pod-security.kubernetes.io/enforce"] == "restricted"
    assert service[0] == "/api/v1/namespaces/hello-dryrun/services/hello"
    assert deployment[0] == "/apis/apps/v1/namespaces/hello-dryrun/deployments/hello"
    assert service[1] == deployment[1] == "All"  # a dry run: nothing is persisted
    assert "nodePort" not in json.dumps(service[2])  # the deployed release holds it
    assert all("ServiceMonitor" not in json.dumps(body) for _, _, body in seen)


def test_server_dry_run_fails_on_a_pod_security_warning(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from hello_platform.pipeline.helm import verify

    warning = 'would violate PodSecurity "restricted:latest": runAsNonRoot != true'
    _dry_run_api(tmp_path, monkeypatch, warning)
    with pytest.raises(PlatformError, match="the cluster rejects x: would violate PodSecurity"):
        verify._dry_run(
            tmp_path / "kubeconfig", DRY_RUN_MANIFESTS, namespace="hello-dryrun", what="x"
        )
