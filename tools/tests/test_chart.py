"""The hello chart, rendered by the pinned helm and checked as data.

Each test renders ``deploy/helm/hello`` with ``helm template`` (about 0.1 s each) and asserts
what the platform promises: hardened pods, probes, limits, matching selectors, an
``autoscaling/v2`` HPA, a PDB only when it can be satisfied, drain-consistent shutdown,
schema errors that name the bad key.

helm comes from the toolchain resolver: the cache when warm, otherwise it is built once
(about a minute) before the first test; nothing here is skipped.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from hello_platform.core import catalogue
from hello_platform.core.errors import PlatformError
from hello_platform.pipeline import helm
from hello_platform.pipeline.helm.chart import FEATURES_SETS, check_files, lint, profiles

Render = Callable[..., list[dict[str, Any]]]
HELLO = catalogue.service()
PROFILES = list(profiles(HELLO))


@pytest.fixture(scope="session")
def helm_bin() -> Path:
    return helm.helm_binary()


@pytest.fixture(scope="session")
def render(helm_bin: Path) -> Render:
    cache: dict[tuple[Any, ...], list[dict[str, Any]]] = {}

    def _render(profile: str = "default", *sets: str, **set_strings: str) -> list[dict[str, Any]]:
        key = (profile, sets, tuple(sorted(set_strings.items())))
        if key not in cache:
            text = helm.render(
                helm_bin,
                HELLO,
                values_files=[
                    *helm.profile_files(HELLO, profile),
                    *check_files(HELLO, profile),
                ],
                sets=sets,
                set_strings={k.replace("__", "."): v for k, v in set_strings.items()},
            )
            cache[key] = [d for d in yaml.safe_load_all(text) if d]
        return cache[key]

    return _render


def kinds(docs: list[dict[str, Any]], kind: str) -> list[dict[str, Any]]:
    return [d for d in docs if d["kind"] == kind]


def one(docs: list[dict[str, Any]], kind: str) -> dict[str, Any]:
    (found,) = kinds(docs, kind)
    return found


def main_service(docs: list[dict[str, Any]]) -> dict[str, Any]:
    """The Service clients use (not the headless ``-pods`` one for discovery)."""
    (found,) = [d for d in kinds(docs, "Service") if not d["metadata"]["name"].endswith("-pods")]
    return found


def pod_specs(docs: list[dict[str, Any]]) -> Iterator[tuple[str, dict[str, Any]]]:
    """(name, pod spec) of every pod the chart creates, the helm test pod included."""
    for d in docs:
        if d["kind"] == "Deployment":
            yield d["metadata"]["name"], d["spec"]["template"]["spec"]
        elif d["kind"] == "Pod":
            yield d["metadata"]["name"], d["spec"]


def values(profile: str) -> dict[str, Any]:
    merged: dict[str, Any] = yaml.safe_load((HELLO.chart / "values.yaml").read_text())
    for f in helm.profile_files(HELLO, profile):
        merged = _merge(merged, yaml.safe_load(f.read_text()))
    return merged


def _merge(base: dict[str, Any], over: dict[str, Any]) -> dict[str, Any]:
    out = dict(base)
    for k, v in over.items():
        out[k] = _merge(out[k], v) if isinstance(v, dict) and isinstance(out.get(k), dict) else v
    return out


# ------------------------------------------------------------------- every profile


@pytest.mark.parametrize("profile", PROFILES)
def test_every_container_is_hardened_and_bounded(render: Render, profile: str) -> None:
    docs = render(profile)
    for name, spec in pod_specs(docs):
        assert spec["automountServiceAccountToken"] is False, name
        assert spec["enableServiceLinks"] is False, name
        psc = spec["securityContext"]
        assert psc["runAsNonRoot"] is True and isinstance(psc["runAsUser"], int), name
        assert psc["runAsUser"] > 0 and psc["seccompProfile"]["type"] == "RuntimeDefault", name
        for c in spec["containers"]:
            sc = c["securityContext"]
            assert sc["allowPrivilegeEscalation"] is False, name
            assert sc["readOnlyRootFilesystem"] is True, name
            assert sc["capabilities"]["drop"] == ["ALL"], name
            assert "add" not in sc["capabilities"], name
            assert sc["runAsNonRoot"] is True, name
            assert sc["seccompProfile"]["type"] == "RuntimeDefault", name
            for kind in ("requests", "limits"):
                assert set(c["resources"][kind]) >= {"cpu", "memory"}, (name, kind)
            image = c["image"]
            assert re.fullmatch(
                r"[^:@]+(:[\w][\w.-]*)(@sha256:[0-9a-f]{64})?", image.split("/")[-1]
            ), image
            assert not image.endswith(":latest"), image


@pytest.mark.parametrize("profile", PROFILES)
def test_service_container_has_probes_and_a_writable_tmp(render: Render, profile: str) -> None:
    spec = one(render(profile), "Deployment")["spec"]["template"]["spec"]
    (c,) = spec["containers"]
    assert c["startupProbe"]["httpGet"]["path"] == "/healthz"
    assert c["livenessProbe"]["httpGet"]["path"] == "/healthz"
    assert c["readinessProbe"]["httpGet"]["path"] == "/readyz"
    for probe in ("startupProbe", "livenessProbe", "readinessProbe"):
        assert c[probe]["httpGet"]["port"] == "http"
    assert {"name": "tmp", "mountPath": "/tmp"} in c["volumeMounts"]
    (tmp,) = [v for v in spec["volumes"] if v["name"] == "tmp"]
    assert "emptyDir" in tmp


@pytest.mark.parametrize("profile", PROFILES)
def test_shutdown_covers_the_apps_drain(render: Render, profile: str) -> None:
    """preStop pause + the app's 503 drain + its graceful shutdown fit in the grace period."""
    spec = one(render(profile), "Deployment")["spec"]["template"]["spec"]
    (c,) = spec["containers"]
    env = {e["name"]: e.get("value") for e in c["env"]}
    pre_stop = c["lifecycle"]["preStop"]["sleep"]["seconds"]
    drain = float(env["HELLO_DRAIN_SECONDS"])
    grace = float(env["HELLO_GRACE_PERIOD_SECONDS"])
    assert pre_stop >= 1 and drain >= 1
    assert spec["terminationGracePeriodSeconds"] >= pre_stop + drain + grace
    assert env["HELLO_PORT"] == str(c["ports"][0]["containerPort"])


