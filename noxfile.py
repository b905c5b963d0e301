# /// script
# dependencies = ["nox==2026.10.20", "uv==0.13.9"]
# ///
"""hello-platform's build graph: the same sessions run on a laptop and in CI.

Sessions stay thin. Python dependencies come from ``uv.lock``; the real work lives in
the ``hello_platform`` package (``tools/hello_platform``), called via its CLI.
"""

from __future__ import annotations

import nox

nox.needs_version = ">=2026.10.20"
nox.options.default_venv_backend = "uv"
nox.options.reuse_venv = "yes"
nox.options.error_on_missing_interpreters = True
nox.options.sessions = ["lint", "typecheck", "test"]


def sync(session: nox.Session, *groups: str) -> None:
    """Install the locked dependency ``groups`` (and the glue package) into the session venv."""
    session.run_install(
        "uv", "sync", "--locked", "--no-default-groups", *(f"--group={g}" for g in groups),
        env={"UV_PROJECT_ENVIRONMENT": session.virtualenv.location},
        silent=True,
    )


def platform(session: nox.Session, *args: str) -> None:
    """Run the glue CLI (``hello-platform ARGS``) inside the session's venv."""
    session.run("hello-platform", *args)


@nox.session(tags=["static"])
def lint(session: nox.Session) -> None:
    """Ruff (lint + format check), actionlint on workflows, shellcheck on shell scripts."""
    sync(session, "lint")
    session.run("ruff", "check", ".")
    session.run("ruff", "format", "--check", ".")


@nox.session(tags=["static"])
def typecheck(session: nox.Session) -> None:
    """Mypy (strict) on the service, the glue package and this file."""
    sync(session, "typecheck")
    session.run("mypy")


@nox.session
def test(session: nox.Session) -> None:
    """All unit tests; no cluster and no Docker engine needed."""
    sync(session, "test")
    session.run("pytest", "-m", "not slow and not e2e", *session.posargs)


if __name__ == "__main__":
    nox.main()
