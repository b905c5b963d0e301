"""The GitOps environments beyond local (deploy/argocd/envs/eks) without a cluster: the pins
of charts.toml, the offline render (kubeconform against the pinned Kubernetes and Argo CD's
CRDs, the policy gate), the cluster values from real `tofu output -json` of the cluster layer
(recorded from `nox -s infra -- roundtrip --emulator`), and the bootstrap's repository."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path
from typing import Any

import pytest
import yaml
from hello_platform.core import catalogue
from hello_platform.core.errors import PlatformError
from hello_platform.core.paths import REPO_ROOT
from hello_platform.pipeline.gitops import argo, envcheck, envs, manifests
from hello_platform.pipeline.gitops import clustervalues as cv
from hello_platform.pipeline.helm import chart

DATA = Path(__file__).parent / "data" / "gitops"
#: `tofu output -json` of the cluster layer after the emulated apply.
OUTPUTS = DATA / "cluster-outputs.json"
ACM = "arn:aws:acm:eu-west-1:123456789012:certificate/0f1e2d3c-4b5a-6978-8a9b-0c1d2e3f4a5b"
REPO = "https://github.com/hello-platform/hello-platform.git"


@pytest.fixture
def tree(tmp_path: Path) -> Path:
    """A copy of what the environment check reads: charts.toml and deploy/."""
    shutil.copy(REPO_ROOT / envs.CHARTS_FILE, tmp_path / envs.CHARTS_FILE)
    shutil.copytree(REPO_ROOT / "deploy", tmp_path / "deploy")
    return tmp_path


def _edit(path: Path, change: Any) -> None:
    doc = yaml.safe_load(path.read_text())
    change(doc)
    path.write_text(yaml.safe_dump(doc))


def test_every_chart_of_eks_is_pinned_once() -> None:
    pins = envs.load_pins()
    assert envs.check_pins(envs.applications("eks"), pins) == []
    for pin in pins.values():
        assert pin.module_sum.startswith("h1:") if pin.module else not pin.path


def test_a_chart_at_another_version_or_unpinned_is_named() -> None:
    apps = envs.applications("eks")
    pins = envs.load_pins()
    ms = next(a for a in apps if a["metadata"]["name"] == "metrics-server")
    ms["spec"]["sources"][0]["targetRevision"] = "3.13.0"
    ms["spec"]["sources"][0]["chart"] = "other"
    problems = envs.check_pins(apps, pins)
    assert (
        "metrics-server: chart other of https://kubernetes-sigs.github.io/metrics-server/"
        in (problems[0])
    )
    assert problems[-1] == "metrics-server: pinned in charts.toml but no Application uses it"


def test_eks_renders_validates_and_passes_the_policies() -> None:
    lines = envcheck.check("eks")
    assert lines[0].startswith("eks: 9 Argo CD files: 9 valid")
    rendered = [line for line in lines if "(rendered): kubeconform" in line]
    assert [line.split(" (rendered)")[0].rsplit("/", 1)[1] for line in rendered] == [
        "argo-rollouts",
        "hello-eks",
        "metrics-server",
    ]
    assert all(" 0 skipped" in line for line in rendered)
    assert sum("checked as an Application only" in line for line in lines) == 4
    assert lines[-1].endswith(" passed, 0 failed")


def test_a_wrong_field_in_an_application_is_refused(tree: Path) -> None:
    app = envs.env_dir("eks", tree) / "apps" / "cluster-autoscaler.yaml"
    _edit(app, lambda d: d["spec"]["syncPolicy"].update(automatic={"prune": True}))
    with pytest.raises(PlatformError, match=r"Application/cluster-autoscaler: .*automatic"):
        envcheck.check("eks", tree)


def test_argo_rollouts_is_upstreams_tree_at_the_tag_the_project_builds() -> None:
    """The controller on EKS is [tools.argo-rollouts]'s version, upstream's cluster install
    at that tag with the Application's overlay: the image at the tag, our patch."""
    from hello_platform.toolchain import pins as tool_pins

    pin = envs.load_pins()["argo-rollouts"]
    assert pin.version == pin.module_version == tool_pins.load().tools["argo-rollouts"].version
    (app,) = [a for a in envs.applications("eks") if a["metadata"]["name"] == "argo-rollouts"]
    r = envs.renderable(app, envs.load_pins())
    assert r is not None and r.kustomize is not None
    text = envcheck._render(r, Path("helm"), "1.34.4")  # kustomize: no helm needed
    docs = [d for d in yaml.safe_load_all(text) if d]
    assert {d["kind"] for d in docs} >= {"CustomResourceDefinition", "Deployment", "ClusterRole"}
    (deploy,) = [d for d in docs if d["kind"] == "Deployment"]
    assert deploy["metadata"]["namespace"] == "argo-rollouts"
    (container,) = deploy["spec"]["template"]["spec"]["containers"]
    assert container["image"] == f"quay.io/argoproj/argo-rollouts:{pin.version}"
    assert container["resources"]["requests"] and container["readinessProbe"]