@pytest.mark.parametrize("profile", PROFILES)
def test_metrics_have_a_port_of_their_own_that_no_user_facing_service_exposes(
    render: Render, profile: str
) -> None:
    """The app serves /metrics on the port named metrics; the Service an Ingress or NodePort
    routes users to has the http port alone, and only the headless pods Service (Prometheus'
    discovery) has the metrics port."""
    docs = render(profile, "serviceMonitor.enabled=true")
    (c,) = one(docs, "Deployment")["spec"]["template"]["spec"]["containers"]
    ports = {p["name"]: p["containerPort"] for p in c["ports"]}
    env = {e["name"]: e.get("value") for e in c["env"]}
    assert env["HELLO_METRICS_PORT"] == str(ports["metrics"]) != env["HELLO_PORT"]
    assert [p["targetPort"] for p in main_service(docs)["spec"]["ports"]] == ["http"]
    (pods,) = [d for d in kinds(docs, "Service") if d["metadata"]["name"].endswith("-pods")]
    assert pods["spec"]["clusterIP"] == "None"
    assert [(p["name"], p["targetPort"]) for p in pods["spec"]["ports"]] == [("metrics", "metrics")]
    assert [e["port"] for e in one(docs, "ServiceMonitor")["spec"]["endpoints"]] == ["metrics"]
    for ingress in kinds(docs, "Ingress"):
        for rule in ingress["spec"]["rules"]:
            for path in rule["http"]["paths"]:
                assert path["backend"]["service"]["name"] == main_service(docs)["metadata"]["name"]


@pytest.mark.parametrize("profile", PROFILES)
def test_selectors_match_the_pods(render: Render, profile: str) -> None:
    docs = render(profile)
    deploy = one(docs, "Deployment")
    pod_labels = deploy["spec"]["template"]["metadata"]["labels"]
    selector = deploy["spec"]["selector"]["matchLabels"]
    assert selector.items() <= pod_labels.items()
    for svc in kinds(docs, "Service"):
        assert svc["spec"]["selector"] == selector
    for pdb in kinds(docs, "PodDisruptionBudget"):
        assert pdb["spec"]["selector"]["matchLabels"] == selector
    for tsc in deploy["spec"]["template"]["spec"].get("topologySpreadConstraints", []):
        assert tsc["labelSelector"]["matchLabels"] == selector
    for hpa in kinds(docs, "HorizontalPodAutoscaler"):
        assert hpa["spec"]["scaleTargetRef"]["name"] == deploy["metadata"]["name"]
    # The Service must never route to the helm test pod.
    for test_pod in kinds(docs, "Pod"):
        assert not selector.items() <= test_pod["metadata"]["labels"].items()
    for d in docs:
        labels = d["metadata"]["labels"]
        assert labels["app.kubernetes.io/managed-by"] == "Helm"
        assert {"app.kubernetes.io/name", "app.kubernetes.io/instance"} <= labels.keys()


