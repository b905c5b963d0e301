"""Prometheus and KEDA manifests for the embedded cluster, rendered and checked as data."""

from __future__ import annotations

import base64
import json
import re
from pathlib import Path
from typing import Any

import pytest
import yaml
from cryptography import x509
from hello_platform import cli
from hello_platform.core import catalogue
from hello_platform.pipeline.monitoring import keda, prometheus
from hello_platform.substrate.cluster import pki

IMAGE = "127.0.0.1:5000/hello-platform/prometheus:sha-1@sha256:" + "a" * 64


RULES_DIR = catalogue.service().chart / "files" / "rules"


def docs(text: str) -> list[dict[str, Any]]:
    return [d for d in yaml.safe_load_all(text) if d]


def by_kind(items: list[dict[str, Any]], kind: str) -> list[dict[str, Any]]:
    return [d for d in items if d["kind"] == kind]


@pytest.fixture(scope="module")
def rendered() -> list[dict[str, Any]]:
    return docs(prometheus.render(IMAGE))


def test_prometheus_runs_restricted_without_api_access(rendered: list[dict[str, Any]]) -> None:
    (ns,) = by_kind(rendered, "Namespace")
    assert ns["metadata"]["labels"]["pod-security.kubernetes.io/enforce"] == "restricted"
    assert not [d for d in rendered if d["kind"] in {"ClusterRoleBinding", "RoleBinding"}]
    (sa,) = by_kind(rendered, "ServiceAccount")
    assert sa["automountServiceAccountToken"] is False
    (deploy,) = by_kind(rendered, "Deployment")
    pod = deploy["spec"]["template"]["spec"]
    assert pod["automountServiceAccountToken"] is False
    assert pod["securityContext"]["runAsNonRoot"] is True
    assert pod["securityContext"]["seccompProfile"] == {"type": "RuntimeDefault"}
    (c,) = pod["containers"]
    assert c["image"] == IMAGE
    assert c["securityContext"] == {
        "allowPrivilegeEscalation": False,
        "readOnlyRootFilesystem": True,
        "capabilities": {"drop": ["ALL"]},
    }
    assert f"--storage.tsdb.retention.time={prometheus.RETENTION}" in c["args"]
    (svc,) = by_kind(rendered, "Service")
    assert svc["spec"]["ports"][0]["nodePort"] == prometheus.NODE_PORT


def test_prometheus_scrapes_only_the_projects_releases(rendered: list[dict[str, Any]]) -> None:
    config_map = next(
        d for d in by_kind(rendered, "ConfigMap") if d["metadata"]["name"] == "prometheus"
    )
    config = yaml.safe_load(config_map["data"]["prometheus.yml"])
    (job,) = [j for j in config["scrape_configs"] if j["job_name"] == "hello"]
    (sd,) = job["dns_sd_configs"]
    assert sd["type"] == "SRV"
    assert sd["names"] == [
        f"_metrics._tcp.hello{pods}.{ns}.svc.cluster.local"
        for ns in ("hello", "hello-keda", "hello-e2e-requests", "hello-rollouts", "hello-gitops")
        for pods in ("-canary-pods", "-pods")  # the new revision's pods (Argo Rollouts), all
    ]
    relabel = {r["target_label"]: r for r in job["relabel_configs"]}
    assert relabel["namespace"]["replacement"] == "$2"  # "$$" in the template is one "$"
    name = sd["names"][3]  # hello-keda's pods Service; the regexes skip the port's name
    namespace = re.fullmatch(relabel["namespace"]["regex"], name)
    service = re.fullmatch(relabel["service"]["regex"], name)
    assert namespace and namespace.group(2) == "hello-keda"
    assert service and service.group(1) == "hello"


def test_prometheus_loads_the_charts_alert_rules(rendered: list[dict[str, Any]]) -> None:
    rules_map = next(d for d in rendered if d["metadata"]["name"] == "prometheus-rules")
    shipped = sorted(p.name for p in RULES_DIR.glob("*.yaml"))
    assert sorted(rules_map["data"]) == shipped
    for name in shipped:
        text = (RULES_DIR / name).read_text()
        assert yaml.safe_load(rules_map["data"][name]) == yaml.safe_load(text)


