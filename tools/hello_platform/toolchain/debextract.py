"""Binaries unpacked from a pinned .deb into the cache, never installed (``source = "deb"``).

Installing docker-registry would start a registry on every interface at boot. Where apt
lacks the version (not bookworm), the pin's ``deb_file`` comes from the Debian mirror; both
downloads must match the pinned ``deb_sha256``.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import time
import urllib.error
import urllib.request
from pathlib import Path

from hello_platform.core.errors import PlatformError
from hello_platform.core.progress import say
from hello_platform.toolchain.download import platform_key
from hello_platform.toolchain.gobuild import BuildStats
from hello_platform.toolchain.pins import Tool


def _run(cmd: list[str], *, cwd: Path, log: Path) -> subprocess.CompletedProcess[str]:
    done = subprocess.run(cmd, cwd=cwd, capture_output=True, text=True, check=False)
    with log.open("a") as fh:
        fh.write(f"$ {' '.join(cmd)}\n{done.stdout}{done.stderr}")
    return done


DEFAULT_MIRROR = "http://deb.debian.org/debian"
TIMEOUT_SECONDS = 120.0


def mirror() -> str:
    return os.environ.get("HELLO_PLATFORM_DEBIAN_MIRROR", DEFAULT_MIRROR).rstrip("/")


def _apt_download(want: str, *, into: Path, log: Path) -> str:
    """``apt-get download``; "" on success, else why not."""
    if shutil.which("apt-get") is None:
        return "apt-get is not here"
    done = _run(["apt-get", "download", want], cwd=into, log=log)
    if done.returncode != 0:
        _run(["apt-get", "update", "-qq"], cwd=into, log=log)
        done = _run(["apt-get", "download", want], cwd=into, log=log)
    if done.returncode != 0:
        return "apt-get: " + (done.stderr.strip().splitlines() or ["no .deb"])[-1]
    return ""


def _pool_download(pool_file: str, *, into: Path, log: Path) -> str:
    """Fetch ``pool_file`` from the mirror; "" on success, else why not."""
    if platform_key() != "linux-amd64":
        return f"the pinned deb_file is amd64's, and this is {platform_key()}"
    url = f"{mirror()}/{pool_file}"
    say(f"apt cannot give this version here: downloading {url}")
    with log.open("a") as fh:
        fh.write(f"# download {url}\n")
    try:
        with urllib.request.urlopen(url, timeout=TIMEOUT_SECONDS) as resp:  # noqa: S310
            (into / Path(pool_file).name).write_bytes(resp.read())
    except (urllib.error.URLError, OSError, TimeoutError) as exc:
        return f"{url}: {exc}"
    return ""


def download(
    package: str, version: str, *, into: Path, log: Path, pool_file: str = "", sha256: str = ""
) -> Path:
    """The .deb of ``package`` at ``version`` in ``into``: by apt, else from ``pool_file``."""
    want = f"{package}={version}"
    why = _apt_download(want, into=into, log=log)
    if why and pool_file:
        why += "; " + _pool_download(pool_file, into=into, log=log)
    debs = sorted(into.glob(f"{package}_*.deb"))
    if not debs:
        raise PlatformError(
            f"{want} could not be downloaded ({why})",
            hint=f"check `apt-cache policy {package}` and the pin in toolchain.toml, or put "
            f"a {package} binary of version {version} on PATH",
            log=str(log),
        )
    if sha256:
        digest = hashlib.sha256(debs[0].read_bytes()).hexdigest()
        if digest != sha256:
            debs[0].unlink()
            raise PlatformError(
                f"{debs[0].name} has SHA-256 {digest}, not the pinned {sha256}, so it was "
                "not unpacked",
                hint=f"check deb_sha256 of {package} in toolchain.toml against "
                f"`apt-cache show {want}`",
                log=str(log),
            )
    return debs[0]


def fetch(tool: Tool, dest_bin: Path, work: Path, log: Path, label: str = "") -> BuildStats:
    start = time.monotonic()
    say(f"{label}{tool.name} {tool.version}: taking it from Debian's {tool.package} package")
    work.mkdir(parents=True, exist_ok=True)
    version = str(tool.raw.get("package_version", tool.version))  # Debian's, with revision
    pool_file, sha256 = str(tool.raw.get("deb_file", "")), str(tool.raw.get("deb_sha256", ""))
    deb = download(tool.package, version, into=work, log=log, pool_file=pool_file, sha256=sha256)
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