@pytest.mark.parametrize("profile", PROFILES)
def test_rolling_update_never_drops_serving_pods(render: Render, profile: str) -> None:
    strategy = one(render(profile), "Deployment")["spec"]["strategy"]
    assert strategy["type"] == "RollingUpdate"
    assert strategy["rollingUpdate"]["maxUnavailable"] == 0
    assert strategy["rollingUpdate"]["maxSurge"] >= 1


@pytest.mark.parametrize("profile", PROFILES)
def test_hpa_is_autoscaling_v2_and_owns_the_replicas(render: Render, profile: str) -> None:
    docs = render(profile)
    hpa = one(docs, "HorizontalPodAutoscaler")
    assert hpa["apiVersion"] == "autoscaling/v2"
    assert "replicas" not in one(docs, "Deployment")["spec"]
    v = values(profile)["autoscaling"]
    assert hpa["spec"]["behavior"] == v["behavior"]
    assert hpa["spec"]["minReplicas"] == v["minReplicas"]
    assert hpa["spec"]["maxReplicas"] == v["maxReplicas"]
    (metric,) = hpa["spec"]["metrics"]
    assert metric["resource"]["target"] == {
        "type": "Utilization",
        "averageUtilization": v["targetCPUUtilizationPercentage"],
    }


@pytest.mark.parametrize("profile", PROFILES)
def test_requests_mode_renders_a_scaled_object_instead_of_the_hpa(
    render: Render, profile: str
) -> None:
    docs = render(profile, "autoscaling.mode=requests")
    assert not kinds(docs, "HorizontalPodAutoscaler")
    assert "replicas" not in one(docs, "Deployment")["spec"]
    so = one(docs, "ScaledObject")
    assert so["apiVersion"] == "keda.sh/v1alpha1"
    v = values(profile)["autoscaling"]
    r = v["requests"]
    spec = so["spec"]
    assert spec["scaleTargetRef"] == {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "name": "hello",
    }
    assert (spec["minReplicaCount"], spec["maxReplicaCount"]) == (
        v["minReplicas"],
        v["maxReplicas"],
    )
    assert spec["advanced"]["horizontalPodAutoscalerConfig"]["behavior"] == v["behavior"]
    assert spec["fallback"] == {
        "failureThreshold": r["failureThreshold"],
        "replicas": r["fallbackReplicas"],
        "behavior": r["fallbackBehavior"],
    }
    (trigger,) = spec["triggers"]
    assert trigger["type"] == "prometheus" and trigger["metricType"] == "AverageValue"
    meta = trigger["metadata"]
    assert meta["serverAddress"] == r["serverAddress"]
    assert float(meta["threshold"]) == r["targetPerPod"]
    assert meta["query"] == (
        'sum(rate(hello_http_requests_total{namespace="default",service="hello",'
        f'route!~"/healthz|/readyz|/metrics"}}[{r["window"]}]))'
    )
    assert all(isinstance(value, str) for value in meta.values())  # KEDA wants strings


def test_cpu_mode_is_todays_hpa(render: Render) -> None:
    assert render("local", "autoscaling.mode=cpu") == render("local")
    assert not kinds(render("local"), "ScaledObject")


def test_pods_service_is_headless_on_the_metrics_port(render: Render) -> None:
    (svc,) = [d for d in kinds(render("local"), "Service") if d["metadata"]["name"] == "hello-pods"]
    assert svc["spec"]["clusterIP"] == "None"
    assert [p["name"] for p in svc["spec"]["ports"]] == ["metrics"]  # SRV _metrics._tcp
    assert (
        svc["spec"]["selector"]
        == one(render("local"), "Deployment")["spec"]["selector"]["matchLabels"]
    )