def test_a_kustomize_option_the_check_does_not_render_is_refused(tree: Path) -> None:
    app = envs.env_dir("eks", tree) / "apps" / "argo-rollouts.yaml"
    _edit(app, lambda d: d["spec"]["source"]["kustomize"].update(namePrefix="x-"))
    with pytest.raises(PlatformError, match="argo-rollouts sets kustomize namePrefix"):
        envcheck.check("eks", tree)
    _edit(app, lambda d: d["spec"]["source"].update(targetRevision="v1.9.0"))
    with pytest.raises(PlatformError, match=r"argo-rollouts: .*argo-rollouts.git v1\.9\.0"):
        envcheck.check("eks", tree)


def test_the_module_chart_is_checked_against_its_pin() -> None:
    pin = envs.load_pins()["metrics-server"]
    assert (envs.module_chart(pin) / "Chart.yaml").is_file()
    wrong = envs.ChartPin(**{**pin.__dict__, "module_sum": "h1:AAAA="})
    with pytest.raises(PlatformError, match="not the pinned h1:AAAA="):
        envs.module_chart(wrong)
    other = envs.ChartPin(**{**pin.__dict__, "version": "9.9.9"})
    with pytest.raises(PlatformError, match=r"is 3\.12\.2, not the pinned 9\.9\.9"):
        envs.module_chart(other)


def test_an_addon_that_breaks_a_policy_fails_the_check(tree: Path) -> None:
    values = envs.env_dir("eks", tree) / "values" / "metrics-server.yaml"
    _edit(values, lambda d: d.pop("podAnnotations"))
    with pytest.raises(PlatformError, match="HP011 Deployment/metrics-server"):
        envcheck.check("eks", tree)


def test_cluster_values_from_the_emulated_cluster_layer(tree: Path) -> None:
    outputs = cv.read_outputs(OUTPUTS.read_text())
    written = cv.write("eks", cv.cluster_values(outputs, ACM), tree)
    by = {p.stem: yaml.safe_load(p.read_text()) for p in written}
    ca = by["cluster-autoscaler"]
    assert ca["autoDiscovery"]["clusterName"] == outputs["cluster_name"] == "hello-dev"
    assert ca["awsRegion"] == outputs["region"]
    role = ca["rbac"]["serviceAccount"]["annotations"][cv.IRSA]
    assert role == outputs["cluster_autoscaler_role_arn"]
    assert role.startswith("arn:aws:iam::") and role.endswith(":role/hello-dev-cluster-autoscaler")
    lbc = by["aws-load-balancer-controller"]
    assert lbc["vpcId"] == outputs["vpc_id"] and lbc["vpcId"].startswith("vpc-")
    assert by["hello"] == {"ingress": {"certificateArn": ACM}}
    # The repository's own files are these values (committed), so the check renders them.
    for path in written:
        assert path.read_text() == (envs.env_dir("eks") / "cluster" / path.name).read_text()


def test_cluster_values_refuse_missing_outputs_and_a_bad_certificate() -> None:
    raw = json.loads(OUTPUTS.read_text())
    del raw["vpc_id"], raw["region"]
    with pytest.raises(PlatformError, match="the outputs lack region, vpc_id"):
        cv.read_outputs(json.dumps(raw))
    with pytest.raises(PlatformError, match="not JSON"):
        cv.read_outputs("Error: no outputs")
    with pytest.raises(PlatformError, match="is not an ACM certificate ARN"):
        cv.cluster_values(cv.read_outputs(OUTPUTS.read_text()), "arn:aws:iam::1:role/x")


def test_bootstrap_points_the_root_and_the_project_at_the_repository() -> None:
    docs = argo.bootstrap_docs("eks", "https://git.example/fork.git")
    project = next(d for d in docs if d["kind"] == "AppProject")
    root = next(d for d in docs if d["kind"] == "Application")
    assert project["spec"]["sourceRepos"][0] == "https://git.example/fork.git"
    assert root["spec"]["source"]["repoURL"] == "https://git.example/fork.git"
    assert root["spec"]["source"]["path"] == "deploy/argocd/envs/eks/apps"
    assert root["spec"]["project"] == project["metadata"]["name"]
    assert root["spec"]["source"]["directory"]["recurse"] is False
    with_requests = argo.bootstrap_docs("eks", REPO, optional=True)
    assert next(d for d in with_requests if d["kind"] == "Application")["spec"]["source"][
        "directory"
    ]["recurse"]
    names = {a["metadata"]["name"] for a in envs.applications("eks", optional=False)}
    assert names.isdisjoint({"keda", "prometheus"})
    helm_repos = {p.repo for p in envs.load_pins().values()}
    assert helm_repos <= set(project["spec"]["sourceRepos"])


