# /// script
# dependencies = ["nox==2026.10.20", "uv==0.13.9"]
# ///
"""hello-platform's build graph: the same sessions run on a laptop and in CI.

Sessions stay thin. Python dependencies come from ``uv.lock``; the real work lives in
the ``hello_platform`` package (``tools/hello_platform``), called via its CLI.
"""

from __future__ import annotations

import os
from pathlib import Path

import nox

nox.needs_version = ">=2026.10.20"
nox.options.default_venv_backend = "uv"
nox.options.reuse_venv = "yes"
nox.options.error_on_missing_interpreters = True
nox.options.sessions = ["lint", "typecheck", "test"]


def sync(session: nox.Session, *groups: str) -> None:
    """Install the locked dependency ``groups`` (and the glue package) into the session venv."""
    session.run_install(
        "uv",
        "sync",
        "--locked",
        "--no-default-groups",
        *(f"--group={g}" for g in groups),
        env={"UV_PROJECT_ENVIRONMENT": session.virtualenv.location},
        silent=True,
    )


def platform(session: nox.Session, *args: str) -> None:
    """Run the glue CLI (``hello-platform ARGS``) inside the session's venv."""
    session.run("hello-platform", *args)


def glue(
    session: nox.Session, command: str, *, groups: tuple[str, ...] = (), default: str = ""
) -> None:
    """Sync ``groups``, then run ``hello-platform COMMAND`` with the session's arguments
    passed straight through (``default`` when none are given): its argparse is the one place
    that knows the flags, and names a bad flag or action itself (``-- --help`` shows them)."""
    sync(session, *groups)
    platform(session, *command.split(), *(session.posargs or default.split()))


def tool_path(session: nox.Session, name: str) -> str:
    """Path of a pinned tool (toolchain.toml), provisioned by the glue's resolver."""
    out = session.run("hello-platform", "tools", "path", name, silent=True)
    return str(out).strip().splitlines()[-1]


def shell_scripts() -> list[str]:
    """Every ``*.sh`` of the checkout, and the scripts in ``.ci/``."""
    skip = {".git", ".nox", ".venv", "node_modules", "out", ".mypy_cache", ".ruff_cache"}
    found = []
    for root, dirs, files in os.walk("."):
        dirs[:] = sorted(d for d in dirs if d not in skip)
        found += [str(Path(root, f)) for f in sorted(files) if f.endswith(".sh")]
    ci = Path(".ci")
    return found + (sorted(str(p) for p in ci.iterdir() if p.is_file()) if ci.is_dir() else [])


@nox.session(tags=["static"])
def lint(session: nox.Session) -> None:
    """Ruff, import layers, dead code (vulture), actionlint on workflows, shellcheck."""
    sync(session, "lint")
    session.run("ruff", "check", ".")
    session.run("ruff", "format", "--check", ".")
    session.run("lint-imports")  # the layers contract in pyproject.toml (ARCHITECTURE.md)
    session.run("vulture")  # dead code; [tool.vulture] in pyproject.toml
    workflows = sorted(str(p) for p in Path(".github/workflows").glob("*.y*ml"))
    scripts = shell_scripts()
    platform(session, "tools", "actionlint", "shellcheck")
    if workflows:
        session.run(tool_path(session, "actionlint"), *workflows, external=True)
    if scripts:
        session.run(tool_path(session, "shellcheck"), *scripts, external=True)


@nox.session(tags=["static"])
def typecheck(session: nox.Session) -> None:
    """Mypy (strict) on the service, the glue package and this file."""
    sync(session, "typecheck")
    session.run("mypy")


@nox.session
def test(session: nox.Session) -> None:
    """All unit tests (service, glue, chart); no cluster and no Docker engine needed."""
    sync(session, "test")
    session.run("pytest", "-m", "not slow and not e2e", *session.posargs)
    if not session.posargs:
        # The OpenTofu sources must be formatted (needs no provider; see `nox -s infra`).
        platform(session, "infra", "fmt")


@nox.session(tags=["static"])
def helm(session: nox.Session) -> None:
    """Chart: helm lint --strict, render + kubeconform every values profile, chart tests."""
    glue(session, "helm check", groups=("test",))
    session.run("pytest", "tools/tests/test_chart.py", "tools/tests/test_helm.py")


@nox.session(tags=["static"], default=False)
def policy(session: nox.Session) -> None:
    """The policy gate: Rego (opa, conftest), checkov, tflint over the repo or the PATHs given."""
    glue(session, "policy", groups=("checkov",))


@nox.session(default=False)
def infra(session: nox.Session) -> None:
    """OpenTofu over infra/terraform: fmt, validate (+ the schema check), test, and
    plan/apply/destroy against a profile's account or an emulated one (--emulator)."""
    glue(session, "infra", groups=("infra", "checkov"))


@nox.session(default=False)
def tools(session: nox.Session) -> None:
    """Provision the pinned tools of toolchain.toml (PATH, cache, or a build from source)."""
    glue(session, "tools")


@nox.session(default=False)
def bench(session: nox.Session) -> None:
    """What the service's middleware costs, two pairs side by side (uvicorn + wrk, loopback)."""
    glue(session, "bench", groups=("test",))


@nox.session(default=False)
def build(session: nox.Session) -> None:
    """Build the hardened service image and push it to the local registry (127.0.0.1:5000)."""
    glue(session, "image build")


@nox.session(default=False)
def cluster(session: nox.Session) -> None:
    """The local single-node Kubernetes (Linux, root): up (default), down, status, logs."""
    glue(session, "cluster", default="up")


@nox.session(default=False)
def deploy(session: nox.Session) -> None:
    """Build, push, helm upgrade --install (rolled back on failure), helm test, smoke test."""
    glue(session, "deploy")


@nox.session(default=False)
def loadtest(session: nox.Session) -> None:
    """Prove the HPA scales: Locust on 127.0.0.1, the HPA watched, asserted and plotted."""
    glue(session, "loadtest", groups=("loadtest",))


@nox.session(default=False)
def drill(session: nox.Session) -> None:
    """Failure drills under steady load on 127.0.0.1 (pod delete, rollouts, kills, restart);
    the rollouts drills plot their replicas over time (matplotlib, of the loadtest group)."""
    glue(session, "drill", groups=("loadtest",))


@nox.session(default=False)
def monitoring(session: nox.Session) -> None:
    """Prometheus and KEDA on the local cluster (request-rate autoscaling): up, status."""
    glue(session, "monitoring", default="up")


@nox.session(default=False)
def rollouts(session: nox.Session) -> None:
    """Argo Rollouts on the local cluster (canary, blueGreen): up, status, down, outcome."""
    glue(session, "rollouts", default="up")


@nox.session(default=False)
def e2e(session: nox.Session) -> None:
    """End-to-end tests (pytest -m e2e) on the local cluster, which is brought up first."""
    sync(session, "test")
    platform(session, "cluster", "up")
    session.run("pytest", "-m", "e2e", *session.posargs)


@nox.session(default=False)
def gitops(session: nox.Session) -> None:
    """Argo CD on the local cluster (app of apps from a git daemon mirror): up, status, down."""
    glue(session, "gitops", default="up")


@nox.session(default=False)
def release(session: nox.Session) -> None:
    """Build + push the image, commit its tag/digest to the GitOps env branch, time the rollout."""
    glue(session, "release")


@nox.session(default=False)
def promote(session: nox.Session) -> None:
    """Commit the digest that passed in one GitOps env into the next one's (`--from A --to B`)."""
    glue(session, "promote")


if __name__ == "__main__":
    nox.main()