def test_prometheus_rule_carries_the_shipped_rule_files(render: Render) -> None:
    rule = one(render("default", "prometheusRule.enabled=true"), "PrometheusRule")
    shipped = yaml.safe_load((HELLO.chart / "files" / "rules" / "hello-alerts.yaml").read_text())
    assert rule["spec"]["groups"] == shipped["groups"]
    alerts = {r["alert"] for g in shipped["groups"] for r in g["rules"]}
    assert alerts == {
        "HelloHighErrorRatio",
        "HelloHighLatencyP95",
        "HelloTargetDown",
        "HelloHpaAtMaxReplicas",
    }


def test_without_the_hpa_the_deployment_sets_replicas(render: Render) -> None:
    docs = render("default", "autoscaling.enabled=false", "replicaCount=3")
    assert not kinds(docs, "HorizontalPodAutoscaler")
    assert one(docs, "Deployment")["spec"]["replicas"] == 3


@pytest.mark.parametrize("profile", PROFILES)
def test_prometheus_scrape_annotations_are_spelt_right(render: Render, profile: str) -> None:
    deploy = one(render(profile), "Deployment")
    annotations = deploy["spec"]["template"]["metadata"]["annotations"]
    (port,) = [
        p["containerPort"]
        for p in deploy["spec"]["template"]["spec"]["containers"][0]["ports"]
        if p["name"] == "metrics"
    ]
    assert annotations["prometheus.io/scrape"] == "true"
    assert annotations["prometheus.io/path"] == "/metrics"
    assert annotations["prometheus.io/port"] == str(port)
    assert not [
        k
        for d in render(profile)
        for k in json.dumps(d).split('"')
        if k.startswith("prometheus_io")
    ]


# ------------------------------------------------------------------- PDB


@pytest.mark.parametrize(
    ("sets", "expected"),
    [
        ((), True),  # default: minReplicas 2, minAvailable 1
        (("pdb.minAvailable=2",), False),  # 2 < 2 is false: could never be satisfied
        (("autoscaling.minReplicas=1",), False),
        (("autoscaling.enabled=false", "replicaCount=1"), False),
        (("autoscaling.enabled=false", "replicaCount=3", "pdb.minAvailable=2"), True),
        (("pdb.enabled=false",), False),
    ],
)
def test_pdb_only_when_it_can_be_satisfied(
    render: Render, sets: tuple[str, ...], expected: bool
) -> None:
    assert bool(kinds(render("default", *sets), "PodDisruptionBudget")) is expected


# ------------------------------------------------------------------- the profiles


def test_local_profile_fits_the_embedded_cluster(render: Render) -> None:
    docs = render("local")
    svc = main_service(docs)
    assert svc["spec"]["type"] == "NodePort" and svc["spec"]["ports"][0]["nodePort"] == 30080
    hpa = one(docs, "HorizontalPodAutoscaler")["spec"]
    assert (hpa["minReplicas"], hpa["maxReplicas"]) == (1, 5)
    assert 40 <= hpa["metrics"][0]["resource"]["target"]["averageUtilization"] <= 60
    assert hpa["behavior"]["scaleDown"]["stabilizationWindowSeconds"] <= 60
    assert hpa["behavior"]["scaleUp"]["stabilizationWindowSeconds"] == 0
    assert not kinds(docs, "PodDisruptionBudget")  # one replica: no PDB can be satisfied
    requests = one(docs, "Deployment")["spec"]["template"]["spec"]["containers"][0]["resources"][
        "requests"
    ]
    assert requests["cpu"] in ("50m", "100m", "200m")


def test_eks_profile_is_production_safe(render: Render) -> None:
    docs = render("eks")
    hpa = one(docs, "HorizontalPodAutoscaler")["spec"]
    assert hpa["minReplicas"] >= 2
    assert hpa["behavior"]["scaleDown"]["stabilizationWindowSeconds"] >= 300
    pdb = one(docs, "PodDisruptionBudget")["spec"]
    assert 1 <= pdb["minAvailable"] < hpa["minReplicas"]
    spread = one(docs, "Deployment")["spec"]["template"]["spec"]["topologySpreadConstraints"]
    keys = {t["topologyKey"] for t in spread}
    assert {"topology.kubernetes.io/zone", "kubernetes.io/hostname"} <= keys
    assert main_service(docs)["spec"]["type"] == "ClusterIP"


