# /// script
# dependencies = ["nox==2026.10.20", "uv==0.13.9"]
# ///
"""hello-platform's build graph: the same sessions run on a laptop and in CI.

Sessions stay thin. Python dependencies come from ``uv.lock``; the real work lives in
the ``hello_platform`` package (``tools/hello_platform``), called via its CLI.
"""

from __future__ import annotations

import os
import re
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


def check_flags(session: nox.Session, usage: str, *aliases: str) -> None:
    """Stop with ``usage`` when a posarg is an option that ``usage`` (or ``aliases``) lacks.

    The glue CLI validates values; this catches typos before any environment is built.
    """
    known = set(re.findall(r"--?[a-z][a-z0-9-]*", usage)) | set(aliases) | {"-h", "--help"}
    bad = [a for a in session.posargs if a.startswith("-") and a.split("=")[0] not in known]
    if bad:
        session.error(usage)


def glue(
    session: nox.Session,
    command: str,
    usage: str = "",
    *,
    groups: tuple[str, ...] = (),
    aliases: tuple[str, ...] = (),
    actions: tuple[str, ...] = (),
    default: str = "",
) -> None:
    """A thin session: check the flags against ``usage``, sync ``groups``, run
    ``hello-platform COMMAND ARGS``. With ``actions`` the first argument must be one of them
    (``default`` when none is given)."""
    args = list(session.posargs) or ([default] if default else [])
    if actions and (not args or args[0] not in actions):
        session.error(usage)
    if usage:
        check_flags(session, usage, *aliases)
    sync(session, *groups)
    platform(session, *command.split(), *args)


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
    """Ruff (lint + format check), actionlint on workflows, shellcheck on shell scripts."""
    sync(session, "lint")
    session.run("ruff", "check", ".")
    session.run("ruff", "format", "--check", ".")
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
    usage = (
        "usage: nox -s helm -- [--profile default|local|eks|features|requests ...] "
        "[--server [--kubeconfig PATH]]"
    )
    glue(session, "helm check", usage, groups=("test",))
    session.run("pytest", "tools/tests/test_chart.py", "tools/tests/test_helm.py")


@nox.session(tags=["static"], default=False)
def policy(session: nox.Session) -> None:
    """The policy gate: Rego (opa, conftest), checkov, tflint over the repo or the PATHs given."""
    usage = "usage: nox -s policy -- [PATH ...] [--profile default|local|eks|features|requests ...]"
    glue(session, "policy", usage, groups=("checkov",))


INFRA_ACTIONS = ("fmt", "validate", "test", "plan", "apply", "destroy")
INFRA_USAGE = (
    "usage: nox -s infra -- fmt|validate|test|plan|apply|destroy [--env dev] "
    "[--layer state|network|cluster|registry ...] [--profile NAME] [--require-providers] "
    "[--auto-approve] [--bootstrap]"
)


@nox.session(default=False)
def infra(session: nox.Session) -> None:
    """OpenTofu over infra/terraform: fmt, validate, test (offline-aware), plan/apply/destroy."""
    glue(session, "infra", INFRA_USAGE, actions=INFRA_ACTIONS)


@nox.session(default=False)
def tools(session: nox.Session) -> None:
    """Provision the pinned tools of toolchain.toml (PATH, cache, or a build from source)."""
    glue(session, "tools", "usage: nox -s tools -- [NAME ...] [--json] [--no-build] | path NAME")


@nox.session(default=False)
def bench(session: nox.Session) -> None:
    """Throughput of the service vs a raw ASGI app (uvicorn + wrk on pinned cores, loopback)."""
    glue(session, "bench", groups=("test",))


@nox.session(default=False)
def build(session: nox.Session) -> None:
    """Build the hardened service image and push it to the local registry (127.0.0.1:5000)."""
    glue(session, "image build", "usage: nox -s build -- [--no-push] [--refresh-base]")


CLUSTER_USAGE = (
    "usage: nox -s cluster -- up | down [--purge] | status | kubeconfig | logs [COMPONENT] [-n N]"
)


@nox.session(default=False)
def cluster(session: nox.Session) -> None:
    """The local single-node Kubernetes (Linux, root): up (default), down, status, logs."""
    actions = ("up", "down", "status", "kubeconfig", "logs")
    glue(session, "cluster", CLUSTER_USAGE, actions=actions, default="up")


DEPLOY_USAGE = (
    "usage: nox -s deploy -- [--kubeconfig PATH] [--context NAME] [--profile local|eks] "
    "[--values FILE ...] [--set key=value ...] [--namespace NS] [--release NAME] "
    "[--timeout SECONDS] [--image REPO:TAG[@DIGEST]] [--no-test]"
)


@nox.session(default=False)
def deploy(session: nox.Session) -> None:
    """Build, push, helm upgrade --install (rolled back on failure), helm test, smoke test."""
    glue(session, "deploy", DEPLOY_USAGE, aliases=("-f", "-n"))


LOADTEST_USAGE = (
    "usage: nox -s loadtest -- [--mode cpu|requests] [--kubeconfig PATH] "
    "[--url http://127.0.0.1:PORT] [--namespace NS] [--release NAME] [--users N] "
    "[--spawn-rate R] [--user-rps R] [--hold SECONDS] [--p95-max-ms MS] "
    "[--min-replicas-reached N] [--interval S] [--out DIR]"
)


@nox.session(default=False)
def loadtest(session: nox.Session) -> None:
    """Prove the HPA scales: Locust on 127.0.0.1, the HPA watched, asserted and plotted."""
    glue(session, "loadtest", LOADTEST_USAGE, groups=("loadtest",))


DRILL_USAGE = "usage: nox -s drill -- [--only NAME ...] [--rps N]"


@nox.session(default=False)
def drill(session: nox.Session) -> None:
    """Failure drills under steady load on 127.0.0.1 (pod delete, rollouts, kills, restart)."""
    glue(session, "drill", DRILL_USAGE)


@nox.session(default=False)
def monitoring(session: nox.Session) -> None:
    """Prometheus and KEDA on the local cluster (request-rate autoscaling): up, status."""
    usage = "usage: nox -s monitoring -- [up [--no-keda] | status]"
    glue(session, "monitoring", usage, actions=("up", "status"), default="up")


@nox.session(default=False)
def e2e(session: nox.Session) -> None:
    """End-to-end tests (pytest -m e2e) on the local cluster, which is brought up first."""
    sync(session, "test")
    platform(session, "cluster", "up")
    session.run("pytest", "-m", "e2e", *session.posargs)


GITOPS_USAGE = "usage: nox -s gitops -- up [--env local] [--timeout S] | status [--json] | down"


@nox.session(default=False)
def gitops(session: nox.Session) -> None:
    """Argo CD on the local cluster (app of apps from a git daemon mirror): up, status, down."""
    glue(session, "gitops", GITOPS_USAGE, actions=("up", "status", "down"), default="up")


RELEASE_USAGE = "usage: nox -s release -- [--env local] [--timeout S] [--git-url URL] [--no-wait]"


@nox.session(default=False)
def release(session: nox.Session) -> None:
    """Build + push the image, commit its tag/digest to the GitOps env branch, time the rollout."""
    glue(session, "release", RELEASE_USAGE)


if __name__ == "__main__":
    nox.main()
