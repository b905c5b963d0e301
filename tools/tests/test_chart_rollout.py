"""The chart's progressive strategies (rollout.strategy canary / blueGreen), checked as data.

Rolling stays today's Deployment; canary and blueGreen render an Argo Rollouts Rollout with
the very same pod template, the new revision's headless pods Service, the AnalysisTemplate
(whose conditions are evaluated here: too little traffic is inconclusive) and autoscalers
that target the Rollout.
"""

from __future__ import annotations

import re
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml
from hello_platform.core.errors import PlatformError
from hello_platform.toolchain import resolve
from test_chart import Render, helm_bin, kinds, one, render

__all__ = ["helm_bin", "render"]  # the fixtures, shared with test_chart

STRATEGIES = ("canary", "blueGreen")
AUTOSCALERS = ("HorizontalPodAutoscaler", "ScaledObject")


def strategy(render: Render, name: str, *sets: str) -> list[dict[str, Any]]:
    return render("local", f"rollout.strategy={name}", *sets)


def analysis(docs: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    """The metrics of the main AnalysisTemplate, by name."""
    (template,) = [
        d for d in kinds(docs, "AnalysisTemplate") if d["metadata"]["name"] == "hello-analysis"
    ]
    return {m["name"]: m for m in template["spec"]["metrics"]}


def holds(condition: str, result: list[float]) -> bool:
    """An Argo Rollouts (expr) condition of the shapes the chart writes, evaluated."""
    python = condition.replace("&&", " and ").replace("||", " or ")
    assert re.fullmatch(r"[\w\s\[\]().<>=]+", python), condition
    return bool(eval(python, {"len": len}, {"result": result}))  # checked above: no calls but len


def outcome(metric: dict[str, Any], result: list[float]) -> str:
    """What Argo Rollouts makes of a measurement (utils/evaluate.EvaluateResult)."""
    if holds(metric["failureCondition"], result):
        return "Failed"
    return "Successful" if holds(metric["successCondition"], result) else "Inconclusive"


def test_rolling_is_the_default_and_renders_no_rollout(render: Render) -> None:
    docs = render("local")
    assert render("local", "rollout.strategy=rolling") == docs
    assert one(docs, "Deployment")
    assert not [d for d in docs if d["kind"] in {"Rollout", "AnalysisTemplate"}]
    assert "hello-canary-pods" not in {d["metadata"]["name"] for d in kinds(docs, "Service")}


@pytest.mark.parametrize("name", STRATEGIES)
def test_the_rollout_runs_the_deployments_pod_template(render: Render, name: str) -> None:
    docs = strategy(render, name)
    assert not kinds(docs, "Deployment")
    rollout = one(docs, "Rollout")
    deployment = one(render("local"), "Deployment")
    assert rollout["apiVersion"] == "argoproj.io/v1alpha1"
    assert rollout["spec"]["template"] == deployment["spec"]["template"]
    assert rollout["spec"]["selector"] == deployment["spec"]["selector"]
    assert "replicas" not in rollout["spec"]  # the autoscaler owns the count
    fixed = one(strategy(render, name, "autoscaling.enabled=false"), "Rollout")
    assert fixed["spec"]["replicas"] == 2


@pytest.mark.parametrize("name", STRATEGIES)
@pytest.mark.parametrize("mode", ["cpu", "requests"])
def test_the_autoscaler_targets_the_rollout(render: Render, name: str, mode: str) -> None:
    docs = strategy(render, name, f"autoscaling.mode={mode}")
    (scaler,) = [d for d in docs if d["kind"] in AUTOSCALERS]
    assert scaler["spec"]["scaleTargetRef"] == {
        "apiVersion": "argoproj.io/v1alpha1",
        "kind": "Rollout",
        "name": "hello",
    }


def test_canary_steps_are_weighted_and_analysed_in_the_background(render: Render) -> None:
    docs = strategy(render, "canary")
    canary = one(docs, "Rollout")["spec"]["strategy"]["canary"]
    assert canary["steps"] == [
        {"setWeight": 20},
        {"pause": {"duration": "30s"}},
        {"setWeight": 50},
        {"pause": {"duration": "30s"}},
    ]
    assert (canary["maxUnavailable"], canary["maxSurge"]) == (0, 1)
    assert "trafficRouting" not in canary  # replica-weighted, no mesh
    assert canary["canaryService"] == "hello-canary-pods"
    assert canary["analysis"]["templates"] == [{"templateName": "hello-analysis"}]
    assert canary["analysis"]["args"] == [{"name": "service", "value": "hello-canary"}]
    assert all("count" not in m for m in analysis(docs).values())  # until the last step


@pytest.mark.parametrize("name", STRATEGIES)
def test_the_new_pods_service_is_headless_and_scraped_on_http(render: Render, name: str) -> None:
    docs = strategy(render, name)
    services = {d["metadata"]["name"]: d for d in kinds(docs, "Service")}
    canary, pods = services["hello-canary-pods"], services["hello-pods"]
    assert canary["spec"]["clusterIP"] == "None"
    assert canary["spec"]["ports"] == pods["spec"]["ports"]  # one place names the port
    assert canary["spec"]["selector"] == one(docs, "Rollout")["spec"]["selector"]["matchLabels"]


def test_blue_green_previews_judges_and_promotes(render: Render) -> None:
    docs = strategy(render, "blueGreen")
    blue_green = one(docs, "Rollout")["spec"]["strategy"]["blueGreen"]
    assert blue_green["activeService"] == "hello"
    assert blue_green["previewService"] == "hello-canary-pods"
    assert blue_green["autoPromotionEnabled"] is True
    pre = blue_green["prePromotionAnalysis"]
    assert pre["templates"] == [
        {"templateName": "hello-analysis"},
        {"templateName": "hello-preview-traffic"},
    ]
    assert {m["count"] for m in analysis(docs).values()} == {4}  # it must end to promote
    (traffic,) = [
        d for d in kinds(docs, "AnalysisTemplate") if d["metadata"]["name"].endswith("-traffic")
    ]
    job = traffic["spec"]["metrics"][0]["provider"]["job"]["spec"]
    pod = job["template"]["spec"]
    (container,) = pod["containers"]
    assert container["args"] == ["http://hello-canary-pods:8000/", "300"]
    assert (
        container["image"]
        == one(docs, "Rollout")["spec"]["template"]["spec"]["containers"][0]["image"]
    )
    assert pod["securityContext"]["runAsNonRoot"] is True
    assert container["securityContext"]["capabilities"] == {"drop": ["ALL"]}
    assert job["backoffLimit"] == 0


@pytest.mark.parametrize(
    ("metric", "result", "expected"),
    [
        ("success-rate", [], "Inconclusive"),  # too little traffic: filtered out, never NaN
        ("success-rate", [1.0], "Successful"),
        ("success-rate", [0.95], "Failed"),  # faults.errorRate=0.05
        ("latency-p95", [], "Inconclusive"),
        ("latency-p95", [0.004], "Successful"),
        ("latency-p95", [0.5], "Failed"),  # faults.latencyMs
    ],
)
def test_measurements_pass_fail_or_are_inconclusive(
    render: Render, metric: str, result: list[float], expected: str
) -> None:
    assert outcome(analysis(strategy(render, "canary"))[metric], result) == expected


def test_the_queries_read_the_canarys_own_pods_and_parse(render: Render, tmp_path: Path) -> None:
    metrics = analysis(strategy(render, "canary"))
    rules = []
    for name, metric in metrics.items():
        query = metric["provider"]["prometheus"]["query"]
        assert query.count('service="{{args.service}}"') >= 2
        assert "and on() (sum(rate(hello_http_requests_total{" in query  # the traffic floor
        expr = query.replace("{{args.service}}", "hello-canary")
        rules.append({"record": f"check:{name.replace('-', '_')}", "expr": expr})
    path = tmp_path / "rules.yaml"
    path.write_text(yaml.safe_dump({"groups": [{"name": "analysis", "rules": rules}]}))
    done = subprocess.run(
        [str(resolve("promtool")), "check", "rules", str(path)], capture_output=True, text=True
    )
    assert done.returncode == 0, done.stdout + done.stderr


def test_prometheus_labels_the_canary_pods_as_the_analysis_expects() -> None:
    from hello_platform.pipeline.monitoring import prometheus

    config = (prometheus.MANIFESTS / "prometheus.yaml").read_text()
    regex = re.search(r"regex: (_.*-pods.*)\n\s+replacement: \$\$1", config)
    assert regex is not None
    srv = prometheus.srv_names([prometheus.PodsService("hello", "hello-canary-pods", "metrics")])[0]
    found = re.fullmatch(regex.group(1), srv)
    assert found is not None and found.group(1) == "hello-canary"


def test_an_unknown_strategy_is_refused_naming_the_key(render: Render) -> None:
    with pytest.raises(PlatformError, match=r"rollout.strategy"):
        render("local", "rollout.strategy=recreate")


@pytest.mark.parametrize("name", STRATEGIES)
def test_the_rollout_validates_against_the_pinned_crds_and_a_stray_field_is_refused(
    render: Render, name: str
) -> None:
    """kubeconform checks the Rollout and AnalysisTemplate against strict schemas of the
    pinned Argo Rollouts' CRDs: no kind skipped, and a misspelt strategy field fails."""
    from hello_platform.pipeline import helm

    kubeconform, version = helm.kubeconform_binary(), helm.kubernetes_version()
    docs = strategy(render, name)
    result = helm.validate(kubeconform, yaml.safe_dump_all(docs), version=version, what=name)
    assert result.skipped == 0 and result.valid == len(docs)
    one(docs, "Rollout")["spec"]["strategy"][name]["maxSurgeWeight"] = 20
    with pytest.raises(PlatformError, match=r"Rollout/hello: .*maxSurgeWeight"):
        helm.validate(kubeconform, yaml.safe_dump_all(docs), version=version, what=name)
