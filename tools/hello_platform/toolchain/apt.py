"""Host prerequisites: Linux, root, and Debian packages installed on demand.

A guest on the user's machine: packages are only ever *added*. Before installing, apt is
asked what it would do (``apt-get install -s``); if that removes anything (Docker CE's
``containerd.io`` conflicts with Debian's ``containerd``, say) nothing is installed and
the error names the conflict. The real install runs with ``--no-remove`` and with a
``policy-rc.d`` that forbids starting services, restored right after. Where the host
already has a package that provides what we need (``SUBSTITUTES``), that one is used.
"""

from __future__ import annotations

import contextlib
import os
import platform
import re
import shutil
import subprocess
from collections.abc import Iterable, Iterator, Mapping
from pathlib import Path

from hello_platform.core.errors import PlatformError
from hello_platform.core.progress import say

_APT_UPDATED_STAMP = "apt-updated"
#: Packages another installed package stands in for (same binaries, same paths): Docker
#: CE's containerd.io ships containerd and runc, docker-ce ships dockerd.
SUBSTITUTES: Mapping[str, tuple[str, ...]] = {
    "containerd": ("containerd.io",),
    "runc": ("containerd.io",),
    "docker.io": ("docker-ce",),
}
POLICY_RC_D = Path("/usr/sbin/policy-rc.d")
#: policy-rc.d answer 101: "action forbidden" -- invoke-rc.d/deb-systemd-invoke start nothing.
_DENY_ALL = "#!/bin/sh\n# hello-platform: no service starts while it installs packages\nexit 101\n"
_REMOVAL = re.compile(r"^Remv (\S+)", re.MULTILINE)


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


def substituted(packages: Iterable[str], installed: Iterable[str]) -> list[str]:
    """``packages`` without those an installed substitute provides (see SUBSTITUTES)."""
    have = set(installed)
    return [p for p in packages if not have.intersection(SUBSTITUTES.get(p, ()))]


def removals(simulation: str) -> list[str]:
    """Packages an ``apt-get install -s`` run would remove (its ``Remv`` lines)."""
    return _REMOVAL.findall(simulation)


@contextlib.contextmanager
def no_service_starts(path: Path | None = None) -> Iterator[None]:
    """Forbid service starts (policy-rc.d exit 101) for the block; restore the file after."""
    path = path or POLICY_RC_D
    before = path.read_bytes() if path.exists() else None
    mode = path.stat().st_mode & 0o7777 if before is not None else 0o755
    path.write_text(_DENY_ALL)
    path.chmod(0o755)
    try:
        yield
    finally:
        if before is None:
            path.unlink(missing_ok=True)
        else:
            path.write_bytes(before)
            path.chmod(mode)


def _apt(args: list[str], env: Mapping[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["apt-get", *args], env=dict(env), check=False, capture_output=True, text=True
    )


def ensure_debian_packages(packages: Iterable[str], *, why: str) -> None:
    """Install the missing packages with apt-get (Debian, root), or fail with the list.

    Never removes a package and never starts a service (see the module docstring).
    """
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
    if missing:
        alternatives = sorted({a for p in missing for a in SUBSTITUTES.get(p, ())})
        present = set(alternatives) - set(missing_packages(alternatives))
        missing = substituted(missing, present)
    if not missing:
        return
    if os.geteuid() != 0:
        raise PlatformError(
            f"{why} needs Debian packages that are not installed: {' '.join(missing)}",
            hint=f"run: sudo apt-get install -y {' '.join(missing)}",
        )
    say(f"installing Debian packages for {why}: {' '.join(missing)}")
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    update = _apt(["update", "-qq"], env)
    if update.returncode != 0:
        raise PlatformError(
            "apt-get update failed: " + update.stderr.strip()[-300:],
            hint="check the network and /etc/apt/sources.list",
        )
    # Ask first what apt would do (without --no-remove, so that it lists the removals).
    simulation = _apt(["install", "-s", "-q", "--no-install-recommends", *missing], env)
    removed = removals(simulation.stdout)
    if removed:
        raise PlatformError(
            f"installing {' '.join(missing)} for {why} would remove {' '.join(removed)}, "
            "which conflicts with it, so nothing was installed",
            hint="install what you need by hand (your own packages stay as they are), or "
            "point the sessions at an existing cluster with --kubeconfig PATH",
        )
    with no_service_starts():
        install = _apt(
            ["install", "-y", "-q", "--no-install-recommends", "--no-remove", *missing], env
        )
    if install.returncode != 0:
        raise PlatformError(
            f"apt-get could not install {' '.join(missing)}: " + install.stderr.strip()[-300:],
            hint="install them by hand and run again",
        )
