"""Host prerequisites: Linux, root, and Debian packages installed on demand."""

from __future__ import annotations

import os
import platform
import shutil
import subprocess
from collections.abc import Iterable
from pathlib import Path

from hello_platform.errors import PlatformError
from hello_platform.progress import say

_APT_UPDATED_STAMP = "apt-updated"


def require_linux_root(feature: str, *, alternative: str) -> None:
    """Fail clearly unless this is Linux and we are root (needed to run a node)."""
    if platform.system() != "Linux":
        raise PlatformError(
            f"{feature} needs Linux, and this is {platform.system()}", hint=alternative
        )
    if os.geteuid() != 0:
        raise PlatformError(
            f"{feature} needs root (it starts containerd, kubelet and iptables)",
            hint=f"run as root, or {alternative}",
        )


def is_debian() -> bool:
    return Path("/etc/debian_version").exists() and shutil.which("apt-get") is not None


def missing_packages(packages: Iterable[str]) -> list[str]:
    """The Debian packages of ``packages`` that dpkg does not report as installed."""
    missing = []
    for pkg in packages:
        done = subprocess.run(
            ["dpkg-query", "-W", "-f=${Status}", pkg],
            capture_output=True,
            text=True,
            check=False,
        )
        if "install ok installed" not in done.stdout:
            missing.append(pkg)
    return missing


def ensure_debian_packages(packages: Iterable[str], *, why: str) -> None:
    """Install the missing packages with apt-get (Debian, root), or fail with the list."""
    wanted = list(packages)
    if not is_debian():
        missing = [p for p in wanted if shutil.which(p) is None]
        if missing:
            raise PlatformError(
                f"{why} needs these programs, which were not found: {', '.join(missing)}",
                hint="install them with your package manager and run again",
            )
        return
    missing = missing_packages(wanted)
    if not missing:
        return
    if os.geteuid() != 0:
        raise PlatformError(
            f"{why} needs Debian packages that are not installed: {' '.join(missing)}",
            hint=f"run: sudo apt-get install -y {' '.join(missing)}",
        )
    say(f"installing Debian packages for {why}: {' '.join(missing)}")
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    update = subprocess.run(
        ["apt-get", "update", "-qq"], env=env, check=False, capture_output=True, text=True
    )
    if update.returncode != 0:
        raise PlatformError(
            "apt-get update failed: " + update.stderr.strip()[-300:],
            hint="check the network and /etc/apt/sources.list",
        )
    install = subprocess.run(
        ["apt-get", "install", "-y", "-q", "--no-install-recommends", *missing],
        env=env,
        check=False,
        capture_output=True,
        text=True,
    )
    if install.returncode != 0:
        raise PlatformError(
            f"apt-get could not install {' '.join(missing)}: " + install.stderr.strip()[-300:],
            hint="install them by hand and run again",
        )