def test_the_children_must_read_the_given_repository() -> None:
    argo.check_repo(envs.applications("eks"), REPO)
    argo.check_repo(envs.applications("local"), "git://10.244.0.1:9418/hello-platform.git")
    with pytest.raises(PlatformError, match=r"another repository than https://x.example/r.git"):
        argo.check_repo(envs.applications("eks"), "https://x.example/r.git")


def test_eks_gets_upstream_images_of_the_checked_manifest() -> None:
    docs = manifests.render(manifests.upstream_install(), None)
    found = {
        c["image"]
        for d in docs
        if d["kind"] in ("Deployment", "StatefulSet")
        for c in d["spec"]["template"]["spec"]["containers"]
    }
    assert found == {
        "quay.io/argoproj/argocd:v3.2.11",
        "public.ecr.aws/docker/library/redis:8.2.2-alpine",
    }
    assert "--addr=:6379" not in json.dumps(docs)


def _relabel(rules: list[dict[str, Any]], meta: dict[str, str]) -> dict[str, str] | None:
    """Prometheus' keep/replace relabelling (anchored regex, ``;``-joined sources, ``$1``),
    enough to run the EKS job's rules on a target's metadata; None if a rule drops it."""
    labels = dict(meta)
    for rule in rules:
        value = ";".join(labels.get(s, "") for s in rule["source_labels"])
        match = re.fullmatch(rule.get("regex", "(.*)"), value)
        if rule.get("action", "replace") == "keep":
            if match is None:
                return None
        elif match is not None:
            labels[rule["target_label"]] = match.expand(
                rule.get("replacement", "$1").replace("$", "\\")
            )
    return {k: v for k, v in labels.items() if not k.startswith("__")}


def test_the_eks_prometheus_labels_the_pods_as_the_chart_s_queries_select_them() -> None:
    """KEDA's request-rate query and the canary analysis select service="<fullname>" and
    service="<fullname>-canary"; the EKS Prometheus must write exactly those labels from the
    headless "-pods" Services the eks profile renders (not rendered here: its chart is not
    served offline, so its rules are run on the rendered Services' names)."""
    values = yaml.safe_load((REPO_ROOT / envs.ENVS_DIR / "eks/values/prometheus.yaml").read_text())
    (job,) = yaml.safe_load(values["extraScrapeConfigs"])
    assert job["kubernetes_sd_configs"] == [{"role": "endpoints"}]
    svc = catalogue.service()
    docs = list(
        yaml.safe_load_all(
            chart.render(
                chart.helm_binary(),
                svc,
                values_files=[*chart.profile_files(svc, "eks")],
                sets=[
                    "rollout.strategy=canary",
                    "autoscaling.mode=requests",
                    "ingress.enabled=false",
                ],
            )
        )
    )
    queries = json.dumps(
        [d for d in docs if d and d["kind"] in {"ScaledObject", "AnalysisTemplate"}]
    )
    selected = set(re.findall(r'service=\\"([^"\\]+)\\"', queries)) - {"{{args.service}}"}
    (rollout,) = (d for d in docs if d and d["kind"] == "Rollout")
    args = rollout["spec"]["strategy"]["canary"]["analysis"]["args"]
    selected |= {a["value"] for a in args if a["name"] == "service"}
    pods = [
        d["metadata"]["name"]
        for d in docs
        if d and d["kind"] == "Service" and d["spec"].get("clusterIP") == "None"
    ]
    meta = {"__meta_kubernetes_namespace": "web", "__meta_kubernetes_endpoint_port_name": "metrics"}
    labelled = {
        (
            _relabel(job["relabel_configs"], {**meta, "__meta_kubernetes_service_name": name}) or {}
        ).get("service")
        for name in pods
    }
    assert selected and selected == labelled, (selected, labelled)
    public = {**meta, "__meta_kubernetes_service_name": svc.release}
    assert _relabel(job["relabel_configs"], public) is None  # the public Service is not scraped
    other_port = {
        **meta,
        "__meta_kubernetes_service_name": "x-pods",
        "__meta_kubernetes_endpoint_port_name": "http",
    }
    assert _relabel(job["relabel_configs"], other_port) is None