def test_eks_alb_serves_https_only_and_the_public_routes_only(render: Render) -> None:
    """443 with the ACM certificate, HTTP redirected, and only paths the app serves publicly
    (each one answers 200 in the app; none is /metrics, /docs or /openapi.json, and no "/"
    Prefix covers them)."""
    from fastapi.testclient import TestClient
    from hello.main import create_app

    ingress = one(render("eks"), "Ingress")
    annotations = ingress["metadata"]["annotations"]
    (arn,) = [yaml.safe_load(f.read_text()) for f in check_files(HELLO, "eks")]
    assert (
        annotations["alb.ingress.kubernetes.io/certificate-arn"] == arn["ingress"]["certificateArn"]
    )
    assert json.loads(annotations["alb.ingress.kubernetes.io/listen-ports"]) == [
        {"HTTP": 80},
        {"HTTPS": 443},
    ]
    assert annotations["alb.ingress.kubernetes.io/ssl-redirect"] == "443"
    assert annotations["alb.ingress.kubernetes.io/scheme"] == "internet-facing"
    (rule,) = ingress["spec"]["rules"]
    paths = {p["path"]: p["pathType"] for p in rule["http"]["paths"]}
    assert paths == {"/": "Exact", "/version": "Exact"}
    with TestClient(create_app()) as client:
        for path in paths:
            assert client.get(path).status_code == 200, path


def test_the_eks_profile_needs_a_certificate_to_render(helm_bin: Path) -> None:
    """values-eks.yaml alone (what a deploy reads) fails with one sentence naming the value."""
    with pytest.raises(PlatformError, match=r"ingress.certificateArn is required for an ALB"):
        helm.render(helm_bin, HELLO, values_files=helm.profile_files(HELLO, "eks"))
    docs = yaml.safe_load_all(
        helm.render(
            helm_bin,
            HELLO,
            values_files=helm.profile_files(HELLO, "eks"),
            sets=("ingress.enabled=false",),
        )
    )
    assert "Ingress" not in {d["kind"] for d in docs if d}


def test_optional_resources_are_off_by_default(render: Render) -> None:
    present = {d["kind"] for d in render("default")}
    assert not present & {"NetworkPolicy", "Ingress", "ServiceMonitor", "PrometheusRule"}


def test_optional_resources_render_when_enabled(render: Render) -> None:
    docs = render("default", *FEATURES_SETS)
    present = {d["kind"] for d in docs}
    assert {"NetworkPolicy", "Ingress", "ServiceMonitor"} <= present
    netpol = one(docs, "NetworkPolicy")["spec"]
    assert netpol["policyTypes"] == ["Ingress", "Egress"]
    http, scrape = netpol["ingress"]
    assert [p["port"] for p in http["ports"]] == ["http"]
    assert [p["port"] for p in scrape["ports"]] == ["metrics"]  # from Prometheus' namespace only
    assert scrape["from"] == [
        {"namespaceSelector": {"matchLabels": {"kubernetes.io/metadata.name": "monitoring"}}}
    ]
    sm = one(docs, "ServiceMonitor")["spec"]
    assert sm["endpoints"][0]["path"] == "/metrics" and sm["endpoints"][0]["port"] == "metrics"
    ing = one(docs, "Ingress")["spec"]
    assert ing["tls"][0]["secretName"] == "tls"


def test_image_reference_from_the_build(render: Render) -> None:
    digest = "sha256:" + "ab" * 32
    docs = render(
        "local",
        image__repository="127.0.0.1:5000/hello",
        image__tag="0123abcd",
        image__digest=digest,
    )
    for _, spec in pod_specs(docs):
        assert spec["containers"][0]["image"] == f"127.0.0.1:5000/hello:0123abcd@{digest}"
    labels = one(docs, "Deployment")["metadata"]["labels"]
    assert labels["app.kubernetes.io/version"] == "0123abcd"


def test_image_pull_secrets_reach_the_pods_only_when_given(render: Render) -> None:
    docs = render("local", "imagePullSecrets[0].name=hello-registry")
    for _, spec in pod_specs(docs):  # the app's pods and helm test's
        assert spec["imagePullSecrets"] == [{"name": "hello-registry"}]
    plain = one(render("local"), "Deployment")["spec"]["template"]["spec"]
    assert "imagePullSecrets" not in plain


