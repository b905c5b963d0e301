"""Policy checks: the Rego policies themselves, the chart's manifests, then the whole gate.

``hello-platform policy [PATH ...]`` (``nox -s policy``) runs, in order:

1. ``opa fmt --fail -l policies`` and ``opa check --strict policies`` (format, strict compile);
2. ``opa test policies`` (every policy has an allowed and a denied example);
3. for every chart variant of :func:`hello_platform.pipeline.helm.variants` (the values profiles and
   ``features``, ``requests``), ``helm template`` and ``conftest test`` with the policies of
   ``policies/kubernetes`` (one input document per manifest), printing PASS/FAIL counts.

Then :mod:`hello_platform.pipeline.policy_gate` runs every other tool (Rego over Terraform, plans
and Argo CD manifests, checkov, tflint) over the repository or the paths given. Problems
with the policies themselves fail at once with one sentence; violations are reported
grouped by file and rule id, and fail the gate at the end. OPA, conftest, helm and tflint
are the pinned builds of ``toolchain.toml``; checkov comes from uv.lock.
"""

from __future__ import annotations

import argparse
import json
import re
import subprocess
import tempfile
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from hello_platform.core import catalogue, paths, proc
from hello_platform.core import cli as shared
from hello_platform.core.catalogue import Service
from hello_platform.core.errors import PlatformError
from hello_platform.core.progress import step
from hello_platform.pipeline import helm, policy_gate

#: Every Rego policy (and its tests) of the repository.
POLICY_DIR = paths.REPO_ROOT / "policies"
#: The policies over rendered Kubernetes manifests, which conftest applies.
KUBERNETES_DIR = POLICY_DIR / "kubernetes"
#: Denials quoted in the failure sentence (all of them are in the PASS/FAIL report).
QUOTED = 3

TOOLS_HINT = "run 'nox -s tools -- opa conftest' to provision them"


@dataclass(frozen=True)
class Outcome:
    """What conftest said about one render."""

    passed: int
    failures: tuple[str, ...] = ()

    @property
    def failed(self) -> int:
        return len(self.failures)


@dataclass
class Report:
    """One line per step, and the variants whose manifests a policy denies."""

    lines: list[str] = field(default_factory=list)
    denied: dict[str, Outcome] = field(default_factory=dict)
    #: The manifests of each variant, for the gate's other tools (checkov).
    rendered: dict[str, str] = field(default_factory=dict)

    def error(self) -> PlatformError | None:
        """The one-sentence failure, or None when every variant passed."""
        if not self.denied:
            return None
        name, first = next(iter(self.denied.items()))
        others = [f"'{n}' ({o.failed})" for n, o in self.denied.items() if n != name]
        quoted = "; ".join(first.failures[:QUOTED])
        more = f" (+{first.failed - QUOTED} more)" if first.failed > QUOTED else ""
        also = f"; also denied: profile {', '.join(others)}" if others else ""
        return PlatformError(
            f"the chart's profile '{name}' violates {first.failed} policy check(s): "
            f"{quoted}{more}{also}",
            hint="fix the service's chart, or the policy in policies/kubernetes if it is wrong",
        )


def _run(
    cmd: Sequence[str | Path], *, what: str, timeout: float = 120
) -> subprocess.CompletedProcess[str]:
    args = [str(c) for c in cmd]
    try:
        return subprocess.run(args, capture_output=True, text=True, timeout=timeout, check=False)
    except FileNotFoundError as exc:
        raise PlatformError(f"{what} failed: '{args[0]}' does not exist", hint=TOOLS_HINT) from exc
    except subprocess.TimeoutExpired as exc:
        raise PlatformError(f"{what} did not finish within {timeout:.0f}s") from exc


def namespaces(policy_dir: Path = KUBERNETES_DIR) -> list[str]:
    """The Rego packages of the policies in ``policy_dir`` (not their ``*_test.rego``)."""
    found = set()
    for path in sorted(policy_dir.glob("*.rego")):
        if path.name.endswith("_test.rego"):
            continue
        match = re.search(r"(?m)^package\s+(\S+)", path.read_text())
        if match:
            found.add(match.group(1))
    if not found:
        raise PlatformError(f"{policy_dir} holds no Rego policies")
    return sorted(found)


# ------------------------------------------------------------------------------- opa


def static_check(opa: Path, policy_dir: Path = POLICY_DIR) -> None:
    """``opa fmt --fail -l`` and ``opa check --strict`` over ``policy_dir``."""
    fmt = _run([opa, "fmt", "--fail", "-l", policy_dir], what="opa fmt")
    if fmt.returncode != 0:
        files = [_relative(f) for f in fmt.stdout.split()]
        if not files:
            raise PlatformError(f"opa fmt failed: {proc.last_line(fmt.stderr)}")
        raise PlatformError(
            f"Rego files are not formatted: {', '.join(files)}",
            hint=f"run 'opa fmt -w {_relative(str(policy_dir))}' with the pinned opa "
            "('nox -s tools -- path opa' prints it)",
        )
    check = _run([opa, "check", "--strict", policy_dir], what="opa check --strict")
    if check.returncode != 0:
        errors = [line.strip() for line in check.stderr.splitlines() if ": rego_" in line]
        detail = "; ".join(errors[:QUOTED]) or proc.last_line(check.stderr)
        raise PlatformError(f"opa check --strict failed: {detail}", hint="fix the Rego it names")