def test_a_config_change_restarts_prometheus() -> None:
    def config_hash(image: str) -> str:
        (deploy,) = by_kind(docs(prometheus.render(image)), "Deployment")
        return str(
            deploy["spec"]["template"]["metadata"]["annotations"]["hello-platform/config-hash"]
        )

    assert config_hash(IMAGE) == config_hash(IMAGE)
    assert config_hash(IMAGE) != config_hash(IMAGE.replace("a" * 64, "b" * 64))


def test_scalar_reads_the_first_sample(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(prometheus, "query", lambda q, api: [{"value": [1.0, "12.5"]}])
    assert prometheus.scalar("x") == 12.5
    monkeypatch.setattr(prometheus, "query", lambda q, api: [])
    assert prometheus.scalar("x") is None


def test_query_without_prometheus_is_a_plain_error() -> None:
    from hello_platform.core.errors import PlatformError

    with pytest.raises(PlatformError, match="did not answer"):
        prometheus.query("up", api="http://127.0.0.1:9", timeout=1)


REFS = {
    "keda-operator": "127.0.0.1:5000/hello-platform/keda-operator:sha-1@sha256:" + "1" * 64,
    "keda-adapter": "127.0.0.1:5000/hello-platform/keda-adapter:sha-2@sha256:" + "2" * 64,
}


def test_keda_overlay_swaps_in_our_images_by_digest() -> None:
    overlay = keda.overlay(REFS, b"CA PEM", "v2.21.0")
    assert overlay["resources"] == ["../config/minimal"]  # no admission webhooks
    assert overlay["labels"] == [
        {"pairs": {"app.kubernetes.io/version": "2.21.0"}, "includeSelectors": False}
    ]
    assert overlay["images"] == [
        {
            "name": "ghcr.io/kedacore/keda",
            "newName": "127.0.0.1:5000/hello-platform/keda-operator",
            "digest": "sha256:" + "1" * 64,
        },
        {
            "name": "ghcr.io/kedacore/keda-metrics-apiserver",
            "newName": "127.0.0.1:5000/hello-platform/keda-adapter",
            "digest": "sha256:" + "2" * 64,
        },
    ]
    patches = [json.loads(p["patch"]) for p in overlay["patches"]]
    operator = next(p for p in patches if p["metadata"]["name"] == "keda-operator")
    (container,) = operator["spec"]["template"]["spec"]["containers"]
    assert container["command"] == ["/keda-operator"]
    assert "--enable-cert-rotation=false" in container["args"]
    api = next(p for p in patches if p["kind"] == "APIService")
    assert base64.b64decode(api["spec"]["caBundle"]) == b"CA PEM"
    ns = next(p for p in patches if p["kind"] == "Namespace")
    assert ns["metadata"]["labels"]["pod-security.kubernetes.io/enforce"] == "restricted"


def test_keda_certificates_cover_both_services_and_both_directions(tmp_path: Path) -> None:
    certs = keda.certificates(tmp_path / "pki")
    assert set(certs) == {"ca.crt", "tls.crt", "tls.key"}
    leaf = x509.load_pem_x509_certificate(certs["tls.crt"])
    dns, _ = pki.sans(leaf)
    assert "keda-operator.keda.svc.cluster.local" in dns
    assert "keda-metrics-apiserver.keda.svc" in dns
    usages = leaf.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value
    assert set(usages) == set(pki.BOTH)
    ca = x509.load_pem_x509_certificate(certs["ca.crt"])
    assert leaf.issuer == ca.subject
    assert keda.certificates(tmp_path / "pki") == certs  # made once, then reused


def test_keda_secret_holds_the_certificates() -> None:
    secret = keda.secret({"ca.crt": b"a", "tls.crt": b"b", "tls.key": b"c"})
    assert secret["metadata"]["name"] == "kedaorg-certs"
    assert secret["type"] == "kubernetes.io/tls"
    data = secret["data"]
    assert isinstance(data, dict)
    assert base64.b64decode(data["tls.key"]) == b"c"


def test_cli_has_the_monitoring_command() -> None:
    args = cli.build_parser().parse_args(["monitoring", "up", "--no-keda"])
    assert args.no_keda is True
    with pytest.raises(SystemExit):
        cli.build_parser().parse_args(["monitoring", "down"])
