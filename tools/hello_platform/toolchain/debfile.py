"""A pinned tool taken from a Debian package without installing it (``source = "deb"``).

Installing some packages has side effects we do not want (Debian's ``prometheus`` starts a
service), so the exact version is fetched with ``apt-get download PKG=VERSION`` and unpacked
with ``dpkg-deb -x`` into the build directory; the binaries are copied from there. The
resolver then caches them like a Go build (manifest, lock, atomic install).
"""

from __future__ import annotations

import shutil
import subprocess
import time
from pathlib import Path

from hello_platform.errors import PlatformError
from hello_platform.proc import last_line
from hello_platform.progress import say
from hello_platform.toolchain.gobuild import BuildStats
from hello_platform.toolchain.pins import Tool


def member(package_path: str, name: str) -> str:
    """Where binary ``name`` lives inside the package (default ``usr/bin/NAME``)."""
    return (package_path or f"usr/bin/{name}").lstrip("/")


def _run(cmd: list[str], *, cwd: Path, log: Path, what: str, hint: str) -> None:
    with log.open("a") as fh:
        fh.write(f"$ {' '.join(cmd)}\n")
        try:
            done = subprocess.run(
                cmd, cwd=cwd, stdout=fh, stderr=subprocess.PIPE, text=True, check=False
            )
        except OSError as exc:
            raise PlatformError(f"{what} failed: {exc}", hint=hint, log=str(log)) from exc
        fh.write(done.stderr)
    if done.returncode != 0:
        raise PlatformError(f"{what} failed: {last_line(done.stderr)}", hint=hint, log=str(log))


def extract(tool: Tool, dest_bin: Path, work: Path, log: Path, label: str) -> BuildStats:
    """Download ``tool.package`` at ``tool.package_version`` and copy its binaries out."""
    start = time.monotonic()
    debdir = work / "deb"
    debdir.mkdir(parents=True, exist_ok=True)
    spec = f"{tool.package}={tool.package_version}"
    say(f"{label}{tool.name}: apt-get download {spec} (extracted, not installed)")
    _run(
        ["apt-get", "download", spec],
        cwd=debdir,
        log=log,
        what=f"downloading Debian's {spec}",
        hint="run `apt-get update`, or change package_version of "
        f"[tools.{tool.name}] in toolchain.toml to one `apt-cache policy {tool.package}` lists",
    )
    debs = sorted(debdir.glob("*.deb"))
    if len(debs) != 1:
        raise PlatformError(f"apt-get download {spec} gave {len(debs)} .deb files, not one")
    root = work / "root"
    _run(
        ["dpkg-deb", "-x", str(debs[0]), str(root)],
        cwd=work,
        log=log,
        what=f"unpacking {debs[0].name}",
        hint="install dpkg",
    )
    dest_bin.mkdir(parents=True, exist_ok=True)
    for b in tool.binaries:
        src = root / member(b.package, b.name)
        if not src.is_file():
            raise PlatformError(
                f"{debs[0].name} has no {member(b.package, b.name)}",
                hint=f"fix the binaries of [tools.{tool.name}] in toolchain.toml",
            )
        shutil.copy2(src, dest_bin / b.name)
    shutil.rmtree(root, ignore_errors=True)
    shutil.rmtree(debdir, ignore_errors=True)
    return BuildStats(time.monotonic() - start, 0.0, 0, how="extracted from .deb")
