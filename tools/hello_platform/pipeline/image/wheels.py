"""The image's Python packages: locked requirements downloaded on the host into a wheelhouse."""

from __future__ import annotations

import hashlib
import os
import shutil
import sys
import tempfile
from pathlib import Path

from hello_platform.core import paths, proc
from hello_platform.core.progress import say, step

#: glibc of the image (Debian bookworm): wheels for manylinux up to 2.36 run there.
GLIBC_MINOR = 36
#: The platform tags of the image's wheels, newest first. pip does not expand one
#: ``--platform manylinux_2_36`` to the older tags, so all are listed.
PLATFORMS: tuple[str, ...] = (
    *(f"manylinux_2_{minor}_x86_64" for minor in range(GLIBC_MINOR, 4, -1)),
    "manylinux2014_x86_64",
    "manylinux2010_x86_64",
    "manylinux1_x86_64",
)
#: The image's Python platform for ``pip download`` (CPython 3.11, glibc 2.36, x86_64).
PIP_PLATFORM_ARGS: tuple[str, ...] = (
    "--only-binary=:all:",
    *(a for p in PLATFORMS for a in ("--platform", p)),
    *("--python-version", "3.11", "--implementation", "cp", "--abi", "cp311"),
)
#: The dependency group (root pyproject) that pins the pip used to fetch and install wheels.
INSTALLER_GROUP = "image"


def uv_binary() -> str:
    return proc.which("uv", hint="install the build tools: pip install -r requirements-nox.txt")


def export_requirements(repo: Path, *extra: str) -> str:
    """``uv export --frozen`` (pinned, hashed requirements) with ``extra`` selection flags."""
    uv = uv_binary()
    return proc.run(
        [uv, "export", "--frozen", "--no-header", "--no-annotate", "--no-emit-workspace", *extra],
        what="uv export (the locked requirements)",
        capture=True,
        cwd=repo,
        hint="run `uv lock` and commit uv.lock",
    )


def pip_python(installer_requirements: str, log: Path) -> Path:
    """A cached venv's Python with the locked pip: the host downloads with the same,
    hash-checked pip the image installs with, whatever environment the glue runs in."""
    key = hashlib.sha256(installer_requirements.encode()).hexdigest()[:16]
    venv = paths.cache_dir() / "pip" / key
    python = venv / "bin" / "python"
    if (venv / ".complete").exists():
        return python
    uv = uv_binary()
    if venv.exists():
        shutil.rmtree(venv)
    with step("preparing the locked pip for the wheelhouse"):
        reqs = venv.parent / f"{key}.txt"
        venv.parent.mkdir(parents=True, exist_ok=True)
        reqs.write_text(installer_requirements)
        venv_cmd: list[str | Path] = [uv, "venv", "--quiet", "--python", sys.executable, venv]
        proc.run(venv_cmd, what="uv venv for pip", log=log)
        install: list[str | Path] = [uv, "pip", "install", "--quiet", "--python", python]
        proc.run(
            [*install, "--require-hashes", "--no-deps", "-r", reqs],
            what="installing the locked pip",
            log=log,
            hint="check that PyPI is reachable",
        )
        (venv / ".complete").write_text(installer_requirements)
    return python


def wheelhouse(requirements: str, *, pip: Path, log: Path) -> Path:
    """Download the wheels of ``requirements`` for the image's platform (cached by content)."""
    key = hashlib.sha256((requirements + repr(PIP_PLATFORM_ARGS)).encode()).hexdigest()[:16]
    root = paths.cache_dir() / "wheelhouse"
    target = root / key
    if (target / ".complete").exists():
        say(f"wheelhouse: cached ({target})")
        return target
    root.mkdir(parents=True, exist_ok=True)
    with (
        step(
            f"downloading the wheelhouse on the host (pip download, cp311 manylinux x86_64)"
            f" into {target}"
        ),
        tempfile.TemporaryDirectory(dir=root) as tmp,
    ):
        reqs = Path(tmp) / "requirements.txt"
        reqs.write_text(requirements)
        dest = Path(tmp) / "wheels"
        download: list[str | Path] = [pip, "-m", "pip", "download", "--disable-pip-version-check"]
        pinned = ["--no-deps", "--require-hashes", *PIP_PLATFORM_ARGS]
        proc.run(
            [*download, *pinned, "--dest", dest, "-r", reqs],
            what="pip download of the wheelhouse",
            log=log,
            hint="check that PyPI is reachable (pip honours PIP_INDEX_URL and HTTPS_PROXY)",
        )
        (dest / ".complete").write_text(requirements)
        if target.exists():
            shutil.rmtree(target)
        dest.rename(target)
    return target


def _link(src: Path, dest: Path) -> None:
    dest.parent.mkdir(parents=True, exist_ok=True)
    try:
        os.link(src, dest)
    except OSError:
        shutil.copy2(src, dest)


def assemble_context(
    context: Path,
    *,
    wheels: Path,
    requirements: str,
    installer: Path,
    app_wheel: Path,
    app: str,
) -> None:
    """The build context the Dockerfile expects (documented at its top)."""
    if context.exists():
        shutil.rmtree(context)
    (context / "deps").mkdir(parents=True)
    for wheel in sorted(wheels.glob("*.whl")):
        _link(wheel, context / "deps" / "wheels" / wheel.name)
    (context / "deps" / "requirements.txt").write_text(requirements)
    _link(installer, context / "installer" / "pip.whl")
    _link(app_wheel, context / "app" / app_wheel.name)
    sha = hashlib.sha256(app_wheel.read_bytes()).hexdigest()
    requirement = f"{app} @ file:///build/app/{app_wheel.name} --hash=sha256:{sha}\n"
    (context / "app" / "requirements.txt").write_text(requirement)