# ------------------------------------------------------------------- faults and tests


def test_helm_test_pod_is_a_hook_using_the_app_image(render: Render) -> None:
    docs = render("local")
    pod = one(docs, "Pod")
    annotations = pod["metadata"]["annotations"]
    assert annotations["helm.sh/hook"] == "test"
    assert "hook-succeeded" in annotations["helm.sh/hook-delete-policy"]
    assert pod["spec"]["restartPolicy"] == "Never"
    app_image = one(docs, "Deployment")["spec"]["template"]["spec"]["containers"][0]["image"]
    assert pod["spec"]["containers"][0]["image"] == app_image
    args = pod["spec"]["containers"][0]["args"]
    assert args[0] == "http://hello:80" and {"/readyz", "/", "/version"} <= set(args[1:])


def test_faults_switch_readiness_and_test_to_failing_routes(render: Render) -> None:
    docs = render("local", "faults.unready=true", "faults.testFailure=true")
    c = one(docs, "Deployment")["spec"]["template"]["spec"]["containers"][0]
    assert c["readinessProbe"]["httpGet"]["path"] == "/readyz-fault-injected"
    assert c["livenessProbe"]["httpGet"]["path"] == "/healthz"  # alive, just never Ready
    assert "/test-fault-injected" in one(docs, "Pod")["spec"]["containers"][0]["args"]


def env_of(docs: list[dict[str, Any]]) -> dict[str, str]:
    container = one(docs, "Deployment")["spec"]["template"]["spec"]["containers"][0]
    return {e["name"]: e.get("value", "") for e in container["env"]}


def test_fault_injection_is_off_unless_set_and_reaches_the_app_settings(
    render: Render, monkeypatch: pytest.MonkeyPatch
) -> None:
    from hello.settings import Settings

    assert not {"HELLO_FAULT_ERROR_RATE", "HELLO_FAULT_LATENCY_MS"} & set(env_of(render("local")))
    env = env_of(render("local", "faults.errorRate=0.25", "faults.latencyMs=300"))
    assert (env["HELLO_FAULT_ERROR_RATE"], env["HELLO_FAULT_LATENCY_MS"]) == ("0.25", "300")
    assert env_of(render("local", "faults.errorRate=1"))["HELLO_FAULT_ERROR_RATE"] == "1"
    for name in ("HELLO_FAULT_ERROR_RATE", "HELLO_FAULT_LATENCY_MS"):
        monkeypatch.setenv(name, env[name])
    settings = Settings()
    assert (settings.fault_error_rate, settings.fault_latency_ms) == (0.25, 300)


def test_the_app_serves_the_probe_paths_and_404s_the_fault_paths() -> None:
    """The chart's probe paths exist in the app; its fault paths really answer 404."""
    from fastapi.testclient import TestClient
    from hello.main import create_app

    with TestClient(create_app()) as client:
        for path in ("/healthz", "/readyz", "/", "/version"):
            assert client.get(path).status_code == 200, path
        for path in ("/readyz-fault-injected", "/test-fault-injected", "/metrics"):
            assert client.get(path).status_code == 404, path


# ------------------------------------------------------------------- schema negatives


@pytest.mark.parametrize(
    ("sets", "message"),
    [
        (("iamge.tag=x",), "additional properties 'iamge' not allowed"),
        (("probes.readiness.perodSeconds=1",), "'perodSeconds' not allowed"),
        (
            ("autoscaling.behavior.scaleDown.stabilisationWindowSeconds=1",),
            "'stabilisationWindowSeconds' not allowed",
        ),
        (("replicaCount=three",), "/replicaCount': got string, want integer"),
        (("service.type=Internal",), "/service/type"),
        (("podSecurityContext.runAsUser=0",), "/podSecurityContext/runAsUser"),
        (("image.tag=latest",), 'image.tag must not be "latest"'),
        (("terminationGracePeriodSeconds=5",), "terminationGracePeriodSeconds (5) must be"),
        (("autoscaling.minReplicas=6", "autoscaling.maxReplicas=5"), "must not exceed"),
        (("service.nodePort=30080",), "service.type is ClusterIP"),
        (("autoscaling.mode=memory",), "/autoscaling/mode"),
        (("autoscaling.requests.targetPerPod=0",), "/autoscaling/requests/targetPerPod"),
        (("faults.errorRate=1.5",), "/faults/errorRate"),
        (("faults.errorRate=often",), "/faults/errorRate"),
        (("faults.latencyMs=-1",), "/faults/latencyMs"),
        (("metrics.port=8000",), "metrics.port (8000) must differ from containerPort"),
        (("ingress.paths./=Prefix",), "/ingress/paths/~1"),
        (("ingress.paths.metrics=Exact",), "'metrics' does not match pattern '^/'"),
        (("ingress.certificateArn=my-cert",), "/ingress/certificateArn"),
        (
            ("ingress.enabled=true", "ingress.className=alb"),
            "ingress.certificateArn is required for an ALB Ingress",
        ),
        (
            ("autoscaling.mode=requests", "autoscaling.requests.fallbackReplicas=11"),
            "fallbackReplicas (11) must not exceed",
        ),
    ],
)
def test_bad_values_are_rejected_with_the_key_named(
    helm_bin: Path, sets: tuple[str, ...], message: str
) -> None:
    with pytest.raises(PlatformError) as err:
        helm.render(helm_bin, HELLO, sets=sets)
    assert message in str(err.value)
    assert str(err.value).startswith("rendering the chart failed: ")


