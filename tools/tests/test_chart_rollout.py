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


def analysis(docs: list[dict[str, Any]], name: str = "analysis") -> dict[str, dict[str, Any]]:
    """The metrics of the AnalysisTemplate ``hello-<name>``, by name."""
    (template,) = [
        d for d in kinds(docs, "AnalysisTemplate") if d["metadata"]["name"] == f"hello-{name}"
    ]
    return {m["name"]: m for m in template["spec"]["metrics"]}


NEW_PODS = (
    '* on(instance) group_left() hello_build_info{namespace="default",'
    'service="{{args.service}}",pod=~".+-{{args.canary-hash}}-[a-z0-9]+"}'
)


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
    args = [
        {"name": "service", "value": "hello-canary"},
        {"name": "canary-hash", "valueFrom": {"podTemplateHashValue": "Latest"}},
    ]
    assert canary["steps"] == [
        {"setWeight": 20},
        {"pause": {"duration": "30s"}},
        {"setWeight": 50},
        {"pause": {"duration": "30s"}},
        {"analysis": {"templates": [{"templateName": "hello-verdict"}], "args": args}},
    ]
    assert (canary["maxUnavailable"], canary["maxSurge"]) == (0, 1)
    assert "trafficRouting" not in canary  # replica-weighted, no mesh
    assert canary["canaryService"] == "hello-canary-pods"
    assert canary["analysis"]["templates"] == [{"templateName": "hello-analysis"}]
    assert canary["analysis"]["args"] == args
    assert all("count" not in m for m in analysis(docs).values())  # until the last step


def test_a_canary_is_promoted_only_on_a_verdict(render: Render) -> None:
    """The last step's analysis must end, every measurement a success: an unjudged canary
    (the background analysis still waiting for data) is never promoted by the clock."""
    verdict = analysis(strategy(render, "canary"), "verdict")
    assert set(verdict) == {"success-rate", "latency-p95"}
    for metric in verdict.values():
        assert (metric["count"], metric["failureLimit"], metric["inconclusiveLimit"]) == (2, 0, 0)
        background = analysis(strategy(render, "canary"))[metric["name"]]
        assert metric["provider"] == background["provider"]
    three = analysis(strategy(render, "canary", "rollout.canary.verdictMeasurements=3"), "verdict")
    assert {m["count"] for m in three.values()} == {3}


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
        # Every rate is joined to the new pods' (by the template hash in the pod's name).
        assert query.count("rate(") == query.count(NEW_PODS) >= 2
        expr = query.replace("{{args.service}}", "hello-canary")
        expr = expr.replace("{{args.canary-hash}}", "5d7f6b686b")
        rules.append({"record": f"check:{name.replace('-', '_')}", "expr": expr})
    path = tmp_path / "rules.yaml"
    path.write_text(yaml.safe_dump({"groups": [{"name": "analysis", "rules": rules}]}))
    done = subprocess.run(
        [str(resolve("promtool")), "check", "rules", str(path)], capture_output=True, text=True
    )
    assert done.returncode == 0, done.stdout + done.stderr


def _series(instance: str, pod: str, ok_per_5s: int, errors_per_5s: int) -> list[dict[str, str]]:
    target = f'namespace="default",service="hello-canary",instance="{instance}"'
    request = f'hello_http_requests_total{{{target},method="GET",route="/",status='
    return [
        {"series": f'{request}"2xx"}}', "values": f"0+{ok_per_5s}x24"},
        {"series": f'{request}"5xx"}}', "values": f"0+{errors_per_5s}x24"},
        {"series": f'hello_build_info{{{target},pod="{pod}"}}', "values": "1x24"},
    ]


def test_the_success_rate_reads_only_the_new_revisions_pods(render: Render, tmp_path: Path) -> None:
    """Evaluated by promtool on series as the embedded Prometheus keeps them: an old pod
    still under the canary label (its selector not yet switched, or its series still in the
    rate window) is left out, so a canary failing 10 % reads 0.9, not the mix's 0.99; and
    with none of the new revision's pods scraped yet the result is empty (inconclusive)."""
    query = analysis(strategy(render, "canary"))["success-rate"]["provider"]["prometheus"]["query"]
    old, new = "hello-7f5d74d464-abcde", "hello-5d7f6b686b-x2k4q"

    def measured(canary_hash: str) -> list[dict[str, Any]]:
        expr = query.replace("{{args.service}}", "hello-canary")
        expr = expr.replace("{{args.canary-hash}}", canary_hash)
        return [{"expr": expr, "eval_time": "100s"}]

    new_only, before = measured("5d7f6b686b"), measured("0000000000")
    new_only[0]["exp_samples"] = [{"labels": "{}", "value": 0.9}]
    before[0]["exp_samples"] = []
    test = {
        "rule_files": [],
        "evaluation_interval": "5s",
        "tests": [
            {
                "interval": "5s",
                # the old pod: 100 requests every 5 s, none failed; the new: 10, 1 failed
                "input_series": _series("a:9102", old, 100, 0) + _series("b:9102", new, 9, 1),
                "promql_expr_test": new_only + before,
            }
        ],
    }
    path = tmp_path / "test.yaml"
    path.write_text(yaml.safe_dump(test))
    done = subprocess.run(
        [str(resolve("promtool")), "test", "rules", str(path)], capture_output=True, text=True
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
