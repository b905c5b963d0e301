"""The whole gate: the policies themselves, each chart rendered and judged, then conftest,
checkov and tflint over the targets. Findings fail the gate at the end."""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from hello_platform.core import catalogue, proc
from hello_platform.core.catalogue import Service
from hello_platform.core.progress import step
from hello_platform.pipeline import helm
from hello_platform.pipeline.policy import rego
from hello_platform.pipeline.policy.checkov import FRAMEWORKS, checkov, checkov_binary
from hello_platform.pipeline.policy.findings import Finding, failure, format_findings, rel, run_tool
from hello_platform.pipeline.policy.targets import Targets, classify
from hello_platform.pipeline.policy.tflint import tflint


@dataclass
class Charts:
    """The charts' verdicts: a PASS/FAIL line per render, findings, label -> rendered YAML."""

    conftest: Path
    helm: Path
    lines: list[str] = field(default_factory=list)
    findings: list[Finding] = field(default_factory=list)
    rendered: dict[str, str] = field(default_factory=dict)

    def judge(self, label: str, manifests: str) -> None:
        verdict = rego.conftest_text(self.conftest, manifests, "kubernetes", label=label)
        self.rendered[label] = manifests
        self.findings += verdict.findings
        state = "FAIL" if verdict.findings else "PASS"
        counts = f"{verdict.passed} passed, {len(verdict.findings)} failed"
        self.lines.append(f"{label}: {state} ({counts})")


def policies(opa: Path) -> str:
    with step("opa fmt --fail and opa check --strict policies"):
        rego.static_check(opa)
    with step("opa test policies"):
        count = rego.unit_tests(opa)
    return f"rego: fmt and check --strict clean; opa test: {count}/{count} passed"


def chart_profiles(charts: Charts, service: Service, profiles: Sequence[str] | None) -> None:
    version = helm.kubernetes_version()
    for v in helm.variants(service, profiles):
        label = f"{rel(service.chart)} (profile {v.name})"
        with step(f"chart profile '{v.name}': render, conftest"):
            text = helm.render(
                charts.helm, service, values_files=v.values_files, sets=v.sets, kube_version=version
            )
            charts.judge(label, text)


def other_chart(charts: Charts, chart: Path) -> None:
    label = rel(chart)
    with step(f"chart {label}: render, conftest"):
        done = run_tool([charts.helm, "template", "release", chart], what=f"helm template {label}")
        if done.returncode != 0:
            message = f"helm template failed: {proc.last_line(done.stderr)}"
            charts.findings.append(Finding(label, "PARSE", message, "helm"))
            return
        charts.judge(label, done.stdout)


def env_renders(charts: Charts, targets: Targets) -> None:
    """The Applications of every GitOps environment among the targets, rendered."""
    from hello_platform.pipeline.gitops import envcheck, envs

    for env in envs.REMOTE_ENVS:
        folder = envs.env_dir(env).resolve()
        if not any(folder in f.resolve().parents for f in targets.argocd):
            continue
        with step(f"environment {env}: render its Applications, conftest"):
            for label, text in envcheck.renders(env, charts.helm).rendered.items():
                charts.judge(label, text)


def rego_inputs(conftest_bin: Path, targets: Targets) -> list[Finding]:
    runs = [
        rego.conftest(conftest_bin, targets.tf_files, "terraform", parser="hcl2"),
        rego.conftest(conftest_bin, targets.plans, "terraform"),
        rego.conftest(conftest_bin, targets.argocd, "argocd"),
        rego.conftest(conftest_bin, targets.manifests, "kubernetes"),
    ]
    return [f for verdict in runs for f in verdict.findings]


def owner(chart: Path, service: Service) -> Service | None:
    """The catalogue service whose chart ``chart`` is (``service`` first), if any."""
    for svc in (service, *catalogue.load(service.root).services.values()):
        if svc.chart.resolve() == chart.resolve():
            return svc
    return None


def gate(
    paths: Sequence[str] | None,
    service: Service | None = None,
    profiles: Sequence[str] | None = None,
) -> list[str]:
    """The whole gate; prints and returns its report lines, or raises with the violations
    counted. ``profiles`` are ``service``'s (default: the catalogue's default service)."""
    from hello_platform.toolchain import resolve

    start = time.monotonic()
    targets = classify(paths)
    charts = Charts(resolve("conftest"), helm.helm_binary())
    lines = [policies(resolve("opa"))]
    service = service or catalogue.service()
    for chart in targets.charts:
        svc = owner(chart, service)
        if svc is not None:
            chart_profiles(charts, svc, profiles if svc == service else None)
        else:
            other_chart(charts, chart)
    env_renders(charts, targets)
    findings = [*targets.unparsable, *charts.findings]
    with step("conftest: Terraform (hcl2), plans, Argo CD and Kubernetes manifests"):
        findings += rego_inputs(charts.conftest, targets)
    with step(f"checkov ({', '.join(FRAMEWORKS)})"):
        findings += checkov(checkov_binary(), targets, charts.rendered)
    if targets.tf_files:
        with step("tflint (core, terraform ruleset)"):
            findings += tflint(resolve("tflint"), targets.tf_dirs)
    lines += charts.lines
    lines.append("checked: " + ", ".join(f"{n} {k}" for k, n in targets.counts().items() if n))
    lines += format_findings(findings)
    unique = len(set(findings))
    lines.append(f"policy gate: {unique} finding(s) in {time.monotonic() - start:.1f}s")
    for line in lines:
        print(line, flush=True)
    if findings:
        raise failure(findings)
    return lines