def test_a_malformed_values_file_is_named(helm_bin: Path, tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("image:\n  tag: [oops\n")
    with pytest.raises(PlatformError) as err:
        helm.render(helm_bin, HELLO, values_files=[bad])
    assert str(bad) in str(err.value) and "line 2" in str(err.value)


def test_lint_is_strict_and_clean(helm_bin: Path) -> None:
    for profile in PROFILES:
        report = lint(helm_bin, HELLO.chart, helm.profile_files(HELLO, profile))
        assert "0 chart(s) failed" in report and "[WARNING]" not in report


# ------------------------------------------------------------------- values.yaml and schema


def _leaf_paths(node: Any, prefix: str = "") -> Iterator[str]:
    if isinstance(node, dict) and node:
        for k, v in node.items():
            yield from _leaf_paths(v, f"{prefix}.{k}" if prefix else k)
    else:
        yield prefix


def test_every_value_is_documented_by_a_comment_starting_with_its_name() -> None:
    text = (HELLO.chart / "values.yaml").read_text()
    documented = set(re.findall(r"(?m)^\s*# ([A-Za-z][\w.]*) -- ", text))
    data = yaml.safe_load(text)
    for leaf in _leaf_paths(data):
        parts = leaf.split(".")
        prefixes = {".".join(parts[:i]) for i in range(1, len(parts) + 1)}
        assert prefixes & documented, f"{leaf} has no '# <name> -- ' comment"
    for name in documented:  # no comment for a key that does not exist
        node: Any = data
        for part in name.split("."):
            assert isinstance(node, dict) and part in node, f"stale doc comment: {name}"
            node = node[part]


def test_value_keys_are_camel_case() -> None:
    free_form = {
        "topologySpread",
        "podAnnotations",
        "podLabels",
        "nodeSelector",
        "annotations",
        "labels",
        "extraEnv",
        "ingressNamespaceLabels",
        "scraperNamespaceLabels",
        "paths",
    }

    def walk(node: Any) -> Iterator[str]:
        if isinstance(node, dict):
            for k, v in node.items():
                yield k
                if k not in free_form:
                    yield from walk(v)

    for profile in PROFILES:
        for key in walk(values(profile)):
            assert re.fullmatch(r"[a-z][A-Za-z0-9]*", key), (profile, key)


def test_schema_forbids_unknown_keys_at_every_level() -> None:
    schema = json.loads((HELLO.chart / "values.schema.json").read_text())

    def walk(node: Any, where: str) -> Iterator[str]:
        if isinstance(node, dict):
            is_record = node.get("type") == "object" and "properties" in node
            if is_record and node.get("additionalProperties") is not False:
                yield where
            for k, v in node.items():
                yield from walk(v, f"{where}/{k}")
        elif isinstance(node, list):
            for i, v in enumerate(node):
                yield from walk(v, f"{where}/{i}")

    assert list(walk(schema, "#")) == []
    # Free-form maps only take strings (or, for topologySpread, one constraint shape).
    props = schema["properties"]
    assert props["podAnnotations"]["additionalProperties"] == {"type": "string"}
    assert (
        props["topologySpread"]["additionalProperties"]["anyOf"][1]["additionalProperties"] is False
    )
