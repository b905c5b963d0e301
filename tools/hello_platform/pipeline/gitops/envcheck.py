"""``gitops check``: an environment's pins, its Argo CD files and its offline renders
validated (kubeconform) and judged by the policy gate."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from hello_platform.core import paths
from hello_platform.core.errors import PlatformError
from hello_platform.pipeline import helm
from hello_platform.pipeline.gitops import envs


@dataclass
class Report:
    lines: list[str] = field(default_factory=list)
    rendered: dict[str, str] = field(default_factory=dict)


def renders(env: str, helm_bin: Path, root: Path = paths.REPO_ROOT) -> Report:
    pins = envs.load_pins(root)
    apps = envs.applications(env, root)
    problems = envs.check_pins(apps, pins)
    if problems:
        raise PlatformError(
            f"environment '{env}' disagrees with {envs.CHARTS_FILE}: " + "; ".join(problems),
            hint=f"change the Application and {envs.CHARTS_FILE} together",
        )
    report = Report()
    version = helm.kubernetes_version()
    for app in apps:
        r = envs.renderable(app, pins, root)
        name = app["metadata"]["name"]
        if r is None:
            (src,) = [s for s in envs.sources(app) if "ref" not in s]
            report.lines.append(
                f"{name}: {src.get('chart') or src.get('path')} {src['targetRevision']} from "
                f"{src['repoURL']}: not served here, checked as an Application only"
            )
            continue
        report.rendered[f"{envs.ENVS_DIR}/{env}/apps/{name} (rendered)"] = _render(
            r, helm_bin, version
        )
    return report


def _render(r: envs.Renderable, helm_bin: Path, version: str) -> str:
    if r.kustomize is not None:
        from hello_platform.core.paths import state_dir
        from hello_platform.substrate.addons.kustomize import kustomize

        work = state_dir() / "gitops" / "kustomize" / r.app
        return kustomize(work, r.chart, {"kustomization.yaml": r.kustomize}, what=r.app)
    return helm.template(
        helm_bin,
        r.chart,
        r.release,
        namespace=r.namespace,
        values_files=r.values,
        kube_version=version,
    )


def check(env: str, root: Path = paths.REPO_ROOT) -> list[str]:
    from hello_platform.pipeline.policy import rego
    from hello_platform.toolchain import resolve

    helm_bin, kubeconform = helm.helm_binary(), helm.kubeconform_binary()
    version = helm.kubernetes_version()
    helm.ensure_schemas(version)
    report = renders(env, helm_bin, root)
    where = envs.env_dir(env, root)
    files = sorted((where / "bootstrap").glob("*.yaml")) + sorted(where.glob("apps/**/*.yaml"))
    text = "---\n".join(p.read_text() for p in files)
    result = helm.validate(kubeconform, text, version=version, what=f"{env}'s Applications")
    lines = [f"{env}: {len(files)} Argo CD files: {result.summary}"]
    conftest = resolve("conftest")
    verdict = rego.conftest(conftest, files, "argocd")
    for label, manifests_text in report.rendered.items():
        result = helm.validate(kubeconform, manifests_text, version=version, what=label)
        judged = rego.conftest_text(conftest, manifests_text, "kubernetes", label=label)
        verdict = rego.Verdict(
            verdict.passed + judged.passed, [*verdict.findings, *judged.findings]
        )
        lines.append(f"{label}: kubeconform {result.summary}")
    if verdict.findings:
        found = "; ".join(f"{f.file}: {f.rule} {f.message}" for f in verdict.findings)
        raise PlatformError(f"environment '{env}' breaks the policies: {found}")
    lines += report.lines
    lines.append(f"{env}: policy {verdict.passed} passed, 0 failed")
    return lines
