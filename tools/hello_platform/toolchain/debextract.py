"""Binaries taken out of a pinned Debian package, never installed (``source = "deb"``).

``apt-get download PACKAGE=VERSION`` fetches the .deb and ``dpkg-deb -x`` unpacks it into
a scratch directory; only the named files are copied into the cache. Nothing is
installed, so no service is started or enabled, no conflicting package (Docker CE's, say)
is touched and dpkg's database is unchanged. Debian's docker-registry is used this way:
as a package it would start a registry listening on every interface at boot.
"""

from __future__ import annotations

import shutil
import subprocess
import time
from pathlib import Path

from hello_platform.errors import PlatformError
from hello_platform.progress import say
from hello_platform.toolchain.gobuild import BuildStats
from hello_platform.toolchain.pins import Tool


def _run(cmd: list[str], *, cwd: Path, log: Path) -> subprocess.CompletedProcess[str]:
    done = subprocess.run(cmd, cwd=cwd, capture_output=True, text=True, check=False)
    with log.open("a") as fh:
        fh.write(f"$ {' '.join(cmd)}\n{done.stdout}{done.stderr}")
    return done


def download(package: str, version: str, *, into: Path, log: Path) -> Path:
    """The .deb of ``package`` at ``version`` in ``into`` (apt lists refreshed once if stale)."""
    if shutil.which("apt-get") is None:
        raise PlatformError(
            f"{package} {version} comes from Debian's package, and apt-get is not here",
            hint=f"put a {package} binary of version {version} on PATH",
        )
    want = f"{package}={version}"
    done = _run(["apt-get", "download", want], cwd=into, log=log)
    if done.returncode != 0:
        _run(["apt-get", "update", "-qq"], cwd=into, log=log)
        done = _run(["apt-get", "download", want], cwd=into, log=log)
    debs = sorted(into.glob(f"{package}_*.deb"))
    if done.returncode != 0 or not debs:
        raise PlatformError(
            f"apt-get could not download {want}: "
            + (done.stderr.strip().splitlines() or ["no .deb"])[-1],
            hint=f"check `apt-cache policy {package}` and the pin in toolchain.toml",
            log=str(log),
        )
    return debs[0]


def fetch(tool: Tool, dest_bin: Path, work: Path, log: Path, label: str = "") -> BuildStats:
    """Unpack the binaries of ``tool`` from its pinned .deb into ``dest_bin``."""
    start = time.monotonic()
    say(f"{label}{tool.name} {tool.version}: taking it from Debian's {tool.package} package")
    work.mkdir(parents=True, exist_ok=True)
    version = str(tool.raw.get("package_version", tool.version))  # Debian's, with revision
    deb = download(tool.package, version, into=work, log=log)
    root = work / "root"
    done = _run(["dpkg-deb", "-x", str(deb), str(root)], cwd=work, log=log)
    if done.returncode != 0:
        raise PlatformError(f"dpkg-deb could not unpack {deb.name}", log=str(log))
    dest_bin.mkdir(parents=True)
    for b in tool.binaries:
        src = root / b.package.lstrip("/")
        if not src.is_file():
            raise PlatformError(
                f"{deb.name} has no {b.package}",
                hint=f"fix the path of {b.name} in [tools.{tool.name}] of toolchain.toml",
                log=str(log),
            )
        shutil.copy2(src, dest_bin / b.name)
        (dest_bin / b.name).chmod(0o755)
    return BuildStats(time.monotonic() - start, 0.0, 0, how=f"unpacked from {deb.name}")