def unit_tests(opa: Path, policy_dir: Path = POLICY_DIR) -> int:
    """``opa test``; returns how many Rego tests passed, or fails naming those that did not."""
    done = _run([opa, "test", policy_dir, "--format", "json"], what="opa test")
    try:
        results: list[dict[str, Any]] = json.loads(done.stdout or "null") or []
    except ValueError:
        results = []
    failing = [
        f"{str(r.get('package', '')).removeprefix('data.')}.{r.get('name')}"
        for r in results
        if r.get("fail") or r.get("error")
    ]
    if failing:
        raise PlatformError(
            f"{len(failing)} of {len(results)} Rego tests failed: {', '.join(failing)}",
            hint=f"run 'opa test {_relative(str(policy_dir))} -v' for the traces",
        )
    if done.returncode != 0 or not results:
        raise PlatformError(
            f"opa test failed: {proc.last_line(done.stderr or done.stdout)}",
            hint="fix the Rego it names",
        )
    return len(results)


# -------------------------------------------------------------------------- conftest


def conftest(
    conftest_bin: Path, manifests: str, *, what: str, policy_dir: Path = KUBERNETES_DIR
) -> Outcome:
    """``conftest test`` of a multi-document YAML ``manifests`` against ``policy_dir``."""
    cmd: list[str | Path] = [conftest_bin, "test", "--policy", policy_dir]
    for ns in namespaces(policy_dir):
        cmd += ["--namespace", ns]
    with tempfile.TemporaryDirectory(prefix="hello-policy-") as tmp:
        target = Path(tmp) / "manifests.yaml"
        target.write_text(manifests)
        done = _run([*cmd, "--output", "json", "--no-color", target], what=f"conftest on {what}")
    try:
        results: list[dict[str, Any]] = json.loads(done.stdout)
    except ValueError:
        results = []
    if done.returncode not in (0, 1) or not isinstance(results, list) or not results:
        raise PlatformError(
            f"conftest could not test {what}: {proc.last_line(done.stderr or done.stdout)}"
        )
    passed = sum(int(r.get("successes") or 0) for r in results)
    failures = tuple(
        str(item.get("msg"))
        for r in results
        for kind in ("failures", "exceptions")
        for item in r.get(kind) or []
    )
    if done.returncode == 1 and not failures:
        raise PlatformError(f"conftest failed on {what} without saying why")
    return Outcome(passed, failures)


# ------------------------------------------------------------------------- the check


def check(
    service: Service,
    profiles: Sequence[str] | None = None,
    *,
    opa: Path | None = None,
    conftest_bin: Path | None = None,
    helm_bin: Path | None = None,
) -> Report:
    """Check the policies, then every chart variant against them.

    Problems with the policies raise at once; denied manifests are collected in the report,
    so that every variant gets its PASS/FAIL line.
    """
    from hello_platform.toolchain import resolve

    opa = opa or resolve("opa")
    conftest_bin = conftest_bin or resolve("conftest")
    helm_bin = helm_bin or helm.helm_binary()
    report = Report()
    with step("opa fmt --fail and opa check --strict policies"):
        static_check(opa)
    with step("opa test policies"):
        count = unit_tests(opa)
    report.lines.append(f"rego: fmt and check --strict clean; opa test: {count}/{count} passed")
    version = helm.kubernetes_version()
    for v in helm.variants(service, profiles):
        with step(f"chart profile '{v.name}': render, conftest"):
            manifests = helm.render(
                helm_bin, service, values_files=v.values_files, sets=v.sets, kube_version=version
            )
            outcome = conftest(conftest_bin, manifests, what=f"profile '{v.name}'")
        report.rendered[v.name] = manifests
        verdict = "FAIL" if outcome.failures else "PASS"
        report.lines.append(
            f"{v.name}: {verdict} ({outcome.passed} passed, {outcome.failed} failed)"
        )
        if outcome.failures:
            report.denied[v.name] = outcome
    return report


def _relative(path: str) -> str:
    try:
        return str(Path(path).resolve().relative_to(paths.REPO_ROOT))
    except ValueError:
        return path


# --------------------------------------------------------------------------- the CLI


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    parser = subparsers.add_parser(
        "policy",
        help="the policy gate: Rego (opa, conftest), checkov and tflint over the repo or PATHs",
        description="Check the Rego policies (opa fmt, opa check --strict, opa test), then "
        "the repository (or the files and folders given: Terraform, plan JSON, charts, "
        "manifests, Dockerfiles, workflows, Argo CD manifests) with conftest, checkov and "
        "tflint. Findings are grouped by file and rule id; any finding fails.",
    )
    parser.add_argument(
        "paths", nargs="*", metavar="PATH", help="files or folders (default: the repository)"
    )
    parser.add_argument(
        "--profile",
        action="append",
        help="only this chart profile (repeatable; default: all, plus 'features', 'requests')",
    )
    shared.add_service(parser)
    parser.set_defaults(func=_run_check)


def chart_findings(report: Report, chart: Path) -> list[policy_gate.Finding]:
    """The chart profiles' denials as gate findings, one file label per profile."""
    out = []
    for name, outcome in report.denied.items():
        for failure in outcome.failures:
            rule, message = policy_gate.split_rule(failure)
            out.append(
                policy_gate.Finding(f"{_relative(str(chart))} (profile {name})", rule, message)
            )
    return out


def gate(
    paths: Sequence[str] | None,
    service: Service | None = None,
    profiles: Sequence[str] | None = None,
) -> list[str]:
    """The whole gate; returns its report lines, or raises with the violations counted."""
    import time

    from hello_platform.toolchain import resolve

    start = time.monotonic()
    targets = policy_gate.classify(paths)
    findings = policy_gate.parse_errors(targets)
    service = service or catalogue.service()
    ours = [c for c in targets.charts if c.resolve() == service.chart.resolve()]
    others = [c for c in targets.charts if c not in ours]
    conftest_bin, helm_bin = resolve("conftest"), helm.helm_binary()
    rendered: dict[str, str] = {}
    if ours:
        report = check(service, profiles, conftest_bin=conftest_bin, helm_bin=helm_bin)
        findings += chart_findings(report, ours[0])
        rendered.update(
            {f"{_relative(str(ours[0]))} (profile {n})": t for n, t in report.rendered.items()}
        )
    else:
        opa = resolve("opa")
        with step("opa fmt --fail and opa check --strict policies"):
            static_check(opa)
        with step("opa test policies"):
            count = unit_tests(opa)
        report = Report([f"rego: fmt and check --strict clean; opa test: {count}/{count} passed"])
    lines = list(report.lines)
    for chart in others:
        with step(f"chart {_relative(str(chart))}: render, conftest"):
            text = _run([helm_bin, "template", "release", chart], what=f"helm template {chart}")
            if text.returncode != 0:
                findings.append(
                    policy_gate.Finding(
                        _relative(str(chart)),
                        "PARSE",
                        f"helm template failed: {proc.last_line(text.stderr)}",
                        "helm",
                    )
                )
                continue
            rendered[_relative(str(chart))] = text.stdout
            outcome = conftest(conftest_bin, text.stdout, what=f"chart {_relative(str(chart))}")
            findings += [
                policy_gate.Finding(_relative(str(chart)), *policy_gate.split_rule(f))
                for f in outcome.failures
            ]
    with step("conftest: Terraform (hcl2), plans, Argo CD and Kubernetes manifests"):
        pol = policy_gate.POLICY_DIR
        findings += policy_gate.rego(
            conftest_bin,
            targets.tf_files,
            pol / "terraform",
            policy_gate.TERRAFORM_HCL,
            parser="hcl2",
        )
        findings += policy_gate.rego(
            conftest_bin, targets.plans, pol / "terraform", policy_gate.TERRAFORM_PLAN
        )
        findings += policy_gate.rego(
            conftest_bin, targets.argocd, pol / "argocd", policy_gate.ARGOCD
        )
        findings += policy_gate.rego(conftest_bin, targets.manifests, KUBERNETES_DIR, namespaces())
    with step("checkov (terraform, terraform_plan, kubernetes, dockerfile, github_actions)"):
        findings += policy_gate.checkov(policy_gate.checkov_binary(), targets, rendered)
    if targets.tf_dirs:
        with step("tflint (core, terraform ruleset)"):
            findings += policy_gate.tflint(resolve("tflint"), targets.tf_dirs)
    counted = {
        "terraform files": len(targets.tf_files),
        "plans": len(targets.plans),
        "charts": len(targets.charts),
        "manifests": len(targets.manifests),
        "argo cd files": len(targets.argocd),
        "dockerfiles": len(targets.dockerfiles),
        "workflows": len(targets.workflows),
    }
    lines.append("checked: " + ", ".join(f"{n} {k}" for k, n in counted.items() if n))
    lines += policy_gate.format_findings(findings)
    lines.append(f"policy gate: {len(findings)} finding(s) in {time.monotonic() - start:.1f}s")
    for line in lines:
        print(line, flush=True)
    if findings:
        raise policy_gate.failure(findings)
    return lines


def _run_check(args: argparse.Namespace) -> int:
    gate(getattr(args, "paths", None) or None, shared.service(args), args.profile)
    return 0
